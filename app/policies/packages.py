"""服务包: bundles of services attached to a firm when it reaches a tier or carries a label (glossary),
each owned by a 服务管家 with a status per service.

`sync_packages` is the one way packages get attached: after a recognition is recorded (app.policies.flows) and
daily by `python -m app.policies.packages`. It is idempotent (one package per firm, unique in the database).
Packages are never detached automatically: services already delivered stay on the firm's file.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from app.audit.actor import Actor, ActorKind, act_as
from app.audit.models import Channel
from app.auth.models import Role, User, UserPark
from app.auth.principal import Principal
from app.errors import NotFound, NotPermitted, RuleViolation
from app.firms.models import Firm, FirmStatus, FirmTag
from app.firms.repository import held_on, scoped
from app.policies.models import (
    SERVICE_STATUS_LABELS,
    FirmPackage,
    FirmService,
    ServicePackage,
    ServiceStatus,
)
from app.recognitions.models import Recognition
from app.tiers.codes import LADDER_POSITION, TIER_LABELS, Tier

SYNC_ACTOR = Actor(kind=ActorKind.job, label="服务包同步", channel=Channel.job)
READ_ONLY_MESSAGE = "领导账号仅可查看服务包，不能修改"
STATUS_BADGE = {ServiceStatus.pending: "muted", ServiceStatus.in_progress: "warn", ServiceStatus.done: "ok"}


def can_manage(principal: Principal) -> bool:
    """Admins and officers change services and stewards; leaders only read."""
    return principal.role in (Role.admin, Role.officer)


def ensure_can_manage(principal: Principal) -> None:
    if principal.role is Role.leader:
        raise NotPermitted(READ_ONLY_MESSAGE)
    if not can_manage(principal):
        raise NotPermitted()


# ------------------------------------------------------------------------------------------------ sync


@dataclass
class SyncResult:
    created: list[FirmPackage] = field(default_factory=list)
    services: int = 0


def _tier_rank(tier: str) -> tuple[int, str]:
    return (-LADDER_POSITION.get(Tier(tier), 0), tier) if tier in Tier.__members__ else (0, tier)


def _reason(tiers: set[str], tags: set[str]) -> str:
    """The highest tier held that the package names, else its first tag: 持有高新技术企业认定 / 标签：链主."""
    if tiers:
        tier = sorted(tiers, key=_tier_rank)[0]
        return f"持有{TIER_LABELS.get(Tier(tier), tier)}认定"[:100]
    return f"标签：{sorted(tags)[0]}"[:100]


def sync_packages(
    session: Session, *, today: date, firm_ids: Collection[int] | Select[Any] | None = None
) -> SyncResult:
    """Attach every service package to each active firm (of `firm_ids`, default all) that holds one of its
    tiers on `today` or carries one of its current tags; the steward defaults to the firm's officer and each
    service starts 未开始. Firms that already have the package are left alone."""
    packages = list(session.scalars(select(ServicePackage).order_by(ServicePackage.id)))
    wanted_tiers = sorted({t for p in packages for t in p.tiers or []})
    wanted_tags = sorted({t for p in packages for t in p.tags or []})
    result = SyncResult()
    if not packages or not (wanted_tiers or wanted_tags):
        return result

    active = Firm.status == FirmStatus.active
    held: dict[int, set[str]] = defaultdict(set)
    tagged: dict[int, set[str]] = defaultdict(set)
    if wanted_tiers:
        stmt = (
            select(Recognition.firm_id, Recognition.tier)
            .join(Firm, Firm.id == Recognition.firm_id)
            .where(active, Recognition.tier.in_(wanted_tiers), held_on(today))
        )
        if firm_ids is not None:
            stmt = stmt.where(Recognition.firm_id.in_(firm_ids))
        for firm_id, tier in session.execute(stmt):
            held[firm_id].add(tier)
    if wanted_tags:
        tag_stmt = (
            select(FirmTag.firm_id, FirmTag.tag)
            .join(Firm, Firm.id == FirmTag.firm_id)
            .where(active, FirmTag.tag.in_(wanted_tags), FirmTag.valid_to.is_(None))
        )
        if firm_ids is not None:
            tag_stmt = tag_stmt.where(FirmTag.firm_id.in_(firm_ids))
        for firm_id, tag in session.execute(tag_stmt):
            tagged[firm_id].add(tag)

    candidates = sorted(set(held) | set(tagged))
    if not candidates:
        return result
    existing: set[tuple[int, int]] = set()
    officers: dict[int, int | None] = {}
    # Chunks keep the IN lists under the database's parameter limit on a full run.
    for start in range(0, len(candidates), 5000):
        chunk = candidates[start : start + 5000]
        have = select(FirmPackage.firm_id, FirmPackage.package_id).where(FirmPackage.firm_id.in_(chunk))
        existing.update((fid, pid) for fid, pid in session.execute(have))
        for fid, officer_id in session.execute(select(Firm.id, Firm.officer_id).where(Firm.id.in_(chunk))):
            officers[fid] = officer_id

    for firm_id in candidates:
        for package in packages:
            if (firm_id, package.id) in existing:
                continue
            tiers = held.get(firm_id, set()) & set(package.tiers or [])
            tags = tagged.get(firm_id, set()) & set(package.tags or [])
            if not tiers and not tags:
                continue
            attached = FirmPackage(
                firm_id=firm_id,
                package_id=package.id,
                steward_id=officers.get(firm_id),
                attached_on=today,
                reason=_reason(tiers, tags),
            )
            session.add(attached)
            result.created.append(attached)
    session.flush()
    by_id = {p.id: p for p in packages}
    for attached in result.created:
        for name in by_id[attached.package_id].services or []:
            session.add(
                FirmService(
                    firm_package_id=attached.id,
                    firm_id=attached.firm_id,
                    name=name[:100],
                    status=ServiceStatus.pending,
                )
            )
            result.services += 1
    session.flush()
    return result


def firm_ids_in_scope(principal: Principal) -> Select[Any] | None:
    """The firms a principal's 同步服务包 covers: their parks (None: every firm)."""
    if principal.park_codes is None and principal.role is not Role.firm:
        return None
    return scoped(select(Firm.id), principal)


