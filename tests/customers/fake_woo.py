"""A local WooCommerce REST API v3 stand-in (stdlib http.server in a thread on 127.0.0.1):
the endpoints the connector uses, consumer key/secret auth, paging, and injectable faults.

Orders live as WooCommerce's do: a checkout lowers the shop's own stock; statuses
(pending, processing, on-hold, completed, cancelled, refunded, failed) and refunds of lines
change what the order holds out of stock, and the shop's stock follows (cancelled and
refunded give it back, a line refund with restock gives its pieces back). Every change has
a modification time (a clock that moves a second per change) and queues a webhook delivery
(order.created / order.updated, the order as JSON, `X-WC-Webhook-Signature` = base64
HMAC-SHA256 of the raw body with the webhook's secret) that the test delivers, repeats,
tampers with or drops. Order lines show the product's SKU as it is now, like WooCommerce."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KEY, SECRET = "ck_test", "cs_test"
TAKEN = ("processing", "on-hold", "completed")


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class FakeWoo:
    def __init__(self) -> None:
        self.products: dict[int, dict[str, Any]] = {}
        self.orders: list[dict[str, Any]] = []
        self.customers: list[dict[str, Any]] = []
        self.fail_next = 0  # answer the next N requests with 503
        self.reject_ids: set[int] = set()  # batch updates of these ids fail
        self.requests: list[tuple[str, str]] = []
        self.fail_orders = 0  # answer the next N GET /orders... with 500
        self.clock = dt.datetime(2030, 1, 1, 8, 0, 0)
        self.refunds: dict[int, list[dict[str, Any]]] = {}  # order id -> refunds
        self.hooks: list[tuple[str, str]] = []  # (delivery url, secret)
        self.outbox: list[tuple[str, bytes]] = []  # (topic, body) not yet delivered
        self.during_push: Any = None  # called once, before the next batch update is applied
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeWoo:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def add_product(self, sku: str, stock: int = 0, price: str = "1.00") -> int:
        pid = 100 + len(self.products)
        self.products[pid] = {"id": pid, "sku": sku, "manage_stock": True,
                              "stock_quantity": stock, "regular_price": price}
        return pid

    def add_order(self, sku: str, quantity: int, created: str, email: str = "") -> int:
        """An order put in as it is (its stock not lowered), as older tests expect."""
        oid = 5000 + len(self.orders)
        self.orders.append({"id": oid, "status": "processing", "date_created_gmt": created,
                            "date_modified_gmt": created, "billing": {"email": email},
                            "line_items": [{"id": oid * 10, "sku": sku, "quantity": quantity,
                                            "name": sku}]})
        return oid

    # -- orders with a life: checkout, statuses, refunds; stock follows ------------------------
    def tick(self) -> str:
        self.clock += dt.timedelta(seconds=1)
        return self.clock.isoformat(timespec="seconds")

    def order(self, oid: int) -> dict[str, Any]:
        return next(o for o in self.orders if o["id"] == oid)

    def _held(self, order: dict[str, Any]) -> dict[int, int]:
        """Pieces per product id the order holds out of the shop's stock now."""
        held: dict[int, int] = {}
        if order["status"] not in TAKEN:
            return held
        refunded = self._refunded(order["id"])
        for item in order["line_items"]:
            pid = item.get("product_id")
            if pid is not None:
                held[pid] = held.get(pid, 0) + item["quantity"] - refunded.get(item["id"], 0)
        return held

    def _refunded(self, oid: int) -> dict[int, int]:
        out: dict[int, int] = {}
        for refund in self.refunds.get(oid, []):
            for item in refund["line_items"]:
                line = int(item["meta_data"][0]["value"])
                out[line] = out.get(line, 0) - item["quantity"]
        return out

    def _change(self, order: dict[str, Any], mutate: Any, topic: str) -> None:
        before = self._held(order)
        mutate()
        after = self._held(order)
        for pid in set(before) | set(after):
            product = self.products[pid]
            if product.get("manage_stock"):
                product["stock_quantity"] += before.get(pid, 0) - after.get(pid, 0)
        order["date_modified_gmt"] = self.tick()
        self._queue(topic, order)

    def checkout(self, items: list[tuple[str, int]], status: str = "processing",
                 email: str = "") -> int:
        """A customer buys: the order is created and the shop lowers its stock at once."""
        with self.lock:
            oid = 5000 + len(self.orders)
            created = self.tick()
            lines = []
            for n, (sku, quantity) in enumerate(items):
                product = self.by_sku(sku)
                lines.append({"id": oid * 10 + n, "product_id": product["id"],
                              "quantity": quantity, "name": f"product {sku}"})
            order = {"id": oid, "status": "pending", "date_created_gmt": created,
                     "date_modified_gmt": created, "billing": {"email": email},
                     "line_items": lines}
            self.orders.append(order)
            self._change(order, lambda: order.update(status=status), "order.created")
            return oid

    def set_status(self, oid: int, status: str) -> None:
        with self.lock:
            order = self.order(oid)
            self._change(order, lambda: order.update(status=status), "order.updated")

    def refund(self, oid: int, lines: dict[int, int]) -> None:
        """Refunds (and restocks) pieces of lines; all of the order refunded makes it
        `refunded`, as WooCommerce does."""
        with self.lock:
            order = self.order(oid)

            def mutate() -> None:
                rid = 9000 + sum(len(r) for r in self.refunds.values())
                self.refunds.setdefault(oid, []).append({"id": rid, "line_items": [
                    {"id": rid * 10 + n, "quantity": -q,
                     "meta_data": [{"key": "_refunded_item_id", "value": str(line)}]}
                    for n, (line, q) in enumerate(lines.items())]})
                refunded = self._refunded(oid)
                if all(refunded.get(i["id"], 0) >= i["quantity"] for i in order["line_items"]):
                    order["status"] = "refunded"

            self._change(order, mutate, "order.updated")

    def stock(self) -> dict[str, int]:
        return {p["sku"]: p["stock_quantity"] for p in self.products.values()}

    def as_json(self, order: dict[str, Any]) -> dict[str, Any]:
        out = json.loads(json.dumps(order))
        for item in out["line_items"]:
            if item.get("product_id") is not None:
                item["sku"] = self.products[item["product_id"]]["sku"]
        out["refunds"] = [{"id": r["id"], "total": "-1.00"} for r in self.refunds.get(order["id"], [])]
        return out

    # -- webhooks ---------------------------------------------------------------------------------
    def add_webhook(self, url: str, secret: str) -> None:
        self.hooks.append((url, secret))

    def _queue(self, topic: str, order: dict[str, Any]) -> None:
        if self.hooks:
            self.outbox.append((topic, json.dumps(self.as_json(order)).encode()))

    def deliver(self, topic: str, body: bytes, secret: str | None = None,
                timeout: float = 10.0) -> int:
        """POSTs one delivery as WooCommerce does; returns the HTTP status (0: no answer)."""
        url, own = self.hooks[0]
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": "order", "X-WC-Webhook-Event": topic.split(".")[1],
            "X-WC-Webhook-Signature": sign(secret or own, body),
            "X-WC-Webhook-Source": self.url + "/"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except (urllib.error.URLError, OSError):
            return 0

    def deliver_all(self) -> list[int]:
        out, self.outbox = self.outbox, []
        return [self.deliver(topic, body) for topic, body in out]

    def by_sku(self, sku: str) -> dict[str, Any]:
        return next(p for p in self.products.values() if p["sku"] == sku)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        woo = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self._send(401, {"code": "woocommerce_rest_cannot_view",
                                     "message": "Sorry, you cannot list resources."})
                    return False
                return True

            def _route(self, method: str) -> None:
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                with woo.lock:
                    woo.requests.append((method, self.path))
                    if woo.fail_next > 0:
                        woo.fail_next -= 1
                        self._send(503, {"code": "unavailable", "message": "try later"})
                        return
                if not self._authorised():
                    return
                path = url.path.removeprefix("/wp-json/wc/v3")
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                if method == "POST" and path == "/products/batch" and woo.during_push:
                    hook, woo.during_push = woo.during_push, None
                    hook()  # e.g. a customer checks out while head office pushes stock
                with woo.lock:
                    if method == "GET" and path == "/products":
                        return self._page(list(woo.products.values()), query)
                    if method == "GET" and path == "/customers":
                        return self._page(woo.customers, query)
                    if method == "GET" and path.startswith("/orders") and woo.fail_orders > 0:
                        woo.fail_orders -= 1
                        return self._send(500, {"code": "internal_server_error",
                                                "message": "database error"})
                    if method == "GET" and path == "/orders":
                        wanted = query.get("status", "any")
                        orders = [o for o in woo.orders
                                  if wanted in ("any", o["status"])
                                  and o["date_created_gmt"] > query.get("after", "")
                                  and o["date_modified_gmt"] > query.get("modified_after", "")]
                        key = ("date_modified_gmt" if query.get("orderby") == "modified"
                               else "date_created_gmt")
                        orders.sort(key=lambda o: (o[key], o["id"]),
                                    reverse=query.get("order") == "desc")
                        return self._page([woo.as_json(o) for o in orders], query)
                    parts = path.strip("/").split("/")
                    if method == "GET" and parts[0] == "orders" and len(parts) in (2, 3):
                        order = next((o for o in woo.orders if str(o["id"]) == parts[1]), None)
                        if order is None:
                            return self._send(404, {"code": "woocommerce_rest_shop_order_"
                                                    "invalid_id", "message": "Invalid ID."})
                        if len(parts) == 2:
                            return self._send(200, woo.as_json(order))
                        if parts[2] == "refunds":
                            return self._page(woo.refunds.get(order["id"], []), query)
                    if method in ("POST", "PUT") and path == "/products/batch" \
                            and "create" in body:
                        created = []
                        for item in body["create"]:
                            if any(p["sku"] == item.get("sku") for p in woo.products.values()):
                                created.append({"error": {"code": "product_invalid_sku",
                                                          "message": "Duplicate SKU."}})
                                continue
                            pid = 100 + len(woo.products)
                            woo.products[pid] = {"id": pid, **item}
                            created.append(dict(woo.products[pid]))
                        return self._send(200, {"create": created})
                    if method in ("POST", "PUT") and path == "/products/batch":
                        answers = []
                        for item in body.get("update", []):
                            pid = int(item["id"])
                            if pid in woo.reject_ids or pid not in woo.products:
                                answers.append({"id": pid, "error": {
                                    "code": "woocommerce_rest_invalid_id",
                                    "message": "Invalid ID.", "data": {"status": 400}}})
                                continue
                            woo.products[pid].update({k: v for k, v in item.items() if k != "id"})
                            answers.append(dict(woo.products[pid]))
                        return self._send(200, {"update": answers})
                    if method == "PUT" and path.startswith("/products/"):
                        pid = int(path.rsplit("/", 1)[1])
                        woo.products[pid].update(body)
                        return self._send(200, woo.products[pid])
                self._send(404, {"code": "rest_no_route", "message": "No route was found."})

            def _page(self, items: list[dict[str, Any]], query: dict[str, str]) -> None:
                per_page, page = int(query.get("per_page", 10)), int(query.get("page", 1))
                pages = max(1, -(-len(items) // per_page))
                chunk = items[(page - 1) * per_page: page * per_page]
                self._send(200, chunk, {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(pages)})

            def do_GET(self) -> None:  # noqa: N802
                self._route("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._route("POST")

            def do_PUT(self) -> None:  # noqa: N802
                self._route("PUT")

        return Handler
