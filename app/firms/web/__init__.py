"""Web pages of the firm file (一企一档): the firm list, create and edit forms, and the file page with its
in-place edits. Every htmx action is also a plain link or form (STYLE §5).

One router under /firms, routes named "firms:<action>". The order matters: /firms/new before /firms/{firm_id}.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.firms.web import contacts, eligibility, file, ledger, listing, profile, recognitions
from app.firms.web.common import PREFIX

router = APIRouter(include_in_schema=False)
for _part in (listing, profile, file, recognitions, ledger, eligibility, contacts):
    # The prefix is given here: FastAPI refuses an included route whose path and prefix are both empty
    # (the list is "" under /firms).
    router.include_router(_part.router, prefix=PREFIX)

__all__ = ["router"]
