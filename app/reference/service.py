"""Reference data as other domains use it: names by code and the choices of the selects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.reference import repository
from app.reference.models import Area, Carrier, District, Industry, Park

Options = list[tuple[str, str]]
GroupedOptions = list[tuple[str, Options]]


@dataclass
class ReferenceOptions:
    """The small reference tables, read once per request, in display order."""

    parks: list[Park]
    districts: list[District]
    areas: list[Area]
    carriers: list[Carrier]
    industries: list[Industry]

    @property
    def names(self) -> dict[str, dict[str, str]]:
        return {
            "park": {p.code: p.name for p in self.parks},
            "district": {d.code: d.name for d in self.districts},
            "area": {a.code: a.name for a in self.areas},
            "carrier": {c.code: c.name for c in self.carriers},
            "industry": {i.code: i.name for i in self.industries},
        }

    def park_options(self, park_codes: frozenset[str] | None) -> Options:
        return [(p.code, p.name) for p in self.parks if park_codes is None or p.code in park_codes]

    def district_options(self) -> Options:
        return [(d.code, d.name) for d in self.districts]

    def _grouped(
        self, rows: list[Any], park: str | None, park_codes: frozenset[str] | None
    ) -> GroupedOptions:
        groups: GroupedOptions = []
        for p in self.parks:
            if park and p.code != park:
                continue
            if not park and park_codes is not None and p.code not in park_codes:
                continue
            items = [(r.code, r.name) for r in rows if r.park_code == p.code]
            if items:
                groups.append((p.name, items))
        return groups

    def area_groups(
        self, park: str | None = None, park_codes: frozenset[str] | None = None
    ) -> GroupedOptions:
        """Areas grouped by park: only the chosen park's when one is chosen, else every park in scope."""
        return self._grouped(self.areas, park, park_codes)

    def carrier_groups(
        self, park: str | None = None, park_codes: frozenset[str] | None = None
    ) -> GroupedOptions:
        return self._grouped(self.carriers, park, park_codes)

    def industry_options(self) -> Options:
        """Industry groups first, each followed by its sub-industries (indented)."""
        children: dict[str, list[Industry]] = {}
        for ind in self.industries:
            if ind.parent_code:
                children.setdefault(ind.parent_code, []).append(ind)
        out: Options = []
        for ind in self.industries:
            if ind.parent_code:
                continue
            out.append((ind.code, ind.name))
            out.extend((c.code, "\u3000" + c.name) for c in children.get(ind.code, []))
        return out


def reference_options(session: Session) -> ReferenceOptions:
    """Parks, districts, areas, carriers and industries in display order (five small queries)."""
    return ReferenceOptions(
        parks=repository.parks(session),
        districts=repository.districts(session),
        areas=repository.areas(session),
        carriers=repository.carriers(session),
        industries=repository.industries(session),
    )
