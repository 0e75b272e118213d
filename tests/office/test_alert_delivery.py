"""`kassa office alerts` on its own: every alert reaches the webhook (a local HTTP server) and
the mailbox (aiosmtpd) within 5 seconds of the entry that raised it, and never twice, even
with two senders running and the same entries delivered again."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from firmware.permissions import Action
from firmware.sim import MANAGER_PIN
from headoffice.db import database_proxy
from tests.fixtures_services import free_port
from tests.office.helpers import enroll, feed, make_till, payloads
from tests.uplink.harness import kassa, stop, wait_until

LATENCY_LIMIT = 5.0  # seconds from storing the entry to the alert arriving (issue 8)


@pytest.fixture
def webhook():
    """A local HTTP server that records each POSTed JSON body with the moment it arrived."""
    received: list[tuple[float, dict]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((time.monotonic(), json.loads(body)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/kassa-alerts", received
    server.shutdown()
    server.server_close()


def _no_sales(till, count: int) -> None:
    till.login("1111")
    for n in range(count):
        till.no_sale(f"wisselgeld {n}", approval=till.approve(MANAGER_PIN, Action.NO_SALE))
    till.logout()


def test_alerts_process_delivers_each_alert_once_within_five_seconds(
        tmp_path, office_db_url, webhook, smtp_inbox):
    hook_url, received = webhook
    smtp_port, inbox = smtp_inbox
    settings = tmp_path / "office.toml"
    settings.write_text(f'[alerts]\nopening_hours = "00:00-23:59"\nwebhook_url = "{hook_url}"\n'
                        f'smtp_host = "127.0.0.1"\nsmtp_port = {smtp_port}\n'
                        'mail_to = ["eigenaar@example.nl"]\n')
    db = database_proxy.obj
    till = make_till(tmp_path / "till")
    enroll(till)
    senders = [kassa("office", "--db", office_db_url, "alerts", "--settings", str(settings))
               for _ in range(2)]  # two senders at once: each alert is claimed by one
    try:
        time.sleep(1.5)  # both running before the first entry arrives
        sent_so_far = 0
        for _round in range(2):
            _no_sales(till, 3)
            messages = payloads(till)
            stored_at = time.monotonic()
            feed(db, messages)  # the ingest's own storing code: the alert rows commit here
            expected = sent_so_far + 3
            wait_until(lambda n=expected: len(received) >= n and len(inbox) >= n,
                       LATENCY_LIMIT * 3, f"{expected} alerts by webhook and mail")
            latencies = [at - stored_at for at, _ in received[sent_so_far:]]
            assert max(latencies) < LATENCY_LIMIT, latencies
            sent_so_far = expected
            assert len(received) == expected  # nothing more than asked for
        feed(db, payloads(till))  # everything delivered again by the feed: no new causes
        time.sleep(2.0)  # several sender rounds
    finally:
        for proc in senders:
            stop(proc)
    keys = [body["key"] for _, body in received]
    assert len(keys) == 6 and len(set(keys)) == 6, keys
    assert {body["kind"] for _, body in received} == {"no_sale"}
    assert all(body["terminal"] == "t1" and body["store"] == "s1" for _, body in received)
    assert sorted(m["X-Kassa-Alert"] for m in inbox) == sorted(keys)
    from headoffice.alerts.models import Alert

    assert {a.state for a in Alert.select()} == {"sent"}
