"""Operations on the firm file: create, edit (versioned), rename, move between parks, tags, contacts."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.actor import set_reason
from app.audit.models import PersonalDataAccess
from app.auth.models import Role, User, UserPark
from app.auth.principal import Principal
from app.errors import Conflict, NotPermitted, RuleViolation
from app.firms import repository
from app.firms.models import Contact, Firm, FirmName, FirmStatus, FirmStatusPeriod, FirmTag, Membership
from app.firms.schemas import ContactIn, FirmCreate, FirmUpdate
from app.firms.search import search_text_for
from app.reference.models import Area, Carrier, District, Industry, Park


def ensure_can_edit(principal: Principal) -> None:
    if not principal.can_edit_firms:
        raise NotPermitted("您的角色只能查看，不能修改企业档案")


def _check_placement(
    session: Session,
    principal: Principal,
    *,
    park: str,
    area: str | None,
    carrier: str | None,
    industry: str | None,
    check_scope: bool = True,
) -> None:
    """Codes exist, belong together, and (when placing into a park) the park is one the officer serves."""
    if session.get(Park, park) is None:
        raise RuleViolation("园区代码无效", field="park")
    if check_scope and not principal.may_use_park(park):
        raise RuleViolation("只能把企业归入您负责的园区", field="park")
    if area is not None:
        found = session.get(Area, area)
        if found is None or found.park_code != park:
            raise RuleViolation("功能区不属于所选园区", field="area")
    if carrier is not None:
        found_c = session.get(Carrier, carrier)
        if found_c is None or found_c.park_code != park:
            raise RuleViolation("载体不属于所选园区", field="carrier")
    if industry is not None and session.get(Industry, industry) is None:
        raise RuleViolation("行业代码无效", field="industry")


def _check_officer(session: Session, officer_id: int | None, park: str) -> None:
    if officer_id is None:
        return
    user = session.get(User, officer_id)
    if user is None or user.role not in (Role.officer, Role.admin) or not user.is_active:
        raise RuleViolation("服务专员无效", field="officer_id")
    if user.role is Role.officer:
        serves = session.scalar(
            select(UserPark.park_code).where(UserPark.user_id == officer_id, UserPark.park_code == park)
        )
        if serves is None:
            raise RuleViolation("该专员不负责此园区", field="officer_id")


def _check_district(session: Session, district: str | None) -> None:
    if district is not None and session.get(District, district) is None:
        raise RuleViolation("注册地代码无效", field="district")


def _check_uscc_free(session: Session, uscc: str, firm_id: int | None = None) -> None:
    other = repository.get_by_uscc(session, uscc)
    if other is not None and other.id != firm_id:
        raise RuleViolation(f"该统一社会信用代码已登记（{other.name}）", field="uscc")


def _clean_tags(tags: list[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if not tag:
            continue
        if len(tag) > 32:
            raise RuleViolation("标签不能超过 32 个字", field="tags")
        if tag not in out:
            out.append(tag)
    return out


def place(firm: Firm, membership: Membership | None) -> None:
    """Copy the open membership's placement onto the firm (what lists and the park scope read)."""
    open_one = membership if membership is not None and membership.valid_to is None else None
    firm.park_code = open_one.park_code if open_one else None
    firm.area_code = open_one.area_code if open_one else None
    firm.industry_code = open_one.industry_code if open_one else None


def create_firm(session: Session, principal: Principal, data: FirmCreate, *, today: date) -> Firm:
    """Register a firm: name, USCC and park are enough; the rest may come later."""
    if not principal.can_create_firms:
        raise NotPermitted("您的角色不能新建企业档案")
    set_reason(session, data.reason)
    _check_uscc_free(session, data.uscc)
    _check_placement(
        session, principal, park=data.park, area=data.area, carrier=data.carrier, industry=data.industry
    )
    _check_district(session, data.district)
    officer_id = data.officer_id
    if officer_id is None and principal.role is Role.officer:
        officer_id = principal.user_id
    _check_officer(session, officer_id, data.park)
    joined = data.joined_on or today
    firm = Firm(
        name=data.name,
        uscc=data.uscc,
        founded_on=data.founded_on,
        district_code=data.district,
        address=data.address,
        status=FirmStatus.active,
        status_since=data.founded_on,
        officer_id=officer_id,
        search_text=search_text_for(data.name, [], data.uscc),
    )
    session.add(firm)
    session.flush()
    membership = Membership(
        firm_id=firm.id,
        park_code=data.park,
        area_code=data.area,
        carrier_code=data.carrier,
        industry_code=data.industry,
        valid_from=joined,
    )
    session.add_all(
        [
            FirmName(firm_id=firm.id, name=data.name, valid_from=data.founded_on),
            FirmStatusPeriod(firm_id=firm.id, status=FirmStatus.active, valid_from=data.founded_on),
            membership,
        ]
    )
    place(firm, membership)
    for tag in _clean_tags(data.tags):
        session.add(FirmTag(firm_id=firm.id, tag=tag, valid_from=today))
    session.flush()
    return firm


def _day_before(day: date) -> date:
    return day - timedelta(days=1)


