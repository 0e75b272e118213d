"""A wrong TLS file for `kassa office ingest` is one clear line naming the option and the
file, and exit status 2, with one worker and with two (no traceback, no restart loop)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from headoffice.broker import BrokerSettings
from headoffice.ingest.supervisor import WorkerConfigError, supervise
from headoffice.ingest.worker_main import TlsFileError, WorkerSpec, check_tls_files

ROOT = Path(__file__).resolve().parents[2]


def _ingest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", "office", "--db",
                           f"sqlite:///{tmp_path / 'office.sqlite3'}", "ingest", "--mqtt-port",
                           "1", *args], capture_output=True, text=True, cwd=ROOT, timeout=60)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_missing_ca_file_is_one_clear_error_and_exit_2(tmp_path, workers):
    missing = tmp_path / "no-such-ca.crt"
    done = _ingest(tmp_path, "--workers", workers, "--ca", str(missing))
    assert done.returncode == 2
    assert done.stderr == f"kassa office ingest: --ca {missing}: no such file\n"
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ca_file_that_is_no_certificate_is_named(tmp_path, workers):
    bad = tmp_path / "ca.crt"
    bad.write_text("this is not a certificate\n")
    done = _ingest(tmp_path, "--workers", workers, "--ca", str(bad))
    assert done.returncode == 2
    assert done.stderr == f"kassa office ingest: --ca {bad}: holds no PEM CA certificate\n"


def test_missing_client_key_and_directory_as_ca(tmp_path):
    with pytest.raises(TlsFileError) as caught:
        check_tls_files(BrokerSettings(ca_file=str(tmp_path)))
    assert (caught.value.option, caught.value.path, caught.value.reason) == (
        "--ca", str(tmp_path), "not a file")
    cert = tmp_path / "ingest.crt"
    cert.write_text("x")
    with pytest.raises(TlsFileError) as caught:
        check_tls_files(BrokerSettings(cert_file=str(cert), key_file=str(tmp_path / "nokey")))
    assert (caught.value.option, caught.value.reason) == ("--key", "no such file")


def test_worker_process_exits_2_and_the_supervisor_does_not_restart_it(tmp_path):
    missing = str(tmp_path / "gone.crt")
    done = subprocess.run([sys.executable, "-m", "headoffice.ingest.worker_main", "--client-id",
                           "w-0", "--ca", missing], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert done.returncode == 2
    assert done.stderr == f"ingest worker w-0: --ca {missing}: no such file\n"
    spec = WorkerSpec(f"sqlite:///{tmp_path / 'o.sqlite3'}", BrokerSettings(ca_file=missing),
                      "w-1")
    stop = threading.Event()
    start = time.monotonic()
    with pytest.raises(WorkerConfigError) as caught:
        supervise([spec, spec], stop, restart_delay=0.1)
    assert caught.value.client_id == "w-1"
    assert time.monotonic() - start < 30
