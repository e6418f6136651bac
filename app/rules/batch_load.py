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
    Columns,
    FloatArr,
    Incidents,
    IntArr,
    Recognitions,
)
from app.rules.facts import AWARD_LEVELS, FACT_INFO, INCIDENT_GRADES, RD_INSTITUTION_ORDER, YEAR_FIELD_INFO
from app.rules.loader import INCIDENT_KINDS, TIERS, RuleBook
from app.rules.vocabulary import Avg, BestOf, Growth, Sum, Year

_RANK = (
    "CASE source WHEN 'officer_verified' THEN 3 WHEN 'department' THEN 2 WHEN 'firm_reported' THEN 1 ELSE 0 END"
)
# A choice fact's value that none of the rules names.
OTHER_CHOICE = "?"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _codes(column: str, values: Sequence[str | None], otherwise: int = -1) -> str:
    """SQL: the position of the column's value in `values` (otherwise `otherwise`)."""
    whens = " ".join(f"WHEN {_lit(v)} THEN {i}" for i, v in enumerate(values) if v is not None)
    return f"CASE ({column}) {whens} ELSE {otherwise} END" if whens else str(otherwise)


# ---------------------------------------------------------------------------------------------------------- nodes


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


def choice_values(book: RuleBook) -> dict[str, list[str]]:
    """The values of each choice fact that rules can tell apart (the rest read as OTHER_CHOICE)."""
    found: dict[str, list[str]] = {path: [] for path in CHOICE_FACTS}
    found["rd_institution"] = list(RD_INSTITUTION_ORDER)
    for rs in book.sets:
        for node in walk([c.test for c in rs.criteria]):
            if isinstance(node, BestOf) and node.choice in found:
                found[node.choice] += [o for o in node.options if o not in found[node.choice]]
    return found


# ---------------------------------------------------------------------------------------------------------- dialects


# Firm ids per PostgreSQL read (each read is one COPY message of a few hundred bytes per firm and column).
SPLIT_RANGE = 200_000


def _binary_arrays(buf: bytearray, count: int) -> list[FloatArr]:
    """The float8[] fields of the single row of a binary COPY (a NULL field is an empty array)."""
    pos = 19 + int.from_bytes(buf[15:19], "big")  # signature, flags, header extension
    pos += 2  # field count
    out = []
    for _ in range(count):
        length = int.from_bytes(buf[pos : pos + 4], "big", signed=True)
        pos += 4
        if length < 0:
            out.append(np.zeros(0))
            continue
        ndim = int.from_bytes(buf[pos : pos + 4], "big")
        n = int.from_bytes(buf[pos + 12 : pos + 16], "big") if ndim else 0
        start = pos + 12 + 8 * ndim  # ndim, null flag, element type; size and lower bound per dimension
        cells = np.frombuffer(buf, dtype=[("len", ">i4"), ("v", ">f8")], count=n, offset=start)
        out.append(cells["v"].astype(np.float64))
        pos += length
    return out



