"""到期提醒: certificates about to expire, and the re-recognition tasks that chase them.

`expiry_list` is what the officers' page shows; `ensure_expiry_tasks` creates the missing tasks, for a
signed-in officer (their parks) or for a job (every firm; `python -m app.recognitions.remind`). Running it
twice creates nothing new: a recognition that already has an expiry-reminder task, whatever its status, gets
no second one.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from app.audit.actor import Actor, ActorKind
from app.audit.models import Channel
from app.auth.principal import Principal
from app.casework import service as casework_service
from app.casework.models import TASK_STATUS_LABELS, Task, TaskOrigin, TaskStatus
from app.errors import NotFound, RuleViolation
from app.recognitions import repository
from app.recognitions.models import Recognition
from app.tiers.codes import TIER_LABELS, Tier

# The filter's windows in months, smallest first; the list defaults to the widest.
WINDOWS = (1, 3, 6)
DEFAULT_MONTHS = 6
WINDOW_LABELS = {1: "≤1个月", 3: "≤3个月", 6: "≤6个月"}

# Certificates an officer chases before they expire (as seeds/demo.py does): 科技型 入库 is renewed by the
# firm each year and 独角兽/瞪羚 are market lists, so they have no re-recognition to prepare.
# Certificates and registrations that lapse (criteria.md §11.10); 独角兽/瞪羚 are labels re-checked yearly.
REMINDER_TIERS = frozenset(
    {Tier.tech_sme, Tier.innovative_sme, Tier.hnte, Tier.srdi_sme, Tier.little_giant, Tier.hidden_champion}
)
# 专精特新 and 小巨人 are reviewed (复核) at the end of their term; 科技型 re-registers yearly (年度评价入库);
# the others are recognised again.
RENEWAL_ACTION = {Tier.srdi_sme: "复核", Tier.little_giant: "复核", Tier.tech_sme: "年度评价入库"}
DEFAULT_ACTION = "重新认定"

NO_TASK_LABEL = "未生成"

# Who the scheduled run acts as in the audit trail.
REMINDER_ACTOR = Actor(kind=ActorKind.job, label="到期提醒", channel=Channel.job)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, the month's last day when it has no such day (31 Jan + 1 → 28/29 Feb)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def window_of(expires_on: date, today: date) -> int | None:
    """The smallest window (in months) that an expiry date falls in, None beyond the widest."""
    for months in WINDOWS:
        if expires_on <= add_months(today, months):
            return months
    return None


def parse_months(value: str | int | None) -> int:
    """A window from the query string; anything else is the default."""
    try:
        months = int(value) if value not in (None, "") else DEFAULT_MONTHS
    except (TypeError, ValueError):
        return DEFAULT_MONTHS
    return months if months in WINDOWS else DEFAULT_MONTHS


def renewal_action(tier: str) -> str:
    return RENEWAL_ACTION.get(Tier(tier), DEFAULT_ACTION)


def task_title(rec: Recognition) -> str:
    """高新技术企业 重新认定（有效期至 2027-03-31）"""
    expires = rec.expires_on.isoformat() if rec.expires_on else ""
    return f"{TIER_LABELS[Tier(rec.tier)]} {renewal_action(rec.tier)}（有效期至 {expires}）"


def origin_ref(rec: Recognition) -> str:
    return f"recognition:{rec.id}"


@dataclass(frozen=True)
class ExpiryRow:
    """One certificate on the list, with the labels the page shows."""

    recognition: Recognition
    firm_name: str
    officer_id: int | None
    officer_name: str | None
    tier_label: str
    days_left: int
    window: int
    window_label: str
    task_id: int | None
    task_status: TaskStatus | None

    @property
    def has_task(self) -> bool:
        return self.task_id is not None

    @property
    def task_status_label(self) -> str:
        return TASK_STATUS_LABELS[self.task_status] if self.task_status else NO_TASK_LABEL

    @property
    def task_status_kind(self) -> str:
        return casework_service.STATUS_BADGE[self.task_status] if self.task_status else "muted"


@dataclass(frozen=True)
class ExpiryGroup:
    months: int
    label: str
    rows: list[ExpiryRow]


@dataclass
class ReminderRun:
    """What one run did: the tasks created, the recognitions considered, and those left without a task
    because nobody could be assigned (no officer on the firm and no signed-in user)."""

    considered: int = 0
    created: list[Task] = field(default_factory=list)
    unassigned: list[int] = field(default_factory=list)


def _scope(by: Principal | Actor) -> Principal | None:
    return by if isinstance(by, Principal) else None


def expiry_list(
    session: Session,
    principal: Principal | Actor,
    today: date,
    within_months: int = DEFAULT_MONTHS,
    *,
    recognition_ids: Collection[int] | None = None,
) -> list[ExpiryRow]:
    """Certificates in scope expiring within `within_months` (from today, inclusive), soonest first: held
    today, not revoked, not superseded by a later recognition of the same tier. Two queries."""
    months = parse_months(within_months)
    found = repository.expiring(
        session,
        _scope(principal),
        today=today,
        until=add_months(today, months),
        tiers=REMINDER_TIERS,
        recognition_ids=recognition_ids,
    )
    tasks = repository.reminder_tasks(session, [origin_ref(f.recognition) for f in found])
    rows = []
    for item in found:
        rec = item.recognition
        assert rec.expires_on is not None  # the query keeps only certificates with an expiry
        window = window_of(rec.expires_on, today) or months
        task = tasks.get(origin_ref(rec))
        rows.append(
            ExpiryRow(
                recognition=rec,
                firm_name=item.firm_name,
                officer_id=item.officer_id,
                officer_name=item.officer_name,
                tier_label=TIER_LABELS[Tier(rec.tier)],
                days_left=(rec.expires_on - today).days,
                window=window,
                window_label=WINDOW_LABELS[window],
                task_id=task[0] if task else None,
                task_status=task[1] if task else None,
            )
        )
    return rows


def group_rows(rows: list[ExpiryRow]) -> list[ExpiryGroup]:
    """The rows by window (≤1个月, ≤3个月, ≤6个月), empty windows left out."""
    return [
        ExpiryGroup(months=m, label=WINDOW_LABELS[m], rows=[r for r in rows if r.window == m])
        for m in WINDOWS
        if any(r.window == m for r in rows)
    ]


def ensure_expiry_tasks(
    session: Session,
    principal: Principal | Actor,
    today: date,
    within_months: int = DEFAULT_MONTHS,
    *,
    recognition_ids: Collection[int] | None = None,
) -> ReminderRun:
    """Create a re-recognition task for every listed certificate that has none yet (idempotent).

    `principal` is a signed-in user (officers and admins; leaders are refused; an officer's parks only) or a
    job's Actor (every firm). Each task is assigned to the firm's officer, else to the signed-in user; due on
    the expiry date. With `recognition_ids`, only those (NotFound if one is not on the principal's list).
    The session's audit actor must be set (the auth dependency or the job does it). Flushes only.
    """
    if isinstance(principal, Principal):
        casework_service.ensure_can_manage(principal)
    rows = expiry_list(session, principal, today, within_months, recognition_ids=recognition_ids)
    if recognition_ids is not None and {r.recognition.id for r in rows} != set(recognition_ids):
        raise NotFound("未找到该认定，或它不在您的到期提醒列表中")
    fallback = principal.user_id if isinstance(principal, Principal) else None
    run = ReminderRun(considered=len(rows))
    for row in rows:
        if row.has_task:
            continue
        rec = row.recognition
        task = None
        for assignee in dict.fromkeys(a for a in (row.officer_id, fallback) if a is not None):
            try:
                task = casework_service.create_task(
                    session,
                    by=principal,
                    assignee_id=assignee,
                    title=task_title(rec),
                    origin=TaskOrigin.expiry_reminder,
                    firm_id=rec.firm_id,
                    due_on=rec.expires_on,
                    origin_ref=origin_ref(rec),
                )
            except RuleViolation as exc:
                # The firm's officer has left or changed role: try the next candidate. create_task refuses
                # before adding anything, so nothing is left half-made.
                if exc.field != "assignee_id":
                    raise
                continue
            break
        if task is None:
            run.unassigned.append(rec.id)
        else:
            run.created.append(task)
    return run
