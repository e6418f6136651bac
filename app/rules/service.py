"""The rules module's entry points for the rest of the app: the rule book, the parameters in force (file values
plus admins' dated district settings), and one firm's decisions on a date."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.firms.models import Firm
from app.rules.engine import TierDecision, evaluate
from app.rules.facts import Facts
from app.rules.firm_facts import facts_for_firm
from app.rules.loader import Override, ParamTable, RuleBook, rulebook
from app.rules.models import RuleSetting


def overrides(session: Session) -> list[Override]:
    rows = session.scalars(select(RuleSetting).order_by(RuleSetting.effective_from, RuleSetting.id))
    return [Override(r.name, r.effective_from, r.value, r.district_code) for r in rows]


def param_table(session: Session) -> ParamTable:
    book = rulebook()
    return ParamTable(book.params, overrides(session))


def decide_facts(
    session: Session, facts: Facts, as_of: date, assess_as: dict[str, str] | None = None
) -> dict[str, TierDecision]:
    book: RuleBook = rulebook()
    return evaluate(facts, as_of, book, param_table(session), assess_as)


def decide_firm(
    session: Session, firm: Firm, as_of: date, assess_as: dict[str, str] | None = None
) -> dict[str, TierDecision]:
    """Every tier's decision for a stored firm on `as_of`, from its dated facts."""
    return decide_facts(session, facts_for_firm(session, firm, as_of), as_of, assess_as)
