"""What the firm pages share: label tables, small parsers, and running a change so that a refusal becomes
form errors."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.auth.principal import Principal
from app.casework.models import TASK_STATUS_LABELS
from app.errors import Conflict, RuleViolation
from app.firms import service
from app.firms.models import FIRM_STATUS_LABELS
from app.firms.web import forms
from app.indicators.models import (
    AWARD_LEVEL_LABELS,
    INCIDENT_GRADE_LABELS,
    INCIDENT_KIND_LABELS,
    SOURCE_LABELS,
    SOURCE_RANK,
    Source,
)
from app.recognitions.models import RECOGNITION_KIND_LABELS, RECOGNITION_LEVEL_LABELS
from app.tiers.codes import LADDER_POSITION, TIER_LABELS, Tier

PREFIX = "/firms"

LABELS: dict[str, Any] = {
    "tier": {k.value: v for k, v in TIER_LABELS.items()},
    "status": {k.value: v for k, v in FIRM_STATUS_LABELS.items()},
    "source": {k.value: v for k, v in SOURCE_LABELS.items()},
    "rec_kind": {k.value: v for k, v in RECOGNITION_KIND_LABELS.items()},
    "rec_level": {k.value: v for k, v in RECOGNITION_LEVEL_LABELS.items()},
    "incident_kind": {k.value: v for k, v in INCIDENT_KIND_LABELS.items()},
    "incident_grade": {k.value: v for k, v in INCIDENT_GRADE_LABELS.items()},
    "award_level": {k.value: v for k, v in AWARD_LEVEL_LABELS.items()},
    "task_status": {k.value: v for k, v in TASK_STATUS_LABELS.items()},
}
SOURCE_OPTIONS = [(s.value, SOURCE_LABELS[s]) for s in sorted(Source, key=lambda s: -SOURCE_RANK[s])]

STALE = "该企业档案已被他人修改，请刷新后重试（您读取的版本已过期）"


def opts(labels: dict[Any, str]) -> list[tuple[str, str]]:
    """A label table as select options: [(value, label)]."""
    return [(str(getattr(k, "value", k)), v) for k, v in labels.items()]


def clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def by_ladder(tiers: list[str]) -> list[str]:
    """Highest ladder position first (小巨人 before 高企 before 科技型), labels beside the ladder last."""
    order = list(Tier)
    return sorted(tiers, key=lambda t: (-LADDER_POSITION.get(Tier(t), 0), order.index(Tier(t))))


def plain(value: Any) -> str:
    """A stored number as an officer would type it back (260, 38.5), without thousands separators."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "") else text
    return str(value)


def attempt(session: Session, action: Callable[[], Any]) -> dict[str, str]:
    """Run a change in a savepoint: a refused change leaves nothing behind and comes back as form errors
    (a conflict under the key "__conflict__" as well, for a 409)."""
    try:
        with session.begin_nested():
            action()
    except Conflict as exc:
        return {"__all__": exc.message, "__conflict__": "1"}
    except StaleDataError:
        return {"__all__": STALE, "__conflict__": "1"}
    except RuleViolation as exc:
        return forms.error_of(exc)
    return {}


def ensure_can_edit(principal: Principal) -> None:
    """Leaders read only: refuse before looking at the form, so a leader's post is 403 whatever it holds."""
    service.ensure_can_edit(principal)
