"""What the dashboard shows, read from the aggregates (never a scan of the journal)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from peewee import fn

from contract import figures
from headoffice.aggregate_models import AggDay, AggHour, AggProduct, AggProductAll
from headoffice.alerts import board, texts
from headoffice.alerts.models import Alert
from headoffice.downstream_models import FLEET_STORE, DownstreamPublished
from headoffice.exports.periods import Period
from headoffice.models import DeadLetterTerminal, OfficeEntry, TerminalState
from headoffice.orm import is_postgres

SUM_FIELDS = ("tickets", "sales_gross", "turnover", "items", "refunds", "voids", "voided_open",
              "no_sales",
              "overrides", "rounding", "cash", "card", "voucher", "cash_variance")


def _totals_query(period: Period, store: str | None, *group: Any):
    columns = [fn.COALESCE(fn.SUM(getattr(AggDay, f)), 0).alias(f) for f in SUM_FIELDS]
    query = AggDay.select(*group, *columns).where(AggDay.day.between(period.first, period.last))
    if store:
        query = query.where(AggDay.store == store)
    if group:
        query = query.group_by(*group).order_by(*group)
    return query


def _with_basket(row: dict[str, Any]) -> dict[str, Any]:
    row = {k: (int(v) if k in SUM_FIELDS else v) for k, v in row.items()}
    # the average ticket as the contract defines it (the till's X and Z show the same figure)
    row["basket"] = figures.average_ticket(row["turnover"], row["tickets"])
    return row


def totals(period: Period, store: str | None = None) -> dict[str, Any]:
    return _with_basket(_totals_query(period, store).dicts().get())


def by_terminal(period: Period, store: str | None = None) -> list[dict[str, Any]]:
    return [_with_basket(r) for r in _totals_query(period, store, AggDay.store, AggDay.terminal).dicts()]


def by_store(period: Period) -> list[dict[str, Any]]:
    return [_with_basket(r) for r in _totals_query(period, None, AggDay.store).dicts()]


def summed(rows: list[dict[str, Any]], *key: str) -> list[dict[str, Any]]:
    """`by_terminal` rows added up per `key` (no key: one row of every row, zero when there
    are none), in the order met: a shop's totals and every shop's, without reading the day
    rows again."""
    out: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        ident = tuple(row[k] for k in key)
        into = out.setdefault(ident, {**{k: row[k] for k in key}, **dict.fromkeys(SUM_FIELDS, 0)})
        for name in SUM_FIELDS:
            into[name] += row[name]
    if not key and not out:
        out[()] = dict.fromkeys(SUM_FIELDS, 0)
    return [_with_basket(row) for row in out.values()]


def hourly(period: Period, store: str | None = None) -> list[int]:
    query = (AggHour.select(AggHour.hour, fn.SUM(AggHour.turnover).alias("turnover"))
             .where(AggHour.day.between(period.first, period.last)).group_by(AggHour.hour))
    if store:
        query = query.where(AggHour.store == store)
    series = [0] * 24
    for row in query.namedtuples():
        series[row.hour] = int(row.turnover)
    return series


def series(period: Period, store: str | None = None) -> tuple[list[str], list[int]]:
    """Turnover per hour (a day), per day (week, month) or per month (a year or more)."""
    if period.start == period.end:
        return [f"{h:02d}" for h in range(24)], hourly(period, store)
    by_month = (period.end - period.start).days > 62
    key = fn.SUBSTR(AggDay.day, 1, 7) if by_month else AggDay.day
    query = (AggDay.select(key.alias("k"), fn.SUM(AggDay.turnover).alias("t"))
             .where(AggDay.day.between(period.first, period.last)).group_by(key))
    if store:
        query = query.where(AggDay.store == store)
    found = {row.k: int(row.t) for row in query.namedtuples()}
    labels: list[str] = []
    day = period.start
    while day <= period.end:
        label = day.strftime("%Y-%m") if by_month else day.isoformat()
        if label not in labels:
            labels.append(label)
        day += dt.timedelta(days=1)
    return labels, [found.get(label, 0) for label in labels]


def product_buckets(period: Period) -> list[str]:
    """The fewest AggProduct buckets that cover the range: a year for each whole calendar
    year in it, a month for each other whole month, a day for the rest."""
    buckets, day = [], period.start
    while day <= period.end:
        month_end = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        year_end = day.replace(month=12, day=31)
        if day.month == 1 and day.day == 1 and year_end <= period.end:
            buckets.append(f"y{day.year:04d}")
            day = year_end + dt.timedelta(days=1)
        elif day.day == 1 and month_end <= period.end:
            buckets.append("m" + day.strftime("%Y-%m"))
            day = month_end + dt.timedelta(days=1)
        else:
            buckets.append("d" + day.isoformat())
            day += dt.timedelta(days=1)
    return buckets


def latest_name(table: Any) -> Any:
    """The name of a product's most recent bucket among those read (its latest name in the
    range), as `<bucket date> <name>`: the largest such text is that of the latest bucket,
    since the buckets of one range never overlap ('2025' < '2026-01' < '2026-02-01'); bytes
    compared (PostgreSQL: the C collation), whatever the database's collation."""
    text = fn.SUBSTR(table.bucket, 2).concat(" ").concat(table.name)
    if is_postgres():
        text = text.collate('"C"')
    return fn.MAX(text)


