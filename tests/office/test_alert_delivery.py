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
        tmp_path, office_db_url, webhook, smtp_inbox, monkeypatch):
    from headoffice.alerts import settings as settings_mod

    hook_url, received = webhook
    smtp_port, inbox = smtp_inbox
    settings = tmp_path / "office.toml"
    # a window of 0: one alert per entry, so each no-sale is a cause of its own here
    settings.write_text(f'[alerts]\nopening_hours = "00:00-23:59"\nwebhook_url = "{hook_url}"\n'
                        'alert_window_minutes = 0\n'
                        f'smtp_host = "127.0.0.1"\nsmtp_port = {smtp_port}\n'
                        'mail_to = ["eigenaar@example.nl"]\n')
    # the rules run here (feed stores as the ingest does), with the same settings
    monkeypatch.setattr(settings_mod, "_current", settings_mod.load_settings(settings))
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


def test_five_after_hours_sales_give_one_webhook_with_count_five(office_db_url, webhook,
                                                                 monkeypatch):
    """The default window (15 minutes): five sales after hours on one terminal are one alert,
    one webhook call, with count 5 and the first sale's own time."""
    from contract.entries import parse_entry
    from headoffice.alerts import settings as settings_mod
    from headoffice.alerts.delivery import deliver_pending
    from headoffice.alerts.rules import evaluate_entries
    from headoffice.db import write_transaction

    hook_url, received = webhook
    rules = settings_mod.AlertSettings(opening_hours="07:00-21:00", webhook_url=hook_url)
    assert rules.alert_window_minutes == 15
    monkeypatch.setattr(settings_mod, "_current", settings_mod.OfficeSettings(alerts=rules))
    paid = {"lines": [], "vat": [], "total": 0, "discount_total": 0, "ticket_discount": 0,
            "rounding": 0, "total_paid": 0, "tenders": [], "change": 0}
    sales = [parse_entry({"v": 2, "seq": seq, "type": "sale", "store": "s1", "terminal": "t1",
                          "cashier": "anna", "training": False, "data": paid,
                          "ts": f"2026-12-02T22:{seq * 2:02d}:30.000+01:00"})
             for seq in range(1, 6)]
    with write_transaction():
        evaluate_entries(sales)
    db = database_proxy.obj
    assert deliver_pending(db, rules) == 1
    assert deliver_pending(db, rules) == 0
    assert len(received) == 1
    body = received[0][1]
    assert (body["kind"], body["count"], body["seq"]) == ("after_hours", 5, 1)
    assert body["ts"] == "2026-12-02T22:02:30.000+01:00"
    assert body["message"].startswith("5× in dit venster (22:02:30 t/m 22:10:30)")
