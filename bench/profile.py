"""Find the slow requests of a scenario and the queries that make them slow.

    python -m bench.profile --engine postgresql --size 100000 --scenario list_page --role officer_jingan

Replays the scenario's request paths (the same seeded paths as the load test) one at a time, in this process,
through the ASGI app on the bench database (no HTTP, no concurrency), timing every SQL statement. Prints the
slowest requests with their statements and, for the slowest statements, the plan (EXPLAIN ANALYZE on
PostgreSQL, EXPLAIN QUERY PLAN on SQLite). `--cprofile` adds a CPU profile of the whole replay.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from random import Random
from typing import Any

import bench  # noqa: F401  (demo mode before app.config is read)
from bench.targets import Target

# app.config reads DATABASE_URL on import: bench.load (and anything under app/) is imported in main(), once
# it is set to the chosen bench database.
SCENARIO_KEYS = ("list_page", "search_page", "api_list", "file_page", "file_api")
ROLE_KEYS = ("admin", "officer_jingan")


@dataclass
class Query:
    ms: float
    sql: str
    params: Any


@dataclass
class Request:
    path: str
    status: int
    ms: float
    cpu_ms: float
    queries: list[Query] = field(default_factory=list)

    @property
    def sql_ms(self) -> float:
        return sum(q.ms for q in self.queries)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.profile",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--size", type=int, default=100_000)
    p.add_argument("--scenario", choices=SCENARIO_KEYS, default="list_page")
    p.add_argument("--role", choices=ROLE_KEYS, default="admin")
    p.add_argument("--requests", type=int, default=100, help="paths to replay (default 100)")
    p.add_argument("--path", action="append", default=[], help="replay these paths instead of the scenario's")
    p.add_argument("--top", type=int, default=5, help="slowest requests to show (default 5)")
    p.add_argument("--explain-ms", type=float, default=5.0, help="explain statements slower than this")
    p.add_argument("--cprofile", action="store_true", help="print a CPU profile (cProfile) of the replay")
    p.add_argument(
        "--pyinstrument",
        action="store_true",
        help="print a call tree (pyinstrument, not a dependency: pip install it into .venv first)",
    )
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    target = Target(args.engine, args.size)
    os.environ["DATABASE_URL"] = target.url
    os.environ["LADDER_SECURE_COOKIES"] = "0"
    from bench.load import SCENARIO_SEED, SCENARIOS, load_pools, percentile

    scenario = next(s for s in SCENARIOS if s.key == args.scenario)
    if args.path:
        paths = list(args.path)
    else:
        pools = load_pools(target)
        rng = Random(f"{SCENARIO_SEED}:{scenario.key}:{args.role}")
        paths = [scenario.paths(rng, pools[args.role]) for _ in range(args.requests)]

    # Run sync endpoints inline on this thread, so that timings and profiles see all of the work.
    import anyio.to_thread

    async def inline(func: Any, *a: Any, **_kw: Any) -> Any:
        return func(*a)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]

    import httpx
    from sqlalchemy import event

    from app.db import engine
    from app.main import create_app

    current: list[Query] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, _c: Any, _s: Any, _p: Any, _ctx: Any, _many: Any) -> None:
        conn.info["bench_t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, _c: Any, statement: str, params: Any, _ctx: Any, _many: Any) -> None:
        current.append(Query((time.perf_counter() - conn.info["bench_t0"]) * 1000, statement, params))

    app = create_app()
    profiler: Any = None
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)
    elif args.pyinstrument:
        import pyinstrument

        profiler = pyinstrument.Profiler(interval=0.0005)

    async def replay() -> list[Request]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            resp = await client.post(
                "/api/v1/auth/token", data={"username": args.role, "password": "ladder-demo"}
            )
            headers = {"Authorization": f"Bearer {resp.json()['access_token']}"}
            for path in paths[:3]:  # warm caches
                await client.get(path, headers=headers)
            out = []
            if args.pyinstrument:
                profiler.start()
            elif profiler:
                profiler.enable()
            for path in paths:
                current.clear()
                t0, c0 = time.perf_counter(), time.process_time()
                r = await client.get(path, headers=headers)
                out.append(
                    Request(
                        path,
                        r.status_code,
                        (time.perf_counter() - t0) * 1000,
                        (time.process_time() - c0) * 1000,
                        list(current),
                    )
                )
            if args.pyinstrument:
                profiler.stop()
            elif profiler:
                profiler.disable()
            return out

    results = asyncio.run(replay())
    walls = [r.ms for r in results]
    cpus = [r.cpu_ms for r in results]
    sqls = [r.sql_ms for r in results]
    bad = [r for r in results if r.status != 200]
    print(
        f"{target.label} {args.role} {scenario.key}: {len(results)} requests one at a time"
        f"{f', {len(bad)} non-200' if bad else ''}"
    )
    for name, values in (("wall", walls), ("cpu", cpus), ("sql", sqls)):
        print(
            f"  {name:<4} p50 {percentile(values, 50):7.1f}  p95 {percentile(values, 95):7.1f}  "
            f"max {max(values):7.1f} ms"
        )
    print(f"  queries per request: {percentile([len(r.queries) for r in results], 50):.0f} (median)")
    explained: set[str] = set()
    for r in sorted(results, key=lambda x: -x.ms)[: args.top]:
        print(
            f"\n{r.ms:7.1f} ms (cpu {r.cpu_ms:.1f}, sql {r.sql_ms:.1f} in {len(r.queries)} queries)  {r.path}"
        )
        for q in sorted(r.queries, key=lambda x: -x.ms)[:4]:
            print(f"    {q.ms:7.1f} ms  {' '.join(q.sql.split())[:160]}")
            if q.ms >= args.explain_ms and q.sql not in explained:
                explained.add(q.sql)
                _explain(engine, q)
    if profiler and args.pyinstrument:
        print(profiler.output_text(unicode=True, show_all=False))
    elif profiler:
        import pstats

        print()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(40)
    return 0


def _explain(engine: Any, q: Query) -> None:
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        cur = raw.cursor()
        try:
            if engine.dialect.name == "sqlite":
                cur.execute("EXPLAIN QUERY PLAN " + q.sql, q.params)
                lines = [str(row[3]) for row in cur.fetchall()]
            else:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + q.sql, q.params)
                lines = [row[0] for row in cur.fetchall()]
        finally:
            cur.close()
    print(f"      params: {q.params}")
    for line in lines:
        print(f"      | {line}")


if __name__ == "__main__":
    sys.exit(main())
