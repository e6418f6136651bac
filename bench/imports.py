"""`python -m bench.imports`: a 100k-row roster import (issue 6 target: ≤ 60 s, peak memory ≤ 500 MB).

Generates a roster (.xlsx written by XlsxWriter as Excel writes it, or .csv in GBK) of N firms under a
title row, imports it into a scratch SQLite database migrated by alembic (var/bench/imports.db, rebuilt
each run) as a 静安 officer would: dry run, commit, then the same file again (all unchanged). Prints
wall times and the process's peak RSS (resource.getrusage): the file bytes, the reader and the ORM.
"""

from __future__ import annotations

import argparse
import csv
import io
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from bench.generate import migrate
from bench.targets import BENCH_DIR

PARKS = ("静安园",)
AREAS = ("市北", "大宁", "苏河湾", None)
INDUSTRIES = ("人工智能", "大数据", "云计算", None)


def _uscc(n: int) -> str:
    from app.firms.uscc import build

    return build("91310106", f"{60000000 + n:08d}")


def roster_rows(size: int) -> list[list[object]]:
    rows: list[list[object]] = [["企业名称", "统一社会信用代码", "所属园区", "功能区", "行业", "成立日期"]]
    for i in range(size):
        rows.append(
            [
                f"上海基准测试科技有限公司{i:06d}",
                _uscc(i),
                PARKS[0],
                AREAS[i % 4],
                INDUSTRIES[i % 4],
                f"20{10 + i % 14}-0{1 + i % 9}-1{i % 9}",
            ]
        )
    return rows


def write_xlsx(rows: list[list[object]]) -> bytes:
    """As Excel writes it (shared strings), by XlsxWriter: not the project's own exporter."""
    import xlsxwriter

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet("名册")
    ws.merge_range(0, 0, 0, len(rows[0]) - 1, "2025 年静安园企业名册（基准）")
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is not None:
                ws.write_string(r, c, str(value))
    wb.close()
    return out.getvalue()


def write_csv(rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["2025 年静安园企业名册（基准）"])
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode("gbk")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    args = parser.parse_args(argv)

    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from app.audit.actor import SYSTEM, act_as
    from app.audit.models import Channel
    from app.auth.dependencies import principal_for
    from app.auth.models import Role, User
    from app.auth.service import create_user
    from app.db import make_engine
    from app.imports import service
    from app.imports.models import ImportRun
    from app.storage import LocalStorage
    from app.web.formatting import today
    from seeds.reference import load_reference

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    db_path = BENCH_DIR / "imports.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db_path}"
    migrate(url)
    engine = make_engine(url)
    storage = LocalStorage(BENCH_DIR / "import-files")
    t0 = time.perf_counter()
    rows = roster_rows(args.size)
    data = write_xlsx(rows) if args.format == "xlsx" else write_csv(rows)
    del rows
    seconds = time.perf_counter() - t0
    print(f"generated {args.size:,}-row {args.format}: {len(data) / 1e6:.1f} MB in {seconds:.1f} s")
    base_rss = peak_mb()
    with Session(engine) as session:
        act_as(session, SYSTEM)
        load_reference(session)
        user = create_user(
            session,
            username="bench_officer",
            display_name="基准专员",
            password="bench-password-0123456789",
            role=Role.officer,
            park_codes=["jingan"],
        )
        session.commit()
        session.refresh(user)
        user = session.scalars(select(User).where(User.id == user.id).options(selectinload(User.parks))).one()
        principal = principal_for(user, Channel.import_)
    results = []
    run_id = 0
    for label, commit in (("dry run", False), ("commit", True), ("re-import dry run", False)):
        with Session(engine, expire_on_commit=False) as session:
            act_as(session, principal.actor)
            if label == "commit":
                run = session.get(ImportRun, run_id)
            else:
                run = service.upload(
                    session, principal, storage, kind="firms", filename=f"bench.{args.format}", data=data
                )
            run_id = run.id
            t = time.perf_counter()
            run = service.execute(session, principal, storage, run, commit=commit, today=today())
            session.commit()
            seconds = time.perf_counter() - t
            results.append((label, seconds))
            print(
                f"{label}: {seconds:.1f} s — rows {run.rows:,}, new {run.new:,}, updated {run.updated:,}, "
                f"unchanged {run.unchanged:,}, rejected {run.rejected:,}; status {run.status}; "
                f"peak RSS so far {peak_mb():.0f} MB",
                flush=True,
            )
    engine.dispose()
    total = results[0][1] + results[1][1]
    peak = peak_mb()
    ok = total <= 60 and peak <= 500
    print(
        f"\n100k-row roster import (dry run + commit): {total:.1f} s, peak RSS {peak:.0f} MB "
        f"(generator baseline {base_rss:.0f} MB) — {'✅' if ok else '❌'} target ≤ 60 s, ≤ 500 MB"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
