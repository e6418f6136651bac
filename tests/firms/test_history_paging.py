"""The change history's total holds on every page (firm_history counts only when a page does not tell)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.auth.models import Role
from tests.factories import FirmFactory


def test_every_page_of_the_history_has_the_same_total(
    client: TestClient, make_user: Any, bearer: Any, db: Session
) -> None:
    officer = make_user(Role.officer, parks=["jingan"])
    headers = bearer(officer)
    firm = FirmFactory(address="地址 0")
    for n in range(1, 4):
        version = client.get(f"/api/v1/firms/{firm.id}", headers=headers).json()["version"]
        client.patch(
            f"/api/v1/firms/{firm.id}",
            json={"version": version, "address": f"地址 {n}", "reason": "测试"},
            headers=headers,
        ).raise_for_status()
    total = db.scalar(select(func.count()).where(AuditEntry.firm_id == firm.id))
    assert total and total >= 3
    url = f"/api/v1/firms/{firm.id}/history"
    seen = []
    for offset in range(0, total + 2, 2):
        page = client.get(url, params={"limit": 2, "offset": offset}, headers=headers).json()
        assert page["total"] == total, offset
        seen += page["items"]
    assert len(seen) == total
    whole = client.get(url, params={"limit": total + 5}, headers=headers).json()
    assert whole["total"] == total and whole["items"] == seen
    past_the_end = client.get(url, params={"limit": 2, "offset": total + 10}, headers=headers).json()
    assert past_the_end == {"total": total, "items": []}