class _Reader:
    """Numeric SELECTs as float64 matrices (NULL → NaN), the fastest way each driver allows."""

    def __init__(self, session: Session) -> None:
        self.conn = session.connection()
        self.postgres = self.conn.dialect.name == "postgresql"
        if self.postgres:
            # The long CASE expressions are evaluated once per row: compiling them (JIT) costs more than it saves.
            self.conn.exec_driver_sql("SET LOCAL jit = off")

    def days(self, column: str) -> str:
        """SQL: a date column as days since 1970-01-01."""
        if self.postgres:
            return f"({column} - DATE '1970-01-01')"
        return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"

    def day(self, value: date) -> str:
        return f"DATE '{value.isoformat()}'" if self.postgres else f"'{value.isoformat()}'"

    def matrix(self, columns: Sequence[str], rest: str, split: tuple[str, int, int] | None = None) -> FloatArr:
        """SELECT columns… rest, as an (rows, len(columns)) array (in no particular row order).

        `split` = (column, low, high): on PostgreSQL, read in ranges of that integer column (rest must end in a
        WHERE clause), so that no one message grows past what the server can send.
        """
        raw = self.conn.connection.dbapi_connection
        if self.postgres:
            if split is not None:
                column, low, high = split
                parts = [
                    self.matrix(columns, f"{rest} AND {column} >= {start} AND {column} < {start + SPLIT_RANGE}")
                    for start in range(low, high + 1, SPLIT_RANGE)
                ]
                return np.concatenate(parts) if parts else np.zeros((0, len(columns)))
            # One row of float8 arrays: COPY sends a message per row, and per-row messages cost more in Python
            # than the numbers themselves. All the aggregates read the same rows in the same order.
            listed = ", ".join(f"array_agg(COALESCE(({c})::float8, 'NaN'::float8))" for c in columns)
            buf = bytearray()
            with raw.cursor() as cur, cur.copy(f"COPY (SELECT {listed} {rest}) TO STDOUT (FORMAT BINARY)") as copy:
                for block in copy:
                    buf += block
            return np.stack(_binary_arrays(buf, len(columns)), axis=1).reshape(-1, len(columns))
        cur = raw.cursor()
        try:
            rows = cur.execute(f"SELECT {', '.join(columns)} {rest}").fetchall()
        finally:
            cur.close()
        return np.array(rows, dtype=np.float64).reshape(-1, len(columns))

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


# ---------------------------------------------------------------------------------------------------------- loading


def _rows_of(ids: IntArr, firm_ids: FloatArr) -> tuple[IntArr, np.ndarray]:
    """Row index of each firm id, and which ids belong to a loaded firm."""
    as_int = firm_ids.astype(np.int64)
    pos = np.searchsorted(ids, as_int)
    pos = np.minimum(pos, max(len(ids) - 1, 0))
    ok = (ids[pos] == as_int) if len(ids) else np.zeros(len(as_int), dtype=bool)
    return pos, ok


# A fact observation's sort key packed in one integer: ((firm × 32 + key) × 4 + rank) × 2²² + day, where day
# counts from 0001-01-01. Float64 carries it exactly while firm ids stay below 2²⁴; beyond, the firm travels alone.
_DAY0 = 719_163  # days from 0001-01-01 to 1970-01-01
_KEY_BITS, _RANK_BITS, _DAY_BITS = 5, 2, 22
_PACKED_FIRMS = 2**24


def _order_sql(r: _Reader, keys: Sequence[str]) -> str:
    """SQL: (key × 4 + rank) × 2²² + day of valid_from."""
    return f"(({_codes('key', keys)}) * 4 + {_RANK}) * {2**_DAY_BITS} + ({r.days('valid_from')} + {_DAY0})"


def _effective(
    r: _Reader,
    session: Session,
    observed: tuple[IntArr, IntArr, FloatArr],
    sql: tuple[str, str, str],
) -> tuple[IntArr, IntArr, FloatArr]:
    """Per (firm, key), the observation that holds: highest source rank, then newest valid_from, recorded_at, id
    (app.indicators.facts.effective_facts). Returns (firm id, key code, value) of each.

    `observed` is (firm id, packed order, value) of every observation, `sql` the (order, value, WHERE) SQL that
    read them. Observations tied on (source, valid_from) — rare — are settled by recorded_at and id, read for
    them alone.
    """
    firm, order, value = observed
    order_sql, value_sql, where = sql
    full = (firm << (_KEY_BITS + _RANK_BITS + _DAY_BITS)) | order
    sort = np.argsort(full)
    full, value = full[sort], value[sort]
    group = full >> (_RANK_BITS + _DAY_BITS)  # firm and key
    last = np.ones(len(full), dtype=bool)
    last[:-1] = group[1:] != group[:-1]
    chosen = np.flatnonzero(last)
    tied = chosen[(chosen > 0) & (full[chosen] == full[np.maximum(chosen - 1, 0)])]
    picked = value[chosen]
    if tied.size:
        tied_keys = set(full[tied].tolist())
        firms_tied = sorted({int(k) >> (_KEY_BITS + _RANK_BITS + _DAY_BITS) for k in tied_keys})
        best: dict[int, tuple[Any, int, float]] = {}
        for start in range(0, len(firms_tied), 500):
            chunk = ", ".join(str(f) for f in firms_tied[start : start + 500])
            rows = r.matrix(
                ["firm_id", order_sql, value_sql, "id"],
                f"FROM fact_observations WHERE firm_id IN ({chunk}) AND {where}",
            )
            ids = [int(i) for i in rows[:, 3]]
            recorded = dict(
                session.execute(
                    select(FactObservation.id, FactObservation.recorded_at).where(FactObservation.id.in_(ids))
                ).tuples().all()
            )
            for f, o, v, i in rows.tolist():
                k = (int(f) << (_KEY_BITS + _RANK_BITS + _DAY_BITS)) | int(o)
                if k in tied_keys:
                    rank = (recorded[int(i)], int(i), v)
                    if k not in best or rank[:2] > best[k][:2]:
                        best[k] = rank
        for pos in np.flatnonzero(np.isin(full[chosen], list(tied_keys))):
            picked[pos] = best[int(full[chosen][pos])][2]
    g = group[chosen]
    return g >> _KEY_BITS, g & (2**_KEY_BITS - 1), picked


