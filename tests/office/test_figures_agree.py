"""One simulated trading week on two tills: every figure of docs/GLOSSARY.md is the same on the
receipt-printer Z (its printed text), the CLI (`kassa report z --rebuild N`, text and JSON),
the head-office dashboard data (queries and aggregates, after the journals went through the
ingest's own batch code, and the Z archive) and the XAF auditfile (read back with lxml),
per terminal and day, or per shop and day where a reader only has the shop (the XAF)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from cli import main
from contract import figures as contract_figures
from contract.receipt import build_document, render_text
from firmware.catalogue import import_csv
from firmware.permissions import Action
from firmware.sim import MANAGER_PIN
from firmware.till import TillService
from tests.office.helpers import enroll, feed, make_till, payloads, shop_day

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# the ISO week two weeks back: whole days in the past, Monday to Sunday
MONDAY = dt.date.today() - dt.timedelta(days=dt.date.today().weekday() + 14)
WEEK = [MONDAY + dt.timedelta(days=n) for n in range(7)]
TERMINALS = ("t1", "t2")
VAT_LETTER = {"A": "high", "B": "low", "C": "zero", "D": "exempt"}
TENDER_LABEL = {"Contant": "cash", "Pin": "card", "Waardebon": "voucher"}
COUNTED = {"Verkopen": "sales", "Retouren": "refunds",
           "Annuleringen open bonnen": "voids_open",
           "Annuleringen betaalde bonnen": "voids_paid"}


HEADER = "gtin,plu,name,price,vat,category,stock_tracked,active,sold_by_weight,favourite,stock\n"
# goods of the two VAT codes the demo catalogue lacks: every rate is on every day's Z
PRODUCTS = [",9003,Export doos,5.00,zero,Overig,no,yes,no,no,0\n",
            ",9004,Cursus barista,25.00,exempt,Diensten,no,yes,no,no,0\n"]


def trades(terminal: str, day: dt.date) -> bool:
    """t2 stays closed on Sunday: a day with one till."""
    return not (terminal == "t2" and day.weekday() == 6)


def cents(text: str) -> int:
    """'€ 1.234,56', '€ -7,50', '-1.234,56' -> cents."""
    text = text.replace("€", "").replace("\u00a0", "").replace(" ", "")
    sign = -1 if text.startswith("-") else 1
    euros, _, frac = text.lstrip("-").replace(".", "").partition(",")
    return sign * (int(euros) * 100 + int(frac or 0))


AMOUNT = r"(€ ?-?[\d.]+,\d\d|-?€ ?[\d.]+,\d\d)"


def parse_z_text(text: str) -> dict[str, Any]:
    """The glossary's figures as a reader of the printed Z finds them (Dutch, 42 columns)."""
    found: dict[str, Any] = {"vat": {}, "tenders": {}}
    grand = False
    lines: list[str] = []
    for raw in text.splitlines():  # a label too long for its amount has it on the next line
        if lines and re.fullmatch(r"\s+" + AMOUNT, raw) and not re.search(AMOUNT + "$", lines[-1]):
            lines[-1] += " " + raw.strip()
        else:
            lines.append(raw.rstrip())
    for line in lines:
        if line.strip() == "Eeuwigdurende totalen":
            grand = True
            continue
        if grand:
            if m := re.fullmatch(r"\s+(Verkopen|Retouren)\s+" + AMOUNT, line):
                key = "sales" if m[1] == "Verkopen" else "returns"
                found.setdefault("grand_totals", {})[key] = cents(m[2])
            continue
        if m := re.fullmatch(r"([ABCD]) \S+\s+(-?[\d.]+,\d\d)\s+(-?[\d.]+,\d\d)\s+"
                             r"(-?[\d.]+,\d\d)", line):
            found["vat"][VAT_LETTER[m[1]]] = {"net": cents(m[2]), "vat": cents(m[3]),
                                              "gross": cents(m[4])}
        elif m := re.fullmatch(r"OMZET\s+" + AMOUNT, line):
            found["turnover"] = cents(m[1])
        elif m := re.fullmatch(r"Aantal bonnen\s+(\d+)", line):
            found["tickets"] = int(m[1])
        elif m := re.fullmatch(r"Gemiddelde bon\s+" + AMOUNT, line):
            found["average_ticket"] = cents(m[1])
        elif m := re.fullmatch(r"Afronding\s+" + AMOUNT, line):
            found["rounding"] = cents(m[1])
        elif m := re.fullmatch(r"Verschil\s+" + AMOUNT, line):
            found["variance"] = cents(m[1])
        elif m := re.fullmatch(r"(.+?) \((\d+)x\)\s+" + AMOUNT, line):
            if m[1] in COUNTED:
                found[COUNTED[m[1]]] = {"count": int(m[2]), "amount": cents(m[3])}
            elif m[1] in TENDER_LABEL:
                found["tenders"][TENDER_LABEL[m[1]]] = cents(m[3])
    return found


