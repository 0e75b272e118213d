"""A local WooCommerce REST API v3 stand-in (stdlib http.server in a thread on 127.0.0.1):
the endpoints the connector uses, consumer key/secret auth, paging, and injectable faults."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KEY, SECRET = "ck_test", "cs_test"


class FakeWoo:
    def __init__(self) -> None:
        self.products: dict[int, dict[str, Any]] = {}
        self.orders: list[dict[str, Any]] = []
        self.customers: list[dict[str, Any]] = []
        self.fail_next = 0  # answer the next N requests with 503
        self.reject_ids: set[int] = set()  # batch updates of these ids fail
        self.requests: list[tuple[str, str]] = []
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
        oid = 5000 + len(self.orders)
        self.orders.append({"id": oid, "status": "processing", "date_created_gmt": created,
                            "billing": {"email": email},
                            "line_items": [{"id": oid * 10, "sku": sku, "quantity": quantity,
                                            "name": sku}]})
        return oid

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
                with woo.lock:
                    if method == "GET" and path == "/products":
                        return self._page(list(woo.products.values()), query)
                    if method == "GET" and path == "/customers":
                        return self._page(woo.customers, query)
                    if method == "GET" and path == "/orders":
                        orders = [o for o in woo.orders
                                  if o["status"] == query.get("status", o["status"])
                                  and o["date_created_gmt"] > query.get("after", "")]
                        orders.sort(key=lambda o: o["date_created_gmt"])
                        return self._page(orders, query)
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
