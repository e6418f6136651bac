"""Resolve the caller from the session cookie or a bearer token; role guards."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.audit.actor import Actor, ActorKind, act_as
from app.audit.models import Channel
from app.auth import service
from app.auth.models import Role, User
from app.auth.principal import Principal
from app.auth.repository import Account
from app.db import SessionDep
from app.errors import NotAuthenticated, NotPermitted
from app.web.csrf import SESSION_COOKIE  # noqa: E402


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def channel_for(request: Request) -> Channel:
    return Channel.api if request.url.path.startswith("/api/") else Channel.web


def principal_for(user: User | Account, channel: Channel) -> Principal:
    """The principal of a loaded user, or of the account a token resolved to (repository.account_by_token)."""
    account = user if isinstance(user, Account) else Account.of(user)
    label = f"{account.display_name}（{account.username}）"
    return Principal(
        user_id=account.user_id,
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        park_codes=None if account.role in (Role.admin, Role.leader) else account.park_codes,
        firm_id=account.firm_id,
        actor=Actor(kind=ActorKind.user, label=label, user_id=account.user_id, channel=channel),
    )


def optional_principal(request: Request, session: SessionDep) -> Principal | None:
    """The caller if signed in (bearer token first, then the session cookie), else None."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = bearer_token(request) or request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    account = service.resolve_token(session, token)
    if account is None:
        return None
    principal = principal_for(account, channel_for(request))
    request.state.principal = principal
    act_as(session, principal.actor)
    return principal


async def current_principal(principal: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    if principal is None:
        raise NotAuthenticated()
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def staff_principal(principal: CurrentPrincipal) -> Principal:
    """Officers, leaders and admins: the back office."""
    if not principal.is_staff:
        raise NotPermitted()
    return principal


async def admin_principal(principal: CurrentPrincipal) -> Principal:
    if principal.role is not Role.admin:
        raise NotPermitted()
    return principal


StaffPrincipal = Annotated[Principal, Depends(staff_principal)]
AdminPrincipal = Annotated[Principal, Depends(admin_principal)]


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


__all__ = ["CurrentPrincipal", "OptionalPrincipal", "StaffPrincipal", "AdminPrincipal", "Session"]
