"""The assortment on the dashboard: find, edit and schedule products, prices and promotions,
see who changed what, and print the shelf labels of a day's price changes.

Every change goes through the product master's own functions (headoffice/catalogue/), so a
form and `kassa office catalogue ...` check the same rules and write the same audit rows;
the actor is the logged-in user. A refused change shows the form again with the master's
reason beside it; nothing is stored half.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from contract.config import VAT_CODES
from contract.downstream import UNITS
from contract.money import format_money
from contract.promotions import TYPES
from headoffice.catalogue import audit, pricing
from headoffice.catalogue.errors import BadField, MasterError
from headoffice.catalogue.fields import content_text, euros, product_fields
from headoffice.catalogue.labels import day_labels
from headoffice.catalogue.models import ALL_STORES, DepositType, MasterProduct, PriceEntry, Promotion
from headoffice.catalogue.products import (
    barcodes_of,
    cancel_price,
    cost_at,
    find,
    save_product,
    set_cost,
    set_price,
    set_store_active,
)
from headoffice.catalogue.promotions import as_item, save_promotion, set_active
from headoffice.catalogue.publish import stores as active_stores
from headoffice.catalogue.times import SHOP_ZONE, from_stored, now_utc, parse_moment, stored
from headoffice.shelf_labels import render_labels
from headoffice.web.common import bad_page, page, requires
from headoffice.web.roles import Role

ASSORTMENT = requires(Role.OWNER, Role.FLEET)  # products, prices, promotions, labels
# A change is audited twice: field by field in the master's own trail (headoffice/catalogue/
# audit.py, actor web:<user>) and with who and from where in head office's trail, which links
# to it by the product's code in the path and the form's action.
PRODUCT_FIELDS = ("action", "gtin", "plu", "name", "category", "vat_code", "price", "store",
                  "valid_from", "cost", "active")
PROMO_FIELDS = ("action", "id", "name", "type", "active", "valid_from", "valid_until")

PAGE_SIZE = 100
WEEKDAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")
VAT_NAMES = {"high": "hoog (21%)", "low": "laag (9%)", "zero": "nul (0%)", "exempt": "vrijgesteld"}
PRODUCT_FORM = ("gtin", "barcodes", "plu", "name", "category", "vat_code", "unit", "age_limit",
                "deposit", "active", "content")
PROMO_PARAMS = {"n_for_price": ("n", "price"), "buy_get": ("buy", "get"),
                "nth_percent": ("n", "percent"), "percent": ("percent",)}


def _actor(request: Request) -> str:
    return f"web:{request.session.get('user')}"


def _stores() -> list[str]:
    """The stores to choose from: those with an active terminal and those with own prices."""
    own = {s for (s,) in PriceEntry.select(PriceEntry.store).distinct().tuples() if s != ALL_STORES}
    return sorted(own | set(active_stores()))


def _local(stored_text: str) -> str:
    return from_stored(stored_text).astimezone(SHOP_ZONE).strftime("%d-%m-%Y %H:%M")


def _price_rows(product: MasterProduct, store: str) -> dict[str, Any]:
    """Now and planned, for one store (its own entries win) or for every store."""
    key = store or ALL_STORES
    own, chain = pricing.timelines(key, [product.id]).get(product.id, ([], []))
    current, planned = pricing.schedule(own, chain, now_utc())
    return {"current": current, "planned": [(_local(m), p) for m, p in planned]}


@ASSORTMENT
def catalogue_list(request: Request) -> Response:
    """Search by name, category or code; each product with its price now and the next change."""
    q = request.query_params.get("q", "").strip()
    store = request.query_params.get("store", "").strip()
    query = MasterProduct.select().order_by(MasterProduct.name)
    if q:
        like = f"%{q}%"
        query = query.where(MasterProduct.name.contains(q) | MasterProduct.category.contains(q)
                            | MasterProduct.sku.contains(q) | MasterProduct.plu.contains(q)
                            | (MasterProduct.gtin ** like))
    total = query.count()
    products = list(query.limit(PAGE_SIZE))
    key = store or ALL_STORES
    lines = pricing.timelines(key, [p.id for p in products]) if products else {}
    now = now_utc()
    rows = []
    for p in products:
        current, planned = pricing.schedule(*lines.get(p.id, ([], [])), now)
        rows.append({"p": p, "current": current,
                     "next": (_local(planned[0][0]), planned[0][1]) if planned else None})
    return page(request, "catalogue.html", nav="catalogue", rows=rows, q=q, store=store,
                stores=_stores(), total=total, shown=len(rows), vat_names=VAT_NAMES)


def _product_form(product: MasterProduct | None) -> dict[str, str]:
    if product is None:
        return {"vat_code": "high", "unit": "piece", "active": "1"}
    return {"gtin": product.gtin or "", "barcodes": " ".join(barcodes_of(product.id)),
            "plu": product.plu or "", "name": product.name, "category": product.category,
            "vat_code": product.vat_code, "unit": product.unit,
            "age_limit": str(product.age_limit or ""), "deposit": product.deposit or "",
            "active": "1" if product.active else "0",
            "content": content_text(product.content_amount, product.content_unit)}


def _product_page(request: Request, product: MasterProduct | None, form: dict[str, str],
                  error: str = "", status_code: int = 200, done: str = "") -> Response:
    store = request.query_params.get("store", "")
    context: dict[str, Any] = {"product": product, "form": form, "error": error, "done": done,
                               "vat_codes": [(c, VAT_NAMES.get(c, c)) for c in VAT_CODES],
                               "units": UNITS, "stores": _stores(),
                               "deposits": list(DepositType.select().order_by(DepositType.code)),
                               "store": store}
    if product is not None:
        context["prices"] = [
            {"store": e.store, "price": e.price_cents, "from": _local(e.valid_from),
             "raw_from": e.valid_from, "planned": e.valid_from > stored(now_utc())}
            for e in PriceEntry.select().where(PriceEntry.product == product.id)
            .order_by(PriceEntry.store, PriceEntry.valid_from.desc())]
        context["price_now"] = _price_rows(product, store)
        context["cost_now"] = cost_at(product.id, now_utc())
        context["trail"] = [_trail_row(a) for a in audit.trail(product.sku, limit=50)]
    return page(request, "catalogue_product.html", status_code=status_code, nav="catalogue",
                **context)


@requires(Role.OWNER, Role.FLEET, audited="catalogue", audit_form=PRODUCT_FIELDS)
async def product_page(request: Request) -> Response:
    """One product: its fields, prices (now and planned, per store), cost, ranges, history."""
    sku = request.path_params.get("sku")
    try:
        product = find(sku) if sku else None
    except MasterError:
        return page(request, "error.html", status_code=404, message="Onbekend product", detail=sku)
    if request.method != "POST":
        return _product_page(request, product, _product_form(product),
                             done=request.query_params.get("done", ""))
    form = {k: str(v) for k, v in (await request.form()).items()}
    action = form.pop("action", "save")
    try:
        if action == "save":
            cells = {k: form.get(k, "") for k in PRODUCT_FORM}
            cells["active"] = "1" if form.get("active") else "0"
            product, _created = save_product(product_fields(cells), _actor(request))
            done = "opgeslagen"
        elif product is None:
            return bad_page(request, "Onbekend product")
        elif action == "price":
            set_price(product, euros(form.get("price", ""), "price"),
                      parse_moment(form.get("valid_from", "") or _now_local_text()),
                      form.get("store") or ALL_STORES, _actor(request))
            done = "prijs gepland"
        elif action == "cancel_price":
            cancel_price(product, from_stored(form["valid_from"]), form.get("store") or ALL_STORES,
                         _actor(request))
            done = "prijs geschrapt"
        elif action == "cost":
            set_cost(product, euros(form.get("cost", ""), "cost"),
                     parse_moment(form.get("valid_from", "") or _now_local_text()), _actor(request))
            done = "inkoopprijs opgeslagen"
        elif action == "range":
            set_store_active(product, form["store"], form.get("active") == "1", _actor(request))
            done = "assortiment van de winkel opgeslagen"
        else:
            return bad_page(request, "Onbekende actie", action)
    except MasterError as exc:
        shown = form if action == "save" else _product_form(product)
        return _product_page(request, product, shown, error=str(exc), status_code=400)
    return RedirectResponse(f"/assortiment/product/{product.sku}?done={done}", status_code=303)


def _now_local_text() -> str:
    return dt.datetime.now(SHOP_ZONE).strftime("%Y-%m-%d %H:%M:%S")


def _trail_row(entry: Any) -> dict[str, Any]:
    def shown(text: str) -> dict[str, str]:
        return {k: _shown(k, v) for k, v in (json.loads(text) if text else {}).items()}

    return {"at": _local(entry.at), "actor": entry.actor, "entity": entry.entity,
            "key": entry.key, "action": entry.action, "old": shown(entry.old),
            "new": shown(entry.new)}


def _shown(key: str, value: Any) -> str:
    """A changed field as a person reads it: money in euros, moments in shop time."""
    if value is None or value == "" or value == []:
        return "—"
    if key.endswith("_cents") and isinstance(value, int):
        return format_money(value)
    if key == "valid_from" and isinstance(value, str) and value.endswith("+00:00"):
        return _local(value)
    if key == "store" and value == ALL_STORES:
        return "alle winkels"
    if key == "vat_code":
        return VAT_NAMES.get(value, value)
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


@ASSORTMENT
def audit_page(request: Request) -> Response:
    """Who changed what, newest first; filter by code or kind."""
    key = request.query_params.get("key", "").strip() or None
    entity = request.query_params.get("entity", "").strip() or None
    rows = [_trail_row(a) for a in audit.trail(key, entity, limit=500)]
    return page(request, "catalogue_audit.html", nav="catalogue", rows=rows, key=key or "",
                entity=entity or "")


def _promotion_item(form: dict[str, str]) -> dict[str, Any]:
    """A contract-shaped promotion from the form's text fields (the contract checks it)."""
    kind = form.get("type", "")
    item: dict[str, Any] = {"id": form.get("id", "").strip(), "name": form.get("name", "").strip(),
                            "type": kind}
    for field in PROMO_PARAMS.get(kind, ()):
        value = form.get(field, "").strip()
        if field == "price":
            item["price_cents"] = euros(value, "price")
        else:
            if not value.isdigit():
                raise BadField(field, value, "not a whole number")
            item[field] = int(value)
    for field in ("products", "categories", "stores"):
        values = [v.strip() for v in form.get(field, "").replace("\n", ",").split(",") if v.strip()]
        if field == "products":
            values = [find(code).sku for code in values]
        if values:
            item[field] = values
    for field in ("valid_from", "valid_until", "time_from", "time_until"):
        if form.get(field, "").strip():
            item[field] = form[field].strip()
    days = [int(d) for d in form.get("weekdays", "").split(",") if d.strip().isdigit()]
    if days:
        item["weekdays"] = days
    return item


