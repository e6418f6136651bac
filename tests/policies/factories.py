"""Factories of the policies domain: catalogue items and their budgets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from app.policies.models import AmountKind, DeliveryMode, Policy, PolicyBudget, PolicyLevel
from tests.factories import BaseFactory


class PolicyFactory(BaseFactory):
    """A district 免申即享 item: 20 万元 for a first 高企 recognition in the period (firms of 静安区).

    Traits: `apply=True` (an 申报 item without money or trigger).
    """

    class Meta:
        model = Policy

    class Params:
        apply = factory.Trait(
            mode=DeliveryMode.apply,
            amount_kind=AmountKind.none,
            amount_fixed=None,
            event_tier=None,
            event_kinds=[],
        )

    code = factory.Sequence(lambda n: f"test_policy_{n:04d}")
    name = factory.Sequence(lambda n: f"静安区高新技术企业首次认定奖励（测试{n}）")
    issuer = "静安区科学技术委员会"
    level = PolicyLevel.district
    districts = factory.LazyFunction(lambda: ["jingan"])
    parks = factory.LazyFunction(list)
    document_no = "静科委规〔2025〕1号"
    article = "第五条"
    effective_from = date(2024, 1, 1)
    effective_to = None
    mode = DeliveryMode.auto_grant
    amount_kind = AmountKind.fixed
    amount_fixed = Decimal("20")
    event_tier = "hnte"
    event_kinds = factory.LazyFunction(lambda: ["first"])
    criteria = factory.LazyFunction(list)
    active = True


class PolicyBudgetFactory(BaseFactory):
    class Meta:
        model = PolicyBudget

    policy_id = None
    year = factory.LazyFunction(lambda: date.today().year)
    total = Decimal("100")
