"""The owner's daily summary mail: turnover per shop beside the same weekday a year earlier,
the alerts of the day and the cash variances of the day's Z closes, in Dutch (or the user's
language), as HTML and plain text, with an unsubscribe link that needs no login.

A day is done when every active (enrolled, not revoked) terminal has a Z close dated that
day, or at the cut-off time ([alerts] summary_cutoff) whatever is missing. Each (user, day)
is a row committed as `sending` before the mail leaves, so a restart never sends it twice;
an SMTP refusal is retried with the back-in-stock mails' backoff for a day, then given up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import json
import logging
import secrets
import smtplib
import threading
from dataclasses import dataclass, field
from typing import Any

import peewee

from contract.money import format_money
from headoffice import registry
from headoffice.alerts.settings import AlertSettings
from headoffice.exports.periods import Period
from headoffice.models import OfficeEntry
from headoffice.notify.backinstock import GIVE_UP_AFTER, backoff
from headoffice.notify.mailer import Mailer, MailSettings, RateLimited, long_date
from headoffice.orm import write_transaction
from headoffice.web import queries
from headoffice.web.i18n import date_nl, now_local, translator
from headoffice.web.roles import Role
from headoffice.web.summary_models import SummaryKey, SummaryMail, SummaryRecipient
from headoffice.web.users import user_info

log = logging.getLogger(__name__)
UNSUBSCRIBE_PATH = "/dagoverzicht/afmelden/"


class SummaryError(ValueError):
    """A summary setting that cannot be used; names the user and what was wrong."""

    def __init__(self, user: str, reason: str) -> None:
        super().__init__(f"daily summary for {user!r}: {reason}")
        self.user, self.reason = user, reason


@dataclass
class SummaryResult:
    sent: list[str] = field(default_factory=list)  # "user day"
    failed: list[str] = field(default_factory=list)


# ---- who gets it -------------------------------------------------------------------------

def set_recipient(user: str, address: str, language: str = "nl", enabled: bool = True) -> None:
    """An owner's setting (the summary is company-wide figures: owners only)."""
    info = user_info(user)
    if info is None or info.role is not Role.OWNER:
        raise SummaryError(user, "only an owner gets the daily summary")
    address = address.strip()
    if "@" not in address or " " in address or len(address) > 254:
        raise SummaryError(user, f"not a mail address: {address!r}")
    if language not in ("nl", "en"):
        raise SummaryError(user, f"language {language!r} (nl or en)")
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    values = {"address": address, "language": language, "enabled": enabled, "changed": now}
    with write_transaction():
        SummaryRecipient.insert(user=user, **values).on_conflict(
            conflict_target=[SummaryRecipient.user],
            update={getattr(SummaryRecipient, k): v for k, v in values.items()}).execute()


def recipient(user: str) -> SummaryRecipient | None:
    return SummaryRecipient.get_or_none(SummaryRecipient.user == user)


# ---- the unsubscribe token ---------------------------------------------------------------

def _secret() -> bytes:
    row = SummaryKey.get_or_none(SummaryKey.name == "unsubscribe")
    if row is None:
        with write_transaction():
            SummaryKey.insert(name="unsubscribe", secret=secrets.token_hex(32)) \
                .on_conflict_ignore().execute()
        row = SummaryKey.get(SummaryKey.name == "unsubscribe")
    return bytes.fromhex(row.secret)


def token(user: str) -> str:
    """`<user hex>.<HMAC-SHA256>`: names the user, and only head office can make one."""
    name = user.encode().hex()
    return f"{name}.{hmac.new(_secret(), name.encode(), hashlib.sha256).hexdigest()}"


def user_of(value: str) -> str | None:
    """The user a token was made for; None for a token head office did not sign."""
    name, _, mac = value.partition(".")
    want = hmac.new(_secret(), name.encode(), hashlib.sha256).hexdigest()
    if not mac or not hmac.compare_digest(mac, want):
        return None
    try:
        return bytes.fromhex(name).decode()
    except ValueError:
        return None


def unsubscribe(value: str) -> str | None:
    """Turns the summary off for the token's user (idempotent); the user, or None."""
    user = user_of(value)
    if user is None:
        return None
    with write_transaction():
        SummaryRecipient.update(enabled=False, changed=dt.datetime.now(dt.UTC).isoformat(
            timespec="seconds")).where(SummaryRecipient.user == user).execute()
    return user


