"""Load a firm the caller may see, or 404 (a firm outside an officer's parks does not exist for them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.dependencies import CurrentPrincipal
from app.db import SessionDep
from app.errors import NotFound
from app.firms import repository
from app.firms.models import Firm


def firm_in_scope(firm_id: int, session: SessionDep, principal: CurrentPrincipal) -> Firm:
    firm = repository.get_in_scope(session, principal, firm_id)
    if firm is None:
        raise NotFound("未找到该企业，或该企业不在您负责的园区")
    return firm


FirmDep = Annotated[Firm, Depends(firm_in_scope)]
