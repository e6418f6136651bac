from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.reference.models import Area, Carrier, District, Industry, Park, PlanTarget
from app.tiers.codes import Tier
from seeds.fake import reference_data
from seeds.names import AREA_ROADS, DISTRICT_ROADS, INDUSTRY_WORDS
from seeds.reference import load_reference, read_seed


def _counts(db: Session) -> dict[str, int]:
    models = (District, Park, Area, Carrier, Industry, PlanTarget)
    return {m.__tablename__: db.scalar(select(func.count()).select_from(m)) or 0 for m in models}


def test_loading_twice_changes_nothing_and_restores_edited_rows(db: Session) -> None:
    load_reference(db)
    first = _counts(db)
    db.get_one(Park, "yangpu").name = "改错的名字"
    db.flush()
    load_reference(db)
    assert _counts(db) == first
    assert db.get_one(Park, "yangpu").name == "杨浦园"


def test_all_sixteen_districts_and_each_park_in_its_own_district(db: Session) -> None:
    load_reference(db)
    assert db.scalar(select(func.count()).select_from(District)) == 16
    assert db.get_one(District, "pudong").name == "浦东新区"
    parks = {p.code: (p.name, p.district_code) for p in db.scalars(select(Park))}
    assert parks == {
        "jingan": ("静安园", "jingan"),
        "yangpu": ("杨浦园", "yangpu"),
        "hongkou": ("虹口园", "hongkou"),
    }


def test_functional_areas_carriers_and_industries_from_the_plans(db: Session) -> None:
    load_reference(db)
    assert db.get_one(Area, "jingan.nanxi").name == "南京西路（南西）"
    assert db.get_one(Area, "yangpu.future_valley").park_code == "yangpu"
    assert db.get_one(Area, "hongkou.north_bund").name == "北外滩"
    juneng = db.get_one(Carrier, "jingan.juneng_bay")
    assert (juneng.kind, juneng.area_code) == ("incubator", "jingan.shibei")
    assert db.get_one(Carrier, "yangpu.fudan_usp").kind == "university_park"
    assert db.get_one(Carrier, "hongkou.huayuanfang").name == "花园坊节能环保产业园"
    assert db.get_one(Industry, "digital.ai").parent_code == "digital"
    assert db.get_one(Industry, "uhd_video").parent_code is None


def test_both_jingan_hnte_targets_are_kept_with_their_sources(db: Session) -> None:
    load_reference(db)
    targets = db.scalars(
        select(PlanTarget).where(PlanTarget.park_code == "jingan", PlanTarget.tier == Tier.hnte)
    ).all()
    assert sorted((t.value, t.by_year, t.source) for t in targets) == [
        (Decimal("400"), 2025, "jingan-park-14th-five-year-plan"),
        (Decimal("800"), 2025, "jingan-sci-tech-innovation-plan-2023-2025"),
    ]
    assert (
        db.scalar(select(PlanTarget).where(PlanTarget.code == "jingan.hnte.2025.sci_tech_plan")) is not None
    )
    rd = db.scalars(
        select(PlanTarget).where(PlanTarget.code == "yangpu.rd_intensity.2026.park_action_plan")
    ).one()
    assert (rd.value, rd.unit) == (Decimal("5"), "%")


def test_every_code_the_files_refer_to_exists() -> None:
    areas = {a["code"]: a["park_code"] for a in read_seed("areas")}
    industries = {i["code"] for i in read_seed("industries")}
    for carrier in read_seed("carriers"):
        assert carrier["area_code"] is None or areas[carrier["area_code"]] == carrier["park_code"]
    for industry in read_seed("industries"):
        assert industry["parent_code"] is None or industry["parent_code"] in industries
    for target in read_seed("plan_targets"):
        assert target["tier"] is None or target["tier"] in set(Tier)
    ref = reference_data()
    for park, leads in ref.lead_industries.items():
        assert set(leads) <= industries, park
        assert all(code in INDUSTRY_WORDS for code in leads)
    assert set(AREA_ROADS) == set(areas)
    assert set(DISTRICT_ROADS) == set(ref.district_names)
