"""Building a signed release artifact: Kassa's wheel and its whole dependency closure as
wheels for each architecture, the systemd units, the udev rules and a signed manifest.

Wheels come from a cache first (`~/.cache/kassa/wheels`, or $KASSA_WHEEL_CACHE) and from
PyPI only for what the cache lacks, so a rebuild is offline. Versions are pinned to what the
building interpreter has installed (what CI tested). A dependency published only as source
(evdev) is compiled into a wheel: with this interpreter for this machine's architecture, or
inside a Debian root of the target architecture (scripts/arm64-root) under qemu.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from contract.keys import JournalKey
from provisioning.release.errors import BuildFailed, NoBinaryWheel
from provisioning.release.manifest import (
    ARCHES,
    MANIFEST_NAME,
    SIGNATURE_NAME,
    VERSION_RE,
    FileEntry,
    Manifest,
    host_arch,
    key_id,
    normalize_arch,
    wheel_dir,
)

PYTHON = "3.11"
GLIBC_MAX = 36  # Debian bookworm's glibc 2.36: manylinux_2_17 .. manylinux_2_36 all run
_SKIP_COPY = shutil.ignore_patterns(".git", ".venv", "var", "build", "dist", "*.egg-info",
                                    "__pycache__", ".pytest_cache", ".ruff_cache", "tests",
                                    "bench", "test-artifacts")
# how pip names a requirement it found no wheel for (without and with a version pin)
_MISSING = re.compile(r"No matching distribution found for (\S+)"
                      r"|no matching distributions available for your environment:\s*\n\s+(\S+)")
Log = Callable[[str], None]


def default_cache() -> Path:
    env = os.environ.get("KASSA_WHEEL_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "kassa" / "wheels"


@dataclass(frozen=True)
class BuildPlan:
    source: Path                      # a Kassa source tree (pyproject.toml, systemd/, ...)
    out_dir: Path
    version: str | None = None        # None: the source's own version
    arches: tuple[str, ...] = ARCHES
    extras: tuple[str, ...] = ("till",)
    cache: Path = field(default_factory=default_cache)
    builder_roots: Mapping[str, Path] = field(default_factory=dict)  # arch -> Debian root
    pin_installed: bool = True
    offline: bool = False             # never ask PyPI; everything must be in the cache


def own_wheel(filename: str) -> bool:
    """Kassa's own wheel is built fresh every time and never cached: a cached one of the same
    version would shadow the new build."""
    return filename.startswith("kassa-")


def platform_args(arch: str) -> list[str]:
    plats = [f"manylinux2014_{arch}"] + [f"manylinux_2_{v}_{arch}" for v in range(17, GLIBC_MAX + 1)]
    plats.append(f"linux_{arch}")  # wheels compiled here from source carry this tag
    args = ["--only-binary=:all:", "--python-version", PYTHON, "--implementation", "cp",
            "--abi", "cp311"]
    for p in plats:
        args += ["--platform", p]
    return args


def pip_env(offline: bool) -> dict[str, str]:
    """pip without this machine's config files or PIP_* settings: only the flags given here."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    if "PIP_CERT" in os.environ:
        env["PIP_CERT"] = os.environ["PIP_CERT"]
    if offline:
        env["PIP_NO_INDEX"] = "1"
    return env


