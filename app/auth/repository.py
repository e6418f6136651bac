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
class Account:
    """What a request needs to know about a user: who, which role, which parks (officers) or firm."""

    user_id: int
    username: str
    display_name: str
    role: Role
    firm_id: int | None
    park_codes: frozenset[str]

    @classmethod
    def of(cls, user: User) -> Account:
        """A loaded user (an officer's `parks` loaded with it; admins' and leaders' are not read)."""
        role = Role(user.role)
        parks = () if role in (Role.admin, Role.leader) else (p.park_code for p in user.parks)
        return cls(user.id, user.username, user.display_name, role, user.firm_id, frozenset(parks))


# Every request runs it: built once, the token's digest and the time bound as parameters.
_ACCOUNT_BY_TOKEN = (
    select(
        User.id,
        User.username,
        User.display_name,
        User.role,
        User.firm_id,
        select(func.aggregate_strings(UserPark.park_code, ","))
        .where(UserPark.user_id == User.id)
        .scalar_subquery(),
    )
    .join(AuthToken, AuthToken.user_id == User.id)
    .where(
        AuthToken.token_hash == bindparam("digest"),
        AuthToken.expires_at > bindparam("now"),
        User.is_active.is_(True),
    )
)


def account_by_token(session: Session, digest: str, now: datetime) -> Account | None:
    """The active user holding this unexpired token, with their parks, in one statement."""
    # Core rows through the session's connection: the ORM's statement handling was most of its cost.
    row = session.connection().execute(_ACCOUNT_BY_TOKEN, {"digest": digest, "now": now}).first()
    if row is None:
        return None
    user_id, username, display_name, role, firm_id, codes = row
    parks = frozenset(codes.split(",")) if codes else frozenset()
    return Account(user_id, username, display_name, Role(role), firm_id, parks)


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