def update_firm(session: Session, principal: Principal, firm: Firm, data: FirmUpdate, *, today: date) -> Firm:
    """Apply the fields sent. A stale `version` changes nothing and raises Conflict."""
    ensure_can_edit(principal)
    if data.version != firm.version:
        raise Conflict("该企业档案已被他人修改，请刷新后重试（您读取的版本已过期）")
    set_reason(session, data.reason)
    sent = data.model_fields_set
    firm = repository.load_with_children(session, firm.id)
    current = next((m for m in firm.memberships if m.valid_to is None), None)

    if "uscc" in sent and data.uscc and data.uscc != firm.uscc:
        _check_uscc_free(session, data.uscc, firm.id)
        firm.uscc = data.uscc
    if "name" in sent and data.name and data.name != firm.name:
        renamed_on = data.renamed_on or today
        open_rows = [row for row in firm.names if row.valid_to is None]
        for row in open_rows:
            row.valid_to = _day_before(renamed_on)
        if not open_rows:
            # No name history yet: the name being replaced becomes the first former name.
            firm.names.append(
                FirmName(
                    firm_id=firm.id,
                    name=firm.name,
                    valid_from=firm.founded_on,
                    valid_to=_day_before(renamed_on),
                )
            )
        firm.names.append(FirmName(firm_id=firm.id, name=data.name, valid_from=renamed_on))
        firm.name = data.name
    if "founded_on" in sent:
        firm.founded_on = data.founded_on
    if "district" in sent:
        _check_district(session, data.district)
        firm.district_code = data.district
    if "address" in sent:
        firm.address = data.address
    if "status" in sent and data.status is not None and data.status != firm.status:
        since = data.status_since or today
        for period in firm.status_periods:
            if period.valid_to is None:
                period.valid_to = _day_before(since)
        session.add(FirmStatusPeriod(firm_id=firm.id, status=data.status, valid_from=since))
        firm.status = data.status
        firm.status_since = since

    placement = {"park", "area", "carrier", "industry"} & sent
    if placement:
        park = data.park if "park" in sent and data.park else (current.park_code if current else None)
        if park is None:
            raise RuleViolation("请选择园区", field="park")
        park_changed = current is None or park != current.park_code
        area = (
            data.area if "area" in sent else (None if park_changed or current is None else current.area_code)
        )
        carrier = (
            data.carrier
            if "carrier" in sent
            else (None if park_changed or current is None else current.carrier_code)
        )
        industry = data.industry if "industry" in sent else (current.industry_code if current else None)
        _check_placement(
            session,
            principal,
            park=park,
            area=area,
            carrier=carrier,
            industry=industry,
            check_scope=park_changed,
        )
        if current is None or (park, area, carrier, industry) != (
            current.park_code,
            current.area_code,
            current.carrier_code,
            current.industry_code,
        ):
            moved_on = data.moved_on or today
            if moved_on > today:
                raise RuleViolation("变更日期不能晚于今天", field="moved_on")
            if current is not None:
                if moved_on <= current.valid_from:
                    raise RuleViolation("变更日期须晚于当前归属的起始日期", field="moved_on")
                current.valid_to = _day_before(moved_on)
            moved = Membership(
                firm_id=firm.id,
                park_code=park,
                area_code=area,
                carrier_code=carrier,
                industry_code=industry,
                valid_from=moved_on,
            )
            session.add(moved)
            place(firm, moved)
    if "officer_id" in sent and data.officer_id != firm.officer_id:
        park_now = data.park if "park" in sent and data.park else (current.park_code if current else "")
        _check_officer(session, data.officer_id, park_now)
        firm.officer_id = data.officer_id
    if "tags" in sent and data.tags is not None:
        set_tags(session, firm, data.tags, today=today)

    firm.search_text = search_text_for(
        firm.name, [n.name for n in firm.names if n.name != firm.name], firm.uscc
    )
    session.flush()
    return firm


def set_tags(session: Session, firm: Firm, tags: list[str], *, today: date) -> None:
    """Close the tags no longer given (valid_to = yesterday) and open the new ones from today."""
    wanted = _clean_tags(tags)
    current = {t.tag: t for t in firm.tags if t.valid_to is None}
    for tag, row in current.items():
        if tag not in wanted:
            if row.valid_from is not None and row.valid_from >= today:
                session.delete(row)
            else:
                row.valid_to = _day_before(today)
    for tag in wanted:
        if tag not in current:
            session.add(FirmTag(firm_id=firm.id, tag=tag, valid_from=today))


def add_contact(session: Session, principal: Principal, firm: Firm, data: ContactIn) -> Contact:
    ensure_can_edit(principal)
    set_reason(session, data.reason)
    contact = Contact(firm_id=firm.id, **data.model_dump(exclude={"reason"}))
    session.add(contact)
    session.flush()
    return contact


def update_contact(session: Session, principal: Principal, contact: Contact, data: ContactIn) -> Contact:
    ensure_can_edit(principal)
    set_reason(session, data.reason)
    for key, value in data.model_dump(exclude={"reason"}).items():
        setattr(contact, key, value)
    session.flush()
    return contact


def delete_contact(session: Session, principal: Principal, contact: Contact, reason: str | None) -> None:
    ensure_can_edit(principal)
    set_reason(session, reason)
    session.delete(contact)
    session.flush()


def log_personal_data_access(
    session: Session, principal: Principal, firm_id: int | None, action: str, detail: str | None = None
) -> None:
    """PIPL: record who viewed or exported contacts' personal data, and for which firm."""
    session.add(
        PersonalDataAccess(
            user_id=principal.user_id,
            actor_label=principal.label,
            firm_id=firm_id,
            action=action,
            detail=detail,
        )
    )
    session.flush()
