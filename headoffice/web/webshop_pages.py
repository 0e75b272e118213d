"""The webshop on the dashboard: the WooCommerce webhook endpoint and the webshop's status.

POST /webhooks/woocommerce needs no login: WooCommerce cannot log in, it signs each delivery
with the webhook's secret instead ($KASSA_WC_WEBHOOK_SECRET; without it every delivery is
refused with 503). It lives in `kassa office web` because that is head office's one public
HTTP service already (the unsubscribe links), behind the same TLS proxy and unit.
"""

from __future__ import annotations

import os

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from headoffice.web.common import public
from headoffice.webshop.webhook import receive

SECRET_ENV, NAME_ENV = "KASSA_WC_WEBHOOK_SECRET", "KASSA_WEBSHOP_NAME"
MAX_BODY = 2_000_000


@public("no login: the WooCommerce HMAC signature is checked by receive()")
async def woocommerce_webhook(request: Request) -> Response:
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        return JSONResponse({"error": f"webhooks are off: {SECRET_ENV} is not set"},
                            status_code=503)
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"error": "body too large"}, status_code=413)
    delivery = await run_in_threadpool(
        receive, os.environ.get(NAME_ENV, "woocommerce"), secret, body,
        request.headers.get("x-wc-webhook-signature"), request.headers.get("x-wc-webhook-topic", ""))
    return JSONResponse({"outcome": delivery.outcome}, status_code=delivery.status)


ROUTES = [Route("/webhooks/woocommerce", woocommerce_webhook, methods=["POST"])]
