"""`python -m app.reports.close`: closes a month, writes the workbook, safe to repeat, reports differences."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from app.reports import close, repository
from app.tiers.codes import Tier
from tests.factories import FirmFactory, RecognitionFactory
from tests.reports import ledger

TODAY = date(2026, 12, 2)


@pytest.fixture
def command_sessions(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    # The command's own session on the test's connection: its commit releases a savepoint.
    factory = sessionmaker(
        bind=db.connection(),
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    )
    monkeypatch.setattr(close, "_sessions", lambda: factory)


def test_the_command_closes_the_month_and_writes_the_report(
    db: Session, command_sessions: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger.build()
    db.flush()
    assert close.main(["2026-10", "--out", str(tmp_path), "--today", TODAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "2026年10月已关账，数据已冻结" in out
    workbook = tmp_path / "2026-10月度梯度报表.xlsx"
    detail = list(load_workbook(workbook)["明细"].iter_rows(min_row=4, values_only=True))
    assert detail[-1][0] == "合计" and detail[-1][4] == 10
    assert "2026-10" in repository.closed_months(db, ["2026-10"])

    # Run again by the scheduler: nothing to do.
    assert close.main(["2026-10", "--out", str(tmp_path), "--today", TODAY.isoformat()]) == 0
    assert "此前已关账，数据与台账一致" in capsys.readouterr().out

    # A late entry: the command reports the difference and restates nothing without a reason.
    late = FirmFactory(park="jingan", park__valid_from=ledger.SINCE)
    RecognitionFactory(firm=late, tier=Tier.hnte, issued_on=date(2026, 10, 8), expires_on=date(2029, 10, 7))
    db.flush()
    assert close.main(["2026-10", "--out", str(tmp_path), "--today", TODAY.isoformat()]) == close.PENDING
    assert "counts jingan hnte: 5 → 6" in capsys.readouterr().err
    assert repository.restatements(db, "2026-10", None) == []
    args = ["2026-10", "--reason", "补录认定", "--out", str(tmp_path), "--today", TODAY.isoformat()]
    assert close.main(args) == 0
    assert "已记录 2 项更正" in capsys.readouterr().out
    assert [(r.key, r.old_value, r.new_value) for r in repository.restatements(db, "2026-10", None)] == [
        ("hnte", 5, 6),
        ("2", 5, 6),
    ]


def test_the_command_refuses_a_month_not_yet_ended(
    db: Session, command_sessions: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert close.main(["2026-12", "--out", str(tmp_path), "--today", TODAY.isoformat()]) == close.REFUSED
    assert "尚未结束" in capsys.readouterr().err
    assert close.main(["2026-1", "--today", TODAY.isoformat()]) == close.REFUSED
