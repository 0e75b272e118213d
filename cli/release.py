"""`kassa release`: build and sign a release artifact (fleet admin); verify, install, switch
and roll back releases under /opt/kassa (a terminal, or an image being prepared)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_ROOT = "/opt/kassa"
DEFAULT_PUB = "/etc/kassa/keys/release.pub"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("release", help="build, sign, verify and install releases")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    p.add_argument("--fleet-dir", help="fleet state directory (default $KASSA_FLEET_DIR, "
                   "else var/fleet): holds the release key")
    _build_args(sub.add_parser("build", help="build one signed artifact: wheels, units, udev "
                               "rule and a signed manifest"))
    _terminal_args(sub)


def _build_args(s: argparse.ArgumentParser) -> None:
    s.add_argument("--version", help="release version (default: the source's own)")
    s.add_argument("--arch", action="append", choices=["aarch64", "x86_64", "arm64", "amd64"],
                   help="architecture (repeatable; default aarch64 and x86_64)")
    s.add_argument("--extra", action="append", default=None,
                   help="Kassa extra to install (default till; --extra none for the base only)")
    s.add_argument("--out", default="var/releases", help="directory for kassa-VERSION.tar")
    s.add_argument("--source", default=None, help="Kassa source tree (default: this one)")
    s.add_argument("--cache", help="wheel cache (default $KASSA_WHEEL_CACHE, ~/.cache/kassa/wheels)")
    s.add_argument("--builder-root", action="append", default=[], metavar="ARCH=DIR",
                   help="Debian root of ARCH to compile source-only dependencies in "
                   "(scripts/arm64-root makes var/arm64/builder)")
    s.add_argument("--offline", action="store_true", help="use the wheel cache only")
    s.add_argument("--no-pin", action="store_true",
                   help="do not pin dependencies to the versions installed here")
    s.set_defaults(handler=_build)


def _terminal_args(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("key", help="show the fleet release key (--create for an older fleet)")
    s.add_argument("--create", action="store_true", help="make the key if the fleet has none")
    s.set_defaults(handler=_key)

    s = sub.add_parser("verify", help="check an artifact's signature, architecture and hashes")
    s.add_argument("artifact")
    _key_args(s)
    s.add_argument("--arch", help="architecture to check for (default: this machine's)")
    s.set_defaults(handler=_verify)

    s = sub.add_parser("install", help="install an artifact into ROOT/releases/VERSION, offline")
    s.add_argument("artifact")
    _key_args(s)
    s.add_argument("--root", default=DEFAULT_ROOT)
    s.add_argument("--python", help="interpreter for the release's venv (default: this one)")
    s.add_argument("--switch", action="store_true", help="then make it current")
    s.set_defaults(handler=_install)

    s = sub.add_parser("stage", help="put an artifact and the release key into an enrollment "
                       "bundle: `kassa provision apply` then installs it offline")
    s.add_argument("artifact")
    s.add_argument("--bundle", required=True, action="append",
                   help="bundle directory (repeatable)")
    s.set_defaults(handler=_stage)

    s = sub.add_parser("switch", help="make an installed release current (old one: previous)")
    s.add_argument("version")
    s.add_argument("--root", default=DEFAULT_ROOT)
    s.set_defaults(handler=_switch)

    s = sub.add_parser("rollback", help="swap current and previous")
    s.add_argument("--root", default=DEFAULT_ROOT)
    s.set_defaults(handler=_rollback)

    s = sub.add_parser("list", help="installed releases, current and previous")
    s.add_argument("--root", default=DEFAULT_ROOT)
    s.set_defaults(handler=_list)


def _key_args(s: argparse.ArgumentParser) -> None:
    s.add_argument("--key", help=f"release public key file (default: the fleet's release.pub "
                   f"with --fleet-dir, else {DEFAULT_PUB})")


def _fail(message: str) -> int:
    print(f"kassa release: {message}", file=sys.stderr)
    return 1


def _guard(handler):  # noqa: ANN001, ANN202 - a decorator over the handlers below
    def run(args: argparse.Namespace) -> int:
        from provisioning.fleet import FleetError
        from provisioning.release.errors import ReleaseError

        try:
            return handler(args)
        except (ReleaseError, FleetError, FileExistsError, ValueError) as exc:
            return _fail(str(exc))
    return run


def _fleet_root(args: argparse.Namespace) -> Path:
    from provisioning.fleet import fleet_dir_from_env

    return fleet_dir_from_env(args.fleet_dir)


def _public_key(args: argparse.Namespace):  # noqa: ANN202
    from provisioning.release.keys import read_public_key, release_pub_path

    if args.key:
        return read_public_key(Path(args.key))
    if args.fleet_dir:
        return read_public_key(release_pub_path(_fleet_root(args)))
    return read_public_key(Path(DEFAULT_PUB))


@_guard
def _build(args: argparse.Namespace) -> int:
    from provisioning.release.build import BuildPlan, build_artifact, default_cache
    from provisioning.release.keys import load_release_key
    from provisioning.release.manifest import ARCHES

    key = load_release_key(_fleet_root(args))
    roots = {}
    for item in args.builder_root:
        arch, sep, directory = item.partition("=")
        if not sep:
            return _fail(f"--builder-root {item!r}: give ARCH=DIR")
        roots[arch] = Path(directory)
    extras = ("till",) if args.extra is None else tuple(e for e in args.extra if e != "none")
    source = Path(args.source) if args.source else Path(__file__).resolve().parent.parent
    plan = BuildPlan(source=source, out_dir=Path(args.out), version=args.version,
                     arches=tuple(args.arch or ARCHES), extras=extras,
                     cache=Path(args.cache) if args.cache else default_cache(),
                     builder_roots=roots, pin_installed=not args.no_pin, offline=args.offline)
    print(f"building a release from {source}")
    path = build_artifact(plan, key)
    print(f"signed artifact: {path} ({path.stat().st_size // 1024} KiB)")
    return 0


@_guard
def _key(args: argparse.Namespace) -> int:
    from provisioning.release.keys import (
        create_release_key,
        load_release_key,
        release_key_path,
        release_pub_path,
    )
    from provisioning.release.manifest import key_id

    root = _fleet_root(args)
    if args.create and not release_key_path(root).exists():
        if not (root / "fleet.json").exists():
            return _fail(f"{root} is not a fleet directory; run `kassa provision init` first")
        create_release_key(root)
        print(f"release key created: {release_key_path(root)}")
    public = load_release_key(root).public_key().public_bytes_raw()
    print(f"release key {key_id(public)}: public key {public.hex()}")
    print(f"  pin on terminals: {release_pub_path(root)} -> {DEFAULT_PUB}")
    return 0


@_guard
def _verify(args: argparse.Namespace) -> int:
    from provisioning.release.manifest import host_arch
    from provisioning.release.verify import verify_artifact

    manifest = verify_artifact(args.artifact, _public_key(args), args.arch or host_arch())
    print(f"{args.artifact}: release {manifest.version} for {', '.join(manifest.arches)}, "
          f"{len(manifest.files)} files, signed by {manifest.key_id}: OK")
    return 0


@_guard
def _install(args: argparse.Namespace) -> int:
    from provisioning.release.install import install_release, switch_current

    root = Path(args.root)
    slot = install_release(args.artifact, root, release_public_key=_public_key(args),
                           python=args.python)
    print(f"installed {slot}")
    if args.switch:
        old = switch_current(root, slot.name)
        print(f"current -> {slot.name}" + (f" (previous {old})" if old and old != slot.name
                                          else ""))
    return 0


@_guard
def _stage(args: argparse.Namespace) -> int:
    from provisioning.release.bundled import stage_release
    from provisioning.release.keys import release_pub_path

    pub = release_pub_path(_fleet_root(args))
    for bundle in args.bundle:
        if not (Path(bundle) / "bundle.json").is_file():
            return _fail(f"{bundle}: no bundle.json; not an enrollment bundle")
        print(f"staged {stage_release(Path(bundle), Path(args.artifact), pub)}")
    return 0


@_guard
def _switch(args: argparse.Namespace) -> int:
    from provisioning.release.install import switch_current

    old = switch_current(Path(args.root), args.version)
    print(f"current -> {args.version}" + (f" (previous {old})" if old and old != args.version
                                          else ""))
    return 0


@_guard
def _rollback(args: argparse.Namespace) -> int:
    from provisioning.release.install import previous_version, rollback

    now = rollback(Path(args.root))
    print(f"current -> {now} (previous {previous_version(Path(args.root))})")
    return 0


@_guard
def _list(args: argparse.Namespace) -> int:
    from provisioning.release.install import current_version, installed_versions, previous_version

    root = Path(args.root)
    current, previous = current_version(root), previous_version(root)
    for version in installed_versions(root):
        mark = "current" if version == current else "previous" if version == previous else ""
        print(f"{version:16} {mark}".rstrip())
    return 0
