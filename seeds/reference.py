"""Reference data from `seeds/reference/*.json`, loaded idempotently (upsert by code).

The JSON files may carry extra keys (a district's 行政区划 `admin_code`, a park's `lead_industries`, a
carrier's `source`); only the model's columns are written, the rest is read by the demo generator.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.reference.models import Area, Carrier, District, Industry, Park, PlanTarget

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"

# File name → model, in foreign-key order (industries list parents before children).
FILES: tuple[tuple[str, type[Any]], ...] = (
    ("districts", District),
    ("parks", Park),
    ("areas", Area),
    ("carriers", Carrier),
    ("industries", Industry),
    ("plan_targets", PlanTarget),
)


@cache
def _read(name: str) -> tuple[dict[str, Any], ...]:
    with (REFERENCE_DIR / f"{name}.json").open(encoding="utf-8") as fh:
        return tuple(json.load(fh))


def read_seed(name: str) -> list[dict[str, Any]]:
    """The rows of one seed file (copies, so callers may change them)."""
    return [dict(row) for row in _read(name)]


def _columns(model: type[Any]) -> set[str]:
    return {attr.key for attr in inspect(model).column_attrs if attr.key != "id"}


def _values(model: type[Any], row: dict[str, Any]) -> dict[str, Any]:
    values = {key: row.get(key) for key in _columns(model) if key in row}
    if model is PlanTarget:
        # Written as strings in the JSON so that no float ever touches a target.
        values["value"] = Decimal(str(row["value"]))
    return values


def load_reference(session: Session) -> None:
    """Insert or update every reference row by its code; rows not in the files are left alone."""
    for name, model in FILES:
        rows = read_seed(name)
        codes = [row["code"] for row in rows]
        if model is PlanTarget:
            existing = {
                t.code: t for t in session.scalars(select(PlanTarget).where(PlanTarget.code.in_(codes)))
            }
        else:
            existing = {obj.code: obj for obj in session.scalars(select(model).where(model.code.in_(codes)))}
        for row in rows:
            values = _values(model, row)
            obj = existing.get(row["code"])
            if obj is None:
                session.add(model(**values))
            elif model is PlanTarget:
                # Seeded once: admins then correct targets (with their source, audited) on 规划目标, and a
                # later reload must not silently undo that.
                continue
            else:
                for key, value in values.items():
                    if getattr(obj, key) != value:
                        setattr(obj, key, value)
        # Flush per file: later files (and industry children) refer to rows of earlier ones.
        session.flush()
