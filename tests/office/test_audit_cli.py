"""The audit trail from the command line (issue 19): every `kassa office`, `customers`, `stock`,
`webshop` and `offers` command either leaves a row or is listed here as one that changes and hands out
nothing (the scan fails for a new command that is neither); exports, catalogue and price
changes, customer edits, merges, erasure and access exports, and user changes leave a row with
the operating-system user and "local"; `kassa office audit show|verify|export`; and the trail
is append-only on SQLite and PostgreSQL: the app and plain SQL are refused, and a row changed
or removed past the triggers is named by `kassa office audit verify` (exit 1)."""

from __future__ import annotations

import argparse
import csv
import getpass
import io

import peewee
import pytest

from cli import build_parser, main
from cli.audited import audited_of
from headoffice.web import audit_trail

ACTOR = f"cli:{getpass.getuser()}"
READ_ONLY = {  # commands that change nothing at head office and hand out no file
    "office ingest": "the ingest service: stores what the tills send, as they sent it",
    "office terminal list": "a listing",
    "office promotions": "a listing",
    "office web": "the dashboard service (its routes are audited themselves)",
    "office user list": "a listing",
    "office verify-export": "checks a file already handed out; opens no database",
    "office alerts": "the alert service",
    "office aggregates": "rebuilds the derived totals from the journal; no fact changes",
    "office catalogue show": "a listing",
    "office catalogue deposit list": "a listing",
    "office catalogue promo list": "a listing",
    "office catalogue audit": "a listing (the product master's own trail)",
    "office public-key": "head office's public key: public",
    "office audit show": "a listing", "office audit verify": "a check",
    "customers list": "a listing", "customers sync": "the journal-to-history service",
    "stock levels": "a listing", "stock reorder": "a listing", "stock oversold": "a listing",
    "webshop sync": "the order-following service", "webshop parked": "a listing",
    "webshop log": "a listing", "offers mail": "the mailing service (its own mail log)",
    "offers report": "a listing",
}
SOMETIMES = {  # read-only commands sharing a handler whose `when=` audits only the others
    "office release status": "a listing", "office release serve": "the artifact service",
}
READ_ONLY.update(SOMETIMES)
SCANNED = ("office", "customers", "stock", "webshop", "offers")


def leaves(parser: argparse.ArgumentParser, words: tuple[str, ...] = (), handler=None):
    """(command words, handler) for every runnable command under `parser`, the handler set
    on it or on a parser above (argparse keeps its subcommands in its actions; it has no
    public way to list them)."""
    handler = parser.get_default("handler") or handler
    found = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found = True
                yield from leaves(sub, (*words, name), handler)
    if not found:
        yield " ".join(words), handler


def test_every_command_that_changes_or_exports_is_audited():
    scanned, unaccounted = 0, []
    for words, handler in leaves(build_parser()):
        if words.split()[0] not in SCANNED:
            continue
        scanned += 1
        if audited_of(handler) is None and words not in READ_ONLY:
            unaccounted.append(words)
        if audited_of(handler) is not None and words in READ_ONLY and words not in SOMETIMES:
            unaccounted.append(f"{words} (audited, yet listed as read-only)")
    assert unaccounted == []
    assert scanned > 40


def kassa(url: str, *args: str) -> int:
    return main(["office", "--db", url, *args])


def rows_after(last: int) -> list[audit_trail.OfficeAudit]:
    return [r for r in reversed(audit_trail.recent(None)) if r.id > last]


def newest() -> int:
    rows = audit_trail.recent(1)
    return rows[0].id if rows else 0


