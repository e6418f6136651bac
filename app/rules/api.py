"""`POST /api/v1/eligibility` — the public eligibility contract (docs/domain/eligibility-api.md).

Public and read-only: no login, no CSRF token needed without a session cookie, nothing stored; rate-limited per
client. The same JSON serves the portal's self-check, the officers' panel and outside systems.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from app.auth.dependencies import OptionalPrincipal
from app.db import SessionDep
from app.errors import NotAuthenticated, RuleViolation
from app.firms.dependencies import firm_in_scope
from app.policies import catalogue as policy_service
from app.rules import service
from app.rules.facts import facts_from_contract
from app.rules.firm_facts import facts_for_firm
from app.rules.loader import TIERS
from app.rules.ratelimit import eligibility_rate_limit, limiter
from app.rules.schemas import EXAMPLE_REQUEST, EXAMPLE_RESPONSE, EligibilityRequest, EligibilityResponse

router = APIRouter(prefix="/api/v1/eligibility", tags=["eligibility"])

# A malformed rate-limit setting stops the app at start-up, not at the first request.
limiter()

_ERROR = {"content": {"application/json": {"schema": {"type": "object", "properties": {"detail": {}}}}}}


@router.post(
    "",
    name="api_eligibility:check",
    response_model=EligibilityResponse,
    dependencies=[Depends(eligibility_rate_limit)],
    summary="企业梯度资格自评",
    responses={
        200: {"content": {"application/json": {"example": EXAMPLE_RESPONSE}}},
        401: {"description": "给出 firm_id 但未登录", **_ERROR},
        404: {"description": "firm_id 不存在或不在您的权限范围内", **_ERROR},
        422: {"description": "请求格式有误（FastAPI 标准格式，msg 为中文）"},
        429: {"description": "请求过于频繁（见 Retry-After）", **_ERROR},
    },
)
def check_eligibility(
    session: SessionDep,
    principal: OptionalPrincipal,
    body: Annotated[
        EligibilityRequest,
        Body(
            openapi_examples={
                "contract": {"summary": "契约示例（eligibility-api.md）", "value": EXAMPLE_REQUEST}
            }
        ),
    ],
) -> dict[str, Any]:
    """Every tier's decision for the firm described (or, signed in, a stored firm) on `as_of`. Stores nothing."""
    assess_as: dict[str, str] | None = None if body.assess_as is None else dict(body.assess_as)
    if body.firm_id is not None:
        if principal is None:
            raise NotAuthenticated("按 firm_id 查询已登记企业需要登录")
        if body.firm.model_fields_set:
            raise RuleViolation("给出 firm_id 时按已登记的企业数据评估，不能同时提交 firm", field="firm")
        firm = firm_in_scope(body.firm_id, session, principal)
        facts = facts_for_firm(session, firm, body.as_of)
        joined_on = policy_service.joined_on(session, firm.id, facts.park, body.as_of)
    else:
        facts = facts_from_contract(body.firm.model_dump())
        joined_on = None
    decisions = service.decide_facts(session, facts, body.as_of, assess_as)
    matches = policy_service.match_facts(
        policy_service.list_policies(session, active_only=True),
        facts,
        body.as_of,
        service.param_table(session),
        joined_on,
    )
    return {
        "as_of": body.as_of,
        "tiers": {tier: decisions[tier].to_contract() for tier in TIERS},
        # Items in force on as_of for the firm's district/park that it does not fail (ineligible ones are left out).
        "policies": [
            {"code": m.policy.code, "name": m.policy.name, "mode": m.policy.mode, "status": m.decision.status}
            for m in matches
        ],
        "firm_id": body.firm_id,
    }
