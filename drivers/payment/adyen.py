"""The Adyen Terminal API client: local (the terminal's https://<ip>:8443/nexo, messages
protected with the shared key) or cloud (Adyen's /sync endpoint, authenticated by API key).

It satisfies firmware.ports.PaymentTerminal: pay, status, abort return outcome dicts
(drivers/payment/nexo.py). A network failure or no answer within the timeout raises
TerminalUnreachable (an OSError): the till then asks for the transaction's status, it never
assumes an outcome.
"""

from __future__ import annotations

import http.client
import json
import secrets
import select
import ssl
import stat
import threading
import urllib.parse
from pathlib import Path
from typing import Any

from drivers.payment import nexo
from drivers.payment.crypto import ProtectionError, SharedKey, protect, unprotect

CLOUD_TEST = "https://terminal-api-test.adyen.com/sync"
CLOUD_LIVE = "https://terminal-api-live.adyen.com/sync"


class TerminalUnreachable(OSError):
    """No answer from the terminal (params: url, reason); the outcome is not known."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"no answer from the payment terminal at {url}: {reason}")
        self.url, self.reason = url, reason


class SecretFileError(Exception):
    """A secret file that is missing or readable by others (params: path, reason)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def read_secret(path: str) -> str:
    """A passphrase or API key file from the bundle: must exist and be mode 0600 or stricter."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except OSError as exc:
        raise SecretFileError(path, f"cannot be read ({exc.strerror})") from None
    if stat.S_IMODE(mode) & 0o077:
        raise SecretFileError(path, f"mode {stat.S_IMODE(mode):04o} lets others read it; "
                              "chmod 600")
    return p.read_text(encoding="utf-8").strip()


def new_service_id() -> str:
    """nexo ServiceID: at most 10 characters, unique per request of this sale system."""
    return secrets.token_hex(5)


class AdyenTerminal:
    """One terminal; thread-safe (an abort is sent while the payment request waits)."""

    def __init__(self, url: str, poiid: str, sale_id: str, *, key: SharedKey | None = None,
                 api_key: str = "", timeout: float = 120.0, ca_file: str = "",
                 connect_timeout: float = 5.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"terminal url {url!r} is not https://host[:port]/path")
        if key is None and not api_key:
            raise ValueError("a local terminal needs the shared key, the cloud an API key")
        self.url, self.poiid, self.sale_id = url, poiid, sale_id
        self.key, self.api_key, self.timeout = key, api_key, timeout
        self.connect_timeout = connect_timeout
        self._host, self._port = parts.hostname, parts.port or 443
        self._path = parts.path or "/nexo"
        self._ssl = ssl.create_default_context(cafile=ca_file or None)
        if key is not None and not ca_file:
            # Local terminals present a certificate from Adyen's terminal CA for their serial,
            # not for their LAN address: without the CA file, only the shared key protects.
            self._ssl.check_hostname = False
            self._ssl.verify_mode = ssl.CERT_NONE
        elif key is not None:
            self._ssl.check_hostname = False  # the CA is checked, the name is the POIID's
        self._idle: list[http.client.HTTPSConnection] = []  # kept alive between requests
        self._pool_lock = threading.Lock()

    # --- the port --------------------------------------------------------------------------
    def pay(self, amount_cents: int, service_id: str, transaction_ref: str) -> dict[str, Any]:
        request = nexo.payment_request(self.sale_id, service_id, self.poiid, transaction_ref,
                                       amount_cents)
        # Never resent by the transport: a second send could be a second charge.
        return nexo.read_response(self._exchange(request, self.timeout, retry=False), "Payment")

    def status(self, service_id: str, category: str = "Payment") -> dict[str, Any]:
        """What became of the Payment (or, with category "Reversal", the refund) request."""
        request = nexo.status_request(self.sale_id, new_service_id(), self.poiid, service_id,
                                      category)
        outcome = nexo.read_response(self._exchange(request, self.connect_timeout * 2),
                                     "TransactionStatus")
        if outcome["result"] in nexo.FINAL and outcome.get("service_id") not in ("", service_id):
            raise nexo.MessageError(f"status of ServiceID {outcome['service_id']!r}, asked "
                                    f"for {service_id!r}")
        return outcome

    def refund(self, service_id: str, poi_transaction_id: str, amount_cents: int) -> dict[str, Any]:
        """A referenced refund of the payment poi_transaction_id (nothing asked of a shopper)."""
        request = nexo.reversal_request(self.sale_id, service_id, self.poiid, poi_transaction_id,
                                        amount_cents)
        return nexo.read_response(self._exchange(request, self.timeout, retry=False), "Reversal")

    def totals(self) -> dict[str, Any]:
        """GetTotals: the terminal's per-brand totals of its open period (for the Z)."""
        request = nexo.totals_request(self.sale_id, new_service_id(), self.poiid)
        return nexo.read_response(self._exchange(request, self.connect_timeout * 2),
                                  "GetTotals")

    def reconcile(self) -> dict[str, Any]:
        """Reconciliation: the terminal closes its period (sent after the Z is journaled)."""
        request = nexo.reconciliation_request(self.sale_id, new_service_id(), self.poiid)
        return nexo.read_response(self._exchange(request, self.connect_timeout * 2),
                                  "Reconciliation")

    def abort(self, service_id: str) -> None:
        request = nexo.abort_request(self.sale_id, new_service_id(), self.poiid, service_id)
        self._exchange(request, self.connect_timeout * 2, expect_body=False)

    def close(self) -> None:
        """Closes the idle kept-alive connections (one in use is closed by its request)."""
        with self._pool_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    # --- transport -------------------------------------------------------------------------
    def _take(self, timeout: float) -> http.client.HTTPSConnection:
        """A kept-alive connection if one is idle and still open, else a new one. Shared by
        every thread (payments go out on the till's payment worker, an Abort from another
        thread): a payment does not pay for a TCP and TLS handshake, and an Abort takes its
        own connection while the payment's waits."""
        conn: http.client.HTTPSConnection | None = None
        while conn is None:
            with self._pool_lock:
                if not self._idle:
                    break
                candidate = self._idle.pop()
            if _still_open(candidate):
                conn = candidate
            else:
                candidate.close()  # the terminal closed it while it was idle
        if conn is None:
            conn = http.client.HTTPSConnection(self._host, self._port, context=self._ssl,
                                               timeout=self.connect_timeout)
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        conn.timeout = timeout
        return conn

    def _give(self, conn: http.client.HTTPSConnection) -> None:
        with self._pool_lock:
            if len(self._idle) < 2:
                self._idle.append(conn)
                return
        conn.close()

    def _exchange(self, message: dict[str, Any], timeout: float, *,
                  expect_body: bool = True, retry: bool = True) -> Any:
        sent = protect(message, self.key) if self.key is not None else message
        body = json.dumps(sent, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        for attempt in (1, 2):  # a kept-alive connection the terminal closed: one retry
            conn = self._take(timeout)
            fresh = conn.sock is None
            try:
                conn.request("POST", self._path, body, headers)
                answer = conn.getresponse()
                raw = answer.read(1_000_000)
                if answer.will_close:
                    conn.close()
                else:
                    self._give(conn)
                break
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                if (attempt == 2 or fresh or not retry or isinstance(exc, TimeoutError)
                        or not isinstance(exc, (http.client.RemoteDisconnected,
                                                ConnectionResetError, BrokenPipeError))):
                    raise TerminalUnreachable(self.url, str(exc) or type(exc).__name__) from None
        if answer.status != 200:
            raise TerminalUnreachable(self.url, f"HTTP {answer.status}")
        if not expect_body or not raw.strip() or raw.strip() == b"ok":
            return None
        try:
            decoded = json.loads(raw)
        except ValueError:
            raise nexo.MessageError("not JSON") from None
        if self.key is None:
            return decoded
        try:
            return unprotect(decoded, self.key)
        except ProtectionError as exc:
            raise nexo.MessageError(exc.reason) from None


def _still_open(conn: http.client.HTTPSConnection) -> bool:
    """An idle connection is usable when its socket has nothing to read: a readable idle
    socket means the terminal closed it (or sent what no request asked for)."""
    sock = conn.sock
    if sock is None:
        return False
    try:
        readable, _w, _x = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def from_settings(kind: str, url: str, poiid: str, sale_id: str, key_identifier: str,
                  passphrase_file: str, key_version: int, api_key_file: str, timeout: float,
                  ca_file: str) -> AdyenTerminal:
    """The composition root's one call: secrets are read here, from 0600 files."""
    if kind == "cloud":
        return AdyenTerminal(url or CLOUD_TEST, poiid, sale_id,
                             api_key=read_secret(api_key_file), timeout=timeout, ca_file=ca_file)
    key = SharedKey(key_identifier, read_secret(passphrase_file), key_version)
    return AdyenTerminal(url, poiid, sale_id, key=key, timeout=timeout, ca_file=ca_file)


__all__ = ["AdyenTerminal", "SecretFileError", "TerminalUnreachable", "from_settings",
           "new_service_id", "read_secret"]
