"""Customers on the dashboard: find one, edit the profile and consent (with its log), merge a
duplicate into it, and hand over the customer's data (GDPR access) as JSON or PDF.

Every change goes through headoffice.customers.service, so the dashboard and `kassa
customers ...` check the same rules; the actor is the logged-in user. An access export is
recorded with who asked (headoffice/access_export.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from headoffice.access_export import as_json, as_pdf, customer_data
from headoffice.customers import service
from headoffice.customers.service import LANGUAGES, CustomerError
from headoffice.web.common import bad_page, page, requires
from headoffice.web.roles import Role

CUSTOMERS = requires(Role.OWNER)  # personal data: the owner only
# Profile edits, consent and merges are audited with who and from where; the row keeps the
# customer's id (in the path) and the action, never the profile's fields (the trail is
# append-only; an erasure must not leave a name or e-mail behind in it).
CHANGES = requires(Role.OWNER, audited="customer", audit_form=("action", "consent", "other"))


def _actor(request: Request) -> str:
    return f"web:{request.session.get('user')}"


@CUSTOMERS
def customers_list(request: Request) -> Response:
    text = request.query_params.get("q", "").strip()
    return page(request, "customers.html", nav="shop", q=text, customers=service.find(text),
                duplicates=service.duplicates())


def _profile(request: Request, customer: service.CustomerView, error: str = "",
             done: str = "", status_code: int = 200) -> Response:
    return page(request, "customer.html", nav="shop", status_code=status_code, c=customer,
                log=service.consent_log(customer.customer_id), languages=LANGUAGES,
                error=error, done=done)


@CHANGES
async def customer_page(request: Request) -> Response:
    """GET shows the profile; POST action=save|consent|merge changes it."""
    try:
        customer = service.get(request.path_params["cid"])
    except CustomerError as exc:
        return page(request, "error.html", status_code=404, message="Onbekende klant",
                    detail=str(exc))
    if request.method != "POST":
        return _profile(request, customer, done=request.query_params.get("done", ""))
    form = {k: str(v) for k, v in (await request.form()).items()}
    action = form.get("action", "save")
    try:
        if action == "save":
            service.update_profile(customer.customer_id, name=form.get("name", ""),
                                   email=form.get("email", ""),
                                   language=form.get("language", ""),
                                   home_store=form.get("home_store", ""), by=_actor(request))
            done = "opgeslagen"
        elif action == "consent":
            service.set_consent(customer.customer_id, form.get("consent") == "yes", "office",
                                recorded_by=_actor(request))
            done = "toestemming vastgelegd"
        elif action == "merge":
            service.merge(customer.customer_id, form.get("other", ""), _actor(request))
            done = "samengevoegd"
        else:
            return bad_page(request, "Onbekende actie", action)
    except CustomerError as exc:
        return _profile(request, service.get(customer.customer_id), error=str(exc),
                        status_code=400)
    return RedirectResponse(f"/klanten/{customer.customer_id}?done={done}", status_code=303)


@requires(Role.OWNER, audited="customer_export")
def customer_export(request: Request) -> Response:
    """The customer's data as a download: ?format=json or pdf; the request is recorded."""
    kind = request.query_params.get("format", "pdf")
    if kind not in ("json", "pdf"):
        return bad_page(request, "Onbekend formaat", kind)
    try:
        data = customer_data(request.path_params["cid"], _actor(request), "dashboard")
    except CustomerError as exc:
        return page(request, "error.html", status_code=404, message="Onbekende klant",
                    detail=str(exc))
    cid = data["profile"]["customer_id"]
    body, media = (as_json(data), "application/json") if kind == "json" else (
        as_pdf(data), "application/pdf")
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="gegevens-{cid}.{kind}"'})


ROUTES = [
    Route("/klanten", customers_list),
    Route("/klanten/{cid}", customer_page, methods=["GET", "POST"]),
    Route("/klanten/{cid}/gegevens", customer_export),
]
