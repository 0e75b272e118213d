"""A simulated Adyen terminal and its acquirer, served over HTTPS on loopback.

It speaks the real messages with the real shared-key protection, so the till's code path is
the one it uses with a terminal on the shop's LAN. What the next payment does is set with
`behave(outcome, delay)` (or per amount: an amount ending in 13 cents declines, 14 is
cancelled by the shopper): approve, decline, cancel (the shopper), slow (approves after the
delay), no_answer (holds the request past any timeout, then approves), lost (approves and
drops the connection without an answer). `behave_refund(outcome, delay)` does the same for
the next Reversal (approve, decline, slow, lost). `charges` and `refunds` are the acquirer's
book: what a till reconciles against; `brand_totals()` is the terminal's own per-brand
count of its open period (GetTotals; Reconciliation closes it), and `skew` (brand -> cents)
makes it report different totals, as a terminal whose day went otherwise would.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import secrets
import ssl
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from drivers.payment import nexo
from drivers.payment.crypto import ProtectionError, SharedKey, protect, unprotect

log = logging.getLogger(__name__)
OUTCOMES = ("approve", "decline", "cancel", "slow", "no_answer", "lost")
REFUND_OUTCOMES = ("approve", "decline", "slow", "lost")
BRANDS = (("mc", "541333", "0010"), ("visa", "411111", "1111"), ("maestro", "679999", "0019"))


@dataclass
class Charge:
    """One payment as the acquirer saw it."""

    service_id: str
    transaction_ref: str
    amount: int
    result: str = "in_progress"  # approved | declined | cancelled | aborted
    psp_reference: str = ""
    response: dict[str, Any] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (it is its own CA: the till's ca_file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "P400Plus-SIM0001")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "terminal.crt", directory / "terminal.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


class SimTerminal:
    """The terminal and its acquirer; `start()` serves https://127.0.0.1:<port>/nexo."""

    def __init__(self, key: SharedKey, poiid: str = "P400Plus-SIM0001",
                 directory: Path | None = None, port: int = 0, api_key: str = "") -> None:
        self.key, self.poiid = key, poiid
        self.api_key = api_key  # set: /sync answers in clear to that x-api-key, as the cloud
        self._dir = directory or Path(tempfile.mkdtemp(prefix="kassa-terminal-"))
        self.cert_file, self.key_file = self_signed(self._dir)
        self.charges: list[Charge] = []
        self._by_service: dict[str, Charge] = {}
        self._plan: list[tuple[str, float]] = []
        self.default: tuple[str, float] = ("approve", 0.0)
        self.aborts: list[str] = []
        self.refunds: list[Charge] = []  # transaction_ref: the original POITransactionID
        self._refund_plan: list[tuple[str, float]] = []
        self._period: dict[str, list[int]] = {}  # brand -> [count, cents] since Reconciliation
        self.skew: dict[str, int] = {}  # brand -> cents added to what GetTotals reports
        self.reconciliations = 0
        self.connections = 0  # TCP (and TLS) connections accepted: a kept-alive link reuses one
        self.refused: list[str] = []  # messages it could not open, and why
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}/nexo"

    def start(self) -> SimTerminal:
        self._thread = threading.Thread(target=self._server.serve_forever, name="sim-terminal",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def behave(self, outcome: str, delay: float = 0.0) -> None:
        """What the next payment does (queued: call it once per payment)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"{outcome!r} is not one of {', '.join(OUTCOMES)}")
        with self._lock:
            self._plan.append((outcome, delay))

    def behave_refund(self, outcome: str, delay: float = 0.0) -> None:
        """What the next Reversal does (queued, one per refund)."""
        if outcome not in REFUND_OUTCOMES:
            raise ValueError(f"{outcome!r} is not one of {', '.join(REFUND_OUTCOMES)}")
        with self._lock:
            self._refund_plan.append((outcome, delay))

    def connection_opened(self) -> None:
        """One more TLS connection from a till (the bench counts them to see reuse)."""
        with self._lock:
            self.connections += 1

    def brand_totals(self) -> dict[str, tuple[int, int]]:
        """brand -> (count, cents) of the open period, as the terminal itself counts them."""
        with self._lock:
            return {brand: (count, amount) for brand, (count, amount) in self._period.items()}

    def _count(self, brand: str, amount: int) -> None:
        """Inside the lock: one approved payment (or, negative, refund) in the period."""
        into = self._period.setdefault(brand, [0, 0])
        into[0] += 1
        into[1] += amount

    def approved(self) -> list[Charge]:
        with self._lock:
            return [c for c in self.charges if c.result == "approved"]

    # --- message handling ------------------------------------------------------------------
    def handle(self, raw: bytes, cloud: bool = False) -> tuple[dict[str, Any] | None, str]:
        """(answer or None, how: 'answer' | 'drop'); may block (the shopper, a slow card).
        `cloud`: an API-key-authenticated /sync request, in clear."""
        try:
            message = json.loads(raw) if cloud else unprotect(json.loads(raw), self.key)
        except (ProtectionError, ValueError) as exc:
            self.refused.append(str(exc))
            return None, "reject"
        request = message["SaleToPOIRequest"]
        head = request["MessageHeader"]
        category = head["MessageCategory"]
        if category == "Payment":
            return self._payment(head, request["PaymentRequest"])
        if category == "TransactionStatus":
            return self._status(head, request["TransactionStatusRequest"]), "answer"
        if category == "Reversal":
            return self._reversal(head, request["ReversalRequest"])
        if category in ("GetTotals", "Reconciliation"):
            return self._totals(head, category), "answer"
        if category == "Abort":
            self._abort(request["AbortRequest"]["MessageReference"]["ServiceID"])
            return None, "answer"
        self.refused.append(f"category {category!r}")
        return None, "reject"

    def _next(self, amount: int) -> tuple[str, float]:
        with self._lock:
            if self._plan:
                return self._plan.pop(0)
        return {13: ("decline", 0.0), 14: ("cancel", 0.0)}.get(amount % 100, self.default)

    def _payment(self, head: dict[str, Any], body: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
        amount = nexo.cents(body["PaymentTransaction"]["AmountsReq"]["RequestedAmount"])
        ref = body["SaleData"]["SaleTransactionID"]["TransactionID"]
        charge = Charge(head["ServiceID"], ref, amount)
        with self._lock:
            if head["ServiceID"] in self._by_service:
                self.refused.append(f"ServiceID {head['ServiceID']} used twice")
                return None, "reject"
            self.charges.append(charge)
            self._by_service[charge.service_id] = charge
        outcome, delay = self._next(amount)
        if outcome == "no_answer":
            delay = max(delay, 3600.0)
        aborted = charge.done.wait(delay) if delay else False  # an Abort ends the wait
        with self._lock:
            if aborted or charge.result == "aborted":
                charge.result = "aborted"
            else:
                charge.result = {"decline": "declined", "cancel": "cancelled"}.get(outcome,
                                                                                   "approved")
            if charge.result == "approved":
                charge.psp_reference = secrets.token_hex(8).upper()
                self._count(brand_of(charge.service_id)[0], charge.amount)
            charge.response = self._payment_response(head, charge)
            charge.done.set()
        return charge.response, "drop" if outcome == "lost" else "answer"

    def _payment_response(self, head: dict[str, Any], charge: Charge) -> dict[str, Any]:
        ok = charge.result == "approved"
        brand, bin6, last4 = brand_of(charge.service_id)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        result: dict[str, Any] = {"Result": "Success" if ok else "Failure"}
        if not ok:
            result["ErrorCondition"] = {"declined": "Refusal", "cancelled": "Cancel",
                                        "aborted": "Aborted"}[charge.result]
            result["AdditionalResponse"] = f"message={charge.result}"
        amount = f"EUR {charge.amount // 100},{charge.amount % 100:02d}"
        fields = [{"key": "header1"}, {"name": "Kaarthouderbon", "key": "header2"},
                  {"name": "Kaart", "value": f"{brand.upper()} ****{last4}", "key": "pan"},
                  {"name": "Datum", "value": now[:10], "key": "txdate"},
                  {"name": "Bedrag", "value": amount, "key": "totalAmount"},
                  {"name": "GOEDGEKEURD" if ok else "GEWEIGERD", "key": "approved"},
                  {"name": "Ref", "value": charge.psp_reference or "-", "key": "pspReference"}]
        lines = [(urllib.parse.urlencode(f, quote_via=urllib.parse.quote),) for f in fields]
        receipts = [{"DocumentQualifier": q, "OutputContent": {
            "OutputFormat": "Text",
            "OutputText": [{"Text": text} for (text,) in lines]}}
            for q in ("CashierReceipt", "CustomerReceipt")]
        return {"SaleToPOIResponse": {
            "MessageHeader": {**head, "MessageType": "Response"},
            "PaymentResponse": {
                "Response": result,
                "SaleData": {"SaleTransactionID": {"TransactionID": charge.transaction_ref,
                                                   "TimeStamp": now}},
                "POIData": {"POITransactionID": {
                    "TransactionID": f"{charge.service_id}.{charge.psp_reference or 'X'}",
                    "TimeStamp": now}},
                "PaymentResult": {
                    "AmountsResp": {"Currency": "EUR",
                                    "AuthorizedAmount": nexo.euros(charge.amount if ok else 0)},
                    "PaymentInstrumentData": {"PaymentInstrumentType": "Card", "CardData": {
                        "PaymentBrand": brand, "MaskedPan": f"{bin6}******{last4}"}}},
                "PaymentReceipt": receipts}}}

    def _reversal(self, head: dict[str, Any], body: dict[str, Any]
                  ) -> tuple[dict[str, Any] | None, str]:
        original = body["OriginalPOITransaction"]["POITransactionID"]["TransactionID"]
        amount = nexo.cents(body["ReversedAmount"])
        refund = Charge(head["ServiceID"], original, amount)
        with self._lock:
            if refund.service_id in self._by_service:
                self.refused.append(f"ServiceID {refund.service_id} used twice")
                return None, "reject"
            self._by_service[refund.service_id] = refund
            outcome, delay = self._refund_plan.pop(0) if self._refund_plan else ("approve", 0.0)
        if delay:
            time.sleep(delay)  # the acquirer's time: the refund is made whatever the till does
        with self._lock:
            charge = next((c for c in self.charges if c.result == "approved" and
                           f"{c.service_id}.{c.psp_reference}" == original), None)
            done = sum(r.amount for r in self.refunds if r.transaction_ref == original)
            ok = (outcome != "decline" and charge is not None
                  and 0 < amount <= charge.amount - done)
            refund.result = "approved" if ok else "declined"
            refund.psp_reference = secrets.token_hex(8).upper() if ok else ""
            if ok and charge is not None:
                self.refunds.append(refund)
                self._count(brand_of(charge.service_id)[0], -amount)
            condition = "Refusal" if outcome == "decline" else (
                "NotAllowed" if charge else "NotFound")
            result: dict[str, Any] = {"Result": "Success"} if ok else {
                "Result": "Failure", "ErrorCondition": condition}
            answer = {"Response": result, "POIData": {"POITransactionID": {
                "TransactionID": f"{refund.service_id}.{refund.psp_reference or 'X'}",
                "TimeStamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}}}
            if ok:
                answer["ReversedAmount"] = nexo.euros(amount)
            refund.response = {"SaleToPOIResponse": {
                "MessageHeader": {**head, "MessageType": "Response"},
                "ReversalResponse": answer}}
            refund.done.set()
        return refund.response, "drop" if outcome == "lost" else "answer"

    def _totals(self, head: dict[str, Any], category: str) -> dict[str, Any]:
        """GetTotals (or Reconciliation, which also closes the period): per brand, debits
        and credits as nexo TransactionTotals, with `skew` added."""
        with self._lock:
            period = {brand: list(v) for brand, v in self._period.items()}
            for brand, cents in self.skew.items():
                period.setdefault(brand, [0, 0])[1] += cents
            if category == "Reconciliation":
                self._period.clear()
                self.reconciliations += 1
        totals = []
        for brand, (count, amount) in sorted(period.items()):
            kind = "Debit" if amount >= 0 else "Credit"
            totals.append({"PaymentInstrumentType": "Card", "CardBrand": brand,
                           "PaymentTotals": [{"TransactionType": kind,
                                              "TransactionCount": count,
                                              "TransactionAmount": nexo.euros(abs(amount))}]})
        answer = {"Response": {"Result": "Success"}, "POIReconciliationID": "1",
                  "TransactionTotals": totals}
        if category == "Reconciliation":
            answer["ReconciliationType"] = "SaleReconciliation"
        return {"SaleToPOIResponse": {"MessageHeader": {**head, "MessageType": "Response"},
                                      f"{category}Response": answer}}

    def _status(self, head: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        of = body["MessageReference"]["ServiceID"]
        with self._lock:
            charge = self._by_service.get(of)
        answer: dict[str, Any] = {"MessageHeader": {**head, "MessageType": "Response"}}
        if charge is None or not charge.done.is_set():
            answer["TransactionStatusResponse"] = {"Response": {
                "Result": "Failure", "ErrorCondition": "NotFound" if charge is None
                else "InProgress"}}
        else:
            inner = charge.response["SaleToPOIResponse"]
            kind = "ReversalResponse" if "ReversalResponse" in inner else "PaymentResponse"
            answer["TransactionStatusResponse"] = {
                "Response": {"Result": "Success"},
                "RepeatedMessageResponse": {
                    "MessageHeader": inner["MessageHeader"],
                    "RepeatedResponseMessageBody": {kind: inner[kind]}}}
        return {"SaleToPOIResponse": answer}

    def _abort(self, of: str) -> None:
        with self._lock:
            self.aborts.append(of)
            charge = self._by_service.get(of)
            if charge is not None and not charge.done.is_set():
                charge.result = "aborted"
        if charge is not None:
            charge.done.set()


def brand_of(service_id: str) -> tuple[str, str, str]:
    """The simulated card a payment is made with (brand, BIN, last four), from its ServiceID."""
    hexadecimal = all(c in "0123456789abcdef" for c in service_id)
    return BRANDS[int(service_id, 16) % len(BRANDS) if hexadecimal and service_id else 0]


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A till that went away mid-request (killed, timed out) is what the simulator is for:
        logged quietly, not as a traceback."""
        log.debug("connection from %s ended early", client_address, exc_info=True)


def _handler(terminal: SimTerminal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body leave at once, as a terminal's do

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
            pass

        def setup(self) -> None:
            terminal.connection_opened()
            super().setup()

        def do_POST(self) -> None:  # noqa: N802 (stdlib name)
            if self.path not in ("/nexo", "/sync"):
                self.send_error(404)
                return
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(min(length, 1_000_000))
            cloud = self.path == "/sync"
            if cloud and (not terminal.api_key
                          or self.headers.get("x-api-key") != terminal.api_key):
                terminal.refused.append("wrong or missing x-api-key")
                self.send_error(401)
                return
            answer, how = terminal.handle(raw, cloud)
            if how == "drop":
                self.close_connection = True
                self.connection.close()
                return
            if how == "reject":
                self.send_error(400)
                return
            sealed = answer if cloud or answer is None else protect(answer, terminal.key)
            body = json.dumps(sealed).encode() if sealed is not None else b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def serve_forever(passphrase: str, key_identifier: str = "kassa", key_version: int = 1,
                  port: int = 0) -> SimTerminal:
    """For `kassa till --sim`: a terminal on loopback for the till's lifetime."""
    return SimTerminal(SharedKey(key_identifier, passphrase, key_version), port=port).start()


def wait_until(predicate: Any, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())