# ---- when a day is done ------------------------------------------------------------------

def z_closes(day: dt.date) -> list[dict[str, Any]]:
    """The day's Z closes (training ones left out): terminal, shop, Z number, cash variance."""
    out = []
    for row in (OfficeEntry.select(OfficeEntry.terminal, OfficeEntry.store, OfficeEntry.seq,
                                   OfficeEntry.body)
                .where(OfficeEntry.type == "z_close",
                       OfficeEntry.ts.startswith(day.isoformat()))
                .order_by(OfficeEntry.store, OfficeEntry.terminal, OfficeEntry.seq)):
        body = json.loads(row.body)
        if body.get("training"):
            continue
        data = body.get("data", {})
        out.append({"store": row.store, "terminal": row.terminal, "seq": row.seq,
                    "z": data.get("z_number"), "variance": int(data.get("variance") or 0)})
    return out


def missing_z(day: dt.date) -> list[tuple[str, str]]:
    """(shop, terminal) of every active terminal without a Z close dated `day`."""
    closed = {z["terminal"] for z in z_closes(day)}
    return sorted((t.store, t.terminal_id) for t in registry.list_terminals()
                  if not t.revoked and t.terminal_id not in closed)


def day_done(day: dt.date, cutoff: dt.time, now: dt.datetime) -> bool:
    """Every active terminal has its Z of `day`, or `now` (local) is past the day's cut-off."""
    if now.date() > day or (now.date() == day and now.time() >= cutoff):
        return True
    return now.date() == day and not missing_z(day)


# ---- what it says ------------------------------------------------------------------------

def same_weekday_last_year(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=364)


def summary(day: dt.date, lang: str = "nl") -> dict[str, Any]:
    """The figures of the mail: per shop today and a year earlier, alerts, Z variances."""
    earlier = same_weekday_last_year(day)
    now = {r["store"]: r for r in queries.by_store(Period(day, day, "day"))}
    before = {r["store"]: r for r in queries.by_store(Period(earlier, earlier, "day"))}
    shops = []
    for store in sorted(set(now) | set(before)):
        turnover = now.get(store, {}).get("turnover", 0)
        last_year = before.get(store, {}).get("turnover", 0)
        shops.append({"store": store, "turnover": turnover,
                      "tickets": now.get(store, {}).get("tickets", 0), "last_year": last_year,
                      "change": queries.change_percent(turnover, last_year)})
    stamp = date_nl(day)
    alerts = [a for a in queries.recent_alerts(limit=500, lang=lang)
              if a["when"].startswith(stamp)]
    alerts.sort(key=lambda a: a["when"])  # as the day went
    return {"day": day, "earlier": earlier, "shops": shops,
            "total": sum(s["turnover"] for s in shops),
            "total_last_year": sum(s["last_year"] for s in shops),
            "alerts": alerts, "zs": z_closes(day), "missing": missing_z(day)}


TEXTS = {
    "subject": "Dagoverzicht {day}: {total}",
    "hello": "Dagoverzicht van {day}",
    "turnover": "Omzet per winkel, naast dezelfde weekdag een jaar eerder ({earlier})",
    "alerts": "Meldingen van de dag", "no_alerts": "Geen meldingen.",
    "zs": "Kasverschillen van de Z-rapporten", "no_zs": "Geen Z-rapporten.",
    "missing": "Nog geen Z van: {terminals}",
    "total": "Totaal", "z": "Z", "off": "Dit overzicht niet meer ontvangen? Afmelden: {url}",
    "off_link": "Dit overzicht niet meer ontvangen?", "off_click": "Afmelden",
}
EN_TEXTS = {
    "subject": "Daily summary {day}: {total}",
    "hello": "Daily summary of {day}",
    "turnover": "Turnover per shop, beside the same weekday a year earlier ({earlier})",
    "alerts": "Alerts of the day", "no_alerts": "No alerts.",
    "zs": "Cash variances of the Z reports", "no_zs": "No Z reports.",
    "missing": "No Z yet from: {terminals}",
    "total": "Total", "z": "Z", "off": "No longer want this summary? Unsubscribe: {url}",
    "off_link": "No longer want this summary?", "off_click": "Unsubscribe",
}


