"""`python -m bench [--sizes 10000,100000] [--engines sqlite,postgresql] [--requests N] [--concurrency C]`
`python -m bench --rules-only [--no-rules-1m]`: only the rules engine benchmark (bench/rules.py).

Builds (or reuses) the bench databases, load-tests every scenario as admin and as officer_jingan on each
engine and size, and writes the table to docs/benchmarks.md (raw figures to var/bench/results-*.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import bench  # noqa: F401  (demo mode before app.config is read)
from bench import generate, load
from bench import rules as rules_bench
from bench.generate import Generated
from bench.load import ROLES, SCENARIOS, Result
from bench.targets import ENGINES, ROOT, Target, size_label

DOC = ROOT / "docs" / "benchmarks.md"


def _csv(kind: type, allowed: Sequence[str] | None = None):  # type: ignore[no-untyped-def]
    def parse(text: str) -> list:  # type: ignore[type-arg]
        items = [kind(x.strip()) for x in text.split(",") if x.strip()]
        if allowed is not None:
            bad = [x for x in items if x not in allowed]
            if bad:
                raise argparse.ArgumentTypeError(
                    f"unknown: {', '.join(map(str, bad))} (choose from {allowed})"
                )
        return items

    return parse


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--sizes", type=_csv(int), default=[10_000, 100_000], help="firm counts (default 10000,100000)"
    )
    p.add_argument(
        "--engines", type=_csv(str, ENGINES), default=list(ENGINES), help="sqlite,postgresql (default both)"
    )
    p.add_argument(
        "--scenarios",
        type=_csv(str, [s.key for s in SCENARIOS]),
        default=[s.key for s in SCENARIOS],
        help="default: all",
    )
    p.add_argument(
        "--roles", type=_csv(str, list(ROLES)), default=list(ROLES), help="default: admin,officer_jingan"
    )
    p.add_argument("--requests", type=int, default=300, help="measured requests per scenario (default 300)")
    p.add_argument("--concurrency", type=int, default=8, help="concurrent clients (default 8)")
    p.add_argument(
        "--warmup", type=int, default=None, help="unmeasured requests first (default 5 per client)"
    )
    p.add_argument(
        "--max-seconds",
        type=float,
        default=15.0,
        help="stop a scenario after this long even if --requests are not done (default 15)",
    )
    p.add_argument(
        "--workers",
        type=_csv(int),
        default=[2],
        help="uvicorn worker counts for the full matrix (default 2: one per core, as production runs)",
    )
    p.add_argument(
        "--compare-workers",
        type=int,
        default=1,
        help="also run this worker count on the largest size, as admin, to compare (0: off)",
    )
    p.add_argument(
        "--compare-concurrency",
        type=int,
        default=4,
        help="also run this many clients on the largest size, both roles, same workers, to compare (0: off)",
    )
    p.add_argument("--regenerate", action="store_true", help="rebuild the bench databases even if cached")
    p.add_argument("--generate-only", action="store_true", help="build the databases, run no load")
    p.add_argument(
        "--drop", action="store_true", help="drop the bench databases of --sizes/--engines and exit"
    )
    p.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    p.add_argument(
        "--rules-only", action="store_true", help="run only the rules engine benchmark (bench/rules.py)"
    )
    p.add_argument("--no-rules", action="store_true", help="skip the rules engine benchmark")
    p.add_argument(
        "--no-rules-1m", action="store_true", help="rules benchmark without the 1M-firm PostgreSQL run"
    )
    p.add_argument("--rules-repeats", type=int, default=2, help="batch runs per rules database (default 2)")
    return p.parse_args(argv)


def log(message: str) -> None:
    print(message, flush=True)


def run_load(
    target: Target,
    workers: int,
    args: argparse.Namespace,
    roles: Sequence[str],
    concurrency: int | None = None,
) -> list[Result]:
    pools = load.load_pools(target)
    results: list[Result] = []
    clients = concurrency or args.concurrency
    warmup = args.warmup if args.warmup is not None else 5 * clients
    with load.serve(target, workers=workers, log=log) as server:
        creds = load.credentials_for(server)
        for role in roles:
            for scenario in SCENARIOS:
                if scenario.key not in args.scenarios:
                    continue
                r = load.run_scenario(
                    server,
                    scenario,
                    pools[role],
                    creds[role],
                    requests=args.requests,
                    concurrency=clients,
                    warmup=warmup,
                    max_seconds=args.max_seconds,
                )
                results.append(r)
                if r.skipped:
                    log(f"  {target.label:<16} w{workers} {role:<15} {scenario.key:<12} skipped: {r.skipped}")
                else:
                    errs = f"  errors {r.errors}" if r.errors else ""
                    log(
                        f"  {target.label:<16} w{workers} c{clients} {role:<15} {scenario.key:<12} "
                        f"n={r.count:<4} "
                        f"p50 {r.pct(50):7.1f}  p95 {r.pct(95):7.1f}  p99 {r.pct(99):7.1f} ms  "
                        f"{r.rps:6.1f} req/s  cpu app {r.cpu_ms:5.1f} db {r.db_cpu_ms:5.1f} ms/req  "
                        f"load {r.load_before:4.1f}{errs}"
                    )
    return results


# -- the report -------------------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return "–" if value != value else (f"{value:.0f}" if value >= 100 else f"{value:.1f}")


def _verdict(r: Result, largest: int) -> str:
    scenario = next(s for s in SCENARIOS if s.key == r.scenario)
    if r.size < largest or r.skipped:
        return ""
    return "✅" if r.pct(95) <= scenario.target_ms else f"❌ > {scenario.target_ms:.0f}"


def table(results: Sequence[Result], largest: int) -> list[str]:
    lines = [
        "| engine | firms | role | scenario | n | p50 ms | p95 ms | p99 ms | req/s | app CPU ms/req "
        "| PG CPU ms/req | load avg | target (p95 at 100k) |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    labels = {s.key: s.label for s in SCENARIOS}
    for r in results:
        if r.skipped:
            lines.append(
                f"| {r.engine} | {size_label(r.size)} | {r.role} | {labels[r.scenario]} | – | – | – | – | – "
                f"| – | – | – | not run: {r.skipped} |"
            )
            continue
        errs = f" ({sum(r.errors.values())} non-200)" if r.errors else ""
        lines.append(
            f"| {r.engine} | {size_label(r.size)} | {r.role} | {labels[r.scenario]} | {r.count}{errs} "
            f"| {_ms(r.pct(50))} | {_ms(r.pct(95))} | {_ms(r.pct(99))} | {r.rps:.1f} | {_ms(r.cpu_ms)} "
            f"| {_ms(r.db_cpu_ms) if r.engine == 'postgresql' else '–'} | {r.load_before:.1f} "
            f"| {_verdict(r, largest)} |"
        )
    return lines


def workers_table(results: Sequence[Result]) -> list[str]:
    """Side by side: the same scenario under each worker count."""
    keyed: dict[tuple[str, int, str, str], dict[int, Result]] = {}
    for r in results:
        if not r.skipped:
            keyed.setdefault((r.engine, r.size, r.role, r.scenario), {})[r.workers] = r
    counts = sorted({r.workers for r in results})
    rows = {k: v for k, v in keyed.items() if len(v) > 1}
    if not rows:
        return []
    head = " | ".join(f"w{w} p50 / p95 ms, req/s" for w in counts)
    lines = [f"| engine | firms | role | scenario | {head} |", "|---|---:|---|---|" + "---|" * len(counts)]
    for (engine, size, role, scenario), by_w in rows.items():
        cells = " | ".join(
            f"{_ms(by_w[w].pct(50))} / {_ms(by_w[w].pct(95))}, {by_w[w].rps:.1f}" if w in by_w else "–"
            for w in counts
        )
        lines.append(f"| {engine} | {size_label(size)} | {role} | {scenario} | {cells} |")
    return lines


def concurrency_table(results: Sequence[Result], largest: int, workers: int) -> list[str]:
    """Side by side: the same scenario (same workers) under each number of clients, against its target."""
    keyed: dict[tuple[str, int, str, str], dict[int, Result]] = {}
    for r in results:
        if not r.skipped and r.workers == workers:
            keyed.setdefault((r.engine, r.size, r.role, r.scenario), {})[r.concurrency] = r
    counts = sorted({c for v in keyed.values() for c in v}, reverse=True)
    rows = {k: v for k, v in keyed.items() if len(v) > 1}
    if not rows:
        return []
    head = " | ".join(f"{c} clients: p50 / p95 ms, req/s" for c in counts)
    lines = [
        f"| engine | firms | role | scenario | {head} | load avg | target (p95) |",
        "|---|---:|---|---|" + "---|" * len(counts) + "---:|---|",
    ]
    for (engine, size, role, scenario), by_c in rows.items():
        cells = " | ".join(
            f"{_ms(by_c[c].pct(50))} / {_ms(by_c[c].pct(95))}, {by_c[c].rps:.1f}" if c in by_c else "–"
            for c in counts
        )
        loads = " / ".join(f"{by_c[c].load_before:.1f}" for c in counts if c in by_c)
        met = [f"{c}: {_verdict(by_c[c], largest) or '–'}" for c in counts if c in by_c]
        lines.append(
            f"| {engine} | {size_label(size)} | {role} | {scenario} | {cells} | {loads} | {', '.join(met)} |"
        )
    return lines


def generation_lines(generated: Sequence[Generated]) -> list[str]:
    lines = []
    for g in generated:
        if g.cached:
            lines.append(f"- {g.target.label}: reused the cached database ({g.firms:,} firms).")
        else:
            rows = sum(g.rows.values())
            lines.append(
                f"- {g.target.label}: generated {g.firms:,} firms / {rows:,} rows in {g.seconds:.0f} s "
                f"(writing this database: {g.insert_seconds:.0f} s). Rows: "
                + ", ".join(f"{k} {v:,}" for k, v in g.rows.items())
                + "."
            )
    return lines


NOTES_MARK = "<!-- bench:notes -->"


def write_doc(
    results: Sequence[Result],
    generated: Sequence[Generated],
    args: argparse.Namespace,
    command: str,
    elapsed: float,
) -> None:
    largest = max(args.sizes)
    main = [r for r in results if r.workers == args.workers[0] and r.concurrency == args.concurrency]
    wtable = workers_table([r for r in results if r.concurrency == args.concurrency])
    ctable = concurrency_table(results, largest, args.workers[0])
    out = [
        "# Benchmarks",
        "",
        "Produced by `make bench` (`python -m bench`, the `bench/` package): regenerate rather than edit the "
        "tables. Everything below the notes marker at the end is kept across runs.",
        "",
        f"- Date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"- Machine: {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}; server, database and load client share the machine.",
        f"- Command: `{command}` ({elapsed / 60:.1f} min in all)",
        f"- Server: uvicorn, {args.workers[0]} worker(s), `LADDER_DEMO_MODE=1`. PostgreSQL 127.0.0.1:5432, "
        "databases `ladder_bench_<size>` (VACUUM ANALYZE after loading); SQLite `var/bench/ladder_<size>.db` "
        "(WAL, no ANALYZE: as the app runs it).",
        f"- Load: {args.concurrency} concurrent keep-alive clients over loopback, up to {args.requests} "
        f"measured requests per scenario (or {args.max_seconds:.0f} s), after "
        f"{args.warmup or 5 * args.concurrency} warm-up requests. Latency is measured by the client, from "
        "sending the request to the last byte. App CPU = CPU time of the uvicorn process(es) per request; "
        "PG CPU = of the PostgreSQL backends serving them (on SQLite, database work is in app CPU). CPU per "
        "request moves less than latency when other work shares the machine, but it does move (by a third at "
        "a load of 6 against 1): compare runs made back to back. Load avg = 1-minute load when the scenario "
        "started; the bench itself (server, clients, database) accounts for about 4-5 of it.",
        "- Requests, drawn with a fixed seed: list = park / tier / industry filters (each on about a third "
        "of requests), page 1 (60 %), 2–10 (30 %) or a random page of the whole list (10 %); search = 2–4 "
        "characters of a firm name (70 %) or the first 10–18 characters of a USCC (30 %); API list = half "
        "searches, half filtered pages of 50; file = a random firm in the role's scope.",
        "- Roles: admin sees every park; officer_jingan sees 静安园 only (about 45 % of firms).",
        "- Targets (issue, at 100k firms): list/search p95 ≤ 150 ms, firm file p95 ≤ 100 ms.",
        "",
        "## Data",
        "",
        *generation_lines(generated),
        "",
        "## Results",
        "",
        *table(main, largest),
        "",
    ]
    if wtable:
        out += [
            "## uvicorn workers",
            "",
            f"Same scenarios, {args.compare_workers or ''} workers vs "
            f"{args.workers[0]} (the machine has {os.cpu_count()} cores).",
            "",
            *wtable,
            "",
        ]
    if ctable:
        out += [
            "## Clients",
            "",
            f"The largest size again with {args.compare_concurrency} concurrent clients instead of "
            f"{args.concurrency}, {args.workers[0]} worker(s): on 2 cores, latency under a closed loop of N "
            "clients is mostly N × the CPU a request costs ÷ the cores it can use.",
            "",
            *ctable,
            "",
        ]
    notes = ""
    if DOC.exists():
        text = DOC.read_text(encoding="utf-8")
        if NOTES_MARK in text:
            notes = text[text.index(NOTES_MARK) :]
        # The rules section is kept as it was (main() replaces it when the rules benchmark ran).
        kept = rules_bench.extract(text)
        if kept:
            out += [kept, ""]
    out.append(notes or f"{NOTES_MARK}\n")
    DOC.write_text("\n".join(out).rstrip("\n") + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    if args.rules_only:
        lines = rules_bench.main_section(args, log)
        print("\n".join(lines))
        if not args.no_doc:
            rules_bench.write_section(DOC, lines, NOTES_MARK)
            print(f"\nwrote the rules section of {DOC.relative_to(ROOT)}")
        return 0
    targets = [Target(engine, size) for size in sorted(args.sizes) for engine in args.engines]
    if args.drop:
        for t in targets:
            generate.drop_database(t)
            log(f"dropped {t.label}")
        return 0
    generated = generate.ensure(targets, regenerate=args.regenerate, log=log)
    if args.generate_only:
        return 0
    results: list[Result] = []
    for target in targets:
        for workers in args.workers:
            results += run_load(target, workers, args, args.roles)
    if args.compare_workers and args.compare_workers not in args.workers:
        for target in (t for t in targets if t.size == max(args.sizes)):
            results += run_load(target, args.compare_workers, args, ["admin"])
    if args.compare_concurrency and args.compare_concurrency != args.concurrency:
        for target in (t for t in targets if t.size == max(args.sizes)):
            results += run_load(
                target, args.workers[0], args, args.roles, concurrency=args.compare_concurrency
            )
    rules_lines = [] if args.no_rules else rules_bench.main_section(args, log)
    elapsed = time.perf_counter() - started
    command = "python -m bench" + (
        ""
        if argv is None and len(sys.argv) == 1
        else " " + shlex.join(list(argv) if argv is not None else sys.argv[1:])
    )
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    raw = generate.BENCH_DIR / f"results-{stamp}.json"
    raw.write_text(
        json.dumps({"command": command, "results": [r.as_dict() for r in results]}, indent=1),
        encoding="utf-8",
    )
    largest = max(args.sizes)
    print()
    print(
        "\n".join(
            table(
                [r for r in results if r.workers == args.workers[0] and r.concurrency == args.concurrency],
                largest,
            )
        )
    )
    wt = workers_table([r for r in results if r.concurrency == args.concurrency])
    if wt:
        print()
        print("\n".join(wt))
    ct = concurrency_table(results, largest, args.workers[0])
    if ct:
        print()
        print("\n".join(ct))
    if not args.no_doc:
        write_doc(results, generated, args, command, elapsed)
        if rules_lines:
            rules_bench.write_section(DOC, rules_lines, NOTES_MARK)
        print(f"\nwrote {DOC.relative_to(ROOT)} and {Path(raw).relative_to(ROOT)} ({elapsed / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
