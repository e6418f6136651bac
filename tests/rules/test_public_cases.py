"""The public worked cases through the engine (docs/domain/cases/public.json, copied to
tests/rules/cases/public.json): each listed tier's status is one of the expected statuses, and
`holds` is as expected."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.rules.engine import evaluate
from app.rules.facts import facts_from_contract
from app.rules.loader import ParamTable, load_rulebook

CASES_FILE = Path(__file__).parent / "cases" / "public.json"
DOC_FILE = Path(__file__).parents[2] / "docs" / "domain" / "cases" / "public.json"
CASES: list[dict[str, Any]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))
BOOK = load_rulebook()
PARAMS = ParamTable(BOOK.params)


def _run(case: dict[str, Any]) -> dict[str, Any]:
    request = case["request"]
    facts = facts_from_contract(request["firm"])
    return evaluate(facts, date.fromisoformat(request["as_of"]), BOOK, PARAMS, request.get("assess_as"))


def test_copy_matches_the_domain_docs() -> None:
    assert json.loads(DOC_FILE.read_text(encoding="utf-8")) == CASES


STATUS_CASES = [
    pytest.param(case, tier, expected, id=f"{case['id']}-{tier}")
    for case in CASES
    for tier, expected in case.get("expect", {}).items()
]
HOLDS_CASES = [
    pytest.param(case, tier, held, id=f"{case['id']}-holds-{tier}")
    for case in CASES
    for tier, held in case.get("holds", {}).items()
]


@pytest.mark.parametrize(("case", "tier", "expected"), STATUS_CASES)
def test_status(case: dict[str, Any], tier: str, expected: list[str]) -> None:
    decision = _run(case)[tier]
    assert decision.status in expected, (
        case["why"],
        [(c.id, c.outcome.value, c.detail) for c in decision.criteria if c.outcome.value != "pass"],
    )


@pytest.mark.parametrize(("case", "tier", "held"), HOLDS_CASES)
def test_holds(case: dict[str, Any], tier: str, held: bool) -> None:
    assert _run(case)[tier].holds is held


def test_case_b_band_edge_gap() -> None:
    case = next(c for c in CASES if c["id"] == "B")
    decision = _run(case)["hnte"]
    assert "近三年研发费用合计还需增加 55 万元" in decision.gaps


def test_case_i_one_hire_short() -> None:
    case = next(c for c in CASES if c["id"] == "I")
    out = _run(case)
    assert "科技人员还需 1 人" in out["tech_sme"].gaps
    assert "科技人员还需 1 人" in out["hnte"].gaps


def test_case_n_missing_rd_is_unknown_not_fail() -> None:
    case = next(c for c in CASES if c["id"] == "N")
    hnte = _run(case)["hnte"]
    outcomes = {c.id: c.outcome.value for c in hnte.criteria}
    assert outcomes["rd_intensity"] == "unknown"
    assert "fail" not in outcomes.values()
