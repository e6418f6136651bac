"""Sign-in and sign-out pages, and the OAuth2 password flow for API clients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import service
from app.auth.dependencies import OptionalPrincipal, client_of
from app.auth.models import Role, TokenKind
from app.config import settings
from app.db import SessionDep
from app.web.csrf import SESSION_COOKIE
from app.web.templating import render

router = APIRouter()


def _safe_next(value: str | None) -> str:
    """Only same-site paths; anything else lands on the home page."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@router.get("/login", name="auth:login_page")
def login_page(request: Request, principal: OptionalPrincipal, next: str | None = None) -> Response:
    """The sign-in form."""
    if principal is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "auth/login.html", {"next": _safe_next(next), "errors": {}, "username": ""})


@router.post("/login", name="auth:login")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password (throttled) and start a session."""
    errors: dict[str, str] = {}
    if not username.strip():
        errors["username"] = "请输入用户名"
    if not password:
        errors["password"] = "请输入密码"
    status = 422
    if not errors:
        try:
            user = service.authenticate(
                session, username=username, password=password, client=client_of(request)
            )
        except service.LoginThrottled as exc:
            errors["__all__"] = str(exc)
            status = 429
        else:
            if user is None:
                errors["__all__"] = "用户名或密码不正确"
                status = 401
            elif user.role is Role.firm:
                errors["__all__"] = "企业用户请通过企业服务门户登录"
                status = 403
            else:
                issued = service.issue_token(session, user, TokenKind.session)
                response = RedirectResponse(_safe_next(next), status_code=303)
                response.set_cookie(
                    SESSION_COOKIE,
                    issued.token,
                    max_age=issued.max_age_seconds,
                    httponly=True,
                    samesite="lax",
                    secure=settings.secure_cookies,
                )
                return response
    return render(
        request,
        "auth/login.html",
        {"next": _safe_next(next), "errors": errors, "username": username},
        status_code=status,
    )


@router.post("/logout", name="auth:logout")
def logout(request: Request, session: SessionDep) -> Response:
    """End the session."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.revoke_token(session, token)
    response = RedirectResponse(request.app.url_path_for("auth:login_page"), status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/api/v1/auth/token", name="auth:token", tags=["auth"])
def token(
    request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> Response:
    """OAuth2 password flow: form fields `username`, `password` → a bearer token."""
    try:
        user = service.authenticate(
            session, username=form.username, password=form.password, client=client_of(request)
        )
    except service.LoginThrottled as exc:
        return JSONResponse({"detail": str(exc)}, status_code=429)
    if user is None:
        return JSONResponse(
            {"detail": "用户名或密码不正确"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    issued = service.issue_token(session, user, TokenKind.bearer)
    return JSONResponse(
        {"access_token": issued.token, "token_type": "bearer", "expires_in": issued.max_age_seconds}
    )
