"""`python -m seeds reference`: reference data; `python -m seeds demo`: also demo accounts and firms.

The app's settings (and so the database) are read only when a command runs, so that a refused configuration
ends with a message and exit status 2 rather than a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

REFUSED = 2


def _sessions() -> sessionmaker[Session]:
    """The app's session factory (its DATABASE_URL); tests replace this."""
    from app.db import SessionLocal

    return SessionLocal


def _today(timezone: str) -> date:
    try:
        return datetime.now(ZoneInfo(timezone)).date()
    except ZoneInfoNotFoundError:
        return date.today()


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _reference_summary(session: Session) -> str:
    from app.reference.models import Area, Carrier, District, Industry, Park, PlanTarget

    parts = [
        ("区", District),
        ("园区", Park),
        ("功能区", Area),
        ("载体", Carrier),
        ("行业", Industry),
        ("规划目标", PlanTarget),
    ]
    return "参考数据：" + "，".join(f"{label} {_count(session, model)}" for label, model in parts)


def _demo_summary(session: Session, today: date) -> list[str]:
    from app.auth.models import User
    from app.casework.models import Task, TaskStatus
    from app.firms.models import Firm, Membership
    from app.recognitions.models import Recognition
    from app.reference.models import Park
    from app.tiers.codes import TIER_LABELS, Tier

    lines = [f"企业：{_count(session, Firm)} 家"]
    parks = {code: name for code, name in session.execute(select(Park.code, Park.name))}
    by_park = session.execute(
        select(Membership.park_code, func.count(func.distinct(Membership.firm_id)))
        .where(Membership.valid_to.is_(None))
        .group_by(Membership.park_code)
    ).all()
    lines.append("  在园：" + "，".join(f"{parks.get(code, code)} {n}" for code, n in sorted(by_park)))
    held = (
        Recognition.issued_on <= today,
        (Recognition.expires_on.is_(None)) | (Recognition.expires_on >= today),
        (Recognition.revoked_on.is_(None)) | (Recognition.revoked_on > today),
    )
    by_tier = {
        tier: n
        for tier, n in session.execute(
            select(Recognition.tier, func.count(func.distinct(Recognition.firm_id)))
            .where(*held)
            .group_by(Recognition.tier)
        )
    }
    lines.append(
        f"  有效认定（{today.isoformat()}）："
        + "，".join(f"{TIER_LABELS[t]} {by_tier[t]}" for t in Tier if t in by_tier)
    )
    soon = session.scalar(
        select(func.count())
        .select_from(Recognition)
        .where(*held, Recognition.expires_on <= today + timedelta(days=183))
    )
    lines.append(f"  半年内到期：{soon} 张；认定记录共 {_count(session, Recognition)} 条")
    open_tasks = session.scalar(
        select(func.count())
        .select_from(Task)
        .where(Task.status.in_([TaskStatus.open, TaskStatus.in_progress]))
    )
    lines.append(f"待办（未办结）：{open_tasks} 条；账号：{_count(session, User)} 个")
    return lines


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m seeds", description="Ladder 参考数据与演示数据")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "reference", help="加载参考数据：区、园区、功能区、载体、行业、规划目标（可重复执行）"
    )
    demo = commands.add_parser(
        "demo", help="参考数据 + 演示账号 + 演示企业（仅在尚无企业时生成；需 LADDER_DEMO_MODE=1）"
    )
    demo.add_argument("--firms", type=int, default=600, help="演示企业数（默认 600）")
    demo.add_argument("--today", type=date.fromisoformat, default=None, help="基准日 YYYY-MM-DD（默认今天）")
    demo.add_argument("--seed", type=int, default=None, help="随机种子（默认由基准日得出）")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        from app.config import settings
    except ValidationError as exc:
        reason = "; ".join(str(error["msg"]) for error in exc.errors())
        print(f"拒绝执行：配置无效（{reason}）。演示环境请设置 LADDER_DEMO_MODE=1", file=sys.stderr)
        return REFUSED

    if args.command == "demo" and not settings.demo_mode:
        print(
            "拒绝执行：演示账号（口令 ladder-demo）只能在演示模式下创建，请设置 LADDER_DEMO_MODE=1",
            file=sys.stderr,
        )
        return REFUSED

    from app.firms.models import Firm
    from seeds.demo import ensure_demo_accounts, generate
    from seeds.reference import load_reference

    started = time.perf_counter()
    with _sessions()() as session:
        load_reference(session)
        from seeds.policies import load_policies

        load_policies(session, args.today if getattr(args, "today", None) else _today(settings.timezone))
        if args.command == "reference":
            session.commit()
            print(_reference_summary(session))
            return 0

        today = args.today or _today(settings.timezone)
        accounts = ensure_demo_accounts(session)
        if accounts.created:
            print("已创建演示账号：" + "，".join(accounts.created) + "（口令 ladder-demo）")
        if _count(session, Firm):
            print("演示数据已存在，跳过")
        else:
            generate(session, today=today, n_firms=args.firms, seed=args.seed)
            session.commit()
            # The prospect pool (潜力企业) reads the latest batch decisions: evaluate the new firms once.
            from app.rules.batch import run_batch

            run = run_batch(session, today, reason="演示数据初始评估", actor_label="seeds")
            print(f"已评估 {run.firms} 家企业的梯度资格（{today.isoformat()}）")
            from seeds.demo_policies import demo_services

            packages, plans_written = demo_services(session, today)
            print(f"已配置服务包 {packages} 个，一企一策方案 {plans_written} 份")
        # The tiers held today, which the firm list's tier filter reads (the job keeps them on the day).
        from app.recognitions import held

        held.refresh(session, _today(settings.timezone))
        session.commit()
        print(_reference_summary(session))
        for line in _demo_summary(session, today):
            print(line)
    print(f"用时 {time.perf_counter() - started:.1f} 秒")
    return 0


if __name__ == "__main__":
    sys.exit(main())
