from __future__ import annotations

from collections import Counter
from datetime import date

from app.firms import uscc
from app.indicators.models import Source
from app.tiers.codes import Tier
from seeds.fake import TABLE_ORDER, firm_rows, reference_data, table_batches

TODAY = date(2026, 9, 15)


def _identities(day: date, n: int = 60) -> list[tuple[str, str]]:
    return [(f["firms"][0]["name"], f["firms"][0]["uscc"]) for f in firm_rows(n, today=day)]


def test_the_same_day_gives_the_same_firms_and_another_day_others() -> None:
    assert _identities(TODAY) == _identities(TODAY)
    assert _identities(TODAY) != _identities(date(2026, 9, 16))


def test_every_uscc_is_valid_unique_and_registered_where_the_firm_is() -> None:
    admin_codes = reference_data().admin_codes
    firms = [rows["firms"][0] for rows in firm_rows(600, today=TODAY)]
    codes = [f["uscc"] for f in firms]
    assert len(set(codes)) == len(codes)
    for firm in firms:
        assert uscc.validate(firm["uscc"]) == firm["uscc"]
        assert firm["uscc"][2:8] == admin_codes[firm["district_code"]]


def test_names_are_unique_chinese_company_names_and_some_firms_were_renamed() -> None:
    rows = list(firm_rows(600, today=TODAY))
    names = [n["name"] for r in rows for n in r["firm_names"]]
    assert len(set(names)) == len(names)
    assert all(name.endswith("有限公司") and "上海" in name for name in names)
    renamed = [r for r in rows if len(r["firm_names"]) == 2]
    assert 20 <= len(renamed) <= 80
    for r in renamed:
        old, new = r["firm_names"]
        assert old["valid_to"] is not None and new["valid_to"] is None
        assert old["name"].lower() in r["firms"][0]["search_text"]


def test_yearly_amounts_hang_together() -> None:
    for rows in firm_rows(200, today=TODAY):
        reported = [y for y in rows["firm_years"] if y["source"] is Source.firm_reported]
        assert {y["year"] for y in reported} <= set(range(TODAY.year - 4, TODAY.year))
        for y in reported:
            assert 0 < y["tech_staff"] <= y["employees"]
            assert y["total_liabilities"] <= y["total_assets"]
            assert y["main_revenue"] <= y["revenue"]
            if y["rd_expense"] is not None:
                assert 0.02 <= y["rd_expense"] / y["revenue"] <= 0.15
                assert y["rd_expense_domestic"] <= y["rd_expense"]


def test_the_pyramid_narrows_towards_the_top() -> None:
    held: Counter[str] = Counter()
    for rows in firm_rows(600, today=TODAY):
        tiers = {
            r["tier"]
            for r in rows["recognitions"]
            if r["issued_on"] <= TODAY <= r["expires_on"] and r["revoked_on"] is None
        }
        held.update(tiers)
    assert held[Tier.tech_sme] > held[Tier.hnte] > held[Tier.srdi_sme] > held[Tier.little_giant] > 0
    assert 1 <= held[Tier.unicorn] + held[Tier.hidden_champion] <= 3


def test_batches_group_rows_by_table_with_explicit_firm_ids() -> None:
    batches = list(table_batches(25, today=TODAY, first_id=1001, batch_size=10))
    assert [len(b["firms"]) for b in batches] == [10, 10, 5]
    assert all(list(b) == list(TABLE_ORDER) for b in batches)
    ids = [f["id"] for b in batches for f in b["firms"]]
    assert ids == list(range(1001, 1026))
    assert {r["firm_id"] for b in batches for r in b["fact_observations"]} <= set(ids)
    # Same firms as the per-firm generator.
    assert [f["uscc"] for b in batches for f in b["firms"]] == [u for _, u in _identities(TODAY, 25)]
