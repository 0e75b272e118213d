"""The shop's clock: every till and the head office date a moment in Amsterdam time.

A journal entry's `ts` carries the wall-clock time of the shop with its offset, and the
business day of a sale is that text's date. The till therefore must not follow the Pi's
system time zone (a fresh Raspberry Pi OS says Europe/London, a container UTC): a sale at
00:30 in Amsterdam would land on the previous day's Z, VAT day and dashboard.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

SHOP_ZONE = zoneinfo.ZoneInfo("Europe/Amsterdam")


def shop_now() -> dt.datetime:
    """Now, aware, in the shop's time zone."""
    return dt.datetime.now(SHOP_ZONE)


def shop_today() -> dt.date:
    """The shop's calendar day (its business day), whatever the machine's time zone."""
    return shop_now().date()


def shop_stamp(timespec: str = "milliseconds") -> str:
    """Now as ISO text with the shop's offset, as entries and messages carry it."""
    return shop_now().isoformat(timespec=timespec)
