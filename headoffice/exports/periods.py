"""Periods as people type them: 2025, 2025-Q1, 2025-03, 2025-W10, 2025-03-04, or a range."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass


class PeriodError(ValueError):
    """A period that cannot be read; the message shows the accepted forms."""


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    label: str

    @property
    def first(self) -> str:
        return self.start.isoformat()

    @property
    def last(self) -> str:
        return self.end.isoformat()

    def previous(self) -> Period:
        """The period of the same kind just before (last year, last month, last week...)."""
        length = (self.end - self.start).days + 1
        if self.start.day == 1 and (self.end + dt.timedelta(days=1)).day == 1 and length > 27:
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            year, month = divmod(self.start.year * 12 + self.start.month - 1 - months, 12)
            start = dt.date(year, month + 1, 1)
            y2, m2 = divmod(year * 12 + month + months, 12)
            return Period(start, dt.date(y2, m2 + 1, 1) - dt.timedelta(days=1), "previous")
        return Period(self.start - dt.timedelta(days=length), self.start - dt.timedelta(days=1),
                      "previous")


def _month_end(year: int, month: int) -> dt.date:
    y, m = divmod(year * 12 + month, 12)
    return dt.date(y, m + 1, 1) - dt.timedelta(days=1)


def parse_period(text: str) -> Period:
    text = text.strip()
    try:
        if ".." in text:
            a, b = text.split("..", 1)
            start, end = parse_period(a).start, parse_period(b).end
        elif re.fullmatch(r"\d{4}", text):
            start, end = dt.date(int(text), 1, 1), dt.date(int(text), 12, 31)
        elif m := re.fullmatch(r"(\d{4})-Q([1-4])", text, re.I):
            year, q = int(m[1]), int(m[2])
            start, end = dt.date(year, 3 * q - 2, 1), _month_end(year, 3 * q)
        elif m := re.fullmatch(r"(\d{4})-W(\d{2})", text, re.I):
            start = dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
            end = start + dt.timedelta(days=6)
        elif m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            start, end = dt.date(int(m[1]), int(m[2]), 1), _month_end(int(m[1]), int(m[2]))
        else:
            start = end = dt.date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"period {text!r} is not one of YYYY, YYYY-Qn, YYYY-MM, YYYY-Www, "
                          "YYYY-MM-DD or FROM..TO") from None
    if end < start:
        raise PeriodError(f"period {text!r} ends before it starts")
    return Period(start, end, text)


def around(kind: str, day: dt.date) -> Period:
    """The day, ISO week, month or year that contains `day`."""
    if kind == "day":
        return Period(day, day, day.isoformat())
    if kind == "week":
        start = day - dt.timedelta(days=day.weekday())
        iso = day.isocalendar()
        return Period(start, start + dt.timedelta(days=6), f"{iso.year}-W{iso.week:02d}")
    if kind == "month":
        return Period(day.replace(day=1), _month_end(day.year, day.month), day.strftime("%Y-%m"))
    if kind == "year":
        return Period(dt.date(day.year, 1, 1), dt.date(day.year, 12, 31), str(day.year))
    raise PeriodError(f"unknown period kind {kind!r} (day, week, month, year)")
