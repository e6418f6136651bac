"""Demo data: the demo accounts and about 600 firm files across the three parks, dated relative to `today`.

The firm files come from `seeds.fake` (shared with the benchmark) and are written through the ORM, so the
audit trail records them as made by the system actor 演示数据.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from random import Random
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import app.models  # noqa: F401  (every mapper, for the foreign keys between domains)
from app.audit.actor import Actor, ActorKind, act_as
from app.audit.models import Channel
from app.auth.models import Role, User, UserPark
from app.auth.security import DEMO_PASSWORD, DEMO_USERNAMES
from app.auth.service import create_user
from app.casework.models import Task, TaskOrigin, TaskStatus
from app.config import settings
from app.firms.models import Contact, Firm, FirmName, FirmStatus, FirmStatusPeriod, FirmTag, Membership
from app.indicators.models import Award, FactObservation, FirmYear, Incident
from app.recognitions.models import Recognition, RecognitionKind
from app.tiers.codes import TIER_LABELS, Tier
from seeds.fake import FirmFaker, FirmRows

DEMO_ACTOR = Actor(kind=ActorKind.system, label="演示数据", channel=Channel.system)

# username, display name, role, parks served.
DEMO_ACCOUNTS: tuple[tuple[str, str, Role, tuple[str, ...]], ...] = (
    ("admin", "刘洋（系统管理员）", Role.admin, ()),
    ("officer_jingan", "王静（静安园专员）", Role.officer, ("jingan",)),
    ("officer_yangpu", "杨帆（杨浦园专员）", Role.officer, ("yangpu",)),
    ("officer_hongkou", "陈虹（虹口园专员）", Role.officer, ("hongkou",)),
    ("leader", "赵明（分管领导）", Role.leader, ()),
)

BATCH = 100

CHILD_MODELS: dict[str, type[Any]] = {
    "firm_names": FirmName,
    "firm_status_periods": FirmStatusPeriod,
    "memberships": Membership,
    "firm_tags": FirmTag,
    "contacts": Contact,
    "firm_years": FirmYear,
    "fact_observations": FactObservation,
    "incidents": Incident,
    "awards": Award,
    "recognitions": Recognition,
}

# Certificates whose expiry an officer chases (科技型 入库 and market lists renew on their own each year).
REMINDER_TIERS = {Tier.innovative_sme, Tier.hnte, Tier.srdi_sme, Tier.little_giant, Tier.hidden_champion}
REMINDER_HORIZON = timedelta(days=183)


class DemoModeOff(RuntimeError):
    def __init__(self) -> None:
        super().__init__("演示账号只能在演示模式下创建：请设置 LADDER_DEMO_MODE=1")


@dataclass(frozen=True)
class DemoAccounts:
    users: dict[str, User]
    created: list[str]


def ensure_demo_accounts(session: Session) -> DemoAccounts:
    """Create the missing demo accounts (password `ladder-demo`); existing ones are left as they are."""
    if not settings.demo_mode:
        raise DemoModeOff()
    existing = {u.username: u for u in session.scalars(select(User).where(User.username.in_(DEMO_USERNAMES)))}
    created = []
    for username, display_name, role, parks in DEMO_ACCOUNTS:
        if username in existing:
            continue
        existing[username] = create_user(
            session,
            username=username,
            display_name=display_name,
            password=DEMO_PASSWORD,
            role=role,
            park_codes=list(parks),
        )
        created.append(username)
    return DemoAccounts(users=existing, created=created)


def park_officers(session: Session) -> dict[str, int]:
    """The officer who serves each park (the first by username when several do)."""
    rows = session.execute(
        select(UserPark.park_code, User.id)
        .join(User, User.id == UserPark.user_id)
        .where(User.role == Role.officer, User.is_active.is_(True))
        .order_by(User.username)
    ).all()
    officers: dict[str, int] = {}
    for park_code, user_id in rows:
        officers.setdefault(park_code, user_id)
    return officers


def generate(session: Session, *, today: date, n_firms: int = 600, seed: int | None = None) -> list[int]:
    """Write `n_firms` demo firm files (deterministic for `today`, or for `seed`); returns the new firm ids.

    Firms are assigned to the officer of their park when one exists (run `ensure_demo_accounts` first), and
    those officers get expiry-reminder tasks for certificates expiring within six months. Flushes only.
    """
    faker = FirmFaker(today=today, seed=seed, officers=park_officers(session))
    task_rng = Random(f"{faker.seed}:tasks")
    previous = session.info.get("actor"), session.info.get("reason")
    act_as(session, DEMO_ACTOR)
    ids: list[int] = []
    try:
        for start in range(0, n_firms, BATCH):
            batch = [faker.firm() for _ in range(min(BATCH, n_firms - start))]
            ids.extend(_write_batch(session, batch, today, task_rng))
        _movers(session, ids, today, Random(f"{faker.seed}:movers"))
    finally:
        session.info["actor"], session.info["reason"] = previous
    return ids


def _movers(session: Session, ids: list[int], today: date, rng: Random, per_park: int = 2) -> None:
    """带证迁入 this year: in each park, a couple of firms holding a 高企 certificate issued before this
    year are made to have joined the park this year (their only membership starts then, the certificate
    became a moved-in one), so the policies for new arrivals (criteria.md §9.4) have demo firms to match."""
    start = date(today.year, 1, 1)
    if (today - start).days < 20:
        return
    rows = session.execute(
        select(Membership, Recognition)
        .join(Recognition, Recognition.firm_id == Membership.firm_id)
        .where(
            Membership.firm_id.in_(ids),
            Membership.valid_to.is_(None),
            Recognition.tier == Tier.hnte,
            Recognition.kind == RecognitionKind.first,
            Recognition.issued_on < start - timedelta(days=60),
            Recognition.expires_on > today + timedelta(days=180),
            Recognition.revoked_on.is_(None),
        )
        .order_by(Membership.firm_id)
    ).all()
    only_one = {
        fid
        for fid, n in session.execute(
            select(Membership.firm_id, func.count())
            .where(Membership.firm_id.in_(ids))
            .group_by(Membership.firm_id)
        )
        if n == 1
    }
    chosen: dict[str, int] = {}
    for membership, recognition in rows:
        if membership.firm_id not in only_one or chosen.get(membership.park_code, 0) >= per_park:
            continue
        if rng.random() < 0.5:
            continue
        chosen[membership.park_code] = chosen.get(membership.park_code, 0) + 1
        joined = start + timedelta(days=rng.randint(5, (today - start).days - 5))
        membership.valid_from = joined
        recognition.kind = RecognitionKind.moved_in
    session.flush()


def _write_batch(session: Session, batch: list[FirmRows], today: date, rng: Random) -> list[int]:
    firms = [Firm(**rows["firms"][0]) for rows in batch]
    session.add_all(firms)
    session.flush()  # firm ids for the child rows
    children: list[Any] = []
    held: list[tuple[Firm, Recognition]] = []
    for firm, rows in zip(firms, batch, strict=True):
        for table, model in CHILD_MODELS.items():
            for row in rows[table]:
                obj = model(**{**row, "firm_id": firm.id})
                children.append(obj)
                if model is Recognition:
                    held.append((firm, obj))
    session.add_all(children)
    session.flush()  # recognition ids for the tasks
    session.add_all(_expiry_tasks(held, today, rng))
    session.flush()
    return [firm.id for firm in firms]


def _expiry_tasks(recognitions: Iterable[tuple[Firm, Recognition]], today: date, rng: Random) -> list[Task]:
    """到期提醒: most certificates expiring within six months get a task for the officer, due earlier."""
    tasks = []
    for firm, rec in recognitions:
        if firm.officer_id is None or firm.status != FirmStatus.active or rec.revoked_on is not None:
            continue
        if rec.tier not in REMINDER_TIERS or rec.expires_on is None:
            continue
        if not today < rec.expires_on <= today + REMINDER_HORIZON or rng.random() >= 0.75:
            continue
        days_left = (rec.expires_on - today).days
        due_on = rec.expires_on - timedelta(days=max(1, min(45, days_left // 2)))
        action = "复核" if rec.tier in (Tier.little_giant, Tier.srdi_sme) else "重新认定"
        in_progress = rng.random() < 0.2
        label = TIER_LABELS[Tier(rec.tier)]
        tasks.append(
            Task(
                firm_id=firm.id,
                assignee_id=firm.officer_id,
                origin=TaskOrigin.expiry_reminder,
                origin_ref=f"recognition:{rec.id}",
                title=f"{label}将于 {rec.expires_on.isoformat()} 到期，提醒企业办理{action}",
                due_on=due_on,
                status=TaskStatus.in_progress if in_progress else TaskStatus.open,
                notes="已电话提醒企业，材料准备中" if in_progress else None,
            )
        )
    return tasks
