"""The all-firms batch: every active (存续) firm × every tier on a date, stored in tier_decisions for the
潜力企业蓄水池 (prospect pool).

The rules are the same nodes the one-firm engine evaluates (app/rules/engine.py), executed a second way: compiled
to numpy array operations (app/rules/vectorised.py) over every firm's facts read in bulk (app/rules/batch_load.py).
tests/rules/test_batch_agrees.py proves the two executions decide alike.

`run_batch` works inside the caller's transaction: it adds an EvaluationRun, replaces every row of tier_decisions
(COPY on PostgreSQL, executemany on SQLite; a bulk load from BULK_ROWS rows on, see below) and flushes; the caller
commits, so the pool shows the previous run or this one, never half of each. New applications (mode "new") only:
the pool asks who could apply.

    python -m app.rules.batch [--as-of YYYY-MM-DD] [--reason TEXT]

runs it as its own unit of work (for a scheduler: exit status 0 on success).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Index, delete, text
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from app.db import utcnow
from app.rules.batch_load import load_columns
from app.rules.columns import IntArr
from app.rules.loader import TIERS, RuleBook, rulebook
from app.rules.models import EvaluationRun, TierDecisionRow
from app.rules.service import param_table
from app.rules.vectorised import STATUSES, TierColumns, evaluate_all


@dataclass
class BatchTimings:
    """Seconds spent in each step of one run (the bench reports them)."""

    load: float = 0.0
    evaluate: float = 0.0
    store: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.load + self.evaluate + self.store


def run_batch(
    session: Session,
    as_of: date,
    reason: str | None = None,
    actor_label: str | None = None,
    *,
    book: RuleBook | None = None,
    bulk: bool | None = None,
) -> EvaluationRun:
    """Decide every active firm for every tier on `as_of` and replace tier_decisions with the result."""
    return run_batch_timed(session, as_of, reason, actor_label, book=book, bulk=bulk)[0]


def run_batch_timed(
    session: Session,
    as_of: date,
    reason: str | None = None,
    actor_label: str | None = None,
    *,
    book: RuleBook | None = None,
    bulk: bool | None = None,
) -> tuple[EvaluationRun, BatchTimings]:
    """run_batch, and how long reading, deciding and writing took."""
    timings = BatchTimings()
    book = book or rulebook()
    run = EvaluationRun(as_of=as_of, started_at=utcnow(), reason=reason, actor=actor_label, firms=0)
    session.add(run)
    session.flush()
    t0 = time.perf_counter()
    ids, cols = load_columns(session, as_of, book)
    t1 = time.perf_counter()
    decisions = evaluate_all(cols, as_of, book, param_table(session))
    t2 = time.perf_counter()
    replace_decisions(session, run.id, as_of, ids, decisions, timings.steps, bulk=bulk)
    t3 = time.perf_counter()
    timings.load, timings.evaluate, timings.store = t1 - t0, t2 - t1, t3 - t2
    run.firms = len(ids)
    run.finished_at = utcnow()
    session.flush()
    return run, timings


# ---------------------------------------------------------------------------------------------------- storing


def _scores(tc: TierColumns, as_text: bool) -> list[str | float | None]:
    out: list[str | float | None] = [None] * len(tc.score)
    for i in np.flatnonzero(tc.score_known).tolist():
        value, scale = int(tc.score[i]), int(tc.score_scale[i])
        exact = Decimal(value) / Decimal(scale)
        out[i] = str(exact) if as_text else float(exact)
    return out


def _rows(
    run_id: int, as_of: date, ids: IntArr, decisions: dict[str, TierColumns]
) -> Iterator[tuple[str, list[tuple[object, ...]]]]:
    """Per tier, (tier, its rows as tuples in COLUMNS order), typed for sqlite3 (booleans 0/1, scores float)."""
    n = len(ids)
    day, firm_ids, run = [as_of.isoformat()] * n, ids.tolist(), [run_id] * n
    for tier in TIERS:
        if tier not in decisions:
            continue
        tc = decisions[tier]
        status = np.array(STATUSES, dtype=object)[tc.status].tolist()
        rulesets = np.array([*tc.rulesets, None], dtype=object)[tc.ruleset].tolist()  # −1 → None
        holds = tc.holds.astype(np.int64).tolist()
        columns = (
            firm_ids,
            [tier] * n,
            status,
            holds,
            _scores(tc, False),
            tc.fails.tolist(),
            tc.unknowns.tolist(),
            tc.distance.tolist(),
            rulesets,
            day,
            run,
        )
        yield tier, list(zip(*columns, strict=True))


COLUMNS = (
    "firm_id",
    "tier",
    "status",
    "holds",
    "score",
    "fails",
    "unknowns",
    "distance",
    "ruleset",
    "as_of",
    "run_id",
)


def _copy_text(value: object) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _pool_order(tc: TierColumns) -> IntArr:
    """Rows in the order of ix_tier_decisions_pool (status, holds, distance; the statuses are plain ASCII, so
    Python's order is the database's): an index built from sorted rows is built fastest."""
    rank = np.argsort(np.argsort(np.array(STATUSES)))  # each status's place in sorted order
    return np.lexsort((tc.distance, tc.holds, rank[tc.status]))


def _copy_lines(
    run_id: int, as_of: date, ids: IntArr, tier: str, tc: TierColumns, order: IntArr | None = None
) -> str:
    """One tier's rows in COPY text format, built column by column (in `order` when given)."""
    if not len(ids):
        return ""
    take = order if order is not None else np.arange(len(ids))
    status = np.array([_copy_text(x) for x in STATUSES], dtype=object)[tc.status[take]]
    rulesets = np.array([_copy_text(x) for x in [*tc.rulesets, None]], dtype=object)[tc.ruleset[take]]
    holds = np.where(tc.holds[take], "t", "f").tolist()
    every_score = _scores(tc, True)
    scores = [_copy_text(every_score[i]) for i in take.tolist()]
    tail = f"\t{as_of.isoformat()}\t{run_id}\n"
    head = f"\t{_copy_text(tier)}\t"
    cells = zip(
        map(str, ids[take].tolist()),
        status.tolist(),
        holds,
        scores,
        map(str, tc.fails[take].tolist()),
        map(str, tc.unknowns[take].tolist()),
        map(repr, tc.distance[take].tolist()),
        rulesets.tolist(),
        strict=True,
    )
    return "".join(
        f"{f}{head}{st}\t{h}\t{sc}\t{fa}\t{un}\t{di}\t{rs}{tail}" for f, st, h, sc, fa, un, di, rs in cells
    )