def render(data: dict[str, Any], lang: str, url: str) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the summary in `lang`; `url` is the unsubscribe link."""
    t = EN_TEXTS if lang == "en" else TEXTS
    tr = translator(lang)
    day = long_date(lang, data["day"].isoformat())
    subject = t["subject"].format(day=day, total=format_money(data["total"]))
    head = (tr("Winkel"), tr("Omzet"), tr("Bonnen"), tr("jaar eerder"), tr("verschil"))
    rows = [(s["store"], format_money(s["turnover"]), str(s["tickets"]),
             format_money(s["last_year"]), tr(s["change"])) for s in data["shops"]]
    rows.append((t["total"], format_money(data["total"]), str(sum(s["tickets"] for s in
                                                                  data["shops"])),
                 format_money(data["total_last_year"]),
                 tr(queries.change_percent(data["total"], data["total_last_year"]))))
    alerts = [f"{a['when'][11:16]} {a['store']}/{a['terminal']}: {a['text']}"
              + (f" ({a['count']}x)" if a["count"] > 1 else "") for a in data["alerts"]]
    zs = [(z["store"], z["terminal"], f"{t['z']} {z['z']}", format_money(z["variance"]))
          for z in data["zs"]]
    missing = t["missing"].format(terminals=", ".join(f"{s}/{n}" for s, n in data["missing"]))

    compared = t["turnover"].format(earlier=long_date(lang, data["earlier"].isoformat()))
    lines = [t["hello"].format(day=day), "", compared, ""]
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    for row in (head, *rows):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    lines += ["", t["alerts"], *(alerts or [t["no_alerts"]]), "", t["zs"]]
    lines += [f"{s}/{n} {z}: {v}" for s, n, z, v in zs] or [t["no_zs"]]
    if data["missing"]:
        lines.append(missing)
    lines += ["", "--", t["off"].format(url=url), ""]

    e = html.escape
    cell = 'style="padding:2px 8px;text-align:{}"'

    def table(header: tuple[str, ...], body: list[tuple[str, ...]], ident: str) -> str:
        out = [f'<table id="{ident}" style="border-collapse:collapse">',
               "<tr>" + "".join(f"<th {cell.format('left' if i == 0 else 'right')}>{e(h)}</th>"
                                for i, h in enumerate(header)) + "</tr>"]
        out += ["<tr>" + "".join(f"<td {cell.format('left' if i == 0 else 'right')}>{e(c)}</td>"
                                 for i, c in enumerate(row)) + "</tr>" for row in body]
        return "\n".join([*out, "</table>"])

    parts = [f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
             f"<title>{e(subject)}</title></head>",
             '<body style="font-family:Arial,sans-serif;color:#222">',
             f"<h1 style=\"font-size:20px\">{e(t['hello'].format(day=day))}</h1>",
             f"<h2 style=\"font-size:16px\">{e(compared)}</h2>",
             table(head, rows, "shops"),
             f"<h2 style=\"font-size:16px\">{e(t['alerts'])}</h2>",
             "<ul id=\"alerts\">" + "".join(f"<li>{e(a)}</li>" for a in alerts) + "</ul>"
             if alerts else f"<p id=\"alerts\">{e(t['no_alerts'])}</p>",
             f"<h2 style=\"font-size:16px\">{e(t['zs'])}</h2>",
             table((tr("Winkel"), tr("Terminal"), t["z"], tr("Kasverschil")), zs, "zs")
             if zs else f"<p id=\"zs\">{e(t['no_zs'])}</p>"]
    if data["missing"]:
        parts.append(f'<p id="missing">{e(missing)}</p>')
    parts.append(f'<p style="font-size:12px;color:#666">{e(t["off_link"])} '
                 f'<a id="unsubscribe" href="{e(url)}">{e(t["off_click"])}</a></p></body></html>')
    return subject, "\n".join(lines), "\n".join(parts)


# ---- sending, once per user and day ------------------------------------------------------

def mailer_for(settings: AlertSettings) -> Mailer:
    return Mailer(MailSettings(host=settings.smtp_host, port=settings.smtp_port,
                               sender=settings.mail_from, base_url=settings.summary_base_url))


def _iso(at: dt.datetime) -> str:
    return at.isoformat(timespec="seconds")


def _claim(user: str, day: str, now: dt.datetime) -> bool:
    """True when this (user, day) mail is ours to send now: new, or failed and due again."""
    with write_transaction():
        row = SummaryMail.get_or_none(SummaryMail.user == user, SummaryMail.day == day)
        if row is None:
            return SummaryMail.insert(user=user, day=day, state="sending", attempts=1,
                                      at=_iso(now)).on_conflict_ignore().as_rowcount() \
                .execute() == 1
        if row.state != "failed" or dt.datetime.fromisoformat(row.next_try) > now:
            return False
        return SummaryMail.update(state="sending", attempts=row.attempts + 1, at=_iso(now)).where(
            SummaryMail.id == row.id, SummaryMail.state == "failed").execute() == 1


def _failed(user: str, day: str, detail: str, now: dt.datetime) -> str:
    with write_transaction():
        row = SummaryMail.get(SummaryMail.user == user, SummaryMail.day == day)
        first = dt.datetime.fromisoformat(row.first_failed) if row.first_failed else now
        next_try = now + backoff(row.attempts)
        state = "failed" if next_try - first <= GIVE_UP_AFTER else "gave_up"
        SummaryMail.update(state=state, at=_iso(now), first_failed=_iso(first),
                           next_try=_iso(next_try), detail=detail[:1000]).where(
            SummaryMail.id == row.id).execute()
    return state


def send_due(settings: AlertSettings, mailer: Mailer, now: dt.datetime | None = None,
             utc: dt.datetime | None = None) -> SummaryResult:
    """Sends every summary that is due: yesterday's and today's, once each day is done.
    `now` is the shop's local time, `utc` the retry clock (both default to the real time)."""
    now = now or now_local()
    utc = utc or dt.datetime.now(dt.UTC)
    result = SummaryResult()
    if not settings.smtp_host:
        return result
    recipients = list(SummaryRecipient.select().where(SummaryRecipient.enabled == True)  # noqa: E712
                      .order_by(SummaryRecipient.user))
    if not recipients:
        return result
    cutoff = settings.cutoff()
    for day in (now.date() - dt.timedelta(days=1), now.date()):
        if not day_done(day, cutoff, now):
            continue
        done = {r.user for r in SummaryMail.select(SummaryMail.user).where(
            SummaryMail.day == day.isoformat(), SummaryMail.state != "failed")}
        waiting = [r for r in recipients if r.user not in done]
        if not waiting:
            continue
        texts = {"nl": summary(day, "nl")}
        if not texts["nl"]["total"] and not texts["nl"]["zs"]:
            continue  # a day without trade (a Sunday, the day before the first) has no mail
        for person in waiting:
            try:
                mailer.check_rate()
            except RateLimited:
                return result
            if not _claim(person.user, day.isoformat(), utc):
                continue
            data = texts.get(person.language) or texts.setdefault(
                person.language, summary(day, person.language))
            url = mailer.settings.base_url.rstrip("/") + UNSUBSCRIBE_PATH + token(person.user)
            subject, text, page = render(data, person.language, url)
            try:
                message_id = mailer.send(person.user, person.address, subject, text, "",
                                         html=page, unsubscribe_url=url)
            except (smtplib.SMTPException, OSError) as exc:
                state = _failed(person.user, day.isoformat(), repr(exc), utc)
                result.failed.append(f"{person.user} {day}")
                log.warning("daily summary %s for %s not sent (%s): %r", day, person.user,
                            state, exc)
                continue
            with write_transaction():
                SummaryMail.update(state="sent", at=_iso(utc), message_id=message_id).where(
                    SummaryMail.user == person.user, SummaryMail.day == day.isoformat()).execute()
            result.sent.append(f"{person.user} {day}")
    return result


class SummaryWorker(threading.Thread):
    """Every `interval` seconds: sends the summaries that are due (`kassa office web` and
    `kassa office alerts` run it beside the alert worker)."""

    def __init__(self, settings: AlertSettings, interval: float = 30.0) -> None:
        super().__init__(name="kassa-daily-summary", daemon=True)
        self.settings, self.interval = settings, interval
        self.mailer = mailer_for(settings)
        self.stopping = threading.Event()

    def run(self) -> None:
        """A first look at once (a restart after the day closed sends without delay)."""
        while True:
            try:
                send_due(self.settings, self.mailer)
            except peewee.PeeweeException:
                log.exception("daily summary: database error, retrying")
            if self.stopping.wait(self.interval):
                return

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)
