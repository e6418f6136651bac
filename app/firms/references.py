"""Reference data as the firm pages read it: one query per request instead of five to fourteen.

Parks, districts, areas, carriers and industries change only when seeds run. Every request still reads them
(one UNION ALL of about a hundred short rows, `repository.reference_rows`), so a change shows at once and a
test sees the rows it made; what is built from them (names by code, select options, groupings) is kept while
the rows read are the same. Callers must treat what they get as read-only: it is shared between requests.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.firms import repository
from app.reference.models import Area, Carrier, CarrierKind, District, Industry, Park
from app.reference.service import Options, ReferenceOptions


@dataclass(frozen=True)
class References:
    options: ReferenceOptions
    names: dict[str, dict[str, str]]
    industry_options: Options


_lock = threading.Lock()
_last: tuple[tuple[Any, ...], References] | None = None


def _build(rows: tuple[Any, ...]) -> References:
    # Transient model instances (never added to a session): ReferenceOptions reads only their columns.
    parks, districts, areas, carriers, industries = [], [], [], [], []
    for kind, code, name, a, b, c in rows:
        if kind == "park":
            parks.append(Park(code=code, name=name, district_code=a))
        elif kind == "district":
            districts.append(District(code=code, name=name))
        elif kind == "area":
            areas.append(Area(code=code, name=name, park_code=a))
        elif kind == "carrier":
            carriers.append(Carrier(code=code, name=name, park_code=a, area_code=b, kind=CarrierKind(c)))
        elif kind == "industry":
            industries.append(Industry(code=code, name=name, parent_code=a))
    # The display order of app.reference.repository (codes are ASCII: Python's order is the database's).
    parks.sort(key=lambda p: p.code)
    districts.sort(key=lambda d: d.code)
    areas.sort(key=lambda x: (x.park_code, x.code))
    carriers.sort(key=lambda x: (x.park_code, x.code))
    industries.sort(key=lambda i: i.code)
    options = ReferenceOptions(
        parks=parks, districts=districts, areas=areas, carriers=carriers, industries=industries
    )
    return References(options=options, names=options.names, industry_options=options.industry_options())


def load(session: Session) -> References:
    """The reference tables as read now, built once per distinct content."""
    global _last
    rows = repository.reference_rows(session)
    last = _last
    if last is not None and last[0] == rows:
        return last[1]
    built = _build(rows)
    with _lock:
        _last = (rows, built)
    return built