def test_cli_exports_and_changes_leave_a_row_with_the_os_user(office_db_url, tmp_path, capsys,
                                                              monkeypatch):
    from headoffice.customers import service

    url = office_db_url
    anna = service.create("Anna", "anna@example.nl", "nl", "noord").customer_id
    dubbel = service.create("Anna D", "anna.d@example.nl", "nl", "noord").customer_id
    runs = [  # (argv, audit action, what the detail holds)
        (["office", "--db", url, "export", "vat", "--period", "2026", "-o",
          str(tmp_path / "btw.csv")], "export", "kind=vat period=2026"),
        (["office", "--db", url, "export", "xaf", "--period", "2026", "-o",
          str(tmp_path / "a.xaf")], "export", "kind=xaf"),
        (["office", "--db", url, "report", "sales", "--period", "2026", "--xlsx",
          str(tmp_path / "r.xlsx")], "export", "kind=sales"),
        (["office", "--db", url, "catalogue", "product", "4011", "--name", "Appels",
          "--category", "fruit", "--vat", "low"], "catalogue", "code=4011 name=Appels"),
        (["office", "--db", url, "catalogue", "price", "set", "4011", "2,49"], "catalogue",
         "kassa office catalogue price set code=4011 price=2,49"),
        (["office", "--db", url, "catalogue", "export", "-o", str(tmp_path / "m.csv")],
         "export", "catalogue export"),
        (["office", "--db", url, "catalogue", "labels", "-o", str(tmp_path / "l.pdf")],
         "export", "catalogue labels"),
        (["customers", "--db", url, "edit", "anna@example.nl", "--name", "Anna de Vries"],
         "customer", f"customer={anna} changed=name"),
        (["customers", "--db", url, "merge", anna, "anna.d@example.nl"], "customer",
         f"customer={anna} merged={dubbel}"),
        (["customers", "--db", url, "export", anna, "--asked-by", "Anna zelf", "--out",
          str(tmp_path)], "customer_export", f"customer={anna}"),
        (["customers", "--db", url, "erase", "anna@example.nl"], "customer_erase",
         f"customer={anna}"),
        (["office", "--db", url, "user", "add", "jan", "--role", "manager", "--shop", "noord",
          "--password-stdin"], "user_add", "name=jan role=manager shop=noord"),
        (["office", "--db", url, "user", "role", "jan", "accountant"], "user_role",
         "role=accountant"),
        (["office", "--db", url, "audit", "export", "-o", str(tmp_path / "trail.csv")],
         "audit_export", "audit export"),
    ]
    for argv, action, detail in runs:
        if "--password-stdin" in argv:
            monkeypatch.setattr("sys.stdin", io.StringIO("een-lang-wachtwoord\n"))
        before = newest()
        assert main(argv) == 0, argv
        rows = rows_after(before)
        assert [(r.action, r.actor, r.address) for r in rows] == [(action, ACTOR, "local")], argv
        assert detail in rows[0].detail, rows[0].detail
    # no name or e-mail of the erased customer stays in the trail
    assert not any("example.nl" in r.detail or "Anna" in r.detail for r in rows_after(0))
    # a refused change leaves no row
    before = newest()
    assert main(["office", "--db", url, "user", "role", "niemand", "owner"]) == 1
    assert rows_after(before) == []
    # the exported trail holds every row before its own, with the hashes
    with open(tmp_path / "trail.csv", encoding="utf-8") as fh:
        exported = list(csv.DictReader(fh))
    assert len(exported) == len(runs) - 1 and exported[-1]["action"] == "user_role"
    assert exported[0]["prev"] == audit_trail.GENESIS
    capsys.readouterr()
    assert kassa(url, "audit", "show", "--action", "customer*") == 0
    shown = capsys.readouterr().out
    assert "customer_erase" in shown and "customer_export" in shown and "user_add" not in shown
    assert "4 row(s)" in shown  # edit, merge, access export, erasure
    assert kassa(url, "audit", "show", "--since", "2999-01-01") == 0
    assert "0 row(s)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        kassa(url, "audit", "show", "--since", "gisteren")
    assert kassa(url, "audit", "verify") == 0
    assert f"{len(runs)} row(s), the hash chain holds" in capsys.readouterr().out


def _drop_triggers(db: peewee.Database, postgres: bool) -> None:
    """What someone with the database's own rights could do; the app never does."""
    if postgres:
        db.execute_sql("DROP TRIGGER office_audit_no_change ON office_audit")
    else:
        db.execute_sql("DROP TRIGGER office_audit_no_update")
        db.execute_sql("DROP TRIGGER office_audit_no_delete")


def test_the_trail_is_append_only_and_tampering_is_named(office_db_url, capsys):
    from headoffice.db import open_office_db

    for number in range(5):
        audit_trail.record("export", "baas", "192.0.2.7", f"GET /export/vat?period=202{number}")
    rows = list(reversed(audit_trail.recent(None)))
    third, fourth = rows[2], rows[3]
    with pytest.raises(audit_trail.AppendOnly):  # the app cannot
        audit_trail.OfficeAudit.update(actor="iemand").execute()
    with pytest.raises(audit_trail.AppendOnly):
        audit_trail.OfficeAudit.delete().execute()
    third.actor = "iemand"
    with pytest.raises(audit_trail.AppendOnly):
        third.save()
    with pytest.raises(audit_trail.AppendOnly):
        fourth.delete_instance()
    db = audit_trail.OfficeAudit._meta.database
    postgres = "postgresql" in office_db_url
    for sql in ("UPDATE office_audit SET actor = 'iemand'", "DELETE FROM office_audit",
                *(["TRUNCATE office_audit"] if postgres else [])):
        with pytest.raises(peewee.DatabaseError, match="append-only"), db.atomic():
            db.execute_sql(sql)  # nor plain SQL
    assert audit_trail.verify() == (5, None)

    _drop_triggers(db, postgres)
    db.execute_sql(f"UPDATE office_audit SET detail = 'GET /export/vat?period=2019' "
                   f"WHERE id = {third.id}")
    assert audit_trail.verify() == (3, third.id)
    capsys.readouterr()
    assert kassa(office_db_url, "audit", "verify") == 1
    assert f"broken at row id {third.id}" in capsys.readouterr().err
    db = open_office_db(office_db_url)  # opening puts the triggers back
    with pytest.raises(peewee.DatabaseError, match="append-only"), db.atomic():
        db.execute_sql(f"DELETE FROM office_audit WHERE id = {fourth.id}")
    _drop_triggers(db, postgres)
    db.execute_sql(f"UPDATE office_audit SET detail = 'GET /export/vat?period=2022' "
                   f"WHERE id = {third.id}")  # the change undone: the chain holds again
    assert audit_trail.verify() == (5, None)
    db.execute_sql(f"DELETE FROM office_audit WHERE id = {third.id}")  # a row removed
    assert audit_trail.verify() == (3, fourth.id)  # the row after it no longer fits
    assert kassa(office_db_url, "audit", "verify") == 1
    assert f"broken at row id {fourth.id}" in capsys.readouterr().err
