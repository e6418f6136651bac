"""Every active firm's facts on a date, read from the database in a few set-based queries, as `Columns`.

The same facts app/rules/firm_facts.py assembles for one firm, for all of them at once:

- firm_years: per year and field, the value of the highest-precedence source that gave one
  (专员核实 officer_verified > 部门数据 department > 企业填报 firm_reported);
- fact_observations: per key, the newest observation (valid_from, then recorded_at, then id) with
  valid_from ≤ as_of of the highest-precedence source (app.indicators.facts.effective_facts);
- recognitions held on as_of, awards and incidents up to as_of (a stored firm's lists are complete);
- the district of registration (firms.district_code), which chooses district rule versions and settings.

Only raw numbers cross the wire: SQL turns codes, dates and JSON values into numbers, PostgreSQL sends them by
binary COPY straight into numpy, SQLite by one plain cursor. Values are float64 (columns.py says why that is
exact enough, and how a comparison on a threshold is still decided exactly).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.indicators.models import FactObservation
from app.rules.columns import (
    CHOICE_FACTS,
    DATE_FACTS,
    NO_DAY,
    NO_END,
    NUMBER_FACTS,
    Awards,
    BoolArr,
    Columns,
    FloatArr,
    Incidents,
    IntArr,
    Recognitions,
)
from app.rules.facts import AWARD_LEVELS, FACT_INFO, INCIDENT_GRADES, RD_INSTITUTION_ORDER, YEAR_FIELD_INFO
from app.rules.loader import INCIDENT_KINDS, TIERS, RuleBook
from app.rules.vocabulary import Avg, BestOf, Growth, Sum, Year

_RANK = "CASE source WHEN 'officer_verified' THEN 3 WHEN 'department' THEN 2 WHEN 'firm_reported' THEN 1 ELSE 0 END"
# A choice fact's value that none of the rules names.
OTHER_CHOICE = "?"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _codes(column: str, values: Sequence[str | None], otherwise: int = -1) -> str:
    """SQL: the position of the column's value in `values` (otherwise `otherwise`)."""
    whens = " ".join(f"WHEN {_lit(v)} THEN {i}" for i, v in enumerate(values) if v is not None)
    return f"CASE ({column}) {whens} ELSE {otherwise} END" if whens else str(otherwise)


# ------------------------------------------------------------------------------------------------------ nodes


