"""What an alert adds up to (how many causes, the entries' own times) and the owner's
acknowledgements of alerts, for the dashboard, the mail and the webhook."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from peewee import fn

from headoffice.alerts import texts
from headoffice.alerts.models import Alert, AlertAck, AlertEvent
from headoffice.orm import write_transaction


class UnknownAlert(LookupError):
    """An acknowledgement for an alert that does not exist."""

    def __init__(self, alert_id: int) -> None:
        super().__init__(f"no alert {alert_id}")
        self.alert_id = alert_id


@dataclass(frozen=True)
class Group:
    """The causes counted in one alert: how many, the first and last entry time, and the
    parameters of the first (what its text is made of)."""

    count: int
    first: str
    last: str
    params: dict[str, Any]


def groups(keys: Iterable[str]) -> dict[str, Group]:
    """Alert key -> its Group, for the alerts that have events."""
    keys = list(keys)
    if not keys:
        return {}
    found: dict[str, Group] = {}
    rows = (AlertEvent.select(AlertEvent.alert, fn.COUNT(AlertEvent.id).alias("n"),
                              fn.MIN(AlertEvent.id).alias("first_id"))
            .where(AlertEvent.alert.in_(keys)).group_by(AlertEvent.alert).namedtuples())
    counts = {r.alert: (int(r.n), r.first_id) for r in rows}
    if not counts:
        return {}
    times = (AlertEvent.select(AlertEvent.alert, fn.MIN(AlertEvent.ts).alias("lo"),
                               fn.MAX(AlertEvent.ts).alias("hi"))
             .where(AlertEvent.alert.in_(list(counts))).group_by(AlertEvent.alert).namedtuples())
    spans = {r.alert: (r.lo, r.hi) for r in times}
    firsts = {e.id: e for e in AlertEvent.select().where(
        AlertEvent.id.in_([first for _, first in counts.values()]))}
    for key, (count, first_id) in counts.items():
        try:
            params = json.loads(firsts[first_id].params)
        except (KeyError, ValueError):
            params = {}
        lo, hi = spans.get(key, ("", ""))
        found[key] = Group(count, lo, hi, params if isinstance(params, dict) else {})
    return found


def text_of(alert: Alert | dict[str, Any], group: Group | None, lang: str = "nl") -> str:
    """The alert's sentence in `lang`; an alert from before events were kept shows its stored
    text."""
    row = alert if isinstance(alert, dict) else alert.__data__
    if group is None:
        return str(row["message"])
    return texts.alert_text(str(row["kind"]), group.params, lang, group.count, group.first,
                            group.last)


def acknowledge(alert_id: int, user: str) -> AlertAck:
    """Records that `user` has seen the alert, now; earlier acknowledgements stay."""
    with write_transaction():
        alert = Alert.get_or_none(Alert.id == alert_id)
        if alert is None:
            raise UnknownAlert(alert_id)
        return AlertAck.create(alert=alert.key, user=user[:64],
                               at=dt.datetime.now().astimezone().isoformat(timespec="seconds"))


def acks(keys: Iterable[str]) -> dict[str, list[AlertAck]]:
    """Alert key -> its acknowledgements, oldest first."""
    out: dict[str, list[AlertAck]] = {}
    keys = list(keys)
    if keys:
        for ack in AlertAck.select().where(AlertAck.alert.in_(keys)).order_by(AlertAck.id):
            out.setdefault(ack.alert, []).append(ack)
    return out