# ------------------------------------------------------------------------------------------------ the list


@dataclass
class ServiceRow:
    service: FirmService
    status_label: str
    status_kind: str


@dataclass
class PackageCard:
    """One firm's package as the list shows it, with its services and the people who may steward it."""

    firm_package: FirmPackage
    firm: Firm
    package: ServicePackage
    steward_name: str | None
    services: list[ServiceRow] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(1 for s in self.services if s.service.status == ServiceStatus.done)


def _service_row(service: FirmService) -> ServiceRow:
    status = ServiceStatus(service.status)
    return ServiceRow(
        service=service, status_label=SERVICE_STATUS_LABELS[status], status_kind=STATUS_BADGE[status]
    )


def package_options(session: Session) -> list[tuple[str, str]]:
    return [(code, name) for code, name in session.execute(select(ServicePackage.code, ServicePackage.name))]


def _filtered(principal: Principal, *, package: str | None, status: ServiceStatus | None) -> Select[Any]:
    stmt = select(FirmPackage.id).join(Firm, Firm.id == FirmPackage.firm_id)
    stmt = scoped(stmt, principal)
    if package:
        stmt = stmt.join(ServicePackage, ServicePackage.id == FirmPackage.package_id).where(
            ServicePackage.code == package
        )
    if status is not None:
        stmt = stmt.where(
            exists().where(FirmService.firm_package_id == FirmPackage.id, FirmService.status == status)
        )
    return stmt


def list_packages(
    session: Session,
    principal: Principal,
    *,
    package: str | None = None,
    status: ServiceStatus | None = None,
    page: int = 1,
    page_size: int = 25,
) -> tuple[list[PackageCard], int, int, int]:
    """One page of the firms' packages in scope: (cards, total, page, pages), four queries."""
    ids = _filtered(principal, package=package, status=status)
    total = int(session.scalar(select(func.count()).select_from(ids.subquery())) or 0)
    pages = max(1, math.ceil(total / page_size))
    page = min(max(page, 1), pages)
    page_ids = list(
        session.scalars(
            ids.order_by(Firm.name, FirmPackage.id).limit(page_size).offset((page - 1) * page_size)
        )
    )
    return _cards(session, page_ids), total, page, pages


def _cards(session: Session, firm_package_ids: Sequence[int]) -> list[PackageCard]:
    if not firm_package_ids:
        return []
    rows = session.execute(
        select(FirmPackage, Firm, ServicePackage, User.display_name)
        .join(Firm, Firm.id == FirmPackage.firm_id)
        .join(ServicePackage, ServicePackage.id == FirmPackage.package_id)
        .outerjoin(User, User.id == FirmPackage.steward_id)
        .where(FirmPackage.id.in_(list(firm_package_ids)))
    ).all()
    cards = {fp.id: PackageCard(fp, firm, pkg, steward) for fp, firm, pkg, steward in rows}
    for service in session.scalars(
        select(FirmService)
        .where(FirmService.firm_package_id.in_(list(firm_package_ids)))
        .order_by(FirmService.id)
    ):
        cards[service.firm_package_id].services.append(_service_row(service))
    return [cards[i] for i in firm_package_ids if i in cards]


def card(session: Session, firm_package: FirmPackage) -> PackageCard:
    return _cards(session, [firm_package.id])[0]


