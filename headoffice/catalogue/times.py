"""Moments of the product master: typed in Amsterdam time, stored in UTC, sent with offset.

A shop plans "Monday 07:00" in its own time; stored as UTC text of one shape the moments
sort as text in either database, and the till gets them back with the Amsterdam offset of
that day (winter +01:00, summer +02:00), so it switches at the right instant by its clock.
"""

from __future__ import annotations

import datetime as dt

from contract.shop_time import SHOP_ZONE
from headoffice.catalogue.errors import BadField

STORED = "%Y-%m-%dT%H:%M:%S+00:00"


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def stored(moment: dt.datetime) -> str:
    """The stored text of an aware moment."""
    return moment.astimezone(dt.UTC).strftime(STORED)


def from_stored(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, STORED).replace(tzinfo=dt.UTC)


def sent(text: str) -> str:
    """A stored moment as the till receives it: ISO 8601 in Amsterdam time with its offset."""
    return from_stored(text).astimezone(SHOP_ZONE).isoformat()


def parse_moment(text: str, field: str = "valid_from") -> dt.datetime:
    """`2026-12-07 07:00`, `2026-12-07T07:00`, `2026-12-07` (midnight) in Amsterdam time, or
    any ISO 8601 with an offset; BadField otherwise. A time that does not exist in Amsterdam
    (the hour skipped in March) is refused rather than guessed."""
    raw = text.strip()
    try:
        moment = dt.datetime.fromisoformat(raw.replace(" ", "T", 1) if len(raw) > 10 else raw)
    except ValueError:
        raise BadField(field, text, "not a date-time like 2026-12-07 07:00") from None
    if moment.tzinfo is not None:
        return moment.replace(microsecond=0)
    local = moment.replace(tzinfo=SHOP_ZONE)
    back = local.astimezone(dt.UTC).astimezone(SHOP_ZONE).replace(tzinfo=None)
    if back != moment:
        raise BadField(field, text, "does not exist in Europe/Amsterdam (clock change)")
    return local.replace(microsecond=0)
