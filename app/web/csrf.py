"""CSRF: a random token in a cookie that every unsafe request must echo (form field or header).

Requests authenticated by a bearer token carry no ambient credentials and are exempt.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from app.errors import DomainError

CSRF_COOKIE = "ladder_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
# Endpoints that take no cookie credentials: the OAuth2 password flow.
EXEMPT_PATHS = {"/api/v1/auth/token"}
SESSION_COOKIE = "ladder_session"
# Forms that must be protected even before anyone is signed in (login CSRF).
ALWAYS_CHECKED = {"/login"}


class CsrfFailed(DomainError):
    status_code = 403

    def __init__(self) -> None:
        super().__init__("页面已过期或请求来源无法验证，请刷新页面后重试")


def csrf_token(request: Request) -> str:
    """The token for this browser, creating one (the cookie is set on the response) if needed."""
    token: str | None = getattr(request.state, "csrf_token", None)
    if token:
        return token
    token = request.cookies.get(CSRF_COOKIE)
    if not token or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.state.csrf_new = True
    request.state.csrf_token = token
    return token


async def csrf_protect(request: Request) -> None:
    """Global dependency: refuse unsafe cookie-authenticated requests without the matching token."""
    if request.method in SAFE_METHODS or request.url.path in EXEMPT_PATHS:
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    # Without the session cookie there are no ambient credentials to abuse; auth answers 401.
    if SESSION_COOKIE not in request.cookies and request.url.path not in ALWAYS_CHECKED:
        return
    expected = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfFailed()