def glossary_figures(data: dict[str, Any]) -> dict[str, Any]:
    """The same figures from a Z entry's (or a rebuild's) data, as the contract stores them."""
    return {
        "turnover": data["turnover"],
        "tickets": data["tickets"],
        "average_ticket": data["average_ticket"],
        **{name: dict(data[name]) for name in COUNTED.values()},
        "vat": {v["code"]: {k: v[k] for k in ("net", "vat", "gross")} for v in data["vat"]},
        "tenders": {t["kind"]: t["amount"] for t in data["tenders"]},
        "rounding": data["rounding"],
        "variance": data["variance"],
        "grand_totals": dict(data["grand_totals"]),
    }


def extras(till: TillService) -> None:
    """What a day must hold for every figure to be non-zero: a voucher, a refund, a void of an
    open ticket and of a paid one (run_day's random ones may miss a day)."""
    manager = lambda action: till.approve(MANAGER_PIN, action)  # noqa: E731
    till.login("1111")
    till.add_plu("2", 2)
    till.add_plu("7")
    till.add_plu("9003")
    till.add_plu("9004")
    sale = till.pay_card(None, "REF-S").entry
    till.add_plu("3")
    till.void_open_ticket()
    line_no = min(n for n, q in till.refundable(sale.seq).items() if q > 0)
    till.refund(sale.seq, {line_no: 1}, "cash", approval=manager(Action.REFUND))
    till.add_plu("4")
    paid = till.pay_card(None, "REF-V").entry
    till.void_sale(paid.seq, approval=manager(Action.VOID_PAID_TICKET))
    till.add_plu("5", 3)
    till.pay_voucher(500, "VB-1")
    if till.ticket is not None and not till.ticket.is_empty:
        till.pay_card(None, "REF-R")
    till.logout()


class DayClock:
    """The journal's clock: the trading day's local time, a few seconds per entry."""

    def __init__(self) -> None:
        self.at = dt.datetime(2000, 1, 1, tzinfo=AMSTERDAM)

    def start(self, day: dt.date) -> None:
        self.at = dt.datetime.combine(day, dt.time(9, 0), tzinfo=AMSTERDAM)

    def __call__(self) -> str:
        self.at += dt.timedelta(seconds=7)
        return self.at.isoformat(timespec="milliseconds")


