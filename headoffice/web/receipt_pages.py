"""Finding one receipt and showing it as printed, with its signature check, refunds and copies.

A shop manager finds and opens only the receipts of their shops; an accountant sees receipts
but does not search by customer card (no customer data for that role)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from headoffice.web import receipt_search as search
from headoffice.web import receipt_view as view
from headoffice.web.common import access, bad_page, forbidden, lang, page, requires, shops_of
from headoffice.web.roles import Role

FIELDS = ("nummer", "bedrag", "van", "tot", "kaartref", "product", "klant", "store")


@requires(Role.OWNER, Role.MANAGER, Role.ACCOUNTANT, shop_scoped=True)
def find_page(request: Request) -> Response:
    """The search form and the receipts it found, each a link to the receipt."""
    q = {name: request.query_params.get(name, "") for name in FIELDS}
    reach = access(request)
    if q["klant"] and reach is not None and reach.role is Role.ACCOUNTANT:
        return forbidden(request, "klant")
    try:
        wanted = search.parse_search(q)
    except search.SearchError as exc:
        return bad_page(request, "Ongeldige zoekvraag", str(exc))
    found = search.find(wanted, shops_of(request), q["store"] or None)
    return page(request, "receipt_find.html", nav="receipt", q=q, found=found,
                searched=not wanted.empty, limit=search.LIMIT)


@requires(Role.OWNER, Role.MANAGER, Role.ACCOUNTANT, shop_scoped=True)
def receipt_page(request: Request) -> Response:
    terminal, seq = request.path_params["terminal"], int(request.path_params["seq"])
    shops = shops_of(request)
    if shops is not None and view.store_of(terminal, seq) not in shops:
        return forbidden(request, f"{terminal}-{seq}")
    width = request.query_params.get("breedte", "42")
    if width not in ("32", "42", "48"):
        return bad_page(request, "Ongeldige bonbreedte", width)
    copy = request.query_params.get("kopie") == "1"
    try:
        shown = view.receipt(terminal, seq, request.app.state.settings.company, lang(request),
                             int(width), copy)
    except view.NoReceipt as exc:
        return page(request, "error.html", status_code=404, message="Deze bon bestaat niet",
                    detail=f"{exc.terminal}-{exc.seq}")
    return page(request, "receipt.html", nav="receipt", r=shown, width=width, copy=copy,
                back=urlencode({"nummer": f"{terminal}-{seq}"}))


ROUTES = [
    Route("/bonnen/zoeken", find_page),
    Route("/bon/{terminal}/{seq:int}", receipt_page),
]
