"""JSON API of the policy catalogue and 免申即享 grant runs.

Issue 4 contracts: keep the names; add, never rename.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from app.auth.dependencies import StaffPrincipal
from app.auth.principal import Principal
from app.db import SessionDep
from app.errors import NotFound
from app.policies import catalogue, grants
from app.policies.models import Grant, GrantCandidate, GrantRun
from app.web.formatting import today

router = APIRouter(prefix="/api/v1", tags=["policies"])


def _num(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


class PolicyOut(BaseModel):
    code: str
    name: str
    mode: Literal["auto_grant", "apply", "service_package"]
    document_no: str
    effective_from: date
    effective_to: date | None
    level: str
    issuer: str
    districts: list[str]
    parks: list[str]
    amount_unconfirmed: bool


@router.get("/policies", name="api_policies:list", response_model=list[PolicyOut], summary="政策条目目录")
def list_policies(session: SessionDep, principal: StaffPrincipal) -> list[dict[str, Any]]:
    """Every policy item of the catalogue (officers read; admins edit on the web)."""
    return [
        {
            "code": p.code,
            "name": p.name,
            "mode": p.mode,
            "document_no": p.document_no,
            "effective_from": p.effective_from,
            "effective_to": p.effective_to,
            "level": p.level,
            "issuer": p.issuer,
            "districts": list(p.districts or []),
            "parks": list(p.parks or []),
            "amount_unconfirmed": p.amount_unconfirmed,
        }
        for p in catalogue.list_policies(session)
    ]


class RunIn(BaseModel):
    policy_code: str = Field(min_length=1, max_length=64)
    period: str = Field(min_length=4, max_length=16, description="年度“2026”或年度内批次“2026-1”")


class CandidateOut(BaseModel):
    firm_id: int
    uscc: str
    name: str
    event: str
    event_label: str
    amount: float
    evidence: dict[str, Any]
    risk_level: str
    risks: list[str]
    decision: str
    reason: str | None


class RunOut(BaseModel):
    id: int
    policy_code: str
    period: str
    as_of: date
    candidates: list[CandidateOut]
    skipped: dict[str, int]
    budget: dict[str, Any]


def _run_out(session: Session, principal: Principal, run: GrantRun) -> dict[str, Any]:
    policy = session.get(catalogue.Policy, run.policy_id)
    assert policy is not None
    year = int(run.period[:4])
    state = grants.budget_state(session, policy, year)
    rows: list[tuple[GrantCandidate, Any]] = grants.candidates(session, principal, run)
    return {
        "id": run.id,
        "policy_code": policy.code,
        "period": run.period,
        "as_of": run.as_of,
        "candidates": [
            {
                "firm_id": c.firm_id,
                "uscc": f.uscc,
                "name": f.name,
                "event": c.event_key,
                "event_label": c.event_label,
                "amount": _num(c.amount),
                "evidence": c.evidence,
                "risk_level": c.risk_level,
                "risks": list(c.risks or []),
                "decision": c.decision,
                "reason": c.reason,
            }
            for c, f in rows
        ],
        "skipped": dict(run.skipped or {}),
        "budget": {
            "year": year,
            "total": _num(state.total),
            "used": _num(state.used),
            "warning": state.warning,
        },
    }


@router.post(
    "/grant-runs",
    name="api_grant_runs:create",
    response_model=RunOut,
    status_code=201,
    summary="发起免申即享兑现批次",
)
def create_run(session: SessionDep, principal: StaffPrincipal, body: RunIn) -> dict[str, Any]:
    """Match every firm in the officer's parks against the policy for the period; returns the candidates."""
    policy = catalogue.get_by_code(session, body.policy_code)
    run = grants.start_run(session, principal, policy, body.period, today())
    return _run_out(session, principal, run)


@router.get(
    "/grant-runs/{run_id}", name="api_grant_runs:detail", response_model=RunOut, summary="兑现批次详情"
)
def get_run(run_id: int, session: SessionDep, principal: StaffPrincipal) -> dict[str, Any]:
    """A run with its candidates (those in the principal's parks) and their decisions."""
    return _run_out(session, principal, grants.get_run(session, run_id))


class DecisionIn(BaseModel):
    firm_id: int
    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=500)


@router.post(
    "/grant-runs/{run_id}/decisions",
    name="api_grant_runs:decide",
    response_model=RunOut,
    summary="审核候选企业",
)
def decide(
    run_id: int,
    session: SessionDep,
    principal: StaffPrincipal,
    body: Annotated[list[DecisionIn], Body(min_length=1)],
) -> dict[str, Any]:
    """Approve or reject candidates, all or nothing (a reason is required to reject)."""
    run = grants.get_run(session, run_id)
    grants.decide(session, principal, run, [grants.DecisionIn(d.firm_id, d.decision, d.reason) for d in body])
    return _run_out(session, principal, run)


class GrantOut(BaseModel):
    id: int
    firm_id: int
    uscc: str
    name: str
    policy_code: str
    period: str
    event: str
    event_label: str
    amount: float
    status: Literal["pending_confirmation", "confirmed", "paid", "published", "withdrawn"]


class GrantsOut(BaseModel):
    items: list[GrantOut]


@router.get("/grants", name="api_grants:list", response_model=GrantsOut, summary="兑现记录")
def list_grants(
    session: SessionDep,
    principal: StaffPrincipal,
    policy_code: Annotated[str | None, Query(max_length=64)] = None,
    period: Annotated[str | None, Query(max_length=16)] = None,
) -> dict[str, Any]:
    """Grants in the principal's parks, optionally of one policy and period."""
    policy_id = None
    codes: dict[int, str] = {p.id: p.code for p in catalogue.list_policies(session)}
    if policy_code:
        matches = [pid for pid, code in codes.items() if code == policy_code]
        if not matches:
            raise NotFound("未找到该政策条目")
        policy_id = matches[0]
    rows: list[tuple[Grant, Any]] = grants.list_grants(
        session, principal, policy_id=policy_id, period=period or None
    )
    return {
        "items": [
            {
                "id": g.id,
                "firm_id": g.firm_id,
                "uscc": f.uscc,
                "name": f.name,
                "policy_code": codes[g.policy_id],
                "period": g.period,
                "event": g.event_key,
                "event_label": g.event_label,
                "amount": _num(g.amount),
                "status": g.status,
            }
            for g, f in rows
        ]
    }
