"""Signed releases: build a small real artifact (Kassa and its base dependencies, for this
machine's architecture), refuse every kind of bad artifact, install offline into a tmp root,
switch current/previous and roll back, and install the release a bundle carries.

The wheels come from the release wheel cache (~/.cache/kassa/wheels); only a cold cache
fetches from PyPI, so after the first run the build is offline.
"""

from __future__ import annotations

import hashlib
import io
import stat
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from provkit import enroll, run_cli

from cli import main
from contract.keys import JournalKey, verifies
from provisioning.release import (
    ArtifactMalformed,
    HashMismatch,
    NoSuchRelease,
    SignatureRefused,
    WrongArch,
    current_version,
    install_release,
    installed_manifest,
    previous_version,
    remove_release,
    rollback,
    switch_current,
    verify_artifact,
)
from provisioning.release.build import (
    Builder,
    BuildPlan,
    build_artifact,
    default_cache,
    marked_requirements,
)
from provisioning.release.errors import NoBinaryWheel
from provisioning.release.keys import load_release_key, read_public_key, release_pub_path
from provisioning.release.manifest import host_arch, key_id
from tests.sealkit import OfficeKeys

REPO = Path(__file__).resolve().parents[2]
ARCH = host_arch()
OTHER_ARCH = "aarch64" if ARCH == "x86_64" else "x86_64"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("fleet")
    office = OfficeKeys(base / "office-key")  # enrollment needs head office's key pinned
    root = base / "fleet"
    assert main(["provision", "--fleet-dir", str(root), "init", "--broker-host", "127.0.0.1",
                 "--office-public-key", str(office.public)]) == 0
    return root


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory, fleet: Path) -> dict[str, Path]:
    """Two versions of a small release signed by the fleet's key."""
    out = tmp_path_factory.mktemp("releases")
    key = load_release_key(fleet)
    built = {}
    for version in ("0.1.1", "0.1.2"):
        plan = BuildPlan(source=REPO, out_dir=out, version=version, arches=(ARCH,), extras=(),
                         cache=default_cache())
        built[version] = build_artifact(plan, key, log=lambda _line: None)
    return built


@pytest.fixture(scope="module")
def pub(fleet: Path):  # noqa: ANN201 - a JournalPublicKey
    return read_public_key(release_pub_path(fleet))