def name_of(latest: str) -> str:
    """The name out of `latest_name`'s text."""
    return latest.split(" ", 1)[1]


def top_products(period: Period, store: str | None = None, limit: int = 10,
                 named: bool = True) -> list[dict[str, Any]]:
    """Units and gross per product, best sellers first, named as in the latest bucket read
    (`latest_name`; with `named` False the name is left empty, for figures only compared):
    from a shop's AggProduct rows, or for every shop from AggProductAll (the same sums, one
    row per product and bucket)."""
    table = AggProduct if store else AggProductAll
    gross = fn.SUM(table.gross)
    name = latest_name(table) if named else fn.MIN(" ")
    query = (table.select(table.product, name.alias("name"),
                          fn.SUM(table.quantity).alias("quantity"), gross.alias("gross"))
             .where(table.bucket.in_(product_buckets(period)))
             .group_by(table.product).order_by(gross.desc()).limit(limit))
    if store:
        query = query.where(AggProduct.store == store)
    return [{"product": r["product"], "name": name_of(r["name"]), "quantity": int(r["quantity"]),
             "gross": int(r["gross"])} for r in query.dicts()]


def change_percent(now: int, before: int) -> str:
    """`+12,5%` (Dutch decimal comma); `n.v.t.` or `nieuw` (message ids) without a base."""
    if before == 0:
        return "n.v.t." if now == 0 else "nieuw"
    delta = (now - before) * 1000 // abs(before)
    return f"{'+' if delta >= 0 else '-'}{abs(delta) // 10},{abs(delta) % 10}%"


DEVICES = ("printer", "drawer", "scanner")
FINE = {"ready", "printing", "closed", "open", "connected"}  # every other reported state is a fault


def terminals() -> list[dict[str, Any]]:
    """Link state per terminal as the ingest keeps it, with the device states the till's
    uplink reports in `status` (`devices`: name -> {state, detail, since})."""
    import json

    rows = []
    for row in TerminalState.select().order_by(TerminalState.store, TerminalState.terminal):
        try:
            status = json.loads(row.status) if row.status else {}
        except ValueError:
            status = {}
        devices = status.get("devices") if isinstance(status, dict) else None
        devices = devices if isinstance(devices, dict) else {}
        item = {
            "store": row.store, "terminal": row.terminal, "online": bool(row.online),
            "backlog": row.backlog, "last_seen": row.last_seen, "contiguous_seq": row.contiguous_seq,
            "problem": row.problem,
        }
        for name in DEVICES:
            item[name] = device_view(devices.get(name))
        item["downstream"] = downstream_view(status.get("downstream") if isinstance(status, dict)
                                             else None)
        item["versions"] = versions_view(status.get("versions") if isinstance(status, dict)
                                         else None)
        live = status.get("config_live") if isinstance(status, dict) else None
        restart = live.get("restart") if isinstance(live, dict) else None
        item["restart"] = [str(k)[:40] for k in restart][:10] if isinstance(restart, list) else []
        rows.append(item)
    mark_behind(rows)
    return rows


SEQUENCES = ("catalogue", "offers", "config", "promotions")  # as a till's status names them
SEQUENCE_TEXT = {"catalogue": "assortiment", "offers": "aanbiedingen", "config": "instellingen",
                 "promotions": "acties"}


def versions_view(value: Any) -> dict[str, int]:
    """The head-office versions a till reports holding (`status` versions); a sequence it
    does not report is left out."""
    if not isinstance(value, dict):
        return {}
    return {key: value[key] for key in SEQUENCES
            if isinstance(value.get(key), int) and not isinstance(value.get(key), bool)}


def latest_versions() -> dict[tuple[str, str], int]:
    """(store or FLEET_STORE, sequence) -> the newest version head office published."""
    return {(row.store, row.sequence): row.version for row in DownstreamPublished.select()}


def mark_behind(rows: list[dict[str, Any]],
                published: dict[tuple[str, str], int] | None = None) -> None:
    """Adds `behind` to each row: the sequences whose version is older than the newest one of
    its store, as [(sequence, held, newest)] (None when the till reported no versions). The
    newest is what head office published (the fleet config counts for every store) or the
    highest another till of the store reports, whichever is higher: a till behind its
    neighbours is behind too."""
    published = latest_versions() if published is None else published
    newest: dict[tuple[str, str], int] = {}
    for row in rows:
        for sequence, version in row["versions"].items():
            key = (row["store"], sequence)
            newest[key] = max(newest.get(key, 0), version)
    for row in rows:
        if not row["versions"]:
            row["behind"] = None  # the till has not said what it holds
            continue
        behind = []
        for sequence in SEQUENCES:
            target = max(newest.get((row["store"], sequence), 0),
                         published.get((row["store"], sequence), 0),
                         published.get((FLEET_STORE, sequence), 0))
            held = row["versions"].get(sequence)
            if target and (held is None or held < target):
                behind.append((sequence, held, target))
        row["behind"] = behind