def _pip(args: list[str], *, offline: bool, python: str = sys.executable,
         timeout: int = 1800) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([python, "-m", "pip", *args], capture_output=True, text=True,
                              env=pip_env(offline), timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildFailed("pip " + args[0], str(exc)) from None


def _tail(done: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in (done.stderr + done.stdout).splitlines() if ln.strip()
             and "is ignored: it is neither a file nor a directory" not in ln]
    return " | ".join(lines[-4:]) or f"exit {done.returncode}"


def source_version(source: Path) -> str:
    """The version in pyproject.toml, which must agree with contract/version.py."""
    project = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    version = project["version"]
    code = (source / "contract" / "version.py").read_text(encoding="utf-8")
    found = re.search(r'SOFTWARE_VERSION = "([^"]+)"', code)
    if found is None or found.group(1) != version:
        raise BuildFailed("version", f"pyproject.toml says {version}, contract/version.py says "
                          f"{found.group(1) if found else 'nothing'}")
    return version


def _set_version(tree: Path, version: str) -> None:
    for rel, pattern, repl in (
        ("pyproject.toml", r'(?m)^version = "[^"]+"', f'version = "{version}"'),
        ("contract/version.py", r'SOFTWARE_VERSION = "[^"]+"', f'SOFTWARE_VERSION = "{version}"'),
    ):
        path = tree / rel
        text, count = re.subn(pattern, repl, path.read_text(encoding="utf-8"), count=1)
        if count != 1:
            raise BuildFailed("version", f"no version line in {rel}")
        path.write_text(text, encoding="utf-8")


def installed_pins() -> list[str]:
    """name==version of every distribution this interpreter has, Kassa itself excepted."""
    pins = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name or name.lower() == "kassa" or "+" in dist.version:
            continue
        pins[name.lower()] = f"{name}=={dist.version}"
    return sorted(pins.values())


class Builder:
    """One build: a scratch directory, the wheel cache and a log callback."""

    def __init__(self, plan: BuildPlan, log: Log) -> None:
        self.plan, self.log = plan, log
        self.work = Path(tempfile.mkdtemp(prefix="kassa-release-"))
        self.constraints: list[str] = []
        if plan.pin_installed:
            path = self.work / "constraints.txt"
            path.write_text("\n".join(installed_pins()) + "\n", encoding="utf-8")
            self.constraints = ["-c", str(path)]

    def close(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)

    def cache_dir(self, name: str) -> Path:
        path = self.plan.cache / name
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("kassa-*"):  # left by a build before own_wheel() existed
            stale.unlink()
        return path

    # fetching ----------------------------------------------------------------------------
    def fetch(self, args: list[str], dest: Path, cache: Path, what: str) -> None:
        """pip download into dest: from the cache alone first, then (unless offline) PyPI;
        whatever was fetched is added to the cache."""
        dest.mkdir(parents=True, exist_ok=True)
        base = ["download", "-d", str(dest), "--find-links", str(cache), *args]
        done = _pip(base, offline=True)
        if done.returncode != 0 and not self.plan.offline:
            self.log(f"  {what}: fetching from PyPI what the cache lacks")
            done = _pip(base, offline=False)
        if done.returncode != 0:
            raise _Missing(what, _tail(done), _MISSING.search(done.stderr + done.stdout))
        for f in dest.iterdir():
            if f.is_file() and not own_wheel(f.name) and not (cache / f.name).exists():
                shutil.copy2(f, cache / f.name)

    # Kassa's own wheel ---------------------------------------------------------------------
    def kassa_wheel(self) -> tuple[str, Path]:
        source = self.plan.source
        version = self.plan.version or source_version(source)
        if not VERSION_RE.match(version):
            raise BuildFailed("version", f"{version!r} is not a plain release version "
                              "(like 1.4.0, 1.4.1rc1)")
        tree = self.work / "src"
        shutil.copytree(source, tree, ignore=_SKIP_COPY, symlinks=False)
        _set_version(tree, version)
        requires = tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8"))[
            "build-system"]["requires"]
        build_cache = self.cache_dir("build")
        try:
            self.fetch(["--only-binary=:all:", *requires], self.work / "build-deps", build_cache,
                       "build requirements")
        except _Missing as exc:
            raise BuildFailed("build requirements", exc.detail) from None
        out = self.work / "kassa"
        done = _pip(["wheel", "--no-deps", "--no-index", "--find-links", str(build_cache),
                     "-w", str(out), str(tree)], offline=True)
        if done.returncode != 0:
            raise BuildFailed("Kassa wheel", _tail(done))
        wheels = list(out.glob("kassa-*.whl"))
        if len(wheels) != 1:
            raise BuildFailed("Kassa wheel", f"expected one wheel, found {len(wheels)}")
        self.log(f"  built {wheels[0].name}")
        return version, out

    # dependency closure per architecture ------------------------------------------------
    def closure(self, arch: str, requirements: list[str], kassa_dir: Path) -> Path:
        dest = self.work / "wheels" / arch
        cache = self.cache_dir(arch)
        compiled: set[str] = set()
        while True:
            shutil.rmtree(dest, ignore_errors=True)
            try:
                self.fetch(["--find-links", str(kassa_dir), *platform_args(arch),
                            *self.constraints, *requirements], dest, cache, f"{arch} wheels")
            except _Missing as exc:
                if exc.requirement is None or exc.requirement in compiled:
                    raise BuildFailed(f"{arch} wheels", exc.detail) from None
                compiled.add(exc.requirement)
                self.compile_sdist(exc.requirement, arch, cache)
                continue
            fresh = next(kassa_dir.glob("kassa-*.whl"))
            if hashlib.sha256(fresh.read_bytes()).digest() != hashlib.sha256(
                    (dest / fresh.name).read_bytes()).digest():
                raise BuildFailed(f"{arch} wheels", f"pip took another {fresh.name} than the one "
                                  "just built (a stale copy in a find-links directory?)")
            self.log(f"  {arch}: {len(list(dest.iterdir()))} wheels")
            return dest

    def compile_sdist(self, requirement: str, arch: str, cache: Path) -> None:
        """A wheel from the requirement's source distribution, for arch, into the cache."""
        root = self.plan.builder_roots.get(arch)
        if root is None and arch != host_arch():
            raise NoBinaryWheel(requirement, arch)
        self.log(f"  {arch}: {requirement} has no wheel; compiling it from source")
        stage = self.work / f"compile-{arch}"
        shutil.rmtree(stage, ignore_errors=True)
        try:
            self.fetch(["--no-deps", "--no-binary=:all:", *self.constraints, requirement],
                       stage / "sdist", self.cache_dir("sdist"), f"source of {requirement}")
            sdist = next((stage / "sdist").iterdir())
            self.fetch(["--only-binary=:all:", *platform_args(arch), *build_requires(sdist)],
                       stage / "deps", cache, f"build requirements of {requirement}")
        except _Missing as exc:
            raise BuildFailed(f"compile {requirement}", exc.detail) from None
        out = stage / "out"
        if root is None:
            if sys.version_info[:2] != (3, 11):
                raise BuildFailed(f"compile {requirement}", "needs CPython 3.11 to build with")
            done = _pip(["wheel", "--no-deps", "--no-index", "--find-links", str(stage / "deps"),
                         "-w", str(out), str(sdist)], offline=True)
            if done.returncode != 0:
                raise BuildFailed(f"compile {requirement}", _tail(done))
        else:
            compile_in_root(root, sdist, stage / "deps", out, requirement)
        wheels = list(out.glob("*.whl"))
        if len(wheels) != 1:
            raise BuildFailed(f"compile {requirement}", f"expected one wheel, got {len(wheels)}")
        shutil.copy2(wheels[0], cache / wheels[0].name)
        self.log(f"  {arch}: compiled {wheels[0].name}")


