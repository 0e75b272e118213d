"""The files `kassa provision broker-config` writes are readable by the broker's own user.

Mosquitto 2 drops to its user (`mosquitto`) before it loads certificates and keys, so a
root-owned 0700 directory or a 0600 root key stops it from starting. The key is 0640 in the
broker's group, the directory 0750 in that group; without such a group the command says
plainly what to do on the broker host.
"""

from __future__ import annotations

import grp
import os
import shutil
import socket
import ssl
import stat
import tempfile
from pathlib import Path

import pytest
from provkit import enroll, init_fleet, run_cli

from tests.fixtures_services import free_port, wait_for_port

PUBLIC = ("mosquitto.conf", "acl-terminals", "acl-ingest", "ca.crt", "server.crt", "crl.pem")


def _group(name: str) -> int | None:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _broker_config(capsys, fleet: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "provision", "--fleet-dir", str(fleet), "broker-config", "--out",
                   str(out), *extra)


@pytest.mark.skipif(_group("mosquitto") is None or os.geteuid() != 0,
                    reason="needs a 'mosquitto' group and root to give files to it")
def test_key_and_directory_belong_to_the_broker_group(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    out = tmp_path / "broker"
    code, stdout, err = _broker_config(capsys, fleet, out)
    assert code == 0, err
    gid = _group("mosquitto")
    assert (_mode(out), out.stat().st_gid) == (0o750, gid)
    key = out / "server.key"
    assert (_mode(key), key.stat().st_gid) == (0o640, gid)
    for name in PUBLIC:
        assert _mode(out / name) & 0o444 == 0o444, name  # not secret: readable by all
    assert "server.key: mode 0640, group mosquitto" in stdout


def test_without_the_broker_group_it_says_what_to_do(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    out = tmp_path / "broker"
    code, stdout, err = _broker_config(capsys, fleet, out, "--run-as", "kassa-no-such-user")
    assert code == 0, err
    assert _mode(out / "server.key") == 0o600  # the secret stays the owner's
    assert _mode(out) == 0o755  # the rest may be read; nothing secret is readable in it
    for name in PUBLIC:
        assert _mode(out / name) == 0o644, name
    assert ("NOTE: server.key is readable by its owner only (no group 'kassa-no-such-user' here, "
            "or no right to give files to it); on the broker host run: chgrp kassa-no-such-user "
            "server.key && chmod 0640 server.key" in stdout)


@pytest.mark.skipif(os.geteuid() != 0 or _group("mosquitto") is None
                    or shutil.which("mosquitto") is None,
                    reason="needs root, a 'mosquitto' user and the mosquitto binary")
def test_mosquitto_running_as_mosquitto_reads_the_generated_files(capsys, tmp_path,
                                                                  mosquitto) -> None:
    """The real broker, dropping to user `mosquitto`, starts on the files as written and
    completes a TLS handshake with the ingest certificate (so it read server.key)."""
    fleet = init_fleet(capsys, tmp_path)
    enroll(capsys, fleet, "s1", "t1", "--no-register")
    base = Path(tempfile.mkdtemp(prefix="kassa-broker-", dir="/tmp"))
    try:
        base.chmod(0o755)  # like /etc/mosquitto: the broker may pass through
        data = base / "data"
        data.mkdir()
        shutil.chown(data, "mosquitto", "mosquitto")
        out, ingest_port = base / "broker", free_port()
        code, _, err = _broker_config(capsys, fleet, out, "--data-dir", str(data), "--port", "1",
                                      "--bind", "127.0.0.1", "--ingest-port", str(ingest_port),
                                      "--ingest-bind", "127.0.0.1")
        assert code == 0, err
        text = (out / "mosquitto.conf").read_text()
        assert "user mosquitto\n" in text
        broker = mosquitto(text.replace("listener 1 127.0.0.1\n", "listener {port} 127.0.0.1\n"))
        wait_for_port(ingest_port, 10, broker.proc)  # both listeners open, not only the first
        context = ssl.create_default_context(cafile=str(fleet / "ca" / "ca.crt"))
        context.load_cert_chain(fleet / "ingest" / "ingest.crt", fleet / "ingest" / "ingest.key")
        with socket.create_connection(("127.0.0.1", ingest_port), 5) as raw, \
                context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
        assert broker.running
    finally:
        shutil.rmtree(base, ignore_errors=True)