def downstream_view(value: Any) -> dict[str, Any]:
    """What the till refused or ignored of head office's messages, as its `status` says
    (firmware/uplink/downstream.py reject_summary); None counts when it did not say."""
    if not isinstance(value, dict):
        return {"refused": None, "ignored": None, "last": "", "level": ""}
    counts = {key: value.get(key) if isinstance(value.get(key), int) else None
              for key in ("refused", "ignored")}
    last = value.get("last") if isinstance(value.get("last"), dict) else {}
    text = f"{last.get('kind', '')}: {last.get('reason', '')} ({last.get('at', '')})" if last else ""
    return {**counts, "last": text[:600], "level": "bad" if any(counts.values()) else "ok"}


def dead_letters_by_terminal() -> dict[str, dict[str, Any]]:
    """Refused (dead-lettered) messages per terminal, exact: ingest counts every one even
    when it keeps only the newest rows; "" holds messages that named no terminal."""
    return {row.terminal: {"count": row.count, "unkept": row.unkept, "reason": row.last_reason,
                           "last": row.last_received}
            for row in DeadLetterTerminal.select().order_by(DeadLetterTerminal.terminal)}


def device_view(value: Any) -> dict[str, str]:
    """One device as reported, or 'unknown' when the till has not reported it (an older
    till, a device not fitted, or an offline till whose last word was its Will)."""
    if not isinstance(value, dict) or not isinstance(value.get("state"), str) or not value["state"]:
        return {"state": "unknown", "detail": "", "since": "", "level": ""}
    state, detail = value["state"], str(value.get("detail") or "")
    fault = state not in FINE or (state == "open" and bool(detail))  # left open: an alert
    return {"state": state, "detail": detail, "since": str(value.get("since") or ""),
            "level": "bad" if fault else "ok"}


def recent_alerts(limit: int = 20, lang: str = "nl",
                  shops: frozenset[str] | None = None) -> list[dict[str, Any]]:
    """The newest alerts with their text in `lang`, how many causes each counts, the time of
    the first (the sale's own time, local) and who acknowledged it when; only those of
    `shops` when given (a shop manager's)."""
    query = Alert.select(Alert.id, Alert.key, Alert.kind, Alert.store, Alert.terminal,
                         Alert.message, Alert.created, Alert.state)
    if shops is not None:
        query = query.where(Alert.store.in_(sorted(shops) or [""]))
    rows = list(query.order_by(Alert.id.desc()).limit(limit).dicts())
    keys = [row["key"] for row in rows]
    groups, acks = board.groups(keys), board.acks(keys)
    for row in rows:
        group = groups.get(row["key"])
        row["count"] = group.count if group else 1
        row["when"] = texts.local_time(group.first if group else row["created"])
        row["text"] = board.text_of(row, group, lang)
        row["kind_name"] = texts.kind_name(row["kind"], lang)
        row["state_name"] = texts.state_name(row["state"], lang)
        row["acks"] = [{"user": a.user, "at": texts.local_time(a.at)}
                       for a in acks.get(row["key"], [])]
    return rows


def live(day: dt.date, lang: str = "nl", shops: frozenset[str] | None = None) -> dict[str, Any]:
    """Today's figures: of the whole company, or (a shop manager) of `shops` only: the totals,
    hours and top products then sum those shops, and no other shop appears."""
    period = Period(day, day, day.isoformat())
    if shops is None:
        return {"day": day.isoformat(), "totals": totals(period), "terminals": by_terminal(period),
                "stores": by_store(period), "hourly": hourly(period),
                "top": top_products(period), "alerts": recent_alerts(10, lang)}
    mine = sorted(shops)
    parts = [totals(period, s) for s in mine]
    summed = {k: sum(int(p.get(k) or 0) for p in parts) for k in SUM_FIELDS}
    hours = [sum(col) for col in zip(*[hourly(period, s) for s in mine], strict=True)] \
        if mine else [0] * 24
    top: dict[str, dict[str, Any]] = {}
    for s in mine:
        for p in top_products(period, s, limit=50):
            row = top.setdefault(p["product"], {**p, "quantity": 0, "gross": 0})
            row["quantity"] += p["quantity"]
            row["gross"] += p["gross"]
    return {"day": day.isoformat(), "totals": _with_basket(summed),
            "terminals": [t for s in mine for t in by_terminal(period, s)],
            "stores": [r for r in by_store(period) if r["store"] in shops], "hourly": hours,
            "top": sorted(top.values(), key=lambda p: -p["gross"])[:10],
            "alerts": recent_alerts(10, lang, shops)}


def store_of_entry(terminal: str, seq: int) -> str | None:
    row = (OfficeEntry.select(OfficeEntry.store)
           .where((OfficeEntry.terminal == terminal) & (OfficeEntry.seq == seq)).first())
    return row.store if row else None


def store_of_alert(alert_id: int) -> str | None:
    row = Alert.select(Alert.store).where(Alert.id == alert_id).first()
    return row.store if row else None
