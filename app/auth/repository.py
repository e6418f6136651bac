"""Every query on accounts, tokens and login attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, selectinload

from app.auth.models import AuthToken, LoginAttempt, Role, User, UserPark


def user_by_username(session: Session, username: str) -> User | None:
    return session.scalars(
        select(User).where(User.username == username).options(selectinload(User.parks))
    ).first()


@dataclass(frozen=True)
class TokenHolder:
    """Who a live token belongs to: what a request needs to know about its caller."""

    user_id: int
    username: str
    display_name: str
    role: Role
    firm_id: int | None
    park_codes: frozenset[str]


def holder_by_token(session: Session, digest: str, now: datetime) -> TokenHolder | None:
    """The active user holding this unexpired token, with their parks, in one statement (every request)."""
    parks = (
        select(func.aggregate_strings(UserPark.park_code, ","))
        .where(UserPark.user_id == User.id)
        .scalar_subquery()
    )
    row = session.execute(
        select(User.id, User.username, User.display_name, User.role, User.firm_id, parks)
        .join(AuthToken, AuthToken.user_id == User.id)
        .where(AuthToken.token_hash == digest, AuthToken.expires_at > now, User.is_active.is_(True))
    ).first()
    if row is None:
        return None
    user_id, username, display_name, role, firm_id, codes = row
    return TokenHolder(
        user_id=user_id,
        username=username,
        display_name=display_name,
        role=Role(role),
        firm_id=firm_id,
        park_codes=frozenset(codes.split(",")) if codes else frozenset(),
    )


def failures_since(
    session: Session, *, username: str | None = None, client: str | None = None, since: datetime
) -> int:
    stmt = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.at >= since, LoginAttempt.success.is_(False))
    )
    if username is not None:
        stmt = stmt.where(LoginAttempt.username == username)
    if client is not None:
        stmt = stmt.where(LoginAttempt.client == client)
    return int(session.scalar(stmt) or 0)


def officers(session: Session, park_codes: frozenset[str] | None = None) -> list[User]:
    """Officers (and admins) who can be assigned to firms, optionally only those serving given parks."""
    stmt = (
        select(User)
        .where(User.role.in_([Role.officer, Role.admin]), User.is_active.is_(True))
        .options(selectinload(User.parks))
        .order_by(User.display_name)
    )
    if park_codes is not None:
        stmt = stmt.where(User.id.in_(select(UserPark.user_id).where(UserPark.park_code.in_(park_codes))))
    return list(session.scalars(stmt))


_USER_NAMES = select(User.id, User.display_name).where(User.id.in_(bindparam("ids", expanding=True)))


def user_names(session: Session, ids: set[int]) -> dict[int, str]:
    """Display names of these users by id, as plain rows (no accounts loaded): the firm file, its history."""
    if not ids:
        return {}
    return {uid: name for uid, name in session.connection().execute(_USER_NAMES, {"ids": sorted(ids)})}


def users_by_ids(session: Session, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