@requires(Role.OWNER, Role.FLEET, audited="catalogue", audit_form=PROMO_FIELDS)
async def promotions_page(request: Request) -> Response:
    """Every promotion with its terms; create or change one; switch one on or off."""
    error, form = "", {}
    if request.method == "POST":
        data = await request.form()
        form = {k: str(v) for k, v in data.items() if k != "weekday"}
        form["weekdays"] = ",".join(str(v) for v in data.getlist("weekday"))
        try:
            if form.get("action") == "toggle":
                set_active(form["id"], form.get("active") == "1", _actor(request))
            else:
                save_promotion(_promotion_item(form), _actor(request))
            return RedirectResponse("/assortiment/acties", status_code=303)
        except MasterError as exc:
            error = str(exc)
    rows = []
    for row in Promotion.select().order_by(Promotion.promo_id):
        item = as_item(row)
        names = {p.sku: p.name for p in MasterProduct.select(MasterProduct.sku, MasterProduct.name)
                 .where(MasterProduct.sku.in_(item.get("products", [])))}
        rows.append({"item": item, "active": bool(row.active), "terms": _terms(item),
                     "products": [names.get(sku, sku) for sku in item.get("products", [])],
                     "days": ", ".join(WEEKDAYS[d - 1] for d in item.get("weekdays", []))})
    return page(request, "catalogue_promotions.html", status_code=400 if error else 200,
                nav="catalogue", rows=rows, error=error, form=form, types=TYPES,
                stores=_stores())


