"""The firm list: active search, filters, sortable columns and pages (STYLE §5)."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.auth.dependencies import StaffPrincipal
from app.config import settings
from app.db import SessionDep
from app.firms import references, repository
from app.firms.models import FIRM_STATUS_LABELS, KNOWN_TAGS
from app.firms.repository import ListFirm
from app.firms.web.common import LABELS, by_ladder, clean, int_or_none, opts
from app.tiers.codes import LADDER_LEVEL_LABELS, TIER_LABELS, ladder_level
from app.web.formatting import today
from app.web.templating import render, url_path, wants_block

router = APIRouter()


@dataclass
class ListRow:
    firm: ListFirm
    park: str
    area: str
    industry: str
    officer: str
    tiers: list[tuple[str, str]]
    ladder_level: int
    ladder_label: str
    status_label: str
    tags: list[str]


@router.get("", name="firms:list")
def list_page(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    q: str | None = None,
    park: str | None = None,
    area: str | None = None,
    industry: str | None = None,
    tier: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    officer: str | None = None,
    sort: str | None = None,
    dir: str | None = None,
    page: str | None = None,
    areas_for: str | None = None,
) -> Response:
    """The firm list: active search, filters, sortable columns and pages; the table alone for htmx."""
    values = {
        "q": clean(q),
        "park": clean(park),
        "area": clean(area),
        "industry": clean(industry),
        "tier": clean(tier),
        "tag": clean(tag),
        "status": clean(status),
        "officer": clean(officer),
    }
    refs = references.load(session)
    ref = refs.options
    if (
        values["park"]
        and values["area"]
        and all(a.code != values["area"] or a.park_code != values["park"] for a in ref.areas)
    ):
        values["area"] = None  # an area left over from the previous park
    sort_key = sort if sort in repository.SORTS else "name"
    direction = "desc" if dir == "desc" else "asc"
    page_no = max(int_or_none(page) or 1, 1)
    size = settings.page_size
    filters = repository.FirmFilters(
        q=values["q"],
        park=values["park"],
        area=values["area"],
        industry=values["industry"],
        tier=values["tier"],
        tag=values["tag"],
        status=values["status"],
        officer=int_or_none(values["officer"]),
    )
    rows, total = repository.list_firms(
        session,
        principal,
        filters,
        today=today(),
        sort=sort_key,
        descending=direction == "desc",
        limit=size,
        offset=(page_no - 1) * size,
    )
    pages = max(ceil(total / size), 1)
    names = refs.names
    view = []
    for row in rows:
        m = row.membership
        level = ladder_level(set(row.tiers_held))
        view.append(
            ListRow(
                firm=row.firm,
                park=names["park"].get(m.park_code, m.park_code) if m else "",
                area=names["area"].get(m.area_code, m.area_code) if m and m.area_code else "",
                industry=names["industry"].get(m.industry_code, m.industry_code)
                if m and m.industry_code
                else "",
                officer=row.officer.display_name if row.officer else "",
                tiers=[(t, LABELS["tier"].get(t, t)) for t in by_ladder(row.tiers_held)],
                ladder_level=level,
                ladder_label=LADDER_LEVEL_LABELS.get(level, ""),
                status_label=LABELS["status"].get(row.firm.status, row.firm.status),
                tags=row.tags,
            )
        )
    list_url = url_path(request.app, "firms:list")
    active = {k: v for k, v in values.items() if v}
    base = list_url + ("?" + urlencode(active) if active else "")
    page_base = list_url + "?" + urlencode({**active, "sort": sort_key, "dir": direction})
    fragment = wants_block(request, "firm_table")
    ctx = {
        "rows": view,
        "total": total,
        "page": page_no,
        "pages": pages,
        "values": values,
        "sort": sort_key,
        "dir": direction,
        "base_url": base,
        "page_base": page_base,
        "filtered": bool(active),
        "fragment": fragment,
        # The area select follows the park select: `areas_for` is the park its options were drawn for, so
        # when the park changed the fragment brings the new options out of band.
        "oob_area": fragment and (clean(areas_for) or "") != (values["park"] or ""),
        "park_options": ref.park_options(principal.park_codes),
        "area_groups": ref.area_groups(values["park"], principal.park_codes),
        "industry_options": refs.industry_options,
        "tier_options": opts(TIER_LABELS),
        "tag_options": [(t, t) for t in KNOWN_TAGS],
        "status_options": opts(FIRM_STATUS_LABELS),
        "officer_options": references.officer_choices(session, principal.park_codes),
        "can_create": principal.can_create_firms,
    }
    # The address bar gets only the filters set (not every empty field): shareable, and Back works.
    shown = dict(active)
    if (sort_key, direction) != ("name", "asc"):
        shown.update(sort=sort_key, dir=direction)
    if page_no > 1:
        shown["page"] = str(page_no)
    headers = {"HX-Push-Url": list_url + ("?" + urlencode(shown) if shown else "")} if fragment else None
    return render(request, "firms/list.html", ctx, block="firm_table", headers=headers)
