"""The webshop link at a glance, for the dashboard: last sync, orders, parked, errors."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from headoffice.webshop.connector import TAKEN_STATUSES
from headoffice.webshop.models import PARKED, TRACKED, WebshopLink, WebshopLog, WebshopOrder

OWN_COLUMNS = ["parked", "webhook_refused", "sync"]  # counted apart (sync: the round's sum)


def status(now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Per linked webshop: its last sync round, orders holding stock, parked orders with
    their reasons, calls that failed in the last 24 hours and webhook deliveries refused."""
    since = ((now or dt.datetime.now().astimezone()) - dt.timedelta(hours=24)).isoformat()
    shops = []
    for link in WebshopLink.select().order_by(WebshopLink.shop):
        shop = link.shop
        last = (WebshopLog.select().where(WebshopLog.shop == shop, WebshopLog.action == "sync")
                .order_by(WebshopLog.id.desc()).first())
        summary = json.loads(last.detail) if last is not None else {}
        mine = WebshopOrder.shop == shop
        shops.append({
            "shop": shop,
            "linked": link.linked[:16].replace("T", " "),
            "fulfil_from": link.fulfil_from,
            "last_run": last.at[:19].replace("T", " ") if last is not None else "",
            "last_ok": bool(last.ok) if last is not None else False,
            "last": summary,
            "taken": WebshopOrder.select().where(mine, WebshopOrder.state == TRACKED,
                                                 WebshopOrder.status.in_(list(TAKEN_STATUSES)))
                                          .count(),
            "parked": list(WebshopOrder.select().where(mine, WebshopOrder.state == PARKED)
                           .order_by(WebshopOrder.id)),
            "errors": WebshopLog.select().where(
                WebshopLog.shop == shop, WebshopLog.ok == False,  # noqa: E712
                WebshopLog.at >= since, WebshopLog.action.not_in(OWN_COLUMNS)).count(),
            "refused": WebshopLog.select().where(WebshopLog.shop == shop,
                                                 WebshopLog.action == "webhook_refused").count(),
        })
    return shops