def firm_cards(session: Session, principal: Principal, firm_id: int) -> list[PackageCard]:
    """The packages of one firm in scope (for the firm's file)."""
    stmt = scoped(
        select(FirmPackage.id)
        .join(Firm, Firm.id == FirmPackage.firm_id)
        .where(FirmPackage.firm_id == firm_id)
        .order_by(FirmPackage.id),
        principal,
    )
    return _cards(session, list(session.scalars(stmt)))


def stewards_for(
    session: Session, park_codes: Collection[str | None]
) -> dict[str | None, list[tuple[int, str]]]:
    """Who may be 服务管家 of a firm in each park: active officers of that park, then admins (two queries)."""
    admins = [
        (uid, name)
        for uid, name in session.execute(
            select(User.id, User.display_name)
            .where(User.is_active.is_(True), User.role == Role.admin)
            .order_by(User.display_name)
        )
    ]
    by_park: dict[str | None, list[tuple[int, str]]] = {code: [] for code in park_codes}
    codes = [c for c in park_codes if c]
    if codes:
        for park, uid, name in session.execute(
            select(UserPark.park_code, User.id, User.display_name)
            .join(User, User.id == UserPark.user_id)
            .where(User.is_active.is_(True), User.role == Role.officer, UserPark.park_code.in_(codes))
            .order_by(User.display_name)
        ):
            by_park[park].append((uid, name))
    return {code: [*people, *admins] for code, people in by_park.items()}


# ------------------------------------------------------------------------------------------------ changes


def get_firm_package(session: Session, principal: Principal, firm_package_id: int) -> FirmPackage:
    """The firm's package if its firm is in the principal's scope, else NotFound."""
    stmt = scoped(
        select(FirmPackage)
        .join(Firm, Firm.id == FirmPackage.firm_id)
        .where(FirmPackage.id == firm_package_id),
        principal,
    )
    found: FirmPackage | None = session.scalars(stmt).first()
    if found is None:
        raise NotFound("未找到该服务包，或该企业不在您负责的园区")
    return found


def get_service(session: Session, principal: Principal, service_id: int) -> FirmService:
    stmt = scoped(
        select(FirmService).join(Firm, Firm.id == FirmService.firm_id).where(FirmService.id == service_id),
        principal,
    )
    found: FirmService | None = session.scalars(stmt).first()
    if found is None:
        raise NotFound("未找到该服务事项，或该企业不在您负责的园区")
    return found


def parse_status(value: str | None) -> ServiceStatus:
    try:
        return ServiceStatus(value or "")
    except ValueError:
        raise RuleViolation("请选择有效的服务状态", field="status") from None


def update_service(
    session: Session, principal: Principal, service: FirmService, *, status: ServiceStatus, note: str | None
) -> FirmService:
    """Change a service's status and 服务记录 (blank keeps the record); audited old → new."""
    ensure_can_manage(principal)
    note = (note or "").strip()
    if len(note) > 500:
        raise RuleViolation("服务记录不能超过 500 个字符", field="note")
    service.status = ServiceStatus(status)
    if note:
        service.note = note
    session.flush()
    return service


def set_steward(
    session: Session, principal: Principal, firm_package: FirmPackage, steward_id: int | None
) -> None:
    """Hand the package to another 服务管家: an active officer of the firm's park, or an admin."""
    ensure_can_manage(principal)
    if steward_id is not None:
        firm_park = session.scalar(select(Firm.park_code).where(Firm.id == firm_package.firm_id))
        allowed = {uid for uid, _ in stewards_for(session, [firm_park])[firm_park]}
        if steward_id not in allowed:
            raise RuleViolation("服务管家应为该企业所在园区的在岗专员或管理员", field="steward_id")
    firm_package.steward_id = steward_id
    session.flush()


# ------------------------------------------------------------------------------------------------ the job


def run(session: Session, *, today: date) -> SyncResult:
    """One sync of every firm as the job actor 服务包同步 (flushes; the caller commits)."""
    previous = session.info.get("actor"), session.info.get("reason")
    act_as(session, SYNC_ACTOR)
    try:
        return sync_packages(session, today=today)
    finally:
        session.info["actor"], session.info["reason"] = previous


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m app.policies.packages [--today YYYY-MM-DD]`: attach the packages firms qualify for."""
    parser = argparse.ArgumentParser(prog="python -m app.policies.packages", description="服务包同步")
    parser.add_argument(
        "--today", type=date.fromisoformat, default=None, help="基准日 YYYY-MM-DD（默认今天）"
    )
    args = parser.parse_args(argv)

    import app.models  # noqa: F401  (every mapper, for the foreign keys between domains)
    from app.db import SessionLocal
    from app.web.formatting import today as shanghai_today

    day = args.today or shanghai_today()
    with SessionLocal() as session:
        result = run(session, today=day)
        session.commit()
    print(
        f"服务包同步（{day.isoformat()}）：新配置服务包 {len(result.created)} 个，"
        f"服务事项 {result.services} 项"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
