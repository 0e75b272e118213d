"""The session middleware (server-side sessions: the cookie holds a random token only) and
the security headers every answer carries (HSTS over HTTPS, Content-Security-Policy)."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from starlette.concurrency import run_in_threadpool

from headoffice.web import sessions
from headoffice.web.roles import Access
from headoffice.web.users import access_of

COOKIE = "kassa_office"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")
HSTS = "max-age=31536000; includeSubDomains"


def _cookie(scope: Any) -> str:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            jar.load(value.decode("latin-1"))
            if COOKIE in jar:
                return jar[COOKIE].value
    return ""


def resolve(token: str, idle: float) -> Access | None:
    """The session's user and reach; a session of a removed user is ended."""
    user = sessions.user_of(token, idle)
    if user is None:
        return None
    reach = access_of(user)
    if reach is None:
        sessions.end_all(user)
    return reach


class ServerSessions:
    """Puts the signed-in user's `Access` on request.state.access (None without a valid
    session) and `{"user": name}` in request.session for older views."""

    def __init__(self, app: Any, idle_seconds: float = sessions.IDLE_SECONDS) -> None:
        self.app, self.idle = app, idle_seconds

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _cookie(scope)
        reach = await run_in_threadpool(resolve, token, self.idle) if token else None
        scope.setdefault("state", {})["access"] = reach
        scope["session_token"] = token if reach else ""
        scope["session"] = {"user": reach.user} if reach else {}
        await self.app(scope, receive, send)


class SecurityHeaders:
    """CSP, no framing, no sniffing on every answer; HSTS when served over TLS."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        extra = self.headers(scope) if scope["type"] == "http" else []

        async def with_headers(message: Any) -> None:
            if extra and message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)

    @staticmethod
    def headers(scope: Any) -> list[tuple[bytes, bytes]]:
        extra = [(b"content-security-policy", CSP.encode()),
                 (b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                 (b"referrer-policy", b"same-origin")]
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", HSTS.encode()))
        return extra
