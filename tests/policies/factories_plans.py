"""Factories for 服务包 and 一企一策 (bound to the test's `db` session like tests/factories.py)."""

from __future__ import annotations

from datetime import timedelta

import factory

from app.policies.models import PlanItem, PlanItemStatus, PlanStatus, ServicePackage, SupportPlan
from app.web.formatting import today
from tests.factories import BaseFactory, FirmFactory, UserFactory


class ServicePackageFactory(BaseFactory):
    """The 专精特新/高企 package by default: attached to firms holding 高企, 专精特新 or 小巨人."""

    class Meta:
        model = ServicePackage

    code = factory.Sequence(lambda n: f"pkg_{n:04d}")
    name = factory.Sequence(lambda n: f"专精特新/高企服务包{n:04d}")
    tiers = factory.LazyFunction(lambda: ["little_giant", "srdi_sme", "hnte"])
    tags = factory.LazyFunction(list)
    services = factory.LazyFunction(lambda: ["政策申报辅导", "知识产权服务"])
    policy_id = None
    note = None


class SupportPlanFactory(BaseFactory):
    """An active plan for a firm in park jingan, led by an officer of that park."""

    class Meta:
        model = SupportPlan
        exclude = ("firm", "owner")

    firm = factory.SubFactory(FirmFactory)
    owner = factory.SubFactory(UserFactory, officer=True)
    firm_id = factory.LazyAttribute(lambda o: o.firm.id)
    owner_id = factory.LazyAttribute(lambda o: o.owner.id if o.owner is not None else None)
    title = factory.Sequence(lambda n: f"小巨人培育一企一策方案（{n}）")
    goal = "2026 年申报国家级专精特新“小巨人”"
    task_force = "区科委牵头，区商务委、区财政局、园区配合"
    status = PlanStatus.active


class PlanItemFactory(BaseFactory):
    """An open 贷款贴息 item due in a month, without a task (items made through the service get one)."""

    class Meta:
        model = PlanItem
        exclude = ("plan",)

    plan = factory.SubFactory(SupportPlanFactory)
    plan_id = factory.LazyAttribute(lambda o: o.plan.id)
    firm_id = factory.LazyAttribute(lambda o: o.plan.firm_id)
    category = "贷款贴息"
    content = "协调银行落实 500 万元贷款贴息"
    department = "区财政局"
    due_on = factory.LazyFunction(lambda: today() + timedelta(days=30))
    status = PlanItemStatus.open
    task_id = None
