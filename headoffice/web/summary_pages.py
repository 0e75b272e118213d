"""The owner's daily summary mail on the dashboard: each owner sets the address, language and
on/off of their own mail; the mail's unsubscribe link turns it off without a login (the link
is signed by head office, headoffice.web.daily_summary.token)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from headoffice.web import audit_trail, daily_summary
from headoffice.web.common import access, client_address, lang, page, public, requires
from headoffice.web.i18n import LANGUAGES, language
from headoffice.web.roles import Role
from headoffice.web.summary_models import SummaryMail
from headoffice.web.templating import templates

UNSUBSCRIBE_TEXT = {
    "nl": {"title": "Dagoverzicht", "ask": "Het dagoverzicht per mail niet meer ontvangen?",
           "button": "Afmelden", "done": "U ontvangt het dagoverzicht niet meer. U kunt het na "
           "inloggen weer aanzetten.", "unknown": "Deze afmeldlink is niet geldig."},
    "en": {"title": "Daily summary", "ask": "Stop receiving the daily summary mail?",
           "button": "Unsubscribe", "done": "You no longer receive the daily summary. You can "
           "turn it on again after logging in.", "unknown": "This unsubscribe link is not valid."},
}


# company-wide figures by mail: the owner's own setting
@requires(Role.OWNER, audited="summary_setting", audit_form=("language", "enabled"))
async def settings_page(request: Request) -> Response:
    user = access(request).user
    error = ""
    if request.method == "POST":
        form = await request.form()
        try:
            daily_summary.set_recipient(user, str(form.get("address", "")),
                                        str(form.get("language", "nl")),
                                        enabled=bool(form.get("enabled")))
        except daily_summary.SummaryError as exc:
            error = exc.reason
        else:
            return RedirectResponse("/dagoverzicht?done=1", status_code=303)
    mine = daily_summary.recipient(user)
    sent = list(SummaryMail.select().where(SummaryMail.user == user)
                .order_by(SummaryMail.day.desc()).limit(14))
    return page(request, "summary_settings.html", nav="report", setting=mine, sent=sent,
                error=error, done=request.query_params.get("done", ""),
                status_code=400 if error else 200)


def _unsubscribe_page(request: Request, reader: str, state: str, status: int = 200) -> Response:
    return templates.TemplateResponse(
        request, "unsubscribe.html",
        {"request": request, "user": None, "nav": "", "lang": reader, "state": state,
         "t": UNSUBSCRIBE_TEXT[reader], "token": request.path_params["token"],
         "action": daily_summary.UNSUBSCRIBE_PATH + request.path_params["token"]},
        status_code=status)


@public("the link is signed by head office (HMAC) and only turns a mail off")
async def unsubscribe(request: Request) -> Response:
    """GET asks (a mail scanner opening the link changes nothing); POST (the button, or a mail
    client's one-click, RFC 8058) turns the summary off. Idempotent."""
    value = request.path_params["token"]
    user = daily_summary.user_of(value)
    asked = request.query_params.get("lang", "")
    setting = daily_summary.recipient(user) if user else None
    reader = asked if asked in LANGUAGES else (setting.language if setting else lang(request))
    reader = language({"kassa_lang": reader})
    if user is None:
        return _unsubscribe_page(request, reader, "unknown", 404)
    if request.method == "POST":
        daily_summary.unsubscribe(value)
        audit_trail.record("summary_unsubscribe", user, client_address(request),
                           "the mail's signed unsubscribe link")
        return _unsubscribe_page(request, reader, "done")
    return _unsubscribe_page(request, reader, "ask" if setting and setting.enabled else "done")


ROUTES = [
    Route("/dagoverzicht", settings_page, methods=["GET", "POST"]),
    Route(daily_summary.UNSUBSCRIBE_PATH + "{token}", unsubscribe, methods=["GET", "POST"]),
]
