"""Background jobs of recognitions (huey): keep the tiers held today (`held.refresh`) on today's date."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager

from huey import crontab
from sqlalchemy.orm import Session

from app.db import SessionLocal
from app.jobs import huey
from app.recognitions import held
from app.web.formatting import today

log = logging.getLogger(__name__)

# The session a job opens and closes (tests point it at their own transaction).
open_session: Callable[[], AbstractContextManager[Session]] = SessionLocal


def refresh_held_tiers() -> bool:
    """Move the held tiers to today (Asia/Shanghai) if they are not there yet; whether it did."""
    day = today()
    with open_session() as session:
        if held.as_of(session) == day:
            return False
        removed, added = held.refresh(session, day)
        session.commit()
    log.info("held tiers moved to %s: %d rows removed, %d added", day, removed, added)
    return True


# Every ten minutes (cheap when nothing is due): the first run after midnight in Shanghai moves the day, and a
# consumer that was down at midnight catches up at its next run. Until then lists ask recognitions directly.
held_tiers_task = huey.periodic_task(crontab(minute="*/10"), name="recognitions.refresh_held_tiers")(
    refresh_held_tiers
)
