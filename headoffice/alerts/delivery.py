"""Sends new alerts by SMTP e-mail and webhook, each alert claimed once (at most one send).

An alert stands for every cause of its kind on its terminal in one window: it is sent once,
with the count and the first entry's time as they are when it is sent; causes that join it
later are counted on the dashboard's Meldingen page, not sent again.

Runs as a thread of `kassa office web` (or `kassa office alerts`); it also runs the monitor
rules that read the ingest's dead letters and terminal states.
"""

from __future__ import annotations

import json
import logging
import smtplib
import threading
import urllib.request
from email.message import EmailMessage

import peewee

from headoffice.alerts import board, rules, texts
from headoffice.alerts.models import Alert
from headoffice.alerts.settings import AlertSettings
from headoffice.orm import write_transaction

log = logging.getLogger(__name__)


def _summary(alert: Alert) -> tuple[str, int, str]:
    """(Dutch text, count, time of the first entry) as of now: the causes counted so far."""
    group = board.groups([alert.key]).get(alert.key)
    if group is None:
        return alert.message, 1, alert.created
    return board.text_of(alert, group), group.count, group.first


def send_mail(settings: AlertSettings, alert: Alert) -> None:
    text, count, first = _summary(alert)
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(settings.mail_to)
    where = f"{alert.store}/{alert.terminal}".strip("/")
    message["Subject"] = (f"[kassa] {texts.kind_name(alert.kind)}"
                          f"{f' ({count}×)' if count > 1 else ''}: {where}").rstrip(": ")
    message["X-Kassa-Alert"] = alert.key
    message.set_content(f"{text}\n\naantal: {count}\ntijd: {texts.local_time(first)}\n"
                        f"oorzaak: {alert.key}\n")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=5) as smtp:
        smtp.send_message(message)


def send_webhook(settings: AlertSettings, alert: Alert) -> None:
    text, count, first = _summary(alert)
    payload = json.dumps({"key": alert.key, "kind": alert.kind, "store": alert.store,
                          "terminal": alert.terminal, "seq": alert.seq, "message": text,
                          "count": count, "ts": first, "created": alert.created}).encode()
    request = urllib.request.Request(settings.webhook_url, data=payload, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()


def deliver_pending(db: peewee.Database, settings: AlertSettings) -> int:
    """Claims and sends every new alert; a claim is a conditional update, so no double send.

    The list is read before any claim and every write is a write transaction (BEGIN
    IMMEDIATE on SQLite): with a read still open, two senders' upgrades to a write would
    fail at once instead of waiting, leaving a delivered alert marked 'sending'."""
    sent = 0
    pending = list(Alert.select().where(Alert.state == "new").order_by(Alert.id).limit(100))
    for alert in pending:
        with write_transaction(db):
            claimed = (Alert.update(state="sending")
                       .where((Alert.id == alert.id) & (Alert.state == "new")).execute())
        if not claimed:
            continue
        errors = []
        if settings.smtp_host and settings.mail_to:
            try:
                send_mail(settings, alert)
            except (OSError, smtplib.SMTPException) as exc:
                errors.append(f"mail: {exc}")
        if settings.webhook_url:
            try:
                send_webhook(settings, alert)
            except (OSError, ValueError) as exc:
                errors.append(f"webhook: {exc}")
        with write_transaction(db):
            Alert.update(state="failed" if errors else "sent", delivered=rules.now_iso(),
                         error="; ".join(errors)).where(Alert.id == alert.id).execute()
        if errors:
            log.warning("alert %s not delivered: %s", alert.key, errors)
        sent += not errors
    return sent


class AlertWorker(threading.Thread):
    """Every `interval` seconds: monitor rules, then delivery of what is new."""

    def __init__(self, db: peewee.Database, settings: AlertSettings, interval: float = 0.5) -> None:
        super().__init__(name="kassa-alerts", daemon=True)
        self.db, self.settings, self.interval = db, settings, interval
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.tick()
            except peewee.PeeweeException:
                log.exception("alert worker: database error, retrying")

    def tick(self) -> None:
        rules.check_dead_letters(self.db)
        rules.check_dead_letter_floods(self.db)
        rules.check_terminals(self.db)
        deliver_pending(self.db, self.settings)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)
