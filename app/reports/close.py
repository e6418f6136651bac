"""`python -m app.reports.close [YYYY-MM] [--reason TEXT] [--out DIR] [--today YYYY-MM-DD]`: close a month and
write its report (`<out>/<month>月度梯度报表.xlsx`, default var/reports/), as the job actor 月度报表.

Fit for a scheduler (e.g. 02:00 on the 1st, without a month: the month that just ended). It owns its unit of
work and commits once. Safe to repeat: a closed month is not closed again, only its report is rewritten.
Exit status: 0 done; 2 refused (bad configuration, a month not yet ended); 3 the month was closed earlier and
the ledger has changed since — the differences are printed and nothing is restated until someone gives a
reason (`--reason`, or 记录更正 on the report page).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

REFUSED = 2
PENDING = 3


def _sessions() -> sessionmaker[Session]:
    """The app's session factory (its DATABASE_URL); tests replace this."""
    from app.db import SessionLocal

    return SessionLocal


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app.reports.close", description="月度关账并生成月度报表")
    parser.add_argument("month", nargs="?", default=None, help="月份 YYYY-MM（默认上一个月）")
    parser.add_argument("--reason", default=None, help="已关账月份数据变化时的更正理由（记录为更正）")
    parser.add_argument("--out", type=Path, default=None, help="报表输出目录（默认 var/reports）")
    parser.add_argument(
        "--today", type=date.fromisoformat, default=None, help="基准日 YYYY-MM-DD（默认今天）"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        from app.config import ROOT, settings  # noqa: F401  (refuses a bad configuration here)
    except ValidationError as exc:
        reason = "; ".join(str(error["msg"]) for error in exc.errors())
        print(f"拒绝执行：配置无效（{reason}）", file=sys.stderr)
        return REFUSED

    import app.models  # noqa: F401  (every mapper)
    from app.audit.actor import Actor, ActorKind, act_as
    from app.audit.models import Channel
    from app.auth.models import Role
    from app.auth.principal import Principal
    from app.errors import RuleViolation
    from app.reports import exports, months, report, service
    from app.web.formatting import today as shanghai_today

    day = args.today or shanghai_today()
    actor = Actor(kind=ActorKind.job, label="月度报表（定时任务）", channel=Channel.job)
    reader = Principal(0, "job", "月度报表", Role.admin, None, None, actor)
    try:
        month = months.parse(args.month) if args.month else months.default_month(day)
    except RuleViolation as exc:
        print(f"拒绝执行：{exc.message}", file=sys.stderr)
        return REFUSED
    with _sessions()() as session:
        act_as(session, actor)
        try:
            result = service.close_month(session, actor, month, day, args.reason)
        except RuleViolation as exc:
            if exc.field != "reason":
                print(f"拒绝执行：{exc.message}", file=sys.stderr)
                return REFUSED
            result = service.CloseResult(month, False, pending=service.differences(session, month, None, day))
        rep = report.monthly(session, reader, month, day)
        body = exports.xlsx_bytes(rep)
        session.commit()
    out_dir = args.out or ROOT / "var" / "reports"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{month}月度梯度报表.xlsx"
    path.write_bytes(body)
    label = months.label(month)
    if result.newly_closed:
        print(f"{label}已关账，数据已冻结")
    elif result.restated:
        print(f"{label}已关账；已记录 {len(result.restated)} 项更正（理由：{args.reason}）")
    else:
        print(f"{label}此前已关账，数据与台账一致" if not result.pending else f"{label}此前已关账")
    print(f"报表已写入 {path}")
    if result.pending:
        print(f"台账变化后有 {len(result.pending)} 项与已公布数不同，需填写更正理由：", file=sys.stderr)
        for d in result.pending:
            print(f"  {d.view} {d.park} {d.key}: {d.old} → {d.new}", file=sys.stderr)
        return PENDING
    return 0


if __name__ == "__main__":
    sys.exit(main())
