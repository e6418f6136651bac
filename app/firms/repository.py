"""Every query on firms. Access scoping lives in `scoped()` and nowhere else."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    Text,
    and_,
    bindparam,
    column,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    table,
    true,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import BindParameter
from sqlalchemy.sql.functions import FunctionElement

from app.auth.models import Role, User, UserPark
from app.auth.principal import Principal
from app.firms.models import (
    Contact,
    Firm,
    FirmListEpoch,
    FirmName,
    FirmStatus,
    FirmStatusPeriod,
    FirmTag,
    Membership,
)
from app.recognitions.models import HeldTier, Recognition
from app.reference.models import Area, Carrier, District, Industry, Park

CURRENT = Membership.valid_to.is_(None)


def scoped(stmt: Select[Any], principal: Principal) -> Select[Any]:
    """Limit a query over `Firm` to the firms the principal may see.

    Officers: firms whose current membership is in one of their parks. Firm users: their own firm.
    Admins and leaders: every firm. (The rule is `_scope_shape`, which the list's prebuilt statements use.)
    """
    shape, params = _scope_shape(principal)
    clause = _SCOPE_CLAUSES[shape]
    return stmt if clause is None else stmt.where(clause).params(params)


def held_on(day: date | BindParameter[date]) -> Any:
    """SQL condition: a recognition valid on `day` (issued ≤ day ≤ expires, not revoked on/before day)."""
    return and_(
        Recognition.issued_on <= day,
        or_(Recognition.expires_on.is_(None), Recognition.expires_on >= day),
        or_(Recognition.revoked_on.is_(None), Recognition.revoked_on > day),
    )


@dataclass
class FirmFilters:
    q: str | None = None
    park: str | None = None
    area: str | None = None
    industry: str | None = None
    tier: str | None = None
    tag: str | None = None
    status: str | None = None
    officer: int | None = None


SORTS = {
    "name": Firm.name,
    "uscc": Firm.uscc,
    "founded_on": Firm.founded_on,
    "updated_at": Firm.updated_at,
}


@dataclass(slots=True)
class ListFirm:
    """The columns of a firm that the list, the API list and the exports show (not an ORM entity: loading
    25-500 entities with every column was a third of a list page's CPU)."""

    id: int
    name: str
    uscc: str
    founded_on: date | None
    status: FirmStatus  # as on Firm: the stored string, typed as its enum
    updated_at: datetime
    version: int
    officer_id: int | None


@dataclass(slots=True)
class ListPlacement:
    """Where a firm sits now (its current membership)."""

    park_code: str
    area_code: str | None
    industry_code: str | None


@dataclass(slots=True)
class ListOfficer:
    display_name: str


@dataclass
class FirmRow:
    firm: ListFirm
    membership: ListPlacement | None
    tiers_held: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    officer: ListOfficer | None = None


def _scope_shape(principal: Principal) -> tuple[str, dict[str, Any]]:
    """`scoped()` for the list's statements, which are built once per shape and reused with parameters: the
    kind of limit (firm: the firm user's own firm, parks: an officer's parks, all) and its parameter."""
    if principal.role is Role.firm:
        return "firm", {"scope_firm": principal.firm_id or -1}
    if principal.park_codes is None:
        return "all", {}
    return "parks", {"scope_parks": sorted(principal.park_codes)}


_SCOPE_CLAUSES: dict[str, Any] = {
    "firm": Firm.id == bindparam("scope_firm"),
    "parks": Firm.park_code.in_(bindparam("scope_parks", expanding=True)),
    "all": None,
}

# The filters of FirmFilters, in the order the WHERE clause takes them.
_FILTERS = ("q", "park", "area", "industry", "tier", "tag", "status", "officer")


def _filter_params(session: Session, filters: FirmFilters, today: date, *, sqlite: bool) -> dict[str, Any]:
    """The parameters of the filters set (the statement's shape is which of them are)."""
    params: dict[str, Any] = {}
    for name in _FILTERS:
        value = getattr(filters, name)
        if value:
            params[name] = value
    if "q" in params:
        needle = params.pop("q").strip().lower()
        if len(needle) == 2 and not needle.isascii():
            params["q_pair"] = needle
        elif len(needle) >= 3 and sqlite:
            # An FTS5 phrase of trigrams holds exactly the rows holding the term (quotes doubled inside).
            params["q_fts"] = '"' + needle.replace('"', '""') + '"'
        else:
            # What `contains(..., autoescape=True)` binds: the needle with "/" escaping / % _.
            params["q"] = needle.replace("/", "//").replace("%", "/%").replace("_", "/_")
    if "industry" in params:
        # An industry group matches its sub-industries too: the codes are bound, so that the planner sees
        # which (and how many) firms they hold (a subquery of industries hid that: it read a third of the
        # table in id order to find 500 firms of one small industry).
        from app.firms import references  # it reads its rows through this module

        code = params.pop("industry")
        params["industries"] = references.load(session).industry_family.get(code, [code])
    if "tier" in params:
        from app.recognitions import held  # it imports `held_on` from here

        if held.is_current(session, today):
            # Who holds it today, from the rows the triggers keep (migration c5e2a8f1d374).
            params["held_tier"] = params.pop("tier")
        else:
            params["today"] = today
    return params


# Filters by kind (names as `_filter_params` sets them): answered by an index of their own (`_index_matches`),
# tested on each firm's row through a subquery or a pattern, and read from the firm's own columns.
INDEX_FILTERS = frozenset({"q_fts", "q_pair", "held_tier"})
ROW_LOOKUPS = frozenset({"q", "tier", "tag"})
FIRM_COLUMNS = frozenset({"park", "area", "industries", "status", "officer"})

# The search indexes, kept by triggers and known to no model: rows of character pairs (both engines) and,
# on SQLite, the FTS5 trigram index of search_text (PostgreSQL's trigram index serves the LIKE itself).
SEARCH_PAIRS = table("search_pairs", column("pair", Text()), column("firm_id", Integer()))
SEARCH_FTS = table("firm_search_fts", column("rowid", Integer()))


class _Unindexed(FunctionElement[Any]):
    """A column that SQLite must not look up by its index (`+column`): `firms.id IN (matches of a term)` then
    becomes a test of each firm met on the sort index, instead of a lookup of every match followed by a
    sort of them all (科技, 73k matches: 38 ms against 11 for a page). Other engines plan this themselves."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type  # binds compared with it keep the column's type


@compiles(_Unindexed)
def _unindexed_default(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(next(iter(element.clauses)), **kw)  # type: ignore[no-any-return]


@compiles(_Unindexed, "sqlite")
def _unindexed_sqlite(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(next(iter(element.clauses)), **kw)


def _index_matches(used: frozenset[str]) -> list[Select[Any]]:
    """The ids of the firms that pass the filters answered by an index of their own (the search term; the
    tier held today), no firm row read. As `firms.id IN (…)` both engines can drive from these ids (a rare
    term or tier) or test each firm against them (a walk of the sort index)."""
    out = []
    if "q_fts" in used:
        # SQLite: three characters or more through the FTS5 trigram index (migration f7b2d5e9a418).
        out.append(
            select(SEARCH_FTS.c.rowid.label("firm_id")).where(
                literal_column(SEARCH_FTS.name).op("MATCH")(bindparam("q_fts", type_=Text()))
            )
        )
    if "q_pair" in used:
        # A two-character term through the rows of character pairs (PostgreSQL: migration d9f3b7a2c615;
        # SQLite: f7b2d5e9a418), which no trigram index can serve. Holding the pair is holding the term, so
        # this stands in for the LIKE. The pair's firms come from its index in id order: PostgreSQL merges
        # them with the firms in scope, and the probe's "first 501 by id" stops early whatever the pair's
        # frequency.
        out.append(
            select(SEARCH_PAIRS.c.firm_id).where(SEARCH_PAIRS.c.pair == bindparam("q_pair", type_=Text()))
        )
    if "held_tier" in used:
        # Who holds it today, from the rows the triggers keep (migration c5e2a8f1d374).
        out.append(select(HeldTier.firm_id).where(HeldTier.tier == bindparam("held_tier")))
    return out


def _filtered(scope: str, used: frozenset[str], *, walking: bool = False) -> Select[Any]:
    """The ids of the firms in scope that pass the filters named in `used`, with bind parameters
    (`walking`: for a walk of a sort index, which tests each firm it meets)."""
    stmt = select(Firm.id)
    if _SCOPE_CLAUSES[scope] is not None:
        stmt = stmt.where(_SCOPE_CLAUSES[scope])
    if "q" in used:
        stmt = stmt.where(Firm.search_text.contains(bindparam("q", type_=Text()), escape="/"))
    # SQLite plans by rules: told "firms.id IN (…)" it drives from those ids, and with a list of industries
    # as well it looked up every pair of the two (44k held × 11 codes: 216 ms). So on SQLite an index filter
    # beside a scope or filter of the firm's own columns is a test of the firms those find, and a walk
    # tests every filter on the firms it meets in the sort index (`_Unindexed`; PostgreSQL plans by cost).
    beside = scope == "parks" or bool(used & FIRM_COLUMNS)
    for matches in _index_matches(used):
        stmt = stmt.where((_Unindexed(Firm.id) if walking or beside else Firm.id).in_(matches))

    def column(c: Any) -> Any:
        return _Unindexed(c) if walking else c

    if "park" in used:
        stmt = stmt.where(Firm.park_code == bindparam("park"))
    if "area" in used:
        stmt = stmt.where(column(Firm.area_code) == bindparam("area"))
    if "industries" in used:
        stmt = stmt.where(column(Firm.industry_code).in_(bindparam("industries", expanding=True)))
    if "tier" in used:
        stmt = stmt.where(
            exists().where(
                Recognition.firm_id == Firm.id,
                Recognition.tier == bindparam("tier"),
                held_on(bindparam("today", type_=Date())),
            )
        )
    if "tag" in used:
        stmt = stmt.where(
            exists().where(
                FirmTag.firm_id == Firm.id, FirmTag.tag == bindparam("tag"), FirmTag.valid_to.is_(None)
            )
        )
    if "status" in used:
        stmt = stmt.where(column(Firm.status) == bindparam("status"))
    if "officer" in used:
        stmt = stmt.where(column(Firm.officer_id) == bindparam("officer"))
    return stmt


class _ListsDirty(FunctionElement[str]):
    """Whether this transaction has itself written what lists count, not yet committed (PostgreSQL: the flag
    the triggers of migration a7c3e9d2f481 set; the epoch moves only at commit). SQLite moves the epoch at
    once, so it has no such flag."""

    inherit_cache = True
    type = String()
    name = "lists_dirty"


@compiles(_ListsDirty)
def _lists_dirty_default(element: _ListsDirty, compiler: SQLCompiler, **kw: Any) -> str:
    return "NULL"


@compiles(_ListsDirty, "postgresql")
def _lists_dirty_postgresql(element: _ListsDirty, compiler: SQLCompiler, **kw: Any) -> str:
    return "current_setting('ladder.lists_dirty', true)"


class _Totals:
    """Totals of list shapes counted under an epoch (`FirmListEpoch`), per process: a total stays right while
    the epoch it was counted under is the one the database holds, since every write that could change it moves
    the epoch (database triggers). Least recently used totals go first."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        # key → (epoch, total, highest firm id then)
        self._totals: OrderedDict[Hashable, tuple[int, int, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[int, int, int] | None:
        with self._lock:
            total = self._totals.get(key)
            if total is not None:
                self._totals.move_to_end(key)
            return total

    def put(self, key: Hashable, kept: tuple[int, int, int]) -> None:
        with self._lock:
            self._totals[key] = kept
            self._totals.move_to_end(key)
            while len(self._totals) > self._size:
                self._totals.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._totals.clear()


TOTALS = _Totals()

SPARSE = 500
# Share of the table the probe may read before its SPARSE + 1 matches for them to count as dense (below):
# matches 10 % dense or more. (At 2-3 %, a tier such as 专精特新"小巨人" at 100k firms, walking the name
# index to page 9 tested 18,000 firms: 50 ms, against 12 ms to gather and sort all 2,500.)
DENSE_WITHIN = 0.05


def _ordered(column: Any, key_desc: bool, id_desc: bool = False) -> tuple[Any, Any]:
    return (column.desc() if key_desc else column.asc(), Firm.id.desc() if id_desc else Firm.id.asc())


def _beside(one_row: Any, page: Any, *, key_desc: bool, id_desc: bool = False) -> Select[Any]:
    """The columns of a one-row subquery (the total; the epoch) beside the page's ids, in the page's order: an
    outer join, so that a page past the end still brings them (one row, no id)."""
    return (
        select(*one_row.c, page.c.id)
        .select_from(one_row.outerjoin(page, true()))
        .order_by(
            page.c.sort_key.desc() if key_desc else page.c.sort_key.asc(),
            page.c.id.desc() if id_desc else page.c.id.asc(),
        )
    )


def _marks() -> list[Any]:
    """The epoch the database holds and this transaction's dirty flag, as columns: read in the statement that
    counts or pages, so that a total kept under the epoch is checked in the same snapshot."""
    return [
        select(FirmListEpoch.epoch).where(FirmListEpoch.id == 1).scalar_subquery().label("epoch"),
        _ListsDirty().label("dirty"),
    ]


LIMIT = bindparam("limit", type_=Integer())
OFFSET = bindparam("offset", type_=Integer())


@dataclass(frozen=True)
class _Statements:
    """The statements that find one page of a list shape (scope, filters set, sort), built once: building a
    statement with subqueries costs more CPU than running it. Their parameters: the scope's and filters'
    (`_scope_shape`, `_filter_params`), `limit` and `offset`."""

    probe: Select[Any]
    scan: Select[Any]
    count_and_walk: Select[Any]
    count: Select[Any]
    # Walks of the sort index from either end, each beside the epoch and this transaction's dirty flag: one
    # statement for a page of a shape whose total is known.
    forward: Select[Any]
    backward: Select[Any]


def _walk_statement(keyed: Select[Any], column: Any, key_desc: bool, id_desc: bool) -> Select[Any]:
    """A page walked along the sort index (`keyed`: ids and sort keys), beside the epoch and dirty flag."""
    page = keyed.order_by(*_ordered(column, key_desc, id_desc)).limit(LIMIT).offset(OFFSET).subquery("page")
    return _beside(select(*_marks()).subquery("marks"), page, key_desc=key_desc, id_desc=id_desc)


def _counted(scope: str, used: frozenset[str], ids: Select[Any]) -> Select[Any]:
    """How many firms pass: from the filter's own index alone when it is the only condition and every firm
    is in scope (科技: 2 ms on either engine, 20-26 ms through the firms), else over `ids`."""
    if scope == "all" and len(used) == 1 and (matches := _index_matches(used)):
        return select(func.count().label("total")).select_from(matches[0].subquery())
    return select(func.count().label("total")).select_from(ids.subquery())


@lru_cache(maxsize=1024)
def _statements(scope: str, used: frozenset[str], sort: str, descending: bool) -> _Statements:
    ids = _filtered(scope, used)
    column = SORTS.get(sort, Firm.name)
    keyed = ids.add_columns(column.label("sort_key"))
    walked = _filtered(scope, used, walking=True).add_columns(column.label("sort_key"))
    counted = _counted(scope, used, ids)

    # Up to SPARSE + 1 matches read unsorted (with their sort key), how many they are, the highest id among
    # them and in the table (for the density test), and, when they are all of the matches, the page sorted
    # from them.
    # In id order, so that the highest id among them says how far into the table they lay whatever plan
    # reads them (an index on another column gives its ids in another order).
    probe = keyed.order_by(Firm.id).limit(SPARSE + 1).cte("probe").prefix_with("MATERIALIZED")
    probed = (
        select(
            func.count().label("total"),
            func.max(probe.c.id).label("top_probed"),
            select(func.max(Firm.id)).correlate(None).scalar_subquery().label("top"),
        )
        .select_from(probe)
        .subquery("counted")
    )
    key = probe.c.sort_key.desc() if descending else probe.c.sort_key.asc()
    sparse_page = (
        select(probe.c.id, probe.c.sort_key)
        .where(select(func.count()).select_from(probe).scalar_subquery() <= SPARSE)
        .order_by(key, probe.c.id.asc())
        .limit(LIMIT)
        .offset(OFFSET)
        .subquery("page")
    )
    probe_stmt = _beside(probed, sparse_page, key_desc=descending).add_columns(*_marks())

    # One pass over the matches: gathered once (with their sort key), then counted and the page taken from
    # them (a top-N sort).
    matches = keyed.cte("matches").prefix_with("MATERIALIZED")
    key = matches.c.sort_key.desc() if descending else matches.c.sort_key.asc()
    scan_page = (
        select(matches.c.id, matches.c.sort_key)
        .order_by(key, matches.c.id.asc())
        .limit(LIMIT)
        .offset(OFFSET)
        .subquery("page")
    )
    scan_stmt = _beside(
        select(func.count().label("total")).select_from(matches).subquery("counted"),
        scan_page,
        key_desc=descending,
    )

    # The count and, in the same statement, the page from the sort index (the planner walks the index for
    # the page as it would in a statement of its own).
    walk_page = walked.order_by(*_ordered(column, descending)).limit(LIMIT).offset(OFFSET).subquery("page")
    count_and_walk = _beside(
        counted.subquery("counted"),
        walk_page,
        key_desc=descending,
    )

    # From the other end: the exact reverse order (every key flips; each engine puts NULLs at opposite ends
    # for ASC and DESC), read back to front.
    return _Statements(
        probe=probe_stmt,
        scan=scan_stmt,
        count_and_walk=count_and_walk,
        count=counted,
        forward=_walk_statement(walked, column, descending, False),
        backward=_walk_statement(walked, column, not descending, True),
    )


def _run(session: Session, stmt: Executable, params: dict[str, Any]) -> Sequence[Any]:
    """Core rows through the session's connection: none of the ORM's result handling (`list_firms` flushes
    first, as the session would)."""
    return session.connection().execute(stmt, params).all()


def _total_of(rows: Sequence[Any]) -> tuple[list[int], int]:
    return [r.id for r in rows if r.id is not None], int(rows[0].total) if rows else 0


def _page_ids(
    session: Session,
    st: _Statements,
    params: dict[str, Any],
    *,
    limit: int,
    offset: int,
    shape: Hashable,
    lookups: bool,
    probes: bool,
) -> tuple[list[int], int]:
    """The ids of one page of matches, in order, and the total.

    A selective search or filter matches few firms: the probe reads them unsorted in one pass (count = their
    number) and sorts only those. Otherwise matches spread thinly over the table (a search, or a filter
    tested firm by firm: a walk of the sort index would test as many again as the count) are counted and
    paged in one more pass; dense matches are counted and the sort index walked, which is quick precisely
    because they are dense. Whether they are dense: a scan reads firms in about the order of their ids, so
    matches that all came from the lowest ids are (at 100k, a search for 科技, which 73 % of names hold:
    45 ms against 70-85 ms for one pass sorting every match).

    Filters answered by an index probe per firm and nothing else (`probes`: a two-character term's pairs,
    the tiers held today) are counted from their index and walked, however thin: gathering their matches
    meant joining every firm's name (器人, 3k matches: 27 ms gathered, 4 ms counted + 3 ms walked).

    A total counted before is not counted again while the epoch the probe read with it stands (`TOTALS`):
    the page is then walked from the nearer end of the sort index, unless the matches are so thin that
    gathering them all costs less (`lookups`: a filter tested firm by firm on its row is set)."""
    paged = {**params, "limit": limit, "offset": offset}
    values = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(params.items()))
    key = (session.connection().engine.url, shape, values)
    known = TOTALS.get(key)
    if known is not None:
        epoch, total, top = known
        # Walking the sort index to the page tests (rows to the page) / (share of the table that matches)
        # firms; gathering every match tests about as many firms as match. Without a filter tested firm by
        # firm (a search, a tier, a tag) the walk reads the index alone and is always the cheaper.
        nearer = min(offset + limit, max(total - offset, 0))
        if not lookups or nearer * max(top, 1) <= total * total:
            page, current = _walk(session, st, params, total, epoch, limit=limit, offset=offset)
            if current:
                return page, total
        else:
            return _total_of(_run(session, st.scan, paged))
    rows = _run(session, st.probe, paged)
    page, probed = _total_of(rows)
    if probed <= SPARSE:
        return page, probed
    if (lookups or not probes) and int(rows[0].top_probed or 0) > DENSE_WITHIN * int(rows[0].top or 0):
        page, total = _total_of(_run(session, st.scan, paged))
    elif 2 * offset + limit <= SPARSE + 1:
        # The total is at least SPARSE + 1: a page that ends before the middle of that is walked forward
        # whatever the total, so the count and the walk can share one statement.
        page, total = _total_of(_run(session, st.count_and_walk, paged))
    else:
        total = int(_run(session, st.count, params)[0][0] or 0)
        page = (
            [] if offset >= total else _walk(session, st, params, total, None, limit=limit, offset=offset)[0]
        )
    if rows[0].epoch is not None and rows[0].dirty != "on":
        TOTALS.put(key, (rows[0].epoch, total, int(rows[0].top or 0)))
    return page, total


def _walk(
    session: Session,
    st: _Statements,
    params: dict[str, Any],
    total: int,
    epoch: int | None,
    *,
    limit: int,
    offset: int,
) -> tuple[list[int], bool]:
    """One page of `total` matches from the sort index — past the middle from the other end, so that no page
    costs more than half the list — and whether `total` still holds: the epoch read in the same statement is
    `epoch`, and this transaction has not written what lists count."""
    if offset >= total:
        # Past the end: only the check (an empty walk).
        rows = _run(session, st.forward, {**params, "limit": 0, "offset": 0})
        page = []
    elif offset + limit <= total - offset:
        rows = _run(session, st.forward, {**params, "limit": limit, "offset": offset})
        page = [r.id for r in rows if r.id is not None]
    else:
        end = min(offset + limit, total)
        rows = _run(session, st.backward, {**params, "limit": end - offset, "offset": total - end})
        page = [r.id for r in rows if r.id is not None]
        page.reverse()
    return page, rows[0].epoch == epoch and rows[0].dirty != "on"


# Labels joined in one string (a tag may hold a comma; no one types the unit separator).
LABEL_SEPARATOR = "\x1f"
_ROWS = (
    select(
        Firm.id,
        Firm.name,
        Firm.uscc,
        Firm.founded_on,
        Firm.status,
        Firm.updated_at,
        Firm.version,
        Firm.officer_id,
        Membership.id.label("membership_id"),
        Membership.park_code,
        Membership.area_code,
        Membership.industry_code,
        User.display_name,
        # Tiers held today and current tags, in the same statement.
        select(func.aggregate_strings(Recognition.tier, LABEL_SEPARATOR))
        .where(Recognition.firm_id == Firm.id, held_on(bindparam("today", type_=Date())))
        .scalar_subquery()
        .label("tiers"),
        select(func.aggregate_strings(FirmTag.tag, LABEL_SEPARATOR))
        .where(FirmTag.firm_id == Firm.id, FirmTag.valid_to.is_(None))
        .scalar_subquery()
        .label("tags"),
    )
    .outerjoin(Membership, and_(Membership.firm_id == Firm.id, CURRENT))
    .outerjoin(User, User.id == Firm.officer_id)
    .where(Firm.id.in_(bindparam("ids", expanding=True)))
)


def list_firms(
    session: Session,
    principal: Principal,
    filters: FirmFilters,
    *,
    today: date,
    sort: str = "name",
    descending: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[FirmRow], int]:
    """One page of firms in scope, and the total, in a fixed number of queries (1 to 3 for the page, 1 for
    its rows). The statements are built once per shape and the rows are plain columns, not ORM entities."""
    if session.autoflush:
        session.flush()
    scope, params = _scope_shape(principal)
    sqlite = session.get_bind().dialect.name == "sqlite"
    params.update(_filter_params(session, filters, today, sqlite=sqlite))
    used = frozenset(params) - {"scope_firm", "scope_parks", "today"}
    st = _statements(scope, used, sort if sort in SORTS else "name", descending)
    page_ids, total = _page_ids(
        session,
        st,
        params,
        limit=limit,
        offset=offset,
        shape=(scope, used),
        # SQLite's walks test every filter on the firm's row (`_filtered`): a park at most is free.
        lookups=bool(used & ROW_LOOKUPS) or (sqlite and bool(used - {"park"})),
        # Only index probes, and a park at most (its own name index: ix_firms_park_code_name_id); with another
        # placement filter the walk would read each firm's row as well.
        probes=bool(used & INDEX_FILTERS) and used <= INDEX_FILTERS | {"park"},
    )
    if not page_ids:
        return [], total
    by_id: dict[int, FirmRow] = {}
    for r in _run(session, _ROWS, {"ids": page_ids, "today": today}):
        by_id[r.id] = FirmRow(
            firm=ListFirm(
                r.id, r.name, r.uscc, r.founded_on, r.status, r.updated_at, r.version, r.officer_id
            ),
            membership=ListPlacement(r.park_code, r.area_code, r.industry_code)
            if r.membership_id is not None
            else None,
            # A tier held under two recognitions (a renewal overlapping) counts once.
            tiers_held=list(dict.fromkeys(r.tiers.split(LABEL_SEPARATOR))) if r.tiers else [],
            tags=r.tags.split(LABEL_SEPARATOR) if r.tags else [],
            officer=ListOfficer(r.display_name) if r.display_name is not None else None,
        )
    return [by_id[i] for i in page_ids], total


def get_in_scope(session: Session, principal: Principal, firm_id: int) -> Firm | None:
    return session.scalars(scoped(select(Firm).where(Firm.id == firm_id), principal)).first()


def get_by_uscc(session: Session, uscc: str) -> Firm | None:
    return session.scalars(select(Firm).where(Firm.uscc == uscc)).first()


def load_with_children(session: Session, firm_id: int) -> Firm:
    """The firm with its names, memberships, tags, contacts and status periods loaded."""
    return session.scalars(
        select(Firm)
        .where(Firm.id == firm_id)
        .options(
            selectinload(Firm.names),
            selectinload(Firm.memberships),
            selectinload(Firm.tags),
            selectinload(Firm.contacts),
            selectinload(Firm.status_periods),
        )
        .execution_options(populate_existing=True)
    ).one()


def current_membership(session: Session, firm_id: int) -> Membership | None:
    return session.scalars(select(Membership).where(Membership.firm_id == firm_id, CURRENT)).first()


def membership_on(session: Session, firm_id: int, day: date) -> Membership | None:
    """Where the firm sat on `day` (valid_from ≤ day ≤ valid_to, open-ended when valid_to is empty)."""
    return session.scalars(
        select(Membership).where(
            Membership.firm_id == firm_id,
            Membership.valid_from <= day,
            or_(Membership.valid_to.is_(None), Membership.valid_to >= day),
        )
    ).first()


def name_on(session: Session, firm_id: int, day: date) -> str | None:
    return session.scalars(
        select(FirmName.name)
        .where(
            FirmName.firm_id == firm_id,
            or_(FirmName.valid_from.is_(None), FirmName.valid_from <= day),
            or_(FirmName.valid_to.is_(None), FirmName.valid_to >= day),
        )
        .order_by(FirmName.id.desc())
    ).first()


def status_on(session: Session, firm_id: int, day: date) -> str | None:
    return session.scalars(
        select(FirmStatusPeriod.status).where(
            FirmStatusPeriod.firm_id == firm_id,
            or_(FirmStatusPeriod.valid_from.is_(None), FirmStatusPeriod.valid_from <= day),
            or_(FirmStatusPeriod.valid_to.is_(None), FirmStatusPeriod.valid_to >= day),
        )
    ).first()


def reference_names(session: Session) -> dict[str, dict[str, str]]:
    """Display names of parks, areas, carriers and industries by code (small tables)."""
    return {
        "park": dict(session.execute(select(Park.code, Park.name)).all()),
        "area": dict(session.execute(select(Area.code, Area.name)).all()),
        "carrier": dict(session.execute(select(Carrier.code, Carrier.name)).all()),
        "industry": dict(session.execute(select(Industry.code, Industry.name)).all()),
    }


_OFFICERS = (
    select(User.id, User.display_name)
    .where(User.role.in_([Role.officer, Role.admin]), User.is_active.is_(True))
    .order_by(User.display_name)
)
_OFFICERS_OF_PARKS = _OFFICERS.where(
    User.id.in_(
        select(UserPark.user_id).where(UserPark.park_code.in_(bindparam("park_codes", expanding=True)))
    )
)


def officer_choices(session: Session, park_codes: frozenset[str] | None) -> list[tuple[str, str]]:
    """(id, name) of the officers and admins a firm can be assigned to, in name order; with `park_codes`,
    only those serving one of them (auth.repository.officers, without loading accounts and their parks)."""
    if park_codes is None:
        rows = session.execute(_OFFICERS)
    else:
        rows = session.execute(_OFFICERS_OF_PARKS, {"park_codes": sorted(park_codes)})
    return [(str(user_id), name) for user_id, name in rows]


def reference_rows(session: Session) -> tuple[Any, ...]:
    """Every row of the five reference tables in one statement: (table, code, name, a, b, c), unordered."""
    stmt = union_all(
        select(literal("park"), Park.code, Park.name, Park.district_code, null(), null()),
        select(literal("district"), District.code, District.name, null(), null(), null()),
        select(literal("area"), Area.code, Area.name, Area.park_code, null(), null()),
        select(
            literal("carrier"), Carrier.code, Carrier.name, Carrier.park_code, Carrier.area_code, Carrier.kind
        ),
        select(literal("industry"), Industry.code, Industry.name, Industry.parent_code, null(), null()),
    )
    return tuple(tuple(row) for row in session.execute(stmt))


def contacts_of(session: Session, firm_id: int) -> list[Contact]:
    return list(session.scalars(select(Contact).where(Contact.firm_id == firm_id).order_by(Contact.id)))
