"""`python -m app.recognitions.remind [--months 6] [--today YYYY-MM-DD]`: create the missing re-recognition
tasks for every firm's certificates expiring within the window, as the job actor 到期提醒. Safe to repeat
(a scheduler may run it daily); it owns its unit of work and commits once.

The settings (and so the database) are read only when it runs, so that a refused configuration ends with a
message and exit status 2 rather than a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from pydantic import ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from app.recognitions.expiry import ReminderRun

REFUSED = 2


def _sessions() -> sessionmaker[Session]:
    """The app's session factory (its DATABASE_URL); tests replace this."""
    from app.db import SessionLocal

    return SessionLocal


def run(session: Session, *, today: date, months: int) -> ReminderRun:
    """One reminder run in `session` as the job actor (flushes; the caller commits)."""
    from app.audit.actor import act_as
    from app.recognitions.expiry import REMINDER_ACTOR, ensure_expiry_tasks

    previous = session.info.get("actor"), session.info.get("reason")
    act_as(session, REMINDER_ACTOR)
    try:
        return ensure_expiry_tasks(session, REMINDER_ACTOR, today, months)
    finally:
        session.info["actor"], session.info["reason"] = previous


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app.recognitions.remind", description="到期提醒：为即将到期的认定生成重新认定待办"
    )
    parser.add_argument("--months", type=int, choices=(1, 3, 6), default=6, help="提前几个月提醒（默认 6）")
    parser.add_argument(
        "--today", type=date.fromisoformat, default=None, help="基准日 YYYY-MM-DD（默认今天）"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        from app.config import settings  # noqa: F401  (refuses a bad configuration here)
    except ValidationError as exc:
        reason = "; ".join(str(error["msg"]) for error in exc.errors())
        print(f"拒绝执行：配置无效（{reason}）", file=sys.stderr)
        return REFUSED

    import app.models  # noqa: F401  (every mapper, for the foreign keys between domains)
    from app.web.formatting import today as shanghai_today

    day = args.today or shanghai_today()
    with _sessions()() as session:
        result = run(session, today=day, months=args.months)
        session.commit()
    print(
        f"到期提醒（{day.isoformat()}，{args.months} 个月内）：到期认定 {result.considered} 张，"
        f"新生成待办 {len(result.created)} 条"
        + (f"，{len(result.unassigned)} 张因企业未指定服务专员未生成" if result.unassigned else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
