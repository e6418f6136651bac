"""What a run over a file's rows shares: the officer, the mapping, the reference lookups, counts and
rejections, and the first row of each key already seen (a repeated key is rejected naming that row)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.firms import references
from app.imports.fields import norm
from app.imports.models import ImportKind
from app.imports.reader import column_letter

# Rows are read, checked against the database and written in chunks: bounded memory at any file size.
CHUNK = 1000


def _variants(name: str) -> set[str]:
    """静安园 → {静安园, 静安}; 南京西路（南西） → {南京西路（南西）, 南京西路, 南西}; 浦东新区 → {浦东新区, 浦东}."""
    name = norm(name)
    out = {name, name.replace(" ", "")}
    inner = re.match(r"^(.*?)\((.*)\)$", name)
    if inner:
        out |= {inner.group(1).strip(), inner.group(2).strip()}
    for suffix in ("园", "新区", "区"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            out.add(name[: -len(suffix)])
    return {v for v in out if v}


class Lookups:
    """Reference names and codes → codes (parks, areas per park, industries, districts), read once per run."""

    def __init__(self, session: Session) -> None:
        refs = references.load(session)
        opts = refs.options
        self.park_names = refs.names["park"]
        self.parks: dict[str, str] = {}
        for p in opts.parks:
            for v in {p.code, *_variants(p.name)}:
                self.parks[v.lower()] = p.code
                self.parks["张江" + v] = p.code
                self.parks["张江高新区" + v] = p.code
        self.areas: dict[tuple[str, str], str] = {}
        for a in opts.areas:
            for v in {a.code, *_variants(a.name)}:
                self.areas[(a.park_code, v.lower())] = a.code
        self.industries: dict[str, str] = {}
        for i in opts.industries:
            for v in {i.code, *_variants(i.name)}:
                self.industries[v.lower()] = i.code
        self.districts: dict[str, str] = {}
        for d in opts.districts:
            for v in {d.code, *_variants(d.name)}:
                self.districts[v.lower()] = d.code
        self.park_list = "、".join(p.name for p in opts.parks)

    def park(self, value: str) -> str | None:
        return self.parks.get(value.lower()) or self.parks.get(value.replace(" ", "").lower())

    def area(self, park: str, value: str) -> str | None:
        return self.areas.get((park, value.lower()))

    def industry(self, value: str) -> str | None:
        return self.industries.get(value.lower())

    def district(self, value: str) -> str | None:
        return self.districts.get(value.lower())


@dataclass
class Rejection:
    row: int
    column: str
    header: str | None
    message: str


@dataclass
class Run:
    session: Session
    principal: Principal
    kind: ImportKind
    import_id: int
    today: date
    commit: bool
    columns: dict[int, str]  # column index → field
    units: dict[int, str]  # column index of an amount → "元" or "万元"
    headers: list[str]
    options: dict[str, Any]
    lookups: Lookups
    reason: str
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    seen: dict[Any, int] = field(default_factory=dict)
    touched_firms: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.index = {f: i for i, f in self.columns.items()}

    def cells(self, values: list[Any]) -> dict[str, Any]:
        """The mapped cells of a row by field; empty cells are left out (unknown, never blank-over-known)."""
        out: dict[str, Any] = {}
        for i, name in self.columns.items():
            if i < len(values):
                value = values[i]
                if value is not None and not (isinstance(value, str) and norm(value) == ""):
                    out[name] = value
        return out

    def column_of(self, field_name: str) -> tuple[str, str | None]:
        i = self.index.get(field_name)
        if i is None:
            return "", None
        return column_letter(i), self.headers[i] if i < len(self.headers) else None


class RowErrors:
    """The rejections of one row; the row counts as rejected when it has any."""

    def __init__(self, run: Run, number: int) -> None:
        self.run = run
        self.number = number
        self.items: list[Rejection] = []

    def add(self, field_name: str, message: str) -> None:
        letter, header = self.run.column_of(field_name)
        self.items.append(Rejection(self.number, letter, header, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def reject(self) -> None:
        self.run.rejected += 1
        self.run.rejections.extend(self.items)

    def first_of(self, key: Any, field_name: str, what: str) -> bool:
        """Record the first row of `key`; a later row with the same key is rejected naming the first."""
        first = self.run.seen.get(key)
        if first is None:
            self.run.seen[key] = self.number
            return True
        self.add(field_name, f"{what}与第 {first} 行重复，已保留第 {first} 行")
        return False
