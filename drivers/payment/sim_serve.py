"""The simulated terminal in a process of its own, as a real terminal is a device of its own.

A till and its terminal in one Python process share one interpreter lock: the terminal's
server work (TLS, JSON, protection) would then be counted in the till's own time. Started
with `python -m drivers.payment.sim_serve --directory D --passphrase-file F`, it writes one
JSON line to stdout ({"url", "poiid", "cert_file"}) once it serves, and serves until its
stdin is closed (the parent went away) or it is terminated; it then writes a last line with
what it saw: {"connections", "approved", "refused"}. `SimProcess` is the parent's side.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from drivers.payment.adyen import SecretFileError, read_secret
from drivers.payment.crypto import SharedKey
from drivers.payment.sim import SimTerminal

_ROOT = Path(__file__).resolve().parents[2]  # where `drivers` is imported from


class SimProcessError(Exception):
    """The terminal process did not come up (params: reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the simulated terminal process did not start: {reason}")
        self.reason = reason


def serve(directory: Path, passphrase: str, key_identifier: str, key_version: int, port: int,
          out: IO[str], stop: threading.Event) -> dict[str, Any]:
    """Serves until `stop` is set; returns the summary it also writes to `out`."""
    sim = SimTerminal(SharedKey(key_identifier, passphrase, key_version), directory=directory,
                      port=port).start()
    try:
        out.write(json.dumps({"url": sim.url, "poiid": sim.poiid,
                              "cert_file": str(sim.cert_file)}) + "\n")
        out.flush()
        stop.wait()
    finally:
        sim.stop()
    summary = {"connections": sim.connections, "approved": len(sim.approved()),
               "refused": list(sim.refused)}
    out.write(json.dumps(summary) + "\n")
    out.flush()
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drivers.payment.sim_serve",
                                     description="A simulated Adyen terminal on loopback.")
    parser.add_argument("--directory", required=True, type=Path,
                        help="where its certificate and key are written")
    parser.add_argument("--passphrase-file", required=True,
                        help="the shared key's passphrase, a 0600 file")
    parser.add_argument("--key-identifier", default="kassa")
    parser.add_argument("--key-version", type=int, default=1)
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    args = parser.parse_args(argv)
    try:
        passphrase = read_secret(args.passphrase_file)
    except SecretFileError as exc:
        print(f"the shared key's passphrase file {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())

    def until_stdin_closes() -> None:
        # The bare descriptor: a daemon thread holding sys.stdin's buffer lock can stall the
        # interpreter's shutdown.
        while os.read(0, 4096):
            pass
        stop.set()

    threading.Thread(target=until_stdin_closes, daemon=True).start()
    serve(args.directory, passphrase, args.key_identifier,
          args.key_version, args.port, sys.stdout, stop)
    return 0


class SimProcess:
    """The parent's side: starts the process, knows its url, poiid and certificate."""

    def __init__(self, directory: Path, passphrase_file: Path, key_identifier: str = "kassa",
                 key_version: int = 1, python: str = sys.executable) -> None:
        self.log_file = directory / "sim-terminal.log"  # its stderr
        with self.log_file.open("w") as log:
            self._proc = self._spawn(python, directory, passphrase_file, key_identifier,
                                     key_version, log)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self._proc.wait(10)
            errors = self.log_file.read_text().strip().splitlines()
            raise SimProcessError(f"exited with status {self._proc.returncode}"
                                  + (f": {errors[-1]}" if errors else ""))
        ready = json.loads(line)
        self.url: str = ready["url"]
        self.poiid: str = ready["poiid"]
        self.cert_file = Path(ready["cert_file"])
        self.pid = self._proc.pid

    @staticmethod
    def _spawn(python: str, directory: Path, passphrase_file: Path, key_identifier: str,
               key_version: int, log: IO[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [python, "-m", "drivers.payment.sim_serve", "--directory", str(directory),
             "--passphrase-file", str(passphrase_file), "--key-identifier", key_identifier,
             "--key-version", str(key_version)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(
                filter(None, [str(_ROOT), os.environ.get("PYTHONPATH", "")]))})

    def stop(self, timeout: float = 10.0) -> dict[str, Any]:
        """Ends the process; what it saw: connections, approved payments, refused messages."""
        try:
            rest, _err = self._proc.communicate(timeout=timeout)  # closes its stdin: stop
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout)
            raise SimProcessError("did not stop when asked") from None
        lines = [line for line in rest.splitlines() if line.strip()]
        return json.loads(lines[-1]) if lines else {}


if __name__ == "__main__":
    sys.exit(main())
