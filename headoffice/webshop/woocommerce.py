"""WooCommerce REST API v3 connector (https://woocommerce.github.io/woocommerce-rest-api-docs/).

Endpoints used: GET /wp-json/wc/v3/products (paged, to map SKU -> product id),
POST /wp-json/wc/v3/products/batch (stock_quantity, regular_price; at most 100 per call; and
`create`/`update` of name and price from head office's product master),
GET /wp-json/wc/v3/orders?status=any&modified_after=...&orderby=modified&order=asc (paged),
GET /wp-json/wc/v3/orders/<id> and /orders/<id>/refunds (refunded pieces per line),
GET /wp-json/wc/v3/customers (meta `kassa_favourites`: comma-separated SKUs).
Authentication: the consumer key and secret as HTTP Basic auth (WooCommerce over HTTPS).
Network errors, 429 and 5xx are retried with exponential backoff; 4xx are not.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from contract.product_key import sku_for_code
from headoffice.webshop.connector import OrderLine, PushResult, WebOrder, WebshopError

log = logging.getLogger("kassa.webshop")
BATCH = 100
PAGE = 100


class WooCommerce:
    def __init__(self, base_url: str, key: str, secret: str, name: str = "woocommerce",
                 retries: int = 4, backoff: float = 0.5, timeout: float = 15.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base = base_url.rstrip("/") + "/wp-json/wc/v3"
        self.name, self.retries, self.backoff, self.timeout, self.sleep = (
            name, retries, backoff, timeout, sleep)
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        self._auth = f"Basic {token}"
        self._ids: dict[str, int] | None = None
        self.attempts_log: list[tuple[str, int, str]] = []  # (call, attempts, outcome)

    # -- HTTP with retries ------------------------------------------------------------------------
    def _call(self, method: str, path: str, params: dict[str, Any] | None = None,
              body: Any = None) -> tuple[Any, dict[str, str]]:
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        data = json.dumps(body).encode() if body is not None else None
        what = f"{method} {path}"
        for attempt in range(1, self.retries + 2):
            request = urllib.request.Request(url, data=data, method=method, headers={
                "Authorization": self._auth, "Accept": "application/json",
                **({"Content-Type": "application/json"} if data is not None else {})})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    payload = json.loads(response.read() or b"null")
                    self.attempts_log.append((what, attempt, "ok"))
                    return payload, dict(response.headers.items())
            except urllib.error.HTTPError as exc:
                detail = exc.read()[:300].decode("utf-8", "replace")
                reason = f"HTTP {exc.code}: {detail}"
                if exc.code != 429 and exc.code < 500:
                    self.attempts_log.append((what, attempt, reason))
                    raise WebshopError(f"{what}: {reason}") from None
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            log.warning("%s failed (attempt %d): %s", what, attempt, reason)
            if attempt <= self.retries:
                self.sleep(self.backoff * 2 ** (attempt - 1))
        self.attempts_log.append((what, self.retries + 1, reason))
        raise WebshopError(f"{what}: gave up after {self.retries + 1} attempts: {reason}")

    def _pages(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        items, page = [], 1
        while True:
            batch, headers = self._call("GET", path, {**params, "per_page": PAGE, "page": page})
            if not isinstance(batch, list):
                raise WebshopError(f"GET {path}: expected a list, got {type(batch).__name__}")
            items += batch
            total = int(headers.get("X-WP-TotalPages", headers.get("x-wp-totalpages", page)))
            if page >= total or not batch:
                return items
            page += 1

    # -- the Webshop interface -------------------------------------------------------------------
    def product_ids(self, refresh: bool = False) -> dict[str, int]:
        if self._ids is None or refresh:
            ids = {}
            for product in self._pages("/products", {}):
                sku = sku_for_code(str(product.get("sku") or ""))
                if sku:
                    ids[sku] = int(product["id"])
            self._ids = ids
        return self._ids

    def _batch(self, updates: dict[str, dict[str, Any]]) -> PushResult:
        result = PushResult()
        ids = self.product_ids(refresh=True)
        known = [(sku, ids[sku], fields) for sku, fields in sorted(updates.items()) if sku in ids]
        result.unknown = sorted(sku for sku in updates if sku not in ids)
        for start in range(0, len(known), BATCH):
            chunk = known[start:start + BATCH]
            by_id = {pid: sku for sku, pid, _ in chunk}
            try:
                answer, _ = self._call("POST", "/products/batch", body={
                    "update": [{"id": pid, **fields} for _, pid, fields in chunk]})
            except WebshopError as exc:
                for sku, _, _ in chunk:
                    result.failed[sku] = str(exc)
                continue
            for item in (answer or {}).get("update", []):
                sku = by_id.get(int(item.get("id", 0)))
                if sku is None:
                    continue
                if "error" in item:
                    error = item["error"]
                    result.failed[sku] = f"{error.get('code')}: {error.get('message')}"
                else:
                    result.updated.append(sku)
            for sku in by_id.values():
                if sku not in result.updated and sku not in result.failed:
                    result.failed[sku] = "not confirmed in the batch answer"
        return result

    def push_stock(self, levels: dict[str, int]) -> PushResult:
        return self._batch({sku: {"manage_stock": True, "stock_quantity": max(0, qty)}
                            for sku, qty in levels.items()})

    def push_prices(self, prices: dict[str, int]) -> PushResult:
        return self._batch({sku: {"regular_price": f"{cents // 100}.{cents % 100:02d}"}
                            for sku, cents in prices.items()})

    def push_products(self, products: dict[str, tuple[str, int]]) -> PushResult:
        """The product master's (name, price in cents) per SKU: a SKU the shop lacks is created
        (stock managed, 0 until push_stock sets it from head office's ledger), a known one is
        updated only where its name or price differs, so a second run changes nothing."""
        result = PushResult()
        listing = {}
        for item in self._pages("/products", {}):
            sku = sku_for_code(str(item.get("sku") or ""))
            if sku:
                listing[sku] = item
        changes: dict[str, dict[str, Any]] = {}
        fresh: list[tuple[str, dict[str, Any]]] = []
        for sku, (name, cents) in sorted(products.items()):
            fields = {"name": name, "regular_price": f"{cents // 100}.{cents % 100:02d}"}
            known = listing.get(sku)
            if known is None:
                fresh.append((sku, {"sku": sku, **fields, "manage_stock": True,
                                    "stock_quantity": 0}))
            elif any(str(known.get(k)) != v for k, v in fields.items()):
                changes[sku] = fields
        for start in range(0, len(fresh), BATCH):
            self._create(fresh[start:start + BATCH], result)
        if changes:
            pushed = self._batch(changes)
            result.updated, result.failed = pushed.updated, {**result.failed, **pushed.failed}
        return result

    def _create(self, chunk: list[tuple[str, dict[str, Any]]], result: PushResult) -> None:
        try:
            answer, _ = self._call("POST", "/products/batch",
                                   body={"create": [fields for _, fields in chunk]})
        except WebshopError as exc:
            result.failed.update({sku: str(exc) for sku, _ in chunk})
            return
        for (sku, _), item in zip(chunk, (answer or {}).get("create", []), strict=False):
            if "error" in item:
                result.failed[sku] = f"{item['error'].get('code')}: {item['error'].get('message')}"
            else:
                result.created.append(sku)
        for sku, _ in chunk:
            if sku not in result.created and sku not in result.failed:
                result.failed[sku] = "not confirmed in the batch answer"
        self._ids = None

    def stock_levels(self) -> dict[str, int]:
        levels = {}
        for product in self._pages("/products", {}):
            sku = sku_for_code(str(product.get("sku") or ""))
            if sku and product.get("manage_stock") and product.get("stock_quantity") is not None:
                levels[sku] = int(product["stock_quantity"])
        return levels

    def _refunded(self, order_id: str) -> dict[str, int]:
        """Pieces refunded per original line id, from the order's refunds."""
        refunded: dict[str, int] = {}
        for refund in self._pages(f"/orders/{order_id}/refunds", {}):
            for item in refund.get("line_items", []):
                meta = {m.get("key"): m.get("value") for m in item.get("meta_data", [])}
                line = str(meta.get("_refunded_item_id") or "")
                if line:
                    refunded[line] = refunded.get(line, 0) + abs(int(item.get("quantity") or 0))
        return refunded

    def _complete(self, raw: dict[str, Any]) -> WebOrder:
        refunded = self._refunded(str(raw["id"])) if raw.get("refunds") else {}
        return parse_order(raw, refunded)

    def changed_orders(self, modified_after: str | None) -> list[WebOrder]:
        params: dict[str, Any] = {"status": "any", "orderby": "modified", "order": "asc",
                                  "dates_are_gmt": "true"}
        if modified_after:
            params["modified_after"] = modified_after
        return [self._complete(raw) for raw in self._pages("/orders", params)]

    def order(self, order_id: str) -> WebOrder:
        raw, _ = self._call("GET", f"/orders/{order_id}")
        if not isinstance(raw, dict) or "id" not in raw:
            raise WebshopError(f"GET /orders/{order_id}: not an order")
        return self._complete(raw)

    def favourites(self) -> list[tuple[str, str]]:
        pairs = []
        for customer in self._pages("/customers", {}):
            for meta in customer.get("meta_data", []):
                if meta.get("key") == "kassa_favourites":
                    for code in str(meta.get("value", "")).split(","):
                        sku = sku_for_code(code)
                        if sku and customer.get("email"):
                            pairs.append((str(customer["email"]).lower(), sku))
        return pairs


def _gmt(raw: dict[str, Any], name: str) -> str:
    return str(raw.get(f"{name}_gmt") or raw.get(name) or "")


def parse_order(raw: dict[str, Any], refunded: dict[str, int] | None = None) -> WebOrder:
    """An order as WooCommerce sends it (REST answer or webhook body). Without `refunded`
    (a webhook body carries only refund totals) an order with refunds is marked
    refunds_known=False, so it is fetched again before its lines are trusted."""
    lines = []
    for item in raw.get("line_items", []):
        code = str(item.get("sku") or "")
        line_id = str(item.get("id"))
        lines.append(OrderLine(line_id, sku_for_code(code), int(item.get("quantity") or 0),
                               str(item.get("name", "")), (refunded or {}).get(line_id, 0),
                               code))
    return WebOrder(str(raw["id"]), _gmt(raw, "date_created"), tuple(lines),
                    str((raw.get("billing") or {}).get("email", "")),
                    str(raw.get("status", "")), _gmt(raw, "date_modified"),
                    refunded is not None or not raw.get("refunds"))
