"""Side effects of other domains' events on policies (the dispatch `flows.py` idea): callers in firms' routes
call these after their own change, so arrows keep pointing one way (firms routes → policies flows)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from app.policies import packages


def recognition_recorded(session: Session, firm_id: int, *, today: date) -> None:
    """A firm reached a tier: attach the service packages it now qualifies for (as the same actor)."""
    packages.sync_packages(session, today=today, firm_ids=[firm_id])
