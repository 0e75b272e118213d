"""When the updater may stop the till: never with a ticket open; and when opening hours are
configured, only outside them or shortly after a Z close (the day is closed, the drawer
counted). Pure functions of the facts, so the rule is tested without a till."""

from __future__ import annotations

import datetime as dt

from contract.config import UpdateConfig
from updater.tillfacts import Activity

STALE = dt.timedelta(minutes=3)  # the till refreshes the fact every minute (firmware/software.py)


def within_hours(hours: str, now: dt.datetime) -> bool:
    """`now` (local time) lies in "HH:MM-HH:MM"; a span past midnight wraps."""
    start_text, end_text = hours.split("-")
    start = dt.time.fromisoformat(start_text)
    end = dt.time.fromisoformat(end_text)
    moment = now.time()
    return start <= moment < end if start <= end else (moment >= start or moment < end)


def may_install(cfg: UpdateConfig, activity: Activity, last_z: dt.datetime | None,
                now: dt.datetime) -> tuple[bool, str]:
    """(allowed, why not) for stopping the till now. `now` is timezone-aware. A ticket
    reported open by a till that has not refreshed the fact for STALE is no longer open:
    that till is not running, and its unpaid ticket went with it."""
    if activity.ticket_open and activity.at is not None and now - activity.at < STALE:
        return False, "a ticket is open"
    if not cfg.opening_hours:
        return True, ""
    local = now.astimezone()
    if not within_hours(cfg.opening_hours, local):
        return True, ""
    if last_z is not None and now - last_z <= dt.timedelta(minutes=cfg.after_z_minutes):
        return True, ""
    return False, f"within opening hours {cfg.opening_hours} and no Z close in the last " \
                  f"{cfg.after_z_minutes} minutes"
