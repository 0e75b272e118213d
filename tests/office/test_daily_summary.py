"""The owner's daily summary mail, received by a real SMTP server (aiosmtpd) and read back:
sent when the last active terminal has its Z of the day (or at the cut-off whatever is
missing), once per user and day even when the sender runs again, retried after an SMTP
refusal, in Dutch and in English, HTML and plain text, with figures recomputed from the
journal; its unsubscribe link (no login, signed) turns the mail off in the running web
process, and the owner's settings page turns it on again."""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default

import pytest

from contract.money import format_money
from firmware.permissions import Action
from firmware.sim import MANAGER_PIN
from headoffice.web import audit_trail
from tests.fixtures_services import free_port
from tests.office.helpers import OfficeWeb, enroll, feed, make_till, payloads, shop_day
from tests.office.owner_trading import AMSTERDAM, DayClock, counted
from tests.uplink.harness import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "daily-summary"
DAY = dt.date(2026, 3, 10)  # a Tuesday
LAST_YEAR = DAY - dt.timedelta(days=364)  # Tuesday 2025-03-11: the same weekday


def _journal_turnover(bodies: list[dict], store: str, day: dt.date) -> int:
    return sum(b["data"]["total"] for b in bodies
               if b["store"] == store and b["ts"][:10] == day.isoformat() and counted(b))


def _read(message) -> EmailMessage:
    """A received mail with its headers decoded (RFC 2047) and its parts reachable."""
    return BytesParser(policy=default).parsebytes(message.as_bytes())


def _parts(mail: EmailMessage) -> tuple[str, str]:
    return (mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content())


def _trade(tmp_path) -> dict:
    """s1/t1 trades and closes on LAST_YEAR, DAY and the day after; s2/t2 trades on DAY only,
    its Z fed later (returned as `t2_z`). Each Z is 7.50 short (tests.office.helpers.shop_day)."""
    from headoffice.db import database_proxy

    db = database_proxy.obj
    t1 = make_till(tmp_path / "t1", "s1", "t1")  # one till at a time: the sim's state is global
    enroll(t1)
    t1.journal.clock = clock = DayClock()
    clock.start(LAST_YEAR)
    shop_day(t1, sales=10, seed=4)
    clock.start(DAY)
    shop_day(t1, sales=12, seed=5)
    # a training sale on t1 that day: never in the figures
    t1.login("1111")
    t1.set_training(True, approval=t1.approve(MANAGER_PIN, Action.TRAINING))
    t1.add_plu("3", quantity=5)
    t1.pay_card(None, "TRAINING")
    t1.set_training(False, approval=t1.approve(MANAGER_PIN, Action.TRAINING))
    t1.logout()
    clock.start(DAY + dt.timedelta(days=1))
    shop_day(t1, sales=3, seed=8)
    feed(db, payloads(t1))
    bodies = [e.body for e in t1.journal.entries()]
    t1.db.close()
    t2 = make_till(tmp_path / "t2", "s2", "t2")
    enroll(t2)
    t2.journal.clock = clock = DayClock()
    clock.start(DAY)
    shop_day(t2, sales=8, seed=6)
    t2_messages = payloads(t2)
    z_at = next(i for i, e in enumerate(t2.journal.entries()) if e.body["type"] == "z_close")
    feed(db, t2_messages[:z_at])
    bodies += [e.body for e in t2.journal.entries()]
    t2.db.close()
    return {"bodies": bodies, "t2_z": t2_messages[z_at:]}