def load_columns(session: Session, as_of: date, book: RuleBook) -> tuple[IntArr, Columns]:
    """(firm ids, their columns) of every active firm (status 存续) on as_of."""
    r = _Reader(session)
    on = r.day(as_of)
    districts: list[str | None] = sorted(
        row[0]
        for row in r.conn.exec_driver_sql(
            "SELECT DISTINCT district_code FROM firms WHERE district_code IS NOT NULL"
        ).all()
    )
    districts.append(None)
    firms = r.matrix(
        ["id", _codes("district_code", districts, len(districts) - 1), r.days("founded_on")],
        "FROM firms WHERE status = 'active'",
    )
    firms = firms[np.argsort(firms[:, 0], kind="stable")]
    ids = firms[:, 0].astype(np.int64)
    n = len(ids)
    split = ("firm_id", int(ids[0]), int(ids[-1])) if n else None

    # Years: one row per (firm, year, source); the highest source that gave a field wins.
    first = as_of.year - lookback(book)
    last = as_of.year - 1
    names = list(YEAR_FIELD_INFO)
    span = last - first + 1
    years = {name: np.full((n, span), np.nan) for name in names}
    ydata = r.matrix(
        ["firm_id", "year", _RANK, *names],
        f"FROM firm_years WHERE year >= {first} AND year <= {last}",
        split,
    )
    rows, ok = _rows_of(ids, ydata[:, 0])
    yi = ydata[:, 1].astype(np.int64) - first
    for rank in (1, 2, 3):  # later (higher) sources overwrite
        at = ok & (ydata[:, 2] == rank)
        for j, name in enumerate(names):
            given = at & ~np.isnan(ydata[:, 3 + j])
            years[name][rows[given], yi[given]] = ydata[given, 3 + j]

    # Facts: decode the JSON value by the key's kind, in SQL.
    keys = [*NUMBER_FACTS, *DATE_FACTS, *CHOICE_FACTS]
    keys = [k for k in keys if k != "founded_on"]
    vocab = choice_values(book)
    value_sql = "CASE " + " ".join(
        f"WHEN key = {_lit(k)} THEN "
        + (
            r.json_bool()
            if FACT_INFO[k][1] == "bool"
            else r.json_number()
            if FACT_INFO[k][1] == "number"
            else r.json_date()
            if FACT_INFO[k][1] == "date"
            else f"CASE WHEN {r.json_text()} IS NULL THEN NULL ELSE {_codes(r.json_text(), vocab[k])} END"
        )
        for k in keys
    ) + " END"
    assert len(keys) <= 2**_KEY_BITS
    where = f"valid_from <= {on} AND key IN ({', '.join(_lit(k) for k in keys)})"
    order_sql = _order_sql(r, keys)
    shift = _KEY_BITS + _RANK_BITS + _DAY_BITS
    top = r.conn.exec_driver_sql("SELECT MAX(id) FROM firms").scalar() or 0
    if top < _PACKED_FIRMS:
        packed = r.matrix(
            [f"CAST(firm_id AS BIGINT) * {2**shift} + {order_sql}", value_sql],
            f"FROM fact_observations WHERE {where}",
            split,
        )
        full = packed[:, 0].astype(np.int64)
        observed = (full >> shift, full & (2**shift - 1), packed[:, 1])
    else:
        fdata = r.matrix(["firm_id", order_sql, value_sql], f"FROM fact_observations WHERE {where}", split)
        observed = (fdata[:, 0].astype(np.int64), fdata[:, 1].astype(np.int64), fdata[:, 2])
    fid, fkey, fvalue = _effective(r, session, observed, (order_sql, value_sql, where))
    frows, fok = _rows_of(ids, fid.astype(np.float64))
    numbers = {path: np.full(n, np.nan) for path in NUMBER_FACTS}
    dates = {path: np.full(n, NO_DAY, dtype=np.int64) for path in DATE_FACTS}
    choices = {path: np.full(n, None, dtype=object) for path in CHOICE_FACTS}
    for k, path in enumerate(keys):
        at = fok & (fkey == k)
        values = fvalue[at]
        if path in numbers:
            numbers[path][frows[at]] = values
        elif path in dates:
            dates[path][frows[at]] = np.where(np.isnan(values), NO_DAY, np.nan_to_num(values)).astype(np.int64)
        else:
            names_of = np.array([*vocab[path], OTHER_CHOICE, None], dtype=object)
            code = np.where(np.isnan(values), len(names_of) - 1, np.nan_to_num(values)).astype(np.int64)
            choices[path][frows[at]] = names_of[np.where(code < 0, len(names_of) - 2, code)]
    dates["founded_on"] = np.where(np.isnan(firms[:, 2]), NO_DAY, np.nan_to_num(firms[:, 2])).astype(np.int64)

    # Recognitions, awards and incidents up to as_of (as firm_facts reads them).
    rdata = r.matrix(
        [
            "firm_id",
            _codes("tier", list(TIERS)),
            r.days("issued_on"),
            f"COALESCE({r.days('expires_on')}, {int(NO_END)})",
            f"COALESCE({r.days('revoked_on')}, {int(NO_END)})",
        ],
        f"FROM recognitions WHERE issued_on <= {on}",
        split,
    )
    adata = r.matrix(
        ["firm_id", _codes("level", AWARD_LEVELS), r.days("awarded_on"), "rank"],
        f"FROM awards WHERE awarded_on <= {on}",
    )
    idata = r.matrix(
        ["firm_id", _codes("kind", list(INCIDENT_KINDS)), _codes("grade", INCIDENT_GRADES), r.days("occurred_on")],
        f"FROM incidents WHERE occurred_on <= {on}",
    )

    def kept(data: FloatArr) -> tuple[FloatArr, IntArr]:
        rows, ok = _rows_of(ids, data[:, 0])
        return data[ok], rows[ok]

    rdata, rrows = kept(rdata)
    adata, arows = kept(adata)
    idata, irows = kept(idata)
    every = np.ones(n, dtype=bool)
    cols = Columns(
        n=n,
        district=firms[:, 1].astype(np.int64),
        districts=districts,
        numbers=numbers,
        dates=dates,
        choices=choices,
        first_year=first,
        years=years,
        recognitions=Recognitions(
            rrows,
            rdata[:, 1].astype(np.int64),
            rdata[:, 2].astype(np.int64),
            rdata[:, 3].astype(np.int64),
            rdata[:, 4].astype(np.int64),
        ),
        awards=Awards(
            arows,
            adata[:, 1].astype(np.int64),
            adata[:, 2].astype(np.int64),
            np.nan_to_num(adata[:, 3]).astype(np.int64),
            ~np.isnan(adata[:, 3]),
        ),
        incidents=Incidents(
            irows, idata[:, 1].astype(np.int64), idata[:, 2].astype(np.int64), idata[:, 3].astype(np.int64)
        ),
        has_recognitions=every,
        has_awards=every,
        has_incidents=every.copy(),
    )
    return ids, cols
