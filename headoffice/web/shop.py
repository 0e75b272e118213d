"""The customer side of the dashboard: the public unsubscribe link of the marketing mails,
and the page with the reorder list, back-in-stock mails and offer campaigns."""

from __future__ import annotations

from typing import Any

import peewee
from starlette.requests import Request
from starlette.responses import Response

from headoffice.customers import service
from headoffice.customers.models import Customer
from headoffice.notify.models import Notification
from headoffice.offers.models import Campaign, Offer, Redemption
from headoffice.offers.redeem import over_redemptions
from headoffice.stock import ledger
from headoffice.stock.models import OfficeProduct, Restock
from headoffice.web.i18n import date_nl
from headoffice.web.templating import templates
from headoffice.webshop.status import status as webshop_status

UNSUBSCRIBE_TEXT = {
    "nl": {
        "title": "Afmelden",
        "ask": "Wilt u geen berichten meer ontvangen over uw favorieten en persoonlijke "
               "aanbiedingen?",
        "button": "Afmelden",
        "done": "U bent afgemeld. U ontvangt geen berichten meer over uw favorieten en "
                "aanbiedingen.",
        "unknown": "Deze afmeldlink is onbekend of verlopen. U ontvangt van ons geen berichten "
                   "via deze link.",
    },
    "en": {
        "title": "Unsubscribe",
        "ask": "Do you no longer want messages about your favourites and personal offers?",
        "button": "Unsubscribe",
        "done": "You are unsubscribed. You will get no more messages about your favourites "
                "and offers.",
        "unknown": "This unsubscribe link is unknown or no longer valid. You get no messages "
                   "from us through it.",
    },
}


def _language(request: Request, preferred: str) -> str:
    asked = request.query_params.get("lang", "")
    return asked if asked in UNSUBSCRIBE_TEXT else (preferred if preferred in UNSUBSCRIBE_TEXT
                                                     else "nl")


def _unsubscribe_page(request: Request, language: str, state: str, status: int = 200) -> Response:
    return templates.TemplateResponse(
        request, "unsubscribe.html",
        {"request": request, "user": None, "nav": "", "lang": language, "state": state,
         "t": UNSUBSCRIBE_TEXT[language], "token": request.path_params["token"]},
        status_code=status)


async def unsubscribe(request: Request) -> Response:
    """No login. GET asks (so a mail scanner opening the link withdraws nothing); POST, the
    button or a mail client's one-click (RFC 8058), withdraws. Both are idempotent: an
    unsubscribed customer sees the confirmation again and nothing changes."""
    token = request.path_params["token"]
    customer = service.by_token(token)
    if customer is None:
        return _unsubscribe_page(request, _language(request, ""), "unknown", 404)
    language = _language(request, customer.language)
    if request.method == "POST":
        service.unsubscribe(token)
        return _unsubscribe_page(request, language, "done")
    return _unsubscribe_page(request, language, "done" if not customer.consent else "ask")


def status() -> dict[str, Any]:
    """Reorder list, oversold, back-in-stock mails and offer campaigns, for the page."""
    names = {p.sku: p.name for p in OfficeProduct.select(OfficeProduct.sku, OfficeProduct.name)}
    mails = dict(Notification.select(Notification.state, peewee.fn.COUNT(Notification.id))
                 .group_by(Notification.state).tuples())
    restocks = []
    for row in Restock.select().order_by(Restock.id.desc()).limit(20):
        told = dict(Notification.select(Notification.state, peewee.fn.COUNT(Notification.id))
                    .where(Notification.restock == row.id).group_by(Notification.state).tuples())
        restocks.append({"location": row.location, "sku": row.sku, "name": names.get(row.sku, ""),
                         "sent": told.get("sent", 0), "failed": told.get("failed", 0)})
    campaigns = []
    for campaign in Campaign.select().order_by(Campaign.id.desc()).limit(20):
        offers = Offer.select().where(Offer.campaign == campaign.id)
        ids = [o.offer_id for o in offers]
        campaigns.append({
            "name": campaign.name,
            "valid": f"{date_nl(campaign.valid_from)} – {date_nl(campaign.valid_until)}",
            "percent": campaign.percent, "budget": campaign.budget_cents,
            "committed": campaign.committed_cents, "offers": len(ids),
            "emailed": sum(1 for o in offers if o.emailed),
            "redeemed": Redemption.select().where(Redemption.offer_id.in_(ids or [""])).count(),
        })
    return {
        "reorder": ledger.reorder_list(),
        "oversold": ledger.oversold()[-20:],
        "mails": {"sent": mails.get("sent", 0), "failed": mails.get("failed", 0),
                  "sending": mails.get("sending", 0)},
        "restocks": restocks,
        "campaigns": campaigns,
        "over": over_redemptions(),
        "customers": Customer.select().count(),
        "consenting": Customer.select().where(Customer.consent == True).count(),  # noqa: E712
        "webshops": webshop_status(),
    }