def run_week(tmp_path: Path, db: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """Both tills trade the week with a Z close each day; their journals are fed to head
    office. Returns, per (terminal, day), the Z entry's seq, body and printed text."""
    zs: dict[tuple[str, str], dict[str, Any]] = {}
    for number, terminal in enumerate(TERMINALS):
        # firmware models bind to the last opened terminal database: finish one till first
        till = make_till(tmp_path / terminal, "s1", terminal)
        report = import_csv(till.db, [HEADER, *PRODUCTS])
        assert not report.errors, report.errors
        enroll(till)
        clock = DayClock()
        till.journal.clock = clock
        for day in WEEK:
            if not trades(terminal, day):
                continue
            clock.start(day)
            extras(till)
            shop_day(till, sales=12, seed=100 * number + day.toordinal() % 97)
            z = [e for e in till.journal.entries() if e.type == "z_close"][-1]
            assert z.ts[:10] == day.isoformat()
            text = render_text(build_document(z.body, z.hash, till.config.terminal, 42, "nl"))
            zs[terminal, day.isoformat()] = {"seq": z.seq, "data": z.body["data"],
                                             "text": text}
        feed(db, payloads(till))
        till.db.close()
    return zs


def cli_rebuild(tmp_path: Path, terminal: str, z_number: int, capsys) -> tuple[str, dict]:
    """`kassa report z --rebuild N`, as printed text and as --json figures."""
    config = str(tmp_path / terminal / "kassa.toml")
    capsys.readouterr()
    code = main(["--config", config, "report", "z", "--rebuild", str(z_number),
                 "--columns", "42", "--lang", "nl"])
    text = capsys.readouterr().out
    assert code == 0 and "the same figures as the Z entry" in text, text
    code = main(["--config", config, "report", "z", "--rebuild", str(z_number), "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    return text, json.loads(out[:out.rindex("}") + 1])


XAF = "{http://www.odb.belastingdienst.nl/Belastingdienst/BCPP/1.1/structures/XmlauditfileXAF_4.0}"


def xaf_days(data: bytes) -> dict[str, dict[str, Any]]:
    """Per transaction date: turnover, net and VAT per VAT code, receipts per tender, rounding
    and cash variance, read from the booked lines by account (never by description)."""
    from headoffice.exports.accounts import chart

    accounts = {a.id: role for role, a in chart().items()}
    root = etree.fromstring(data)
    days: dict[str, dict[str, Any]] = {}
    for trans in root.iter(f"{XAF}transaction"):
        day = days.setdefault(trans.findtext(f"{XAF}trDt"), {
            "turnover": 0, "vat": defaultdict(lambda: {"net": 0, "vat": 0}),
            "tenders": defaultdict(int), "rounding": 0, "variance": 0})
        for line in trans.iter(f"{XAF}trLine"):
            role = accounts[line.findtext(f"{XAF}accID")]
            credit = cents(line.findtext(f"{XAF}amnt").replace(".", ","))
            credit = credit if line.findtext(f"{XAF}amntTp") == "C" else -credit
            vat = line.find(f"{XAF}vat")
            if role.startswith("revenue"):
                vat_amount = cents(vat.findtext(f"{XAF}vatAmnt").replace(".", ","))
                if vat.findtext(f"{XAF}vatAmntTp") == "D":
                    vat_amount = -vat_amount
                code = vat.findtext(f"{XAF}vatID").split("-")[0]
                day["vat"][code]["net"] += credit
                day["vat"][code]["vat"] += vat_amount
                day["turnover"] += credit + vat_amount
            elif role in ("cash", "card", "voucher"):
                day["tenders"][role] -= credit  # receipts are debits
            elif role == "rounding":
                day["rounding"] += credit
            elif role == "cash_difference":
                day["variance"] += credit  # credit = counted - expected
    for day in days.values():
        # the cash account also carries the variance (booked against cash_difference)
        day["tenders"]["cash"] -= day["variance"]
        day["tenders"] = {k: v for k, v in day["tenders"].items() if v}
        day["vat"] = {k: dict(v) for k, v in day["vat"].items()}
    return days


@pytest.mark.timeout(300)
def test_glossary_figures_agree_on_z_cli_dashboard_and_xaf(tmp_path, office_db_url,
                                                           capsys) -> None:
    from headoffice.aggregate_models import AggDay, AggVat
    from headoffice.db import database_proxy
    from headoffice.exports.periods import Period
    from headoffice.exports.xaf import build_xaf, validate_xaf
    from headoffice.exports.zreports import check_z
    from headoffice.web import queries

    zs = run_week(tmp_path, database_proxy.obj)
    assert len(zs) == 13
    compared = 0
    for (terminal, day), z in sorted(zs.items()):
        where = f"{terminal} {day}"
        truth = glossary_figures(z["data"])
        for name in ("sales", "refunds", "voids_open", "voids_paid"):
            assert truth[name]["count"] > 0, (where, name)
        assert set(truth["tenders"]) == {"cash", "card", "voucher"}, where
        assert set(truth["vat"]) == {"high", "low", "zero", "exempt"}, where

        # the receipt-printer Z, as printed
        assert parse_z_text(z["text"]) == truth, where

        # the CLI: the Z rebuilt from the journal, printed and as JSON
        text, rebuilt = cli_rebuild(tmp_path, terminal, z["data"]["z_number"], capsys)
        assert parse_z_text(text) == truth, where
        assert glossary_figures(rebuilt) == truth, where

        # the dashboard: its queries over the aggregates, per terminal and day
        the_day = dt.date.fromisoformat(day)
        rows = {r["terminal"]: r for r in queries.by_terminal(Period(the_day, the_day, day),
                                                               "s1")}
        row = rows[terminal]
        assert (row["turnover"], row["tickets"], row["basket"]) == (
            truth["turnover"], truth["tickets"], truth["average_ticket"]), where
        assert row["sales_gross"] == truth["sales"]["amount"], where
        assert (row["refunds"], row["voids"]) == (
            truth["refunds"]["count"], truth["voids_paid"]["count"]), where
        assert (row["rounding"], row["cash_variance"]) == (
            truth["rounding"], truth["variance"]), where
        assert {k: row[k] for k in ("cash", "card", "voucher") if row[k]} == truth["tenders"]
        agg = AggDay.get((AggDay.terminal == terminal) & (AggDay.day == day))
        assert agg.voided_open == truth["voids_open"]["count"], where
        vat = {v.code: {"net": v.gross - v.vat, "vat": v.vat, "gross": v.gross}
               for v in AggVat.select().where((AggVat.terminal == terminal)
                                              & (AggVat.day == day))}
        assert vat == truth["vat"], where
        # the dashboard's Z archive: the Z as head office holds it and as it rebuilds it
        archived = check_z(terminal, z["seq"])
        assert archived.ok, (where, archived.differences)
        assert glossary_figures(archived.stated) == truth, where
        assert glossary_figures(archived.rebuilt) == truth, where
        compared += 1
    assert compared == 13

    # the week's dashboard totals are the sum of the Zs
    week = Period(WEEK[0], WEEK[-1], f"{WEEK[0]}..{WEEK[-1]}")
    total = queries.totals(week, "s1")
    assert total["turnover"] == sum(z["data"]["turnover"] for z in zs.values())
    assert total["tickets"] == sum(z["data"]["tickets"] for z in zs.values())

    # the XAF: one transaction per shop day, the sum of that day's Zs of both tills
    data = build_xaf("s1", week, {"name": "Bakkerij De Korenaar B.V.",
                                  "vat_number": "NL812345678B01"})
    assert validate_xaf(data) == []
    booked = xaf_days(data)
    assert sorted(booked) == [d.isoformat() for d in WEEK]
    for day in WEEK:
        todays = [glossary_figures(z["data"]) for (_, d), z in zs.items()
                  if d == day.isoformat()]
        expected_vat: dict[str, dict[str, int]] = defaultdict(lambda: {"net": 0, "vat": 0})
        expected_tenders: dict[str, int] = defaultdict(int)
        for figures_ in todays:
            for code, amounts in figures_["vat"].items():
                expected_vat[code]["net"] += amounts["net"]
                expected_vat[code]["vat"] += amounts["vat"]
            for kind, amount in figures_["tenders"].items():
                expected_tenders[kind] += amount
        # the dashboard page of that day (what its JSON feed gives), for the whole shop
        live = queries.live(day)
        turnover = sum(f["turnover"] for f in todays)
        tickets = sum(f["tickets"] for f in todays)
        assert (live["totals"]["turnover"], live["totals"]["tickets"]) == (turnover, tickets)
        assert live["totals"]["basket"] == contract_figures.average_ticket(turnover, tickets)
        assert sum(live["hourly"]) == turnover
        assert {t["terminal"]: t["turnover"] for t in live["terminals"]} == {
            t: zs[t, day.isoformat()]["data"]["turnover"] for t in TERMINALS if trades(t, day)}

        got = booked[day.isoformat()]
        where = f"XAF {day}"
        assert got["turnover"] == sum(f["turnover"] for f in todays), where
        assert got["vat"] == dict(expected_vat), where
        assert got["tenders"] == dict(expected_tenders), where
        assert got["rounding"] == sum(f["rounding"] for f in todays), where
        assert got["variance"] == sum(f["variance"] for f in todays), where