# From this many rows on, the replacement is a bulk load: the indexes (and on PostgreSQL the primary and foreign
# keys) are dropped, the rows written, then indexes and constraints rebuilt in one pass each — definitions
# taken from the model, so the schema after the transaction is exactly the migrated one. On PostgreSQL the rows
# go in pool-index order, which makes that index's build a merge of sorted runs. At 100k firms this turns ~13 s
# of per-row foreign-key checks and index inserts on PostgreSQL into ~4 s. The price: the transaction holds an
# exclusive lock on tier_decisions (PostgreSQL: TRUNCATE), so a pool page opened meanwhile waits for the commit
# instead of reading the previous run's rows.
BULK_ROWS = 200_000


def _pool_index() -> Index:
    table: Any = TierDecisionRow.__table__
    found: Index = next(ix for ix in table.indexes if ix.name == "ix_tier_decisions_pool")
    return found


def replace_decisions(
    session: Session,
    run_id: int,
    as_of: date,
    ids: IntArr,
    decisions: dict[str, TierColumns],
    steps: dict[str, float] | None = None,
    *,
    bulk: bool | None = None,
) -> None:
    """Every row of tier_decisions replaced by this run's, inside the session's transaction."""
    steps = steps if steps is not None else {}
    conn = session.connection()
    postgres = conn.dialect.name == "postgresql"
    if bulk is None:
        bulk = len(ids) * len(decisions) >= BULK_ROWS
    table: Any = TierDecisionRow.__table__
    # PostgreSQL can drop and re-add the keys; SQLite keeps them in the table's definition.
    keys = (
        [*sorted(table.foreign_key_constraints, key=lambda c: str(c.name)), table.primary_key]
        if postgres
        else []
    )
    t0 = time.perf_counter()
    if bulk:
        if postgres:
            # Index and constraint rebuilds sort in memory rather than on disk.
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '1GB'")
            # Dropping the keys to firms alters firms, which PostgreSQL refuses while this transaction has
            # deferred trigger events on it (the list epoch's, migration a7c3e9d2f481, after a firm was
            # written in it): they fire now instead of at commit.
            conn.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
        # Indexes first: a DELETE (SQLite, which checks foreign keys row by row) then maintains fewer.
        conn.execute(DropIndex(_pool_index()))
        for key in keys:
            conn.execute(DropConstraint(key))
        conn.execute(text("TRUNCATE tier_decisions") if postgres else delete(TierDecisionRow))
    else:
        conn.execute(delete(TierDecisionRow))
    t1 = time.perf_counter()
    raw: Any = conn.connection.dbapi_connection
    if postgres:
        from psycopg.copy import QueuedLibpqWriter

        sql = f"COPY tier_decisions ({', '.join(COLUMNS)}) FROM STDIN"
        cur = raw.cursor()
        # A background thread sends each tier's rows while the next tier's are formatted.
        with cur, cur.copy(sql, writer=QueuedLibpqWriter(cur)) as copy:
            for tier in sorted(TIERS) if bulk else TIERS:
                if tier in decisions:
                    tc = decisions[tier]
                    order = _pool_order(tc) if bulk else None
                    copy.write(_copy_lines(run_id, as_of, ids, tier, tc, order))
    else:
        sql = f"INSERT INTO tier_decisions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
        cur = raw.cursor()
        try:
            if bulk:
                # Firm by firm, tiers in key order: the primary key's index grows at its end only.
                per_tier = dict(_rows(run_id, as_of, ids, decisions))
                columns = [per_tier[t] for t in sorted(per_tier)]
                cur.executemany(sql, (row for rows in zip(*columns, strict=True) for row in rows))
            else:
                for _tier, rows in _rows(run_id, as_of, ids, decisions):
                    cur.executemany(sql, rows)
        finally:
            cur.close()
    t2 = time.perf_counter()
    if bulk:
        conn.execute(CreateIndex(_pool_index()))
        for key in reversed(keys):  # the primary key first
            conn.execute(AddConstraint(key))
    steps.update(clear=t1 - t0, write=t2 - t1, rebuild=time.perf_counter() - t2)


# -------------------------------------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    from app.audit.actor import Actor, ActorKind, act_as
    from app.audit.models import Channel
    from app.db import SessionLocal
    from app.web.formatting import today

    parser = argparse.ArgumentParser(
        prog="python -m app.rules.batch", description="重新评估全部存续企业的梯度资格"
    )
    parser.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="评估日期 YYYY-MM-DD（默认今天）"
    )
    parser.add_argument("--reason", default="定时评估", help="原因（记入评估记录）")
    args = parser.parse_args(argv)
    as_of = args.as_of or today()
    with SessionLocal() as session:
        act_as(session, Actor(kind=ActorKind.job, label="批量评估", channel=Channel.system), args.reason)
        run, timings = run_batch_timed(session, as_of, args.reason, "批量评估（命令行）")
        session.commit()
    print(
        f"评估记录 #{run.id}：{as_of.isoformat()} 评估 {run.firms:,} 家存续企业 × {len(TIERS)} 个梯度，"
        f"用时 {timings.total:.1f} 秒（读取 {timings.load:.1f}，计算 {timings.evaluate:.1f}，"
        f"写入 {timings.store:.1f}）"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
