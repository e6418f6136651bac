"""`python -m bench.grants`: a 免申即享 grant run over the benchmark databases.

Issue 4 target: ≤ 5 s at 100k firms on PostgreSQL. Uses the databases `make bench` builds
(ladder_bench_<size>, var/bench/ladder_<size>.db), migrated to head; seeds the policy catalogue, then
times `grants.start_run` for the seeded items as an admin (every park) and as a 静安 officer.
Each run is rolled back, so the database is left as it was. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.generate import database_exists, migrate
from bench.targets import Target

POLICIES = ("zj_hnte_first", "jingan_hnte_renewal", "jingan_little_giant_rd", "hongkou_srdi_first")


def _principal(session: Session, role: str, parks: frozenset[str] | None) -> object:
    from app.audit.actor import Actor, ActorKind
    from app.audit.models import Channel
    from app.auth.models import Role, User
    from app.auth.principal import Principal

    actor = Actor(kind=ActorKind.system, label="bench", channel=Channel.system)
    user_id = session.scalar(select(User.id).order_by(User.id).limit(1))
    return Principal(user_id, "bench", "bench", Role(role), parks, None, actor)  # type: ignore[arg-type]


def time_runs(target: Target, today: date, repeats: int) -> list[tuple[str, str, int, list[float]]]:
    from app.audit.actor import act_as
    from app.db import make_engine
    from app.policies import catalogue, grants
    from app.policies.models import GrantRun
    from seeds.policies import load_policies

    engine = make_engine(target.url)
    out: list[tuple[str, str, int, list[float]]] = []
    try:
        with Session(engine) as session:
            load_policies(session, today)
            session.commit()
        for role, parks in (("admin", None), ("officer", frozenset({"jingan"}))):
            for code in POLICIES:
                times: list[float] = []
                count = 0
                for _ in range(repeats):
                    with Session(engine) as session:
                        principal = _principal(session, role, parks)
                        act_as(session, principal.actor)  # type: ignore[attr-defined]
                        policy = catalogue.get_by_code(session, code)
                        t0 = time.perf_counter()
                        run = grants.start_run(session, principal, policy, str(today.year), today)  # type: ignore[arg-type]
                        session.flush()
                        times.append(time.perf_counter() - t0)
                        count = (
                            session.scalar(select(GrantRun.candidate_count).where(GrantRun.id == run.id)) or 0
                        )
                        session.rollback()
                out.append((f"{role}{'' if parks is None else ' (静安园)'}", code, count, times))
    finally:
        engine.dispose()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    from app.web.formatting import today

    parser = argparse.ArgumentParser(prog="python -m bench.grants")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print("| engine | firms | who | policy | candidates | best s | median s | target |")
    print("|---|---:|---|---|---:|---:|---:|---|")
    for engine in args.engines.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            target = Target(engine, size)
            if not database_exists(target):
                print(
                    f"| {target.label} | – | – | – | – | – | – | database missing: run `make bench` first |"
                )
                continue
            migrate(target.url)
            for who, code, count, times in time_runs(target, today(), args.repeats):
                best, median = min(times), statistics.median(times)
                verdict = ""
                if engine == "postgresql" and size >= 100_000:
                    verdict = "✅ ≤ 5 s" if best <= 5 else "❌ > 5 s"
                print(
                    f"| {engine} | {size // 1000}k | {who} | {code} | {count:,} "
                    f"| {best:.2f} | {median:.2f} | {verdict} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
