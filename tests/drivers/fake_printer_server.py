"""A tiny ESC/POS printer on a loopback TCP port: stores what it gets, answers DLE EOT."""

from __future__ import annotations

import socket
import struct
import threading

ONLINE = 0x12


class PrinterServer:
    """behaviour: 'ok', 'paper_out', 'cover_open', 'mute' (no status answers) or
    'die' (hangs up with a reset after `die_after` bytes of the receipt)."""

    def __init__(self, behaviour: str = "ok", die_after: int = 64) -> None:
        self.behaviour = behaviour
        self.die_after = die_after
        self.jobs: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        received = bytearray()
        scanned = 0
        while True:
            try:
                chunk = conn.recv(4096)
            except OSError:
                break
            if not chunk:
                break
            received += chunk
            while (i := received.find(b"\x10\x04", scanned)) != -1 and i + 2 < len(received):
                scanned = i + 3
                if self.behaviour != "die" or i < self.die_after:
                    self._answer(conn, received[i + 2])
            if self.behaviour == "die" and len(received) > self.die_after:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                break
        self.jobs.append(bytes(received))

    def _answer(self, conn: socket.socket, n: int) -> None:
        if self.behaviour == "mute":
            return
        value = ONLINE
        if self.behaviour == "paper_out" and n == 4:
            value |= 0x60
        if self.behaviour == "cover_open" and n == 2:
            value |= 0x04
        if self.behaviour == "cover_open" and n == 1:
            value |= 0x08
        conn.sendall(bytes([value]))

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)