def marked_requirements(kassa_dir: Path, extras: tuple[str, ...], arch: str) -> list[str]:
    """Kassa's requirements whose markers hold on the target (lgpio on aarch64 only), without
    their markers: pip download judges markers by the machine it runs on, not by --platform."""
    from packaging.requirements import Requirement

    wheel = next(kassa_dir.glob("kassa-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        lines = zf.read(name).decode("utf-8").splitlines()
    env = {"platform_machine": arch, "sys_platform": "linux", "platform_system": "Linux",
           "os_name": "posix", "python_version": PYTHON, "implementation_name": "cpython",
           "platform_python_implementation": "CPython"}
    out = []
    for line in lines:
        if not line.startswith("Requires-Dist:"):
            continue
        req = Requirement(line.partition(":")[2].strip())
        if req.marker is None or "platform_machine" not in str(req.marker):
            continue
        if any(req.marker.evaluate({**env, "extra": extra}) for extra in extras or ("",)):
            out.append(f"{req.name}{req.specifier}")
    return out


class _Missing(Exception):
    def __init__(self, what: str, detail: str, found: re.Match[str] | None) -> None:
        super().__init__(f"{what}: {detail}")
        self.detail = detail
        self.requirement = (found.group(1) or found.group(2)) if found else None


def build_requires(sdist: Path) -> list[str]:
    """[build-system] requires of a source distribution (PEP 518 default when absent)."""
    default = ["setuptools>=40.8.0", "wheel"]
    try:
        with tarfile.open(sdist) as tar:
            top = [m for m in tar.getmembers() if m.name.count("/") == 1
                   and m.name.endswith("/pyproject.toml")]
            if not top:
                return default
            fh = tar.extractfile(top[0])
            data = tomllib.loads(fh.read().decode("utf-8")) if fh else {}
    except (tarfile.TarError, OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BuildFailed(f"read {sdist.name}", str(exc)) from None
    return list(data.get("build-system", {}).get("requires", default))


def compile_in_root(root: Path, sdist: Path, deps: Path, out: Path, requirement: str) -> None:
    """pip wheel inside a Debian root of the target architecture (qemu runs its binaries),
    with no network: sources and build requirements are copied in first."""
    if not (root / "usr" / "bin" / "python3").exists():
        raise BuildFailed(f"compile {requirement}", f"{root} is not a Debian root with python3")
    inner = Path("/tmp") / f"kassa-build-{os.getpid()}"
    stage = root / inner.relative_to("/")
    shutil.rmtree(stage, ignore_errors=True)
    (stage / "deps").mkdir(parents=True)
    shutil.copy2(sdist, stage / sdist.name)
    for f in deps.iterdir():
        shutil.copy2(f, stage / "deps" / f.name)
    script = (f"mount -t proc proc {root}/proc && exec chroot {root} /usr/bin/python3 -m pip "
              f"wheel --no-deps --no-index --find-links {inner}/deps -w {inner}/out "
              f"{inner}/{sdist.name}")
    env = pip_env(offline=True)
    env["PIP_CONFIG_FILE"] = "/dev/null"
    try:
        done = subprocess.run(["unshare", "--mount", "--net", "--fork", "sh", "-c", script],
                              capture_output=True, text=True, env=env, timeout=3600, check=False)
        if done.returncode != 0:
            raise BuildFailed(f"compile {requirement} in {root}", _tail(done))
        shutil.copytree(stage / "out", out)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildFailed(f"compile {requirement} in {root}", str(exc)) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _tarinfo(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def payload_files(source: Path, wheels: Mapping[str, Path]) -> dict[str, Path]:
    """Artifact path -> file on disk: wheels per arch, systemd units, udev rules."""
    files: dict[str, Path] = {}
    for arch, directory in wheels.items():
        for wheel in sorted(directory.iterdir()):
            files[f"{wheel_dir(arch)}/{wheel.name}"] = wheel
    for unit in sorted((source / "systemd").iterdir()):
        if unit.suffix in (".service", ".timer", ".path", ".socket"):
            files[f"systemd/{unit.name}"] = unit
    for rule in sorted((source / "provisioning" / "udev").glob("*.rules")):
        files[f"provisioning/udev/{rule.name}"] = rule
    return files


def write_artifact(out: Path, manifest: Manifest, key: JournalKey,
                   files: Mapping[str, Path]) -> Path:
    """The tar: manifest.json and manifest.sig first, then every file in name order."""
    body = manifest.to_bytes()
    signature = (key.sign(body).hex() + "\n").encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    with tarfile.open(part, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in ((MANIFEST_NAME, body), (SIGNATURE_NAME, signature)):
            tar.addfile(_tarinfo(name, len(data)), io.BytesIO(data))
        for name in sorted(files):
            with open(files[name], "rb") as fh:
                tar.addfile(_tarinfo(name, manifest.files[name].size), fh)
    os.replace(part, out)
    return out


def build_artifact(plan: BuildPlan, key: JournalKey, log: Log = print) -> Path:
    """Builds, signs and writes `<out_dir>/kassa-<version>.tar`; returns its path."""
    arches = tuple(dict.fromkeys(normalize_arch(a) for a in plan.arches))
    builder = Builder(plan, log)
    try:
        version, kassa_dir = builder.kassa_wheel()
        extras = f"[{','.join(plan.extras)}]" if plan.extras else ""
        requirement = f"kassa{extras}=={version}"
        wheels = {arch: builder.closure(arch, [requirement, *marked_requirements(
            kassa_dir, plan.extras, arch)], kassa_dir) for arch in arches}
        files = payload_files(plan.source, wheels)
        manifest = Manifest(
            version=version, arches=arches, requirement=requirement, python=PYTHON,
            key_id=key_id(key.public_key().public_bytes_raw()),
            built_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            files={name: FileEntry(_sha256(p), p.stat().st_size) for name, p in files.items()},
        )
        return write_artifact(plan.out_dir / f"kassa-{version}.tar", manifest, key, files)
    finally:
        builder.close()
