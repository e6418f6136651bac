"""Who is acting: every change to a firm's file is made by an actor through a channel."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from app.audit.models import Channel


class ActorKind(StrEnum):
    user = "user"
    import_ = "import"
    job = "job"
    system = "system"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    label: str
    user_id: int | None = None
    channel: Channel = Channel.web
    channel_ref: str | None = None


SYSTEM = Actor(kind=ActorKind.system, label="系统", channel=Channel.system)


def act_as(session: Session, actor: Actor, reason: str | None = None) -> None:
    """Attach the actor (and an optional reason) to the unit of work; the audit listener reads them."""
    session.info["actor"] = actor
    session.info["reason"] = reason or None


def set_reason(session: Session, reason: str | None) -> None:
    session.info["reason"] = (reason or "").strip() or None


def current_actor(session: Session) -> Actor | None:
    return session.info.get("actor")
