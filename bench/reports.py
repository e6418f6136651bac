"""`python -m bench.reports`: one month's report (月度报表) over the benchmark databases.

Issue 5 target: ≤ 1 s at 100k firms with 5 years of ledger on PostgreSQL. Uses the databases `make bench`
builds (ladder_bench_<size>, var/bench/ladder_<size>.db), migrated to head. Times, for the last month that
has ended:

- the whole report as the page and the workbook read it (`app.reports.report.monthly`: counts and ladder
  view with 环比/同比, flows, targets, lapses): with no month closed (every figure live: the worst case);
  with the previous month and the month a year before closed, as the scheduler leaves them; and of the
  month itself once closed (frozen figures, plus the live reading that detects restatements);
- the report written as the XLSX workbook (every sheet);
- closing the month (one snapshot, then the frozen rows written);

as an admin (every park) and as a 静安 officer. Every run is rolled back, so the database is left as it was.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.generate import database_exists, migrate
from bench.targets import Target


def _principal(session: Session, role: str, parks: frozenset[str] | None) -> Any:
    from app.audit.actor import Actor, ActorKind
    from app.audit.models import Channel
    from app.auth.models import Role, User
    from app.auth.principal import Principal

    actor = Actor(kind=ActorKind.system, label="bench", channel=Channel.system)
    user_id = session.scalar(select(User.id).order_by(User.id).limit(1)) or 0
    return Principal(user_id, "bench", "bench", Role(role), parks, None, actor)


def time_report(
    target: Target, month: str, today: date, repeats: int
) -> list[tuple[str, str, str, list[float]]]:
    from app.audit.actor import act_as
    from app.db import make_engine
    from app.reports import exports, months, report, service

    engine = make_engine(target.url)
    out: list[tuple[str, str, str, list[float]]] = []

    def timed(
        label: str,
        who: str,
        parks: frozenset[str] | None,
        body: Callable[[Session, Any], str],
        setup: Callable[[Session, Any], None] | None = None,
    ) -> None:
        """`setup` (not timed) then `body` (timed), `repeats` times, each in a transaction rolled back."""
        times: list[float] = []
        detail = ""
        for _ in range(repeats):
            with Session(engine) as session:
                principal = _principal(session, "admin" if parks is None else "officer", parks)
                act_as(session, principal.actor)
                if setup is not None:
                    setup(session, principal)
                    session.flush()
                t0 = time.perf_counter()
                detail = body(session, principal)
                times.append(time.perf_counter() - t0)
                session.rollback()
        out.append((label, who, detail, times))

    def whole(session: Session, principal: Any) -> str:
        rep = report.monthly(session, principal, month, today)
        held = sum(r.value for r in rep.now.counts)
        return f"{held:,} tier holdings, {len(rep.flows)} flow lines"

    def workbook(session: Session, principal: Any) -> str:
        body = exports.xlsx_bytes(report.monthly(session, principal, month, today))
        return f"{len(body) // 1024:,} KiB"

    def close(session: Session, principal: Any) -> str:
        service.close_month(session, principal.actor, month, today)
        session.flush()
        return "frozen"

    def close_earlier(session: Session, principal: Any) -> None:
        for earlier in (months.shift(month, -1), months.shift(month, -12)):
            service.close_month(session, principal.actor, earlier, today)

    def close_this(session: Session, principal: Any) -> None:
        close_earlier(session, principal)
        service.close_month(session, principal.actor, month, today)

    try:
        for who, parks in (("admin", None), ("officer (静安园)", frozenset({"jingan"}))):
            timed("report, all months open", who, parks, whole)
        timed("report, earlier months closed", "admin", None, whole, close_earlier)
        timed("report of the closed month", "admin", None, whole, close_this)
        timed("report as XLSX", "admin", None, workbook)
        timed("close the month", "admin", None, close)
    finally:
        engine.dispose()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    from app.reports import months
    from app.web.formatting import today

    parser = argparse.ArgumentParser(prog="python -m bench.reports")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--month", default=None, help="YYYY-MM (default: the last month that has ended)")
    args = parser.parse_args(argv)
    day = today()
    month = args.month or months.default_month(day)
    print(f"Monthly report of {month}")
    print()
    print("| engine | firms | what | who | result | best s | median s | target |")
    print("|---|---:|---|---|---|---:|---:|---|")
    for engine in args.engines.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            target = Target(engine, size)
            if not database_exists(target):
                print(
                    f"| {target.label} | – | – | – | – | – | – | database missing: run `make bench` first |"
                )
                continue
            migrate(target.url)
            for what, who, detail, times in time_report(target, month, day, args.repeats):
                best, median = min(times), statistics.median(times)
                verdict = ""
                if engine == "postgresql" and size >= 100_000 and what.startswith("report"):
                    verdict = "✅ ≤ 1 s" if best <= 1 else "❌ > 1 s"
                print(
                    f"| {engine} | {size // 1000}k | {what} | {who} | {detail} "
                    f"| {best:.2f} | {median:.2f} | {verdict} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