def _terms(item: dict[str, Any]) -> str:
    kind = item["type"]
    if kind == "n_for_price":
        return f"{item['n']} voor {format_money(item['price_cents'])}"
    if kind == "buy_get":
        return f"{item['buy']} + {item['get']} gratis"
    if kind == "nth_percent":
        return f"elke {item['n']}e {item['percent']}% korting"
    return f"{item['percent']}% korting"


@requires(Role.OWNER, Role.FLEET, audited="export")
def labels_pdf(request: Request) -> Response:
    """The shelf labels of every price that takes effect in a store on a day (its own prices
    and the chain's), as the till will charge them from that moment."""
    store = request.query_params.get("store", "").strip()
    try:
        day = dt.date.fromisoformat(request.query_params.get("day", "")) \
            if request.query_params.get("day") else dt.datetime.now(SHOP_ZONE).date()
    except ValueError:
        return bad_page(request, "Ongeldige datum: gebruik JJJJ-MM-DD")
    items = day_labels(store or ALL_STORES, day)
    if not items:
        return page(request, "error.html", status_code=404,
                    message="Geen prijswijzigingen op deze dag", detail=f"{day:%d-%m-%Y}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "labels.pdf"
        render_labels(items, store or "alle winkels", out)
        body = out.read_bytes()
    name = f"schapetiketten-{store or 'alle'}-{day.isoformat()}.pdf"
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


ROUTES = [
    Route("/assortiment", catalogue_list),
    Route("/assortiment/nieuw", product_page, methods=["GET", "POST"]),
    Route("/assortiment/product/{sku}", product_page, methods=["GET", "POST"]),
    Route("/assortiment/acties", promotions_page, methods=["GET", "POST"]),
    Route("/assortiment/wijzigingen", audit_page),
    Route("/assortiment/etiketten", labels_pdf),
]