def walk(node: Any) -> Iterator[Any]:
    """Every node below a rule set's criteria (expressions, conditions, scorers, components)."""
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from walk(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from walk(item)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        yield node
        for f in dataclasses.fields(node):
            yield from walk(getattr(node, f.name))


def lookback(book: RuleBook) -> int:
    """How many full years before as_of the rules read (at least 3)."""
    years = 3
    for rs in book.sets:
        for node in walk([c.test for c in rs.criteria]):
            if isinstance(node, Year):
                years = max(years, node.ago)
            elif isinstance(node, (Sum, Avg)):
                years = max(years, node.years)
            elif isinstance(node, Growth):
                years = max(years, 3)
    return years


def year_fields(book: RuleBook) -> list[str]:
    """The `years` fields the rules read (the others stay unknown in the columns)."""
    used = {
        node.name
        for rs in book.sets
        for node in walk([c.test for c in rs.criteria])
        if isinstance(node, (Year, Sum, Avg, Growth))
    }
    return [name for name in YEAR_FIELD_INFO if name in used]


def choice_values(book: RuleBook) -> dict[str, list[str]]:
    """The values of each choice fact that rules can tell apart (the rest read as OTHER_CHOICE)."""
    found: dict[str, list[str]] = {path: [] for path in CHOICE_FACTS}
    found["rd_institution"] = list(RD_INSTITUTION_ORDER)
    for rs in book.sets:
        for node in walk([c.test for c in rs.criteria]):
            if isinstance(node, BestOf) and node.choice in found:
                found[node.choice] += [o for o in node.options if o not in found[node.choice]]
    return found


# --------------------------------------------------------------------------------------------------- dialects


# Firm ids per row of a PostgreSQL read: one scan, grouped by firm_id / SPLIT_RANGE, sends one COPY row of
# arrays per group, so that no row nears the server's 1 GB limit (~230 bytes per firm and column).
SPLIT_RANGE = 200_000


def _binary_rows(buf: bytearray, count: int) -> list[FloatArr]:
    """The float8[] fields of every row of a binary COPY, concatenated per column (NULL: no values)."""
    pos = 19 + int.from_bytes(buf[15:19], "big")  # signature, flags, header extension
    columns: list[list[FloatArr]] = [[] for _ in range(count)]
    while int.from_bytes(buf[pos : pos + 2], "big", signed=True) != -1:  # -1: the trailer
        pos += 2  # field count
        for column in columns:
            length = int.from_bytes(buf[pos : pos + 4], "big", signed=True)
            pos += 4
            if length < 0:
                continue
            ndim = int.from_bytes(buf[pos : pos + 4], "big")
            n = int.from_bytes(buf[pos + 12 : pos + 16], "big") if ndim else 0
            start = pos + 12 + 8 * ndim  # ndim, null flag, element type; size and lower bound per dimension
            cells = np.frombuffer(buf, dtype=[("len", ">i4"), ("v", ">f8")], count=n, offset=start)
            column.append(cells["v"].astype(np.float64))
            pos += length
    return [np.concatenate(c) if c else np.zeros(0) for c in columns]


class _Reader:
    """Numeric SELECTs as float64 matrices (NULL → NaN), the fastest way each driver allows."""

    def __init__(self, session: Session) -> None:
        self.conn = session.connection()
        self.postgres = self.conn.dialect.name == "postgresql"
        if self.postgres:
            # The long CASE expressions are evaluated once per row: compiling them (JIT) costs more than it saves.
            # The grouped arrays stay in memory until sent (a few hundred MB at a million firms).
            self.conn.exec_driver_sql("SET LOCAL jit = off")
            self.conn.exec_driver_sql("SET LOCAL work_mem = '1GB'")

    def days(self, column: str) -> str:
        """SQL: a date column as days since 1970-01-01."""
        if self.postgres:
            return f"({column} - DATE '1970-01-01')"
        return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"

    def day(self, value: date) -> str:
        return f"DATE '{value.isoformat()}'" if self.postgres else f"'{value.isoformat()}'"

    def columns(self, columns: Sequence[str], rest: str, group: str | None = None) -> list[FloatArr]:
        """SELECT columns… rest, as one float64 array per column (rows in no particular order).

        On PostgreSQL: a row of float8 arrays per `group` (an integer column such as firm_id) range — COPY
        sends a message per row, and per-row messages would cost more in Python than the numbers. The
        aggregates of a row read the same rows in the same order.
        """
        raw: Any = self.conn.connection.dbapi_connection
        if self.postgres:
            listed = ", ".join(f"array_agg(COALESCE(({c})::float8, 'NaN'::float8))" for c in columns)
            grouped = f" GROUP BY {group} / {SPLIT_RANGE}" if group else ""
            sql = f"COPY (SELECT {listed} {rest}{grouped}) TO STDOUT (FORMAT BINARY)"
            buf = bytearray()
            with raw.cursor() as cur, cur.copy(sql) as copy:
                for block in copy:
                    buf += block
            return _binary_rows(buf, len(columns))
        cur = raw.cursor()
        try:
            rows = cur.execute(f"SELECT {', '.join(columns)} {rest}").fetchall()
        finally:
            cur.close()
        matrix = np.array(rows, dtype=np.float64).reshape(-1, len(columns))
        return [matrix[:, j] for j in range(len(columns))]

    def json_number(self) -> str:
        if self.postgres:
            return (
                "CASE json_typeof(value) WHEN 'number' THEN (value #>> '{}')::float8 "
                "WHEN 'string' THEN CASE WHEN (value #>> '{}') ~ '^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)"
                "([eE][-+]?[0-9]+)?\\s*$' THEN (value #>> '{}')::float8 END END"
            )
        return (
            "CASE WHEN typeof(value) IN ('integer', 'real') THEN value "
            "WHEN value GLOB '\"*[0-9]*\"' THEN CAST(trim(value, '\"') AS REAL) END"
        )

    def json_bool(self) -> str:
        if self.postgres:
            return "CASE WHEN json_typeof(value) = 'boolean' THEN CASE WHEN value::text = 'true' THEN 1 ELSE 0 END END"
        return "CASE value WHEN 'true' THEN 1 WHEN 'false' THEN 0 END"

    def json_date(self) -> str:
        if self.postgres:
            return (
                "CASE WHEN json_typeof(value) = 'string' AND (value #>> '{}') ~ '^\\d{4}-\\d{2}-\\d{2}$' "
                "THEN (value #>> '{}')::date - DATE '1970-01-01' END"
            )
        return "CAST(julianday(trim(value, '\"')) - 2440587.5 AS INTEGER)"

    def json_text(self) -> str:
        if self.postgres:
            return "(value #>> '{}')"
        return "CASE WHEN value = 'null' THEN NULL ELSE trim(value, '\"') END"


# ---------------------------------------------------------------------------------------------------- loading


def _rows_of(ids: IntArr, firm_ids: FloatArr) -> tuple[IntArr, BoolArr]:
    """Row index of each firm id, and which ids belong to a loaded firm."""
    as_int = firm_ids.astype(np.int64)
    pos = np.minimum(np.searchsorted(ids, as_int), max(len(ids) - 1, 0))
    ok = (ids[pos] == as_int) if len(ids) else np.zeros(len(as_int), dtype=bool)
    return pos, ok


# A fact observation's precedence packed in one integer: (key × 4 + rank) × 2²² + day (days from 0001-01-01 to
# valid_from); with the firm id in front (× 2²⁹) float64 still carries it exactly while firm ids stay below 2²⁴.
_DAY0 = 719_163  # days from 0001-01-01 to 1970-01-01
_RANK_BITS, _DAY_BITS = 2, 22
_ORDER_BITS = 5 + _RANK_BITS + _DAY_BITS  # up to 32 keys
_PACKED_FIRMS = 2**24


def _order_sql(r: _Reader, keys: Sequence[str]) -> str:
    """SQL: (key × 4 + rank) × 2²² + day of valid_from."""
    return f"(({_codes('key', keys)}) * 4 + {_RANK}) * {2**_DAY_BITS} + ({r.days('valid_from')} + {_DAY0})"


def _effective(
    r: _Reader,
    session: Session,
    ids: IntArr,
    observed: tuple[FloatArr, IntArr, FloatArr],
    sql: tuple[str, str, str],
) -> FloatArr:
    """Per firm and key, the value of the observation that holds (app.indicators.facts.effective_facts): the
    highest source rank, then the newest valid_from, then the latest recorded_at, then the highest id.
    Returns an (firms, keys) grid, NaN where nothing is known.

    `observed` is (firm id, packed order, value) of every observation, `sql` the (order, value, WHERE) that read
    them. Observations tied on (source, valid_from) — rare — are settled by recorded_at and id, read for them.
    """
    firm_ids, order, value = observed
    order_sql, value_sql, where = sql
    n, width = len(ids), 2 ** (_ORDER_BITS - _RANK_BITS - _DAY_BITS)
    rows, ok = _rows_of(ids, firm_ids)
    rows, order, value = rows[ok], order[ok], value[ok]
    precedence = order & (2 ** (_RANK_BITS + _DAY_BITS) - 1)
    cell = rows * width + (order >> (_RANK_BITS + _DAY_BITS))
    best = np.full(n * width, -1, dtype=np.int64)
    np.maximum.at(best, cell, precedence)
    won = precedence == best[cell]
    grid = np.full(n * width, np.nan)
    grid[cell[won]] = value[won]
    tied = np.flatnonzero(np.bincount(cell[won], minlength=n * width) > 1)
    if tied.size:
        firms = sorted({int(ids[c // width]) for c in tied.tolist()})
        tied_cells = set(tied.tolist())
        winner: dict[int, tuple[Any, int, float]] = {}
        for start in range(0, len(firms), 500):
            listed = ", ".join(str(f) for f in firms[start : start + 500])
            got = r.columns(
                ["firm_id", order_sql, value_sql, "id"],
                f"FROM fact_observations WHERE firm_id IN ({listed}) AND {where}",
            )
            f_rows, _ = _rows_of(ids, got[0])
            o = got[1].astype(np.int64)
            cells = f_rows * width + (o >> (_RANK_BITS + _DAY_BITS))
            query = select(FactObservation.id, FactObservation.recorded_at).where(
                FactObservation.id.in_([int(i) for i in got[3]])
            )
            recorded = dict(session.execute(query).tuples().all())
            for c, p, v, i in zip(cells.tolist(), o.tolist(), got[2].tolist(), got[3].tolist(), strict=True):
                if c in tied_cells and (p & (2 ** (_RANK_BITS + _DAY_BITS) - 1)) == best[c]:
                    candidate = (recorded[int(i)], int(i), v)
                    if c not in winner or candidate[:2] > winner[c][:2]:
                        winner[c] = candidate
        for c, (_, _, v) in winner.items():
            grid[c] = v
    return grid.reshape(n, width)


def _as_days(values: FloatArr) -> IntArr:
    return np.where(np.isnan(values), NO_DAY, np.nan_to_num(values)).astype(np.int64)


def _facts(r: _Reader, session: Session, ids: IntArr, on: str, book: RuleBook) -> dict[str, Any]:
    """Every scalar fact of every firm: {path: column} (numbers, day numbers or choice names)."""
    keys = [k for k in [*NUMBER_FACTS, *DATE_FACTS, *CHOICE_FACTS] if k != "founded_on"]
    assert len(keys) <= 2 ** (_ORDER_BITS - _RANK_BITS - _DAY_BITS)
    vocab = choice_values(book)

    def decode(key: str) -> str:
        kind = FACT_INFO[key][1]
        if kind == "bool":
            return r.json_bool()
        if kind == "number":
            return r.json_number()
        if kind == "date":
            return r.json_date()
        return f"CASE WHEN {r.json_text()} IS NULL THEN NULL ELSE {_codes(r.json_text(), vocab[key])} END"

    value_sql = "CASE " + " ".join(f"WHEN key = {_lit(k)} THEN {decode(k)}" for k in keys) + " END"
    where = f"valid_from <= {on} AND key IN ({', '.join(_lit(k) for k in keys)})"
    order_sql = _order_sql(r, keys)
    rest = f"FROM fact_observations WHERE {where}"
    top = r.conn.exec_driver_sql("SELECT MAX(id) FROM firms").scalar() or 0
    if top < _PACKED_FIRMS:
        packed, value = r.columns(
            [f"CAST(firm_id AS BIGINT) * {2**_ORDER_BITS} + {order_sql}", value_sql], rest, "firm_id"
        )
        whole = packed.astype(np.int64)
        observed = ((whole >> _ORDER_BITS).astype(np.float64), whole & (2**_ORDER_BITS - 1), value)
    else:
        firm_id, order, value = r.columns(["firm_id", order_sql, value_sql], rest, "firm_id")
        observed = (firm_id, order.astype(np.int64), value)
    grid = _effective(r, session, ids, observed, (order_sql, value_sql, where))
    out: dict[str, Any] = {}
    for k, path in enumerate(keys):
        values = grid[:, k]
        kind = FACT_INFO[path][1]
        if kind in ("number", "bool"):
            out[path] = values
        elif kind == "date":
            out[path] = _as_days(values)
        else:
            names = np.array([*vocab[path], OTHER_CHOICE, None], dtype=object)
            code = np.where(np.isnan(values), len(names) - 1, np.nan_to_num(values)).astype(np.int64)
            out[path] = names[np.where(code < 0, len(names) - 2, code)]
    return out


def load_columns(session: Session, as_of: date, book: RuleBook) -> tuple[IntArr, Columns]:
    """(firm ids, their columns) of every active firm (status 存续) on as_of."""
    r = _Reader(session)
    on = r.day(as_of)
    found = r.conn.exec_driver_sql("SELECT DISTINCT district_code FROM firms WHERE district_code IS NOT NULL")
    districts: list[str | None] = sorted(row[0] for row in found.all())
    districts.append(None)
    firm_id, district, founded = r.columns(
        ["id", _codes("district_code", districts, len(districts) - 1), r.days("founded_on")],
        "FROM firms WHERE status = 'active'",
        "id",
    )
    sort = np.argsort(firm_id, kind="stable")
    ids, district, founded = firm_id[sort].astype(np.int64), district[sort], founded[sort]
    n = len(ids)

    # Years: one row per (firm, year, source); the highest source that gave a field wins, field by field.
    first, last = as_of.year - lookback(book), as_of.year - 1
    names = year_fields(book)
    years = {name: np.full((n, last - first + 1), np.nan) for name in YEAR_FIELD_INFO}
    y_firm, y_year, y_rank, *y_values = r.columns(
        ["firm_id", "year", _RANK, *names],
        f"FROM firm_years WHERE year >= {first} AND year <= {last}",
        "firm_id",
    )
    rows, ok = _rows_of(ids, y_firm)
    yi = y_year.astype(np.int64) - first
    for rank in (1, 2, 3):  # later (higher) sources overwrite
        at = ok & (y_rank == rank)
        for name, values in zip(names, y_values, strict=True):
            given = at & ~np.isnan(values)
            years[name][rows[given], yi[given]] = values[given]

    facts = _facts(r, session, ids, on, book)
    numbers = {path: facts[path] for path in NUMBER_FACTS}
    dates = {path: facts[path] for path in DATE_FACTS if path != "founded_on"}
    dates["founded_on"] = _as_days(founded)
    choices = {path: facts[path] for path in CHOICE_FACTS}

    # Recognitions, awards and incidents up to as_of (as firm_facts reads them).
    rec = r.columns(
        [
            "firm_id",
            _codes("tier", list(TIERS)),
            r.days("issued_on"),
            f"COALESCE({r.days('expires_on')}, {int(NO_END)})",
            f"COALESCE({r.days('revoked_on')}, {int(NO_END)})",
        ],
        f"FROM recognitions WHERE issued_on <= {on}",
        "firm_id",
    )
    awd = r.columns(
        ["firm_id", _codes("level", AWARD_LEVELS), r.days("awarded_on"), "rank"],
        f"FROM awards WHERE awarded_on <= {on}",
    )
    inc = r.columns(
        [
            "firm_id",
            _codes("kind", list(INCIDENT_KINDS)),
            _codes("grade", INCIDENT_GRADES),
            r.days("occurred_on"),
        ],
        f"FROM incidents WHERE occurred_on <= {on}",
    )

    def kept(data: list[FloatArr]) -> tuple[IntArr, list[IntArr]]:
        """Rows of loaded firms only: (row index, the other columns as integers)."""
        rows, ok = _rows_of(ids, data[0])
        return rows[ok], [np.nan_to_num(c[ok]).astype(np.int64) for c in data[1:]]

    r_rows, (r_tier, r_issued, r_expires, r_revoked) = kept(rec)
    a_rows, (a_level, a_day, a_rank) = kept(awd)
    i_rows, (i_kind, i_grade, i_day) = kept(inc)
    every = np.ones(n, dtype=bool)
    return ids, Columns(
        n=n,
        district=district.astype(np.int64),
        districts=districts,
        numbers=numbers,
        dates=dates,
        choices=choices,
        first_year=first,
        years=years,
        recognitions=Recognitions(r_rows, r_tier, r_issued, r_expires, r_revoked),
        awards=Awards(a_rows, a_level, a_day, a_rank, ~np.isnan(awd[3][_rows_of(ids, awd[0])[1]])),
        incidents=Incidents(i_rows, i_kind, i_grade, i_day),
        has_recognitions=every,
        has_awards=every,
        has_incidents=every,
    )