def test_daily_summary_mail(tmp_path, office_db_url, smtp_inbox) -> None:
    from headoffice.alerts.settings import AlertSettings
    from headoffice.db import database_proxy
    from headoffice.web import daily_summary as ds
    from headoffice.web.roles import Role
    from headoffice.web.summary_models import SummaryMail
    from headoffice.web.users import add_user

    port, inbox = smtp_inbox
    trading = _trade(tmp_path)
    bodies = trading["bodies"]
    add_user("baas", "geheim-wachtwoord", replace=True)
    add_user("boss", "another-secret-pass", role=Role.OWNER)
    add_user("boekhouder", "boeken-zijn-leuk", role=Role.ACCOUNTANT)
    ds.set_recipient("baas", "baas@winkel.example", "nl")
    ds.set_recipient("boss", "boss@winkel.example", "en")
    with pytest.raises(ds.SummaryError, match="only an owner"):
        ds.set_recipient("boekhouder", "b@winkel.example")
    with pytest.raises(ds.SummaryError, match="not a mail address"):
        ds.set_recipient("baas", "baas at winkel")
    with pytest.raises(ds.SummaryError, match="language 'fr'"):
        ds.set_recipient("baas", "baas@winkel.example", "fr")
    base_url = "http://127.0.0.1:9"  # replaced by the web process's address below
    dead = AlertSettings(smtp_host="127.0.0.1", smtp_port=free_port(), summary_base_url=base_url)
    live = AlertSettings(smtp_host="127.0.0.1", smtp_port=port, summary_base_url=base_url)
    local = lambda day, hh, mm: dt.datetime.combine(day, dt.time(hh, mm), tzinfo=AMSTERDAM)  # noqa: E731
    utc = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)

    # a year earlier: t2 (enrolled) has no Z that day, so the mail waits for the cut-off
    assert ds.missing_z(LAST_YEAR) == [("s2", "t2")]
    assert ds.send_due(live, ds.mailer_for(live), local(LAST_YEAR, 23, 0), utc).sent == []
    # at the cut-off with the SMTP server away: recorded as failed, retried after the backoff
    failed = ds.send_due(dead, ds.mailer_for(dead), local(LAST_YEAR, 23, 30), utc)
    assert sorted(failed.failed) == [f"baas {LAST_YEAR}", f"boss {LAST_YEAR}"] and not inbox
    assert ds.send_due(live, ds.mailer_for(live), local(LAST_YEAR, 23, 31), utc).sent == []
    later = utc + dt.timedelta(minutes=6)
    sent = ds.send_due(live, ds.mailer_for(live), local(LAST_YEAR, 23, 36), later)
    assert sorted(sent.sent) == [f"baas {LAST_YEAR}", f"boss {LAST_YEAR}"]
    assert len(inbox) == 2
    text, _html = _parts(next(m for m in map(_read, inbox)
                              if m["To"].endswith("<baas@winkel.example>")))
    assert "Nog geen Z van: s2/t2" in text
    assert format_money(_journal_turnover(bodies, "s1", LAST_YEAR)).replace("\u00a0", " ") in \
        text.replace("\u00a0", " ")
    inbox.clear()

    # the day itself: t1 has its Z, t2 not yet: nothing at 18:00
    assert ds.missing_z(DAY) == [("s2", "t2")]
    assert ds.send_due(live, ds.mailer_for(live), local(DAY, 18, 0), utc).sent == []
    feed(database_proxy.obj, trading["t2_z"])  # the last Z of the day arrives
    assert ds.missing_z(DAY) == []
    sent = ds.send_due(live, ds.mailer_for(live), local(DAY, 18, 1), utc)
    assert sorted(sent.sent) == [f"baas {DAY}", f"boss {DAY}"]
    # once per user and day: a second run, or a restarted sender (a new mailer), sends nothing
    assert ds.send_due(live, ds.mailer_for(live), local(DAY, 18, 2), utc).sent == []
    assert ds.send_due(live, ds.mailer_for(live), local(DAY, 23, 59), later).sent == []
    assert len(inbox) == 2
    assert {(r.user, r.state) for r in SummaryMail.select().where(SummaryMail.day == str(DAY))} \
        == {("baas", "sent"), ("boss", "sent")}

    mails = [_read(m) for m in inbox]
    dutch = next(m for m in mails if m["To"].endswith("<baas@winkel.example>"))
    english = next(m for m in mails if m["To"].endswith("<boss@winkel.example>"))
    s1_now, s1_before = (_journal_turnover(bodies, "s1", d) for d in (DAY, LAST_YEAR))
    s2_now = _journal_turnover(bodies, "s2", DAY)
    assert s1_now > 0 and s2_now > 0 and s1_before > 0
    assert dutch["Subject"] == f"Dagoverzicht 10 maart 2026: {format_money(s1_now + s2_now)}"
    assert english["Subject"].startswith("Daily summary 10 March 2026: ")
    for mail in (dutch, english):
        url = mail["List-Unsubscribe"].strip("<>")
        assert url.startswith(base_url + "/dagoverzicht/afmelden/")
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, page = _parts(dutch)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # for a person to read
    for name, mail in (("nl", dutch), ("en", english)):
        (ARTIFACTS / f"summary-{name}.eml").write_bytes(mail.as_bytes())
        (ARTIFACTS / f"summary-{name}.html").write_text(_parts(mail)[1])
    flat = re.sub(r"[ \u00a0]+", " ", text)
    assert "Dagoverzicht van 10 maart 2026" in text
    assert "dezelfde weekdag een jaar eerder (11 maart 2025)" in text
    change = (s1_now - s1_before) * 1000 // abs(s1_before)
    percent = f"{'+' if change >= 0 else '-'}{abs(change) // 10},{abs(change) % 10}%"
    money = lambda cents: re.escape(format_money(cents).replace("\u00a0", " "))  # noqa: E731
    plain = text.replace("\u00a0", " ")
    assert re.search(rf"s1 +{money(s1_now)} +\d+ +{money(s1_before)} +{re.escape(percent)}",
                     plain), plain
    assert re.search(rf"s2 +{money(s2_now)} +\d+ +{money(0)} +nieuw", plain), plain
    # the cash variances of both Zs, 7.50 short each; the alerts of the day with their time
    assert "s1/t1 Z 2: € -7,50" in flat and "s2/t2 Z 1: € -7,50" in flat
    assert "Meldingen van de dag" in text and "09:" in text.split("Meldingen van de dag")[1]
    assert "Nog geen Z" not in text
    assert '<table id="shops"' in page and '<table id="zs"' in page
    assert f'<a id="unsubscribe" href="{url_of(dutch)}">Afmelden</a>' in page
    en_text, en_page = _parts(english)
    assert "Turnover per shop, beside the same weekday a year earlier (11 March 2025)" in en_text
    assert "Alerts of the day" in en_text and "Cash variances of the Z reports" in en_text
    assert "Unsubscribe" in en_page and "Afmelden" not in en_page

    # the unsubscribe link in the running web process: no login, GET asks, POST turns it off
    web = OfficeWeb(office_db_url)
    try:
        token = url_of(english).rsplit("/", 1)[1]
        anonymous = web.client()
        status, body = _open(anonymous, web.base + ds.UNSUBSCRIBE_PATH + token)
        assert status == 200 and 'id="confirm"' in body and "Stop receiving" in body
        assert ds.recipient("boss").enabled  # a mail scanner's GET changes nothing
        status, body = _open(anonymous, web.base + ds.UNSUBSCRIBE_PATH + token, b"")
        assert status == 200 and "You no longer receive the daily summary" in body
        assert not ds.recipient("boss").enabled
        [row] = audit_trail.recent(action="summary_unsubscribe")
        assert (row.actor, row.address) == ("boss", "127.0.0.1")
        forged = token[:-1] + ("0" if token[-1] != "0" else "1")
        status, body = _open(anonymous, web.base + ds.UNSUBSCRIBE_PATH + forged, b"")
        assert status == 404 and "niet geldig" in body and ds.recipient("baas").enabled
        # the next day (t1 traded, t2 did not: the cut-off): only the Dutch owner gets it
        after = DAY + dt.timedelta(days=1)
        assert ds.send_due(live, ds.mailer_for(live), local(after, 23, 31), later).sent == \
            [f"baas {after}"]
        # the owner's own setting page turns it back on
        web.user, web.password = "boss", "another-secret-pass"
        web.login()
        assert 'id="summary-mail"' in web.get("/rapport")[1]  # the reports link to it
        status, body = web.get("/dagoverzicht")
        assert status == 200 and 'id="enabled" value="1" >' in body.replace("  ", " ")
        form = urllib.parse.urlencode({"address": "boss@winkel.example", "language": "en",
                                       "enabled": "1"}).encode()
        status, body = _open(web.opener, web.base + "/dagoverzicht", form)
        assert status == 200 and 'id="saved"' in body and ds.recipient("boss").enabled
        [row] = audit_trail.recent(action="summary_setting")
        assert row.actor == "boss" and "enabled=1" in row.detail and "boss@" not in row.detail
        status, body = _open(web.opener, web.base + "/dagoverzicht",
                             urllib.parse.urlencode({"address": "nope"}).encode())
        assert status == 400 and "not a mail address" in body
    finally:
        web.stop()


