"""A shop's stock for whoever may see that shop: the reorder list and what was sold beyond the
stock, of one shop (a shop manager's own), without any customer figures."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from headoffice.stock import ledger
from headoffice.web.common import page, requires, scoped_store, shops_of
from headoffice.web.roles import Role


@requires(Role.OWNER, Role.MANAGER, shop_scoped=True)
def stock_page(request: Request) -> Response:
    store = scoped_store(request, request.query_params.get("store"))
    shops = shops_of(request)
    choices = sorted(shops) if shops is not None else sorted(
        {line.location for line in ledger.reorder_list()})
    return page(request, "stock.html", store=store or "", stores=choices, nav="stock",
                reorder=ledger.reorder_list(store), oversold=ledger.oversold(store)[-50:])


ROUTES = [Route("/voorraad", stock_page)]
