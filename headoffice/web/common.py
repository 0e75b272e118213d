"""What every dashboard view shares: the login check, the reader's language, page rendering."""

from __future__ import annotations

from functools import wraps
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from headoffice.web.i18n import language, translator
from headoffice.web.templating import templates


def login_required(view):
    """Sends a visitor without a session to the login page (an API call gets 401); works for
    plain and async views."""
    import inspect

    def refused(request: Request) -> Response | None:
        if request.session.get("user"):
            return None
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": translator(lang(request))("niet ingelogd")},
                                status_code=401)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    if inspect.iscoroutinefunction(view):
        @wraps(view)
        async def async_wrapper(request: Request) -> Response:
            return refused(request) or await view(request)
        return async_wrapper

    @wraps(view)
    def wrapper(request: Request) -> Response:
        return refused(request) or view(request)
    return wrapper


def lang(request: Request) -> str:
    return language(dict(request.cookies))


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    """Renders template `name`; `nav` (the highlighted menu entry) is its first word unless
    the view gives one."""
    reader = lang(request)
    context.setdefault("nav", name.split(".")[0])
    context.update(request=request, user=request.session.get("user"), lang=reader,
                   _=translator(reader))
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def bad_page(request: Request, message: str, detail: str = "") -> Response:
    """A 400 page in the reader's language: `message` is the Dutch message id."""
    return page(request, "error.html", status_code=400, message=message, detail=detail)
