"""Demo 服务包 and 一企一策: packages attached by tier and tag, and a plan for a top firm in each park whose
officer follows its items on 我的待办 (one item already overdue, as in real life)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import Channel
from app.auth.dependencies import principal_for
from app.auth.models import User
from app.firms.models import Firm
from app.firms.repository import held_on
from app.policies import plans
from app.policies.packages import sync_packages
from app.recognitions.models import Recognition
from seeds.demo import park_officers

ITEMS = [
    ("贷款贴息", "对接“小巨人信用贷”，落实 2026 年度贷款贴息", "区财政局", 30),
    ("人才支持", "核心研发人员人才公寓 3 套，落户材料预审", "区人社局", -10),
    ("适销对路", "组织首台（套）产品进园区重点企业对接会", "园区", 60),
]


def demo_services(session: Session, today: date) -> tuple[int, int]:
    """Attach packages and write one plan per park; returns (packages attached, plans written)."""
    attached = sync_packages(session, today=today)
    written = 0
    for park, officer_id in park_officers(session).items():
        firm = session.scalar(
            select(Firm)
            .join(Recognition, Recognition.firm_id == Firm.id)
            .where(Firm.park_code == park, Recognition.tier.in_(["little_giant", "srdi_sme"]), held_on(today))
            .order_by(Recognition.tier.desc(), Firm.id)
            .limit(1)
        )
        officer = session.get(User, officer_id)
        if firm is None or officer is None:
            continue
        principal = principal_for(officer, Channel.system)
        plan = plans.create_plan(
            session,
            principal,
            firm,
            plans.PlanIn(
                title=f"{firm.name} 一企一策（{today.year}）",
                goal="两年内冲刺国家级专精特新“小巨人”，研发投入占比提高到 8%",
                task_force="区科委（牵头）、区商务委、区财政局、区人社局、园区",
            ),
        )
        for category, content, department, days in ITEMS:
            plans.add_item(
                session,
                principal,
                plan,
                plans.PlanItemIn(
                    category=category, content=content, department=department, due_on=today + timedelta(days)
                ),
            )
        written += 1
    session.flush()
    return len(attached.created), written
