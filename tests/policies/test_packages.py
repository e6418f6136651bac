"""服务包: attached by tier or tag (idempotent, only active firms with valid recognitions), attached when a
recognition is recorded, and the /packages page: scope, read-only leaders, in-place changes audited."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.firms.models import FirmStatus, FirmTag
from app.policies import packages
from app.policies.models import FirmPackage, FirmService, ServiceStatus
from app.web.formatting import today
from tests.conftest import CSRF_TOKEN
from tests.factories import FirmFactory, RecognitionFactory
from tests.policies.factories_plans import ServicePackageFactory

Login = Callable[[TestClient, User], dict[str, str]]
HTMX_TABLE = {"HX-Request": "true", "HX-Target": "package-table"}


def form(**fields: str) -> dict[str, str]:
    return {"csrf_token": CSRF_TOKEN, **fields}


def attached(db: Session, firm_id: int) -> list[FirmPackage]:
    return list(db.scalars(select(FirmPackage).where(FirmPackage.firm_id == firm_id)))


def services_of(db: Session, firm_package: FirmPackage) -> list[FirmService]:
    return list(
        db.scalars(
            select(FirmService).where(FirmService.firm_package_id == firm_package.id).order_by(FirmService.id)
        )
    )


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.officer, parks=["jingan"], display_name="王专员")


@pytest.fixture
def top_package() -> object:
    return ServicePackageFactory(
        code="top_firm",
        name="链主/领军/独角兽/隐形冠军服务包",
        tiers=["unicorn", "hidden_champion"],
        tags=["链主", "领军企业"],
        services=["场景应用", "投融资服务", "市场开拓", "产品推广"],
    )


# --- sync ---------------------------------------------------------------------------------------------------


def test_a_firm_holding_a_valid_hnte_gets_the_package_with_its_officer_as_steward(
    db: Session, officer: User
) -> None:
    package = ServicePackageFactory(services=["政策申报辅导", "知识产权服务"])
    firm = FirmFactory(officer_id=officer.id)
    RecognitionFactory(firm=firm, tier="hnte")

    result = packages.sync_packages(db, today=today())

    [fp] = attached(db, firm.id)
    assert result.created == [fp]
    assert fp.package_id == package.id
    assert fp.steward_id == officer.id
    assert fp.reason == "持有高新技术企业认定"
    assert fp.attached_on == today()
    services = services_of(db, fp)
    assert [s.name for s in services] == ["政策申报辅导", "知识产权服务"]
    assert {s.status for s in services} == {ServiceStatus.pending}
    assert all(s.firm_id == firm.id for s in services)


def test_a_firm_carrying_a_current_tag_gets_the_package_and_an_ended_tag_does_not(
    db: Session, top_package: object
) -> None:
    chain_leader = FirmFactory()
    db.add(FirmTag(firm_id=chain_leader.id, tag="链主", valid_from=today() - timedelta(days=30)))
    former = FirmFactory()
    db.add(
        FirmTag(
            firm_id=former.id,
            tag="链主",
            valid_from=today() - timedelta(days=400),
            valid_to=today() - timedelta(days=30),
        )
    )
    db.flush()

    packages.sync_packages(db, today=today())

    [fp] = attached(db, chain_leader.id)
    assert fp.reason == "标签：链主"
    assert [s.name for s in services_of(db, fp)] == ["场景应用", "投融资服务", "市场开拓", "产品推广"]
    assert attached(db, former.id) == []


def test_the_highest_tier_held_is_the_reason_when_several_match(db: Session) -> None:
    ServicePackageFactory()
    firm = FirmFactory()
    RecognitionFactory(firm=firm, tier="hnte")
    RecognitionFactory(firm=firm, tier="little_giant")

    packages.sync_packages(db, today=today())

    [fp] = attached(db, firm.id)
    assert fp.reason == "持有专精特新“小巨人”企业认定"


def test_syncing_twice_attaches_each_package_once(db: Session) -> None:
    ServicePackageFactory()
    firm = FirmFactory()
    RecognitionFactory(firm=firm, tier="srdi_sme")

    first = packages.sync_packages(db, today=today())
    second = packages.sync_packages(db, today=today())

    assert len(first.created) == 1 and second.created == [] and second.services == 0
    [fp] = attached(db, firm.id)
    assert len(services_of(db, fp)) == 2


@pytest.mark.parametrize(
    "case",
    [
        "the firm has moved out of the district",
        "the recognition expired last month",
        "the recognition was revoked ten days ago",
        "the recognition is of a tier the package does not name",
    ],
)
def test_no_package_is_attached_when(db: Session, case: str) -> None:
    ServicePackageFactory()
    firm = FirmFactory(status=FirmStatus.moved_out if "moved out" in case else FirmStatus.active)
    if "expired" in case:
        RecognitionFactory(firm=firm, expired=True)
    elif "revoked" in case:
        RecognitionFactory(firm=firm, revoked=True)
    elif "does not name" in case:
        RecognitionFactory(firm=firm, tier="tech_sme")
    else:
        RecognitionFactory(firm=firm)

    result = packages.sync_packages(db, today=today())

    assert result.created == []
    assert attached(db, firm.id) == []


def test_sync_limited_to_some_firms_leaves_the_others_alone(db: Session) -> None:
    ServicePackageFactory()
    mine, other = FirmFactory(), FirmFactory()
    RecognitionFactory(firm=mine)
    RecognitionFactory(firm=other)

    packages.sync_packages(db, today=today(), firm_ids=[mine.id])

    assert len(attached(db, mine.id)) == 1
    assert attached(db, other.id) == []


def test_the_scheduled_run_acts_as_the_job_and_is_audited(db: Session) -> None:
    ServicePackageFactory()
    firm = FirmFactory()
    RecognitionFactory(firm=firm)

    result = packages.run(db, today=today())

    [fp] = result.created
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.entity == "firm_packages", AuditEntry.entity_id == fp.id)
    ).one()
    assert entry.action == "create" and entry.actor_label == "服务包同步" and entry.firm_id == firm.id


# --- attached when a recognition is recorded ------------------------------------------------------------


def test_recording_a_recognition_on_the_firm_file_attaches_the_package(
    client: TestClient, login: Login, db: Session, officer: User
) -> None:
    ServicePackageFactory()
    firm = FirmFactory(officer_id=officer.id)
    login(client, officer)

    response = client.post(
        f"/firms/{firm.id}/recognitions",
        data=form(
            tier="srdi_sme",
            kind="first",
            level="municipal",
            certificate_no="ZJTX-PKG-001",
            issued_on=(today() - timedelta(days=5)).isoformat(),
        ),
        follow_redirects=False,
    )

    assert response.status_code == 303
    [fp] = attached(db, firm.id)
    assert fp.reason == "持有专精特新中小企业认定" and fp.steward_id == officer.id


def test_recording_a_recognition_through_the_api_attaches_the_package(
    client: TestClient, bearer: Callable[[User], dict[str, str]], db: Session, officer: User
) -> None:
    ServicePackageFactory()
    firm = FirmFactory()

    response = client.post(
        f"/api/v1/firms/{firm.id}/recognitions",
        json={"tier": "hnte", "issued_on": (today() - timedelta(days=3)).isoformat()},
        headers=bearer(officer),
    )

    assert response.status_code == 201
    assert len(attached(db, firm.id)) == 1


# --- the page --------------------------------------------------------------------------------------------


def _package_for(db: Session, firm: object, **package: object) -> FirmPackage:
    ServicePackageFactory(**package)
    RecognitionFactory(firm=firm)
    packages.sync_packages(db, today=today(), firm_ids=[firm.id])  # type: ignore[attr-defined]
    return attached(db, firm.id)[0]  # type: ignore[attr-defined]


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/packages", follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"] == "/login?next=/packages"


def test_the_list_shows_firms_in_my_parks_only_with_their_services(
    client: TestClient, login: Login, db: Session, officer: User
) -> None:
    mine = FirmFactory(name="上海静安链谷科技有限公司")
    theirs = FirmFactory(name="上海杨浦创谷科技有限公司", park="yangpu")
    _package_for(db, mine, name="专精特新/高企服务包")
    RecognitionFactory(firm=theirs)
    packages.sync_packages(db, today=today())
    login(client, officer)

    response = client.get("/packages")

    assert response.status_code == 200
    assert response.template.name == "policies/packages.html"  # type: ignore[attr-defined]
    html = response.text
    assert html.startswith("<!doctype html>")
    assert "上海静安链谷科技有限公司" in html and "上海杨浦创谷科技有限公司" not in html
    assert "专精特新/高企服务包" in html and "政策申报辅导" in html and "未开始" in html
    assert "同步服务包" in html
    assert 'aria-current="page">服务包</a>' in html


def test_htmx_asking_for_the_package_table_gets_only_that_block(
    client: TestClient, login: Login, db: Session, officer: User
) -> None:
    _package_for(db, FirmFactory())
    login(client, officer)

    response = client.get("/packages", headers=HTMX_TABLE)

    assert response.status_code == 200
    html = response.text.strip()
    assert html.startswith('<div id="package-table">') and "<html" not in html
    assert "HX-Target" in response.headers["vary"]


def test_filters_by_package_and_by_service_status(
    client: TestClient, login: Login, db: Session, officer: User
) -> None:
    a = FirmFactory(name="上海甲科技有限公司")
    b = FirmFactory(name="上海乙科技有限公司")
    fp_a = _package_for(db, a, code="alpha", name="甲服务包")
    _package_for(db, b, code="beta", name="乙服务包", tiers=["srdi_sme"])
    RecognitionFactory(firm=b, tier="srdi_sme")
    packages.sync_packages(db, today=today())
    first = services_of(db, fp_a)[0]
    first.status = ServiceStatus.done
    db.flush()
    login(client, officer)

    by_package = client.get("/packages", params={"package": "beta"}).text
    done = client.get("/packages", params={"status": "done"}).text

    assert "上海乙科技有限公司" in by_package and "上海甲科技有限公司" not in by_package
    assert "上海甲科技有限公司" in done and "上海乙科技有限公司" not in done


def test_the_list_runs_the_same_number_of_queries_for_one_or_many_firms(
    client: TestClient, login: Login, db: Session, officer: User, query_counter: Callable[[], object]
) -> None:
    ServicePackageFactory()
    firm = FirmFactory()
    RecognitionFactory(firm=firm)
    packages.sync_packages(db, today=today())
    login(client, officer)
    client.get("/packages")  # warm up the session and template caches
    with query_counter() as one:  # type: ignore[attr-defined]
        client.get("/packages")
    for _ in range(6):
        RecognitionFactory(firm=FirmFactory(officer_id=officer.id))
    packages.sync_packages(db, today=today())
    with query_counter() as many:  # type: ignore[attr-defined]
        response = client.get("/packages")

    assert response.text.count('id="firm-package-') == 7
    assert len(many) == len(one)


def test_changing_a_service_status_in_place_is_audited_old_to_new(
    client: TestClient, login: Login, db: Session, officer: User
) -> None:
    fp = _package_for(db, FirmFactory())
    service = services_of(db, fp)[0]
    headers = login(client, officer)

    response = client.post(
        f"/packages/services/{service.id}",
        data=form(new_status="in_progress", note="已对接区科委政策申报辅导"),
        headers={**headers, **HTMX_TABLE},
    )

    assert response.status_code == 200
    assert response.text.strip().startswith('<div id="package-table">')
    assert "服务中" in response.text and "已对接区科委政策申报辅导" in response.text
    db.refresh(service)
    assert service.status == ServiceStatus.in_progress
    entries = {
        e.field: e
        for e in db.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "firm_services",
                AuditEntry.entity_id == service.id,
                AuditEntry.action == "update",
            )
        )
    }
    assert entries["status"].old_value in ("pending", "未开始")
    assert entries["status"].new_value in ("in_progress", "服务中")
    assert entries["status"].actor_id == officer.id
    assert entries["note"].new_value == "已对接区科委政策申报辅导"


def test_a_plain_form_post_changes_the_status_and_redirects_to_the_list_with_its_filters(
    client: TestClient, login: Login, db: Session, officer: User
) -> None:
    fp = _package_for(db, FirmFactory(), code="alpha")
    service = services_of(db, fp)[0]
    login(client, officer)

    response = client.post(
        f"/packages/services/{service.id}",
        data=form(new_status="done", package="alpha", status="pending"),
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/packages?package=alpha&status=pending"
    db.refresh(service)
    assert service.status == ServiceStatus.done


def test_an_unknown_status_is_refused_in_chinese(
    client: TestClient, login: Login, db: Session, officer: User
) -> None:
    fp = _package_for(db, FirmFactory())
    service = services_of(db, fp)[0]
    login(client, officer)

    response = client.post(f"/packages/services/{service.id}", data=form(new_status="finished"))

    assert response.status_code == 422 and "请选择有效的服务状态" in response.text


def test_an_officer_cannot_see_or_change_a_service_outside_their_parks(
    client: TestClient, login: Login, db: Session, make_user: Callable[..., User]
) -> None:
    fp = _package_for(db, FirmFactory(park="yangpu"))
    service = services_of(db, fp)[0]
    login(client, make_user(Role.officer, parks=["jingan"]))

    update = client.post(f"/packages/services/{service.id}", data=form(new_status="done"))
    steward = client.post(f"/packages/{fp.id}/steward", data=form(steward_id=""))
    section = client.get(f"/packages/firm/{fp.firm_id}")

    assert update.status_code == 404 and steward.status_code == 404 and section.status_code == 404
    db.refresh(service)
    assert service.status == ServiceStatus.pending


def test_leaders_read_the_list_but_cannot_change_anything(
    client: TestClient, login: Login, db: Session, make_user: Callable[..., User]
) -> None:
    fp = _package_for(db, FirmFactory())
    service = services_of(db, fp)[0]
    login(client, make_user(Role.leader))

    page = client.get("/packages")
    update = client.post(f"/packages/services/{service.id}", data=form(new_status="done"))
    sync = client.post("/packages/sync", data=form())

    assert page.status_code == 200 and "政策申报辅导" in page.text
    assert "同步服务包" not in page.text and "更换管家" not in page.text
    assert update.status_code == 403 and "领导账号仅可查看服务包" in update.text
    assert sync.status_code == 403


def test_firm_users_never_see_the_packages(
    client: TestClient, login: Login, make_user: Callable[..., User]
) -> None:
    firm = FirmFactory()
    login(client, make_user(Role.firm, firm=firm))

    assert client.get("/packages").status_code == 403
    assert client.get(f"/packages/firm/{firm.id}").status_code == 403


def test_the_steward_can_be_handed_to_another_officer_of_the_park_only(
    client: TestClient, login: Login, db: Session, officer: User, make_user: Callable[..., User]
) -> None:
    fp = _package_for(db, FirmFactory(officer_id=officer.id))
    colleague = make_user(Role.officer, parks=["jingan"], display_name="李专员")
    stranger = make_user(Role.officer, parks=["hongkou"], display_name="陈专员")
    login(client, officer)

    page = client.get("/packages").text
    refused = client.post(f"/packages/{fp.id}/steward", data=form(steward_id=str(stranger.id)))
    moved = client.post(
        f"/packages/{fp.id}/steward", data=form(steward_id=str(colleague.id)), follow_redirects=False
    )

    assert "李专员" in page and "陈专员" not in page
    assert refused.status_code == 422 and "服务管家应为该企业所在园区的在岗专员或管理员" in refused.text
    assert moved.status_code == 303
    db.refresh(fp)
    assert fp.steward_id == colleague.id


def test_the_sync_button_attaches_packages_for_firms_in_my_parks_only(
    client: TestClient, login: Login, db: Session, officer: User
) -> None:
    ServicePackageFactory()
    mine, theirs = FirmFactory(), FirmFactory(park="yangpu")
    RecognitionFactory(firm=mine)
    RecognitionFactory(firm=theirs)
    headers = login(client, officer)

    response = client.post("/packages/sync", data=form(), headers={**headers, **HTMX_TABLE})
    again = client.post("/packages/sync", data=form(), follow_redirects=False)

    assert response.status_code == 200 and "已为 1 家次企业新配置服务包" in response.text
    assert len(attached(db, mine.id)) == 1 and attached(db, theirs.id) == []
    assert again.status_code == 303 and again.headers["location"] == "/packages?synced=0"
    assert "没有需要新配置的服务包" in client.get(again.headers["location"]).text
    assert db.scalar(select(func.count(FirmPackage.id))) == 1


def test_the_firm_file_loads_its_packages_section_with_htmx_and_it_works_as_a_page(
    client: TestClient, login: Login, db: Session, officer: User
) -> None:
    firm = FirmFactory()
    _package_for(db, firm, name="专精特新/高企服务包")
    login(client, officer)

    file_page = client.get(f"/firms/{firm.id}").text
    fragment = client.get(
        f"/packages/firm/{firm.id}", headers={"HX-Request": "true", "HX-Target": "firm-packages"}
    )
    page = client.get(f"/packages/firm/{firm.id}")

    placeholder = re.search(r'<section id="firm-packages"[^>]*>', file_page)
    assert placeholder and f'hx-get="/packages/firm/{firm.id}"' in placeholder.group(0)
    assert fragment.text.strip().startswith('<section id="firm-packages"')
    assert "专精特新/高企服务包" in fragment.text and "hx-trigger" not in fragment.text
    assert "新建一企一策" in fragment.text
    assert page.text.startswith("<!doctype html>") and "专精特新/高企服务包" in page.text