def rewrite(src: Path, dst: Path, *, change: dict | None = None, drop: tuple[str, ...] = (),
            add: dict[str, bytes] | None = None) -> Path:
    """A copy of the artifact with members changed (name -> function of bytes), dropped or added."""
    change = change or {}
    with tarfile.open(src) as tin, tarfile.open(dst, "w") as tout:
        for info in tin.getmembers():
            if info.name in drop:
                continue
            data = tin.extractfile(info).read()
            if info.name in change:
                data = change[info.name](data)
            info.size = len(data)
            tout.addfile(info, io.BytesIO(data))
        for name, data in (add or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tout.addfile(info, io.BytesIO(data))
    return dst


def flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


def kassa_wheel(version: str) -> str:
    return f"wheels/{ARCH}/kassa-{version}-py3-none-any.whl"


def test_provision_init_makes_the_release_key(fleet: Path, pub, capsys) -> None:
    key_file = fleet / "release" / "release.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert JournalKey.from_pem(key_file.read_bytes()).public_key() == pub
    code, out, err = run_cli(capsys, "release", "--fleet-dir", str(fleet), "key")
    assert code == 0, err
    assert key_id(pub.public_bytes_raw()) in out and pub.public_bytes_raw().hex() in out
    assert "BEGIN PRIVATE KEY" not in out


def test_artifact_is_signed_and_lists_every_file_with_its_hash(artifacts, pub) -> None:
    path = artifacts["0.1.1"]
    manifest = verify_artifact(path, pub, ARCH)
    assert (manifest.version, manifest.arches, manifest.requirement) == ("0.1.1", (ARCH,),
                                                                       "kassa==0.1.1")
    with tarfile.open(path) as tar:
        body = tar.extractfile("manifest.json").read()
        signature = bytes.fromhex(tar.extractfile("manifest.sig").read().decode())
        content = {m.name: hashlib.sha256(tar.extractfile(m).read()).hexdigest()
                   for m in tar.getmembers() if m.name not in ("manifest.json", "manifest.sig")}
    assert verifies(pub, body, signature)
    assert {n: f.sha256 for n, f in manifest.files.items()} == content
    for name in (kassa_wheel("0.1.1"), "systemd/kassa-till.service",
                 "systemd/kassa-uplink.service", "provisioning/udev/99-kassa.rules"):
        assert name in content, name
    names = set(content)
    for dependency in ("peewee", "paho_mqtt", "cryptography", "pynacl", "babel", "cffi"):
        assert any(n.startswith(f"wheels/{ARCH}/{dependency}-") for n in names), dependency


@pytest.mark.parametrize("member", ["kassa", "systemd/kassa-till.service",
                                    "provisioning/udev/99-kassa.rules"])
def test_a_changed_file_is_refused_by_its_hash(artifacts, pub, tmp_path, member) -> None:
    member = kassa_wheel("0.1.1") if member == "kassa" else member
    bad = rewrite(artifacts["0.1.1"], tmp_path / "bad.tar", change={member: flip_last_byte})
    with pytest.raises(HashMismatch) as caught:
        verify_artifact(bad, pub, ARCH)
    assert caught.value.member == member


def test_another_key_is_refused(artifacts, pub, tmp_path) -> None:
    other = JournalKey.generate()
    with pytest.raises(SignatureRefused) as caught:
        verify_artifact(artifacts["0.1.1"], other.public_key(), ARCH)
    assert caught.value.trusted_key_id == key_id(other.public_key().public_bytes_raw())
    assert caught.value.claimed_key_id == key_id(pub.public_bytes_raw())
    # a manifest edited and signed again by a key the terminal does not trust
    def forge(body: bytes) -> bytes:
        return body.replace(b'"version":"0.1.1"', b'"version":"9.9.9"')

    edited = rewrite(artifacts["0.1.1"], tmp_path / "edited.tar", change={"manifest.json": forge})
    with tarfile.open(edited) as tar:
        body = tar.extractfile("manifest.json").read()
    assert b"9.9.9" in body
    for signature in (None, other.sign(body).hex().encode()):
        forged = rewrite(edited, tmp_path / "forged.tar",
                         change={"manifest.sig": lambda old, s=signature: s or old})
        with pytest.raises(SignatureRefused):
            verify_artifact(forged, pub, ARCH)


def test_wrong_architecture_is_refused(artifacts, pub) -> None:
    with pytest.raises(WrongArch) as caught:
        verify_artifact(artifacts["0.1.1"], pub, OTHER_ARCH)
    assert (caught.value.arch, caught.value.available) == (OTHER_ARCH, (ARCH,))


def test_malformed_artifacts_are_refused(artifacts, pub, tmp_path) -> None:
    src = artifacts["0.1.1"]
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    cases = {
        "not a tar": junk,
        "no signature": rewrite(src, tmp_path / "a.tar", drop=("manifest.sig",)),
        "no manifest": rewrite(src, tmp_path / "b.tar", drop=("manifest.json",)),
        "a listed file missing": rewrite(src, tmp_path / "c.tar", drop=(kassa_wheel("0.1.1"),)),
        "an unlisted file": rewrite(src, tmp_path / "d.tar", add={"systemd/evil.service": b"x"}),
        "a path outside": rewrite(src, tmp_path / "e.tar", add={"../../etc/cron.d/x": b"x"}),
    }
    for label, path in cases.items():
        with pytest.raises(ArtifactMalformed):
            verify_artifact(path, pub, ARCH)
            pytest.fail(label)


def _kassa_version(root: Path) -> str:
    done = subprocess.run([str(root / "current" / "venv" / "bin" / "python"), "-I", "-c",
                           "from contract.version import SOFTWARE_VERSION; print(SOFTWARE_VERSION)"],
                          capture_output=True, text=True, timeout=60, cwd=root, check=True)
    return done.stdout.strip()


def test_install_offline_switch_and_roll_back(artifacts, pub, tmp_path) -> None:
    root = tmp_path / "opt-kassa"
    bad = rewrite(artifacts["0.1.1"], tmp_path / "bad.tar",
                  change={kassa_wheel("0.1.1"): flip_last_byte})
    for refused, error in ((bad, HashMismatch), (artifacts["0.1.1"], SignatureRefused)):
        key = pub if refused is bad else JournalKey.generate().public_key()
        with pytest.raises(error):
            install_release(refused, root, release_public_key=key)
    assert not (root / "releases").exists() and current_version(root) is None

    slot = install_release(artifacts["0.1.1"], root, release_public_key=pub)
    assert slot == root / "releases" / "0.1.1" and (slot / ".complete").is_file()
    assert not (slot / "wheels").exists(), "wheels are removed once installed"
    assert current_version(root) is None, "installing never switches by itself"
    assert switch_current(root, "0.1.1") is None
    assert (current_version(root), previous_version(root)) == ("0.1.1", None)
    assert _kassa_version(root) == "0.1.1"
    help_run = subprocess.run([str(root / "current" / "venv" / "bin" / "kassa"), "--help"],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert help_run.returncode == 0 and "release" in help_run.stdout
    assert install_release(artifacts["0.1.1"], root, release_public_key=pub) == slot  # idempotent
    assert installed_manifest(root, "0.1.1") == verify_artifact(artifacts["0.1.1"], pub, ARCH)

    # a power cut mid-install leaves a slot without .complete: never switched to, redone
    partial = root / "releases" / "0.1.2"
    (partial / "venv").mkdir(parents=True)
    (partial / "half-written").write_bytes(b"x")
    with pytest.raises(NoSuchRelease):
        switch_current(root, "0.1.2")
    install_release(artifacts["0.1.2"], root, release_public_key=pub)
    assert not (partial / "half-written").exists()

    assert switch_current(root, "0.1.2") == "0.1.1"
    assert (current_version(root), previous_version(root)) == ("0.1.2", "0.1.1")
    assert _kassa_version(root) == "0.1.2"
    assert (root / "current").readlink() == Path("releases/0.1.2")
    assert rollback(root) == "0.1.1"
    assert (current_version(root), previous_version(root)) == ("0.1.1", "0.1.2")
    assert _kassa_version(root) == "0.1.1"
    assert rollback(root) == "0.1.2"
    with pytest.raises(NoSuchRelease):
        remove_release(root, "0.1.2")  # current
    with pytest.raises(NoSuchRelease):
        rollback(tmp_path / "fresh")


def test_cli_verify_names_the_changed_file(artifacts, fleet, tmp_path, capsys) -> None:
    member = "systemd/kassa-till.service"
    bad = rewrite(artifacts["0.1.1"], tmp_path / "bad.tar", change={member: flip_last_byte})
    key = str(release_pub_path(fleet))
    code, out, err = run_cli(capsys, "release", "verify", str(bad), "--key", key, "--arch", ARCH)
    assert code == 1 and member in err and "tampered" in err
    code, out, err = run_cli(capsys, "release", "verify", str(artifacts["0.1.1"]), "--key", key,
                             "--arch", ARCH)
    assert code == 0 and "release 0.1.1" in out, err


def test_provision_apply_installs_the_release_the_bundle_carries(artifacts, fleet, capsys,
                                                                 tmp_path) -> None:
    bundle = enroll(capsys, fleet, "s1", "t1", "--no-register")
    code, out, err = run_cli(capsys, "release", "--fleet-dir", str(fleet), "stage",
                             str(artifacts["0.1.2"]), "--bundle", str(bundle))
    assert code == 0, err
    root = tmp_path / "root"
    code, out, err = run_cli(capsys, "provision", "apply", str(bundle), "--root", str(root),
                             "--source", str(tmp_path / "no-source-needed"))
    assert code == 0, err
    opt = root / "opt" / "kassa"
    assert current_version(opt) == "0.1.2"
    assert (root / "etc/kassa/keys/release.pub").read_bytes() == release_pub_path(fleet).read_bytes()
    slot = opt / "releases" / "0.1.2"
    for name in ("kassa-till.service", "kassa-uplink.service"):
        installed = (root / "etc/systemd/system" / name).read_text()
        assert installed == (slot / "systemd" / name).read_text()
        assert "ExecStart=/opt/kassa/current/venv/bin/kassa " in installed
    assert (root / "etc/udev/rules.d/99-kassa.rules").read_bytes() == (
        slot / "provisioning/udev/99-kassa.rules").read_bytes()
    # apply runs under umask 0077, yet the service user must read and run the release
    for path in (opt, opt / "releases", slot, slot / "venv" / "lib"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o755, path
    assert stat.S_IMODE((slot / "venv" / "bin" / "kassa").stat().st_mode) & 0o005 == 0o005


def test_platform_markers_are_judged_for_the_target_arch(tmp_path) -> None:
    """pip download judges markers by the building machine; lgpio must still ship for aarch64."""
    wheel = tmp_path / "kassa-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("kassa-1.0.dist-info/METADATA", "\n".join([
            "Name: kassa", "Version: 1.0", "Requires-Dist: peewee>=3.17",
            "Requires-Dist: evdev>=1.7; extra == \"till\"",
            "Requires-Dist: lgpio>=0.2; (platform_machine == \"aarch64\" or platform_machine == "
            "\"armv7l\") and extra == \"till\""]))
    assert marked_requirements(tmp_path, ("till",), "aarch64") == ["lgpio>=0.2"]
    assert marked_requirements(tmp_path, ("till",), "x86_64") == []
    assert marked_requirements(tmp_path, (), "aarch64") == []


def test_a_source_only_dependency_needs_a_root_of_a_foreign_arch(tmp_path) -> None:
    """evdev has no wheels: for another CPU it can only be compiled inside a root of that CPU."""
    plan = BuildPlan(source=REPO, out_dir=tmp_path, arches=(OTHER_ARCH,), cache=tmp_path / "c")
    builder = Builder(plan, log=lambda _line: None)
    try:
        with pytest.raises(NoBinaryWheel) as caught:
            builder.compile_sdist("evdev>=1.7", OTHER_ARCH, tmp_path / "c")
    finally:
        builder.close()
    assert (caught.value.requirement, caught.value.arch) == ("evdev>=1.7", OTHER_ARCH)
    assert "--builder-root" in str(caught.value)