def url_of(mail: EmailMessage) -> str:
    return mail["List-Unsubscribe"].strip("<>")


def _open(opener, url: str, data: bytes | None = None) -> tuple[int, str]:
    import urllib.error

    try:
        with opener.open(url, data=data, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_the_alerts_process_sends_the_summary(tmp_path, office_db_url, smtp_inbox) -> None:
    """`kassa office alerts` runs the summary sender: yesterday (done by now, whatever Z is
    missing) is mailed at once, and once only across a restart of the process."""
    import time

    from headoffice.db import database_proxy
    from headoffice.web import daily_summary as ds
    from headoffice.web.i18n import now_local
    from headoffice.web.users import add_user
    from tests.uplink.harness import kassa, stop

    port, inbox = smtp_inbox
    yesterday = now_local().date() - dt.timedelta(days=1)
    till = make_till(tmp_path / "t1", "s1", "t1")
    enroll(till)
    till.journal.clock = clock = DayClock()
    clock.start(yesterday)
    shop_day(till, sales=4, seed=3)
    feed(database_proxy.obj, payloads(till))
    till.db.close()
    add_user("baas", "geheim-wachtwoord", replace=True)
    ds.set_recipient("baas", "baas@winkel.example", "nl")
    settings = tmp_path / "office.toml"
    settings.write_text(f'[alerts]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\n'
                        f'summary_base_url = "https://kantoor.example"\n')
    for _run in range(2):  # the second run is a restart: nothing more is sent
        process = kassa("office", "--db", office_db_url, "alerts", "--settings", str(settings))
        try:
            deadline = time.monotonic() + 20
            while not inbox and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1.0)
        finally:
            stop(process)
        assert len(inbox) == 1
    mail = _read(inbox[0])
    assert mail["Subject"].startswith("Dagoverzicht ")
    assert url_of(mail).startswith("https://kantoor.example/dagoverzicht/afmelden/")
    assert ds.recipient("baas").enabled


def test_cutoff_setting() -> None:
    from headoffice.alerts.settings import AlertSettings, SettingsError

    with pytest.raises(SettingsError, match="summary_cutoff"):
        AlertSettings(summary_cutoff="half twaalf").cutoff()
    assert AlertSettings().cutoff() == dt.time(23, 30)
