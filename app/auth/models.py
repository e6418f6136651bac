"""Accounts: officers, leaders, administrators and firm users; sessions, bearer tokens, login attempts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, UTCDateTime, utcnow


class Role(StrEnum):
    admin = "admin"
    officer = "officer"
    leader = "leader"
    firm = "firm"


ROLE_LABELS = {Role.admin: "管理员", Role.officer: "企业服务专员", Role.leader: "领导", Role.firm: "企业用户"}


class User(TimestampMixin, Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(16))
    # A firm user acts for exactly one firm (the portal comes later).
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firms.id", use_alter=True), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    parks: Mapped[list[UserPark]] = relationship(lazy="raise", cascade="all, delete-orphan")


class UserPark(Base):
    """The parks an officer serves: they see and edit only firms in these parks."""

    __tablename__ = "user_parks"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    park_code: Mapped[str] = mapped_column(ForeignKey("parks.code"), primary_key=True)


class TokenKind(StrEnum):
    session = "session"
    bearer = "bearer"


class AuthToken(Base):
    """A browser session or an API bearer token; only the SHA-256 of the secret is stored."""

    __tablename__ = "auth_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[TokenKind] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    success: Mapped[bool] = mapped_column(Boolean)
