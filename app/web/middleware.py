"""Security headers and the CSRF cookie on every response.

A plain ASGI middleware (it only edits the response's start message): Starlette's `BaseHTTPMiddleware` runs
every request through an extra task and memory streams, measurable on each request of a busy 2-core machine.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import settings
from app.web.csrf import CSRF_COOKIE

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
CSRF_MAX_AGE = 60 * 60 * 24


def csrf_cookie_header(token: str) -> str:
    cookie: SimpleCookie = SimpleCookie()
    cookie[CSRF_COOKIE] = token
    morsel = cookie[CSRF_COOKIE]
    morsel["path"] = "/"
    morsel["max-age"] = CSRF_MAX_AGE
    morsel["httponly"] = True
    morsel["samesite"] = "strict"
    if settings.secure_cookies:
        morsel["secure"] = True
    return cookie.output(header="").strip()


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The handler's `request.state` is this dict: the CSRF token it made is read back from here.
        state = scope.setdefault("state", {})
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                token = state.get("csrf_token")
                if token and state.get("csrf_new"):
                    headers.append("set-cookie", csrf_cookie_header(token))
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                if not path.startswith(("/docs", "/redoc")):
                    headers.setdefault("Content-Security-Policy", CSP)
                if path.startswith(("/api/", "/firms", "/tasks")) or "set-cookie" in headers:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: ASGIApp) -> None:
    app.add_middleware(SecurityHeaders)  # type: ignore[attr-defined]
