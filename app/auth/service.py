"""Sign-in with throttling, sessions and bearer tokens, and account creation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.auth import repository
from app.auth.models import AuthToken, LoginAttempt, Role, TokenKind, User, UserPark
from app.auth.security import burn_time, hash_password, new_token, token_digest, verify_password
from app.config import settings
from app.db import utcnow


class LoginThrottled(Exception):
    def __init__(self, minutes: int) -> None:
        super().__init__(f"登录失败次数过多，请 {minutes} 分钟后再试")
        self.minutes = minutes


@dataclass(frozen=True)
class IssuedToken:
    token: str
    max_age_seconds: int


def _throttled(session: Session, username: str, client: str) -> bool:
    since = utcnow() - timedelta(minutes=settings.login_window_minutes)
    by_user = repository.failures_since(session, username=username, since=since)
    # One client may mistype across several accounts, but not spray many of them.
    by_client = repository.failures_since(session, client=client, since=since)
    return by_user >= settings.login_max_failures or by_client >= settings.login_max_failures * 4


def authenticate(session: Session, *, username: str, password: str, client: str) -> User | None:
    """The active user with this password, or None; raises LoginThrottled after too many failures.

    Every attempt is recorded, so the caller must let this transaction commit even when it fails.
    """
    username = username.strip()
    if _throttled(session, username, client):
        raise LoginThrottled(settings.login_window_minutes)
    user = repository.user_by_username(session, username)
    ok = False
    if user is None or not user.is_active:
        burn_time(password)
    else:
        ok = verify_password(user.password_hash, password)
    session.add(LoginAttempt(username=username[:64], client=client[:64], success=ok))
    session.flush()
    return user if ok else None


def issue_token(session: Session, user: User, kind: TokenKind) -> IssuedToken:
    hours = settings.session_hours if kind is TokenKind.session else settings.token_hours
    token = new_token()
    session.add(
        AuthToken(
            user_id=user.id,
            token_hash=token_digest(token),
            kind=kind,
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )
    session.flush()
    return IssuedToken(token=token, max_age_seconds=hours * 3600)


def resolve_token(session: Session, token: str) -> repository.Account | None:
    return repository.account_by_token(session, token_digest(token), utcnow())


def revoke_token(session: Session, token: str) -> None:
    session.execute(delete(AuthToken).where(AuthToken.token_hash == token_digest(token)))


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    park_codes: list[str] | None = None,
    firm_id: int | None = None,
) -> User:
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        firm_id=firm_id,
    )
    user.parks = [UserPark(park_code=code) for code in park_codes or []]
    session.add(user)
    session.flush()
    return user
