"""Fake firm files as plain dict rows, one firm at a time: shared by the demo generator and the benchmark.

Everything is drawn from one `random.Random`, so a seed (by default derived from `today`) gives the same
firms, names and USCCs every time. Rows are keyed by table name and hold column values only (no ORM), so the
benchmark can insert them with Core:

    from app.db import Base
    from seeds.fake import TABLE_ORDER, table_batches

    with engine.begin() as conn:                      # reference data must be loaded first
        for batch in table_batches(100_000, today=date(2026, 9, 15), first_id=1):
            for table in TABLE_ORDER:
                if batch[table]:
                    conn.execute(Base.metadata.tables[table].insert(), batch[table])
        reset_id_sequence(conn, "firms")              # PostgreSQL: firm ids were given explicitly

Firm rows carry an explicit `id` (from `first_id`), child rows its `firm_id`. Core inserts write no audit
entries; the demo generator (`seeds.demo.generate`) turns the same rows into ORM objects, which are audited.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from random import Random
from typing import Any, TypeVar

from sqlalchemy import Connection, text

from app.firms.models import FirmStatus
from app.firms.search import search_text_for
from app.firms.uscc import build as build_uscc
from app.indicators.models import AwardLevel, IncidentGrade, IncidentKind, Source
from app.recognitions.models import RecognitionKind, RecognitionLevel
from app.tiers.codes import LADDER_POSITION, VALIDITY_YEARS, Tier
from seeds import names as N
from seeds.reference import read_seed

Row = dict[str, Any]
T = TypeVar("T")
FirmRows = dict[str, list[Row]]

# Insert order that satisfies the foreign keys.
TABLE_ORDER: tuple[str, ...] = (
    "firms",
    "firm_names",
    "firm_status_periods",
    "memberships",
    "firm_tags",
    "contacts",
    "firm_years",
    "fact_observations",
    "incidents",
    "awards",
    "recognitions",
)

PARK_WEIGHTS = {"jingan": 45, "yangpu": 35, "hongkou": 20}
# GB 32100-2015 code characters: digits and capitals without I, O, S, V, Z.
ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Organisation codes under the unified scheme (from late 2015) start "MA"; older firms kept a numeric code.
UNIFIED_CODE_SINCE = date(2015, 10, 1)
FOUNDED_MIN = date(1998, 1, 1)
FOUNDED_MAX = date(2024, 12, 31)

LEVELS: dict[Tier, RecognitionLevel] = {
    Tier.tech_sme: RecognitionLevel.municipal,
    Tier.innovative_sme: RecognitionLevel.municipal,
    Tier.hnte: RecognitionLevel.national,
    Tier.srdi_sme: RecognitionLevel.municipal,
    Tier.little_giant: RecognitionLevel.national,
    Tier.hidden_champion: RecognitionLevel.national,
    Tier.unicorn: RecognitionLevel.market,
    Tier.gazelle: RecognitionLevel.market,
}

# The ladder's pyramid: cumulative shares of firms whose highest tier is each one (the rest hold none).
PYRAMID = ((0.025, Tier.little_giant), (0.11, Tier.srdi_sme), (0.33, Tier.hnte), (0.66, Tier.tech_sme))

# Last-year revenue range (万元, drawn log-uniformly) by the highest tier a firm holds.
REVENUE_RANGE: dict[Tier | None, tuple[float, float]] = {
    None: (30, 3000),
    Tier.tech_sme: (150, 6000),
    Tier.hnte: (800, 30000),
    Tier.srdi_sme: (2500, 40000),
    Tier.little_giant: (8000, 120000),
    Tier.hidden_champion: (30000, 300000),
    Tier.unicorn: (20000, 400000),
}

# Industries whose firms make things (MIIT's 制造业单项冠军 applies to them).
MANUFACTURING = {
    "green.new_energy_vehicle",
    "green.materials",
    "green.smart_grid",
    "green.synthetic_bio",
    "internet.connected_vehicle",
    "internet.ic_software",
    "digital.low_altitude",
    "uhd_video",
    "life_health",
}

# Facts whose sources disagree for about one firm in ten (firm report vs department data).
CONFLICT_KEYS = ("ip.class1", "ip.class1", "ip.class2", "is_sme", "lists.abnormal")

_PINYIN = dict(N.BRAND_SYLLABLES)
# Certificates that can be carried into the park when a firm moves in (带证迁入).
MOVABLE_TIERS = (Tier.hnte, Tier.srdi_sme, Tier.little_giant)

RD_INSTITUTIONS = ("none", "below_municipal", "municipal", "provincial", "ministerial", "national")


def seed_for(today: date) -> int:
    """The default seed for a day: the same day always gives the same demo data."""
    return today.year * 10000 + today.month * 100 + today.day


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def expiry_for(tier: Tier, issued_on: date) -> date:
    """Last day of validity (inclusive): a 高企 certificate of 2022-11-02 runs to 2025-11-01."""
    return add_years(issued_on, VALIDITY_YEARS[tier]) - timedelta(days=1)


def money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


@dataclass(frozen=True)
class RefData:
    district_names: dict[str, str]
    admin_codes: dict[str, str]
    park_district: dict[str, str]
    lead_industries: dict[str, tuple[str, ...]]
    areas: dict[str, tuple[str, ...]]
    carriers: dict[str, tuple[Row, ...]]


@cache
def reference_data() -> RefData:
    districts = read_seed("districts")
    parks = read_seed("parks")
    areas = read_seed("areas")
    carriers = read_seed("carriers")
    return RefData(
        district_names={d["code"]: d["name"] for d in districts},
        admin_codes={d["code"]: d["admin_code"] for d in districts},
        park_district={p["code"]: p["district_code"] for p in parks},
        lead_industries={p["code"]: tuple(p["lead_industries"]) for p in parks},
        areas={p["code"]: tuple(a["code"] for a in areas if a["park_code"] == p["code"]) for p in parks},
        carriers={p["code"]: tuple(c for c in carriers if c["park_code"] == p["code"]) for p in parks},
    )


@dataclass
class Profile:
    """What a firm is before its rows are written: the choices every later draw depends on."""

    index: int
    park: str
    industry: str
    area: str
    carrier: Row | None
    district: str
    founded_on: date
    joined_on: date
    top: Tier | None
    status: FirmStatus
    status_since: date
    revenue: float
    listed: bool
    equity_backed: bool
    gazelle: bool

    @property
    def position(self) -> int:
        return LADDER_POSITION.get(self.top, 0) if self.top else 0

    @property
    def active(self) -> bool:
        return self.status is FirmStatus.active


class FirmFaker:
    """Draws one firm file after another; names and USCCs are unique across everything it has drawn."""

    def __init__(self, *, today: date, seed: int | None = None, officers: Mapping[str, int] | None = None):
        self.today = today
        self.seed = seed_for(today) if seed is None else seed
        self.rng = Random(self.seed)
        self.officers = dict(officers or {})
        self.ref = reference_data()
        self._count = 0
        self._names: set[str] = set()
        self._usccs: set[str] = set()
        self._cert_serials: set[str] = set()
        self._parks = list(PARK_WEIGHTS)
        self._park_weights = list(PARK_WEIGHTS.values())
        self._districts = list(self.ref.district_names)

    # Faster than `Random.randint` / `choice` (pure Python), drawing from the same seeded stream.
    def _int(self, low: int, high: int) -> int:
        """A whole number in [low, high]."""
        return low + int(self.rng.random() * (high - low + 1))

    def _pick(self, items: Sequence[T]) -> T:
        return items[int(self.rng.random() * len(items))]

    # -- public -------------------------------------------------------------------------------------

    def firm(self, firm_id: int | None = None) -> FirmRows:
        """All rows of the next firm; child rows carry `firm_id` (None when the caller assigns ids later)."""
        p = self._profile(self._count)
        self._count += 1
        rows: FirmRows = {table: [] for table in TABLE_ORDER}
        name, former, renamed_on = self._names_for(p)
        uscc = self._uscc_for(p)
        officer_id = self.officers.get(p.park)
        firm: Row = {
            "name": name,
            "uscc": uscc,
            "founded_on": p.founded_on,
            "district_code": p.district,
            "address": self._address(p),
            "status": p.status,
            "status_since": p.status_since,
            "officer_id": officer_id,
            "search_text": search_text_for(name, former, uscc),
            # The open membership's placement (none once the firm has moved out or closed).
            "park_code": p.park if p.active else None,
            "area_code": p.area if p.active else None,
            "industry_code": p.industry if p.active else None,
        }
        if firm_id is not None:
            firm["id"] = firm_id
        rows["firms"].append(firm)

        def child(table: str, **values: Any) -> None:
            rows[table].append({"firm_id": firm_id, **values})

        if former:
            child(
                "firm_names", name=former[0], valid_from=p.founded_on, valid_to=renamed_on - timedelta(days=1)
            )
            child("firm_names", name=name, valid_from=renamed_on, valid_to=None)
        else:
            child("firm_names", name=name, valid_from=p.founded_on, valid_to=None)

        if p.active:
            child("firm_status_periods", status=FirmStatus.active, valid_from=p.founded_on, valid_to=None)
        else:
            child(
                "firm_status_periods",
                status=FirmStatus.active,
                valid_from=p.founded_on,
                valid_to=p.status_since - timedelta(days=1),
            )
            child("firm_status_periods", status=p.status, valid_from=p.status_since, valid_to=None)

        child(
            "memberships",
            park_code=p.park,
            area_code=p.area,
            carrier_code=p.carrier["code"] if p.carrier else None,
            industry_code=p.industry,
            valid_from=p.joined_on,
            valid_to=None if p.active else p.status_since - timedelta(days=1),
        )
        for row in self._tags(p):
            child("firm_tags", **row)
        for row in self._contacts(p, name):
            child("contacts", **row)
        years = self._years(p, officer_id)
        for row in years:
            child("firm_years", **row)
        for row in self._facts(p, years, officer_id):
            child("fact_observations", **row)
        for row in self._incidents(p):
            child("incidents", **row)
        for row in self._awards(p):
            child("awards", **row)
        for row in self._recognitions(p):
            child("recognitions", **row)
        return rows

    # -- who the firm is ----------------------------------------------------------------------------

    def _day_between(self, start: date, end: date) -> date:
        if end <= start:
            return start
        return start + timedelta(days=self._int(0, (end - start).days))

    def _profile(self, index: int) -> Profile:
        rng, today = self.rng, self.today
        park = rng.choices(self._parks, self._park_weights)[0]
        industries = self.ref.lead_industries[park]
        # The plans list their lead industries first: weight them a little more.
        industry = rng.choices(industries, [len(industries) - k + 2 for k in range(len(industries))])[0]
        carrier: Row | None = None
        if rng.random() < 0.3:
            carrier = self._pick(self.ref.carriers[park])
        area = carrier["area_code"] if carrier and carrier["area_code"] else self._pick(self.ref.areas[park])
        home = self.ref.park_district[park]
        district = home if rng.random() < 0.85 else self._pick([d for d in self._districts if d != home])

        # The pyramid: one unicorn/hidden champion in every 250 firms, then ever wider tiers.
        top: Tier | None
        if index % 250 == 17:
            top = Tier.unicorn if (index // 250) % 2 == 0 else Tier.hidden_champion
        else:
            r = rng.random()
            top = next((tier for cut, tier in PYRAMID if r < cut), None)
        latest = min(FOUNDED_MAX, today - timedelta(days=400))
        if top is not None and LADDER_POSITION[top] >= 3:
            latest = min(latest, add_years(today, -6))
        span = max(0, (latest - FOUNDED_MIN).days)
        founded_on = FOUNDED_MIN + timedelta(days=int(span * rng.betavariate(2.2, 1.3)))

        joined_on = founded_on
        if rng.random() < 0.15:
            joined_on = self._day_between(founded_on + timedelta(days=200), today - timedelta(days=60))

        status, status_since = FirmStatus.active, founded_on
        r = rng.random()
        if r < 0.06 and (top is None or LADDER_POSITION[top] <= 2):
            status = FirmStatus.moved_out if r < 0.04 else FirmStatus.deregistered
            last = today - timedelta(days=30)
            first = min(last, max(joined_on + timedelta(days=180), today - timedelta(days=900)))
            status_since = self._day_between(first, last)
            if status is FirmStatus.deregistered and top is not None:
                top = Tier.tech_sme if rng.random() < 0.3 else None

        low, high = REVENUE_RANGE[top]
        revenue = low * (high / low) ** rng.random()
        listed_p = {Tier.hidden_champion: 0.5, Tier.little_giant: 0.25, Tier.srdi_sme: 0.05, Tier.hnte: 0.015}
        listed = rng.random() < listed_p.get(top, 0.0) if top else False
        equity_p = {Tier.unicorn: 1.0, Tier.little_giant: 0.5, Tier.srdi_sme: 0.35, Tier.hnte: 0.2}
        equity_backed = rng.random() < (equity_p.get(top, 0.08) if top else 0.05)
        pos = LADDER_POSITION.get(top, 0) if top else 0
        gazelle = pos >= 2 and status is FirmStatus.active and rng.random() < 0.08
        return Profile(
            index=index,
            park=park,
            industry=industry,
            area=area,
            carrier=carrier,
            district=district,
            founded_on=founded_on,
            joined_on=joined_on,
            top=top,
            status=status,
            status_since=status_since,
            revenue=revenue,
            listed=listed,
            equity_backed=equity_backed,
            gazelle=gazelle,
        )

    def _brand(self, syllables: int) -> str:
        return "".join(c for c, _ in self.rng.sample(N.BRAND_SYLLABLES, syllables))

    def _unique_name(self, industry: str, suffix: str) -> str:
        rng = self.rng
        for attempt in range(60):
            brand = self._brand(2 if attempt < 30 else 3)
            word = self._pick(N.INDUSTRY_WORDS[industry])
            if rng.random() < 0.05:
                candidate = f"{brand}{word}（上海）{suffix}"
            else:
                candidate = f"上海{brand}{word}{suffix}"
            if candidate not in self._names:
                self._names.add(candidate)
                return candidate
        raise RuntimeError("could not draw a unique firm name")  # pragma: no cover - 10⁵ names fit easily

    def _names_for(self, p: Profile) -> tuple[str, list[str], date]:
        rng = self.rng
        big = p.top in (Tier.little_giant, Tier.unicorn, Tier.hidden_champion)
        suffix = "股份有限公司" if p.listed or (big and rng.random() < 0.5) else "有限公司"
        name = self._unique_name(p.industry, suffix)
        renamed_on = p.founded_on
        former: list[str] = []
        latest = self.today - timedelta(days=60)
        if rng.random() < 0.08 and (latest - p.founded_on).days > 400:
            # 曾用名: a rebrand or a change of business line, recorded with the date of the change.
            old_industry = self._pick([p.industry, *self.ref.lead_industries[p.park]])
            former.append(self._unique_name(old_industry, "有限公司"))
            renamed_on = self._day_between(p.founded_on + timedelta(days=365), latest)
        return name, former, renamed_on

    def _uscc_for(self, p: Profile) -> str:
        prefix = "91" + self.ref.admin_codes[p.district]  # 9 工商, 1 企业, then the 行政区划 code
        while True:
            if p.founded_on >= UNIFIED_CODE_SINCE:
                body = "MA1" + "".join(self._pick(ORG_ALPHABET) for _ in range(5))
            else:
                body = "".join(self._pick("0123456789") for _ in range(8))
            code = build_uscc(prefix, body)
            if code not in self._usccs:
                self._usccs.add(code)
                return code

    def _address(self, p: Profile) -> str:
        rng = self.rng
        in_park = p.district == self.ref.park_district[p.park]
        roads = N.AREA_ROADS[p.area] if in_park else N.DISTRICT_ROADS[p.district]
        text_ = f"上海市{self.ref.district_names[p.district]}{self._pick(roads)}{self._int(1, 1200)}号"
        r = rng.random()
        if r < 0.4:
            text_ += f"{self._int(1, 12)}幢{self._int(1, 12)}{self._int(1, 30):02d}室"
        elif r < 0.8:
            text_ += f"{self._int(2, 30)}层{self._int(1, 20):02d}室"
        return text_

    # -- people and labels --------------------------------------------------------------------------

    def _person(self) -> tuple[str, str]:
        rng = self.rng
        surname, s_py = self._pick(N.SURNAMES)
        given = [self._pick(N.GIVEN_CHARS) for _ in range(1 if rng.random() < 0.3 else 2)]
        return surname + "".join(c for c, _ in given), s_py + "".join(py for _, py in given)

    def _mobile(self) -> str:
        return self._pick(N.MOBILE_PREFIXES) + f"{self._int(0, 99_999_999):08d}"

    def _id_number(self) -> str:
        born = date(1965, 1, 1) + timedelta(days=self._int(0, 12_400))
        body = f"{self._pick(N.ID_REGIONS)}{born:%Y%m%d}{self._int(1, 999):03d}"
        # GB 11643-1999 check character.
        weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
        return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]

    def _contacts(self, p: Profile, firm_name: str) -> list[Row]:
        rng = self.rng
        domain = "".join(_PINYIN.get(c, "") for c in firm_name.removeprefix("上海")[:2]) or "example"
        out = []
        for k in range(1 if rng.random() < 0.5 else 2):
            name, py = self._person()
            out.append(
                {
                    "name": name,
                    "title": self._pick(N.PRIMARY_TITLES if k == 0 else N.OTHER_TITLES),
                    "phone": self._mobile(),
                    "id_number": self._id_number(),
                    "email": f"{py}@{domain}.com.cn" if rng.random() < 0.6 else None,
                    "is_primary": k == 0,
                }
            )
        return out

    def _tags(self, p: Profile) -> list[Row]:
        rng, today = self.rng, self.today
        pos = p.position
        tags: list[tuple[str, date]] = []

        def since(days: int) -> date:
            return max(p.joined_on, today - timedelta(days=self._int(30, days)))

        if p.listed:
            tags.append(("上市", since(2500)))
        elif pos >= 2 and rng.random() < 0.05:
            tags.append(("拟上市", since(500)))
        if pos >= 4 and rng.random() < 0.4:
            tags.append(("链主", since(1200)))
        if pos >= 5 and rng.random() < 0.5:
            tags.append(("领军企业", since(1200)))
        if p.gazelle:
            tags.append(("瞪羚", since(360)))
        if rng.random() < (0.07 if pos >= 2 else 0.02):
            tags.append(("授信白名单", since(700)))
        if pos in (1, 2) and rng.random() < 0.06:
            tags.append(("潜力企业", since(500)))
        incubating = ("incubator", "maker_space", "university_park")
        if p.carrier and p.carrier["kind"] in incubating and pos <= 2 and rng.random() < 0.7:
            tags.append(("入孵企业", p.joined_on))
        ended = None if p.active else p.status_since - timedelta(days=1)
        return [
            {"tag": tag, "valid_from": start, "valid_to": ended}
            for tag, start in tags
            if ended is None or start <= ended
        ]

    # -- yearly indicators --------------------------------------------------------------------------

    def _years(self, p: Profile, officer_id: int | None) -> list[Row]:
        rng, today = self.rng, self.today
        last_year = today.year - 1
        if not p.active:
            last_year = min(last_year, p.status_since.year - 1)
        first = today.year - 4
        # A firm founded in the second half of a year does not report that stub year.
        first = max(first, p.founded_on.year + (1 if p.founded_on.month > 6 else 0))
        if rng.random() < 0.25:
            first = max(first, today.year - 3)
        years = list(range(first, last_year + 1))
        if not years:
            return []
        pos = p.position
        growth = {0: (-0.15, 0.35), 1: (-0.1, 0.45), 2: (-0.05, 0.4), 3: (0.0, 0.35)}.get(pos, (0.05, 0.5))
        if p.gazelle:
            growth = (0.2, 0.8)
        revenue = [p.revenue]
        for _ in years[1:]:
            revenue.insert(0, revenue[0] / (1 + rng.uniform(*growth)))
        per_capita = rng.uniform(35, 160)
        tech_ratio = rng.uniform(0.12, 0.65) if pos >= 2 else rng.uniform(0.06, 0.6)
        rd_ratio = rng.uniform(0.04, 0.15) if pos >= 2 else rng.uniform(0.02, 0.15)
        main_ratio = rng.uniform(0.82, 0.99) if rng.random() < 0.85 else rng.uniform(0.5, 0.82)
        hightech_ratio = rng.uniform(0.6, 0.95) if pos >= 2 else rng.uniform(0.3, 0.9)
        margin = rng.uniform(-0.15, 0.2)
        asset_ratio = rng.uniform(0.7, 2.5)
        debt_ratio = rng.uniform(0.12, 0.72)
        no_rd_ledger = rng.random() < 0.05  # a year whose R&D was never separately accounted (no 辅助账)
        equity_years = {y for y in years if p.equity_backed and rng.random() < 0.3}

        out: list[Row] = []
        for year, rev in zip(years, revenue, strict=True):

            def drift(x: float, spread: float = 0.06) -> float:
                return x * rng.uniform(1 - spread, 1 + spread)

            employees = max(3, min(6000, round(rev / drift(per_capita, 0.1))))
            tech_staff = min(employees, max(1, round(employees * drift(tech_ratio))))
            rd_staff = max(1, round(tech_staff * rng.uniform(0.5, 0.95)))
            rd = rev * min(0.149, max(0.0201, drift(rd_ratio, 0.1)))  # 2–15 % of revenue
            total_assets = rev * drift(asset_ratio)
            cost_total = rev * (1 - drift(margin, 0.2)) if rev else 0.0
            total_income = rev * rng.uniform(1.0, 1.05)
            missing_rd = no_rd_ledger and year == years[0]
            out.append(
                {
                    "year": year,
                    "source": Source.firm_reported,
                    "source_department": None,
                    "employees": employees,
                    "tech_staff": tech_staff,
                    "rd_staff": rd_staff,
                    "revenue": money(rev),
                    "main_revenue": money(rev * min(1.0, drift(main_ratio, 0.02))),
                    "hightech_revenue": money(rev * min(0.98, drift(hightech_ratio, 0.04))),
                    "total_income": money(total_income),
                    "rd_expense": None if missing_rd else money(rd),
                    "rd_expense_domestic": None if missing_rd else money(rd * rng.uniform(0.9, 1.0)),
                    "cost_total": money(cost_total),
                    "total_assets": money(total_assets),
                    "total_liabilities": money(total_assets * drift(debt_ratio)),
                    "net_profit": money(total_income - cost_total),
                    "equity_financing": money(rev * rng.uniform(0.1, 1.5))
                    if year in equity_years
                    else money(0),
                    "verified_by_id": None,
                    "verified_at": None,
                }
            )

        extra: list[Row] = []
        blank = {field: None for field in out[0] if field not in ("year", "source")}
        if rng.random() < 0.4:
            # 部门数据: one department's figures for the last two years, sometimes a little off the report.
            department = self._pick((N.DEPT_TAX, N.DEPT_TAX, N.DEPT_MARKET, N.DEPT_HR))
            for reported in out[-2:]:
                row = {
                    **blank,
                    "year": reported["year"],
                    "source": Source.department,
                    "source_department": department,
                }
                off = Decimal(f"{rng.uniform(0.97, 1.03):.4f}") if rng.random() < 0.2 else Decimal(1)
                if department == N.DEPT_TAX:
                    for field in ("revenue", "total_income", "cost_total", "net_profit", "rd_expense"):
                        value = reported[field]
                        row[field] = None if value is None else (value * off).quantize(Decimal("0.01"))
                elif department == N.DEPT_MARKET:  # 企业年报
                    for field in ("employees", "revenue", "total_assets", "total_liabilities"):
                        row[field] = reported[field]
                else:  # 社保参保人数
                    row["employees"] = max(1, reported["employees"] + self._int(-3, 2))
                extra.append(row)
        if rng.random() < 0.08:
            verified = {**out[-1], "source": Source.officer_verified, "verified_by_id": officer_id}
            verified["verified_at"] = self._moment(today - timedelta(days=self._int(5, 200)))
            extra.append(verified)
        return out + extra

    # -- facts of the eligibility contract ----------------------------------------------------------

    def _moment(self, day: date) -> datetime:
        """A working-hours moment (09:00–17:59 Shanghai) of a day, in UTC."""
        return datetime.combine(day, time(self._int(1, 9), self._int(0, 59)), tzinfo=UTC)

    def _facts(self, p: Profile, years: list[Row], officer_id: int | None) -> list[Row]:
        rng, today = self.rng, self.today
        pos = p.position
        out: list[Row] = []
        reported_on = self._day_between(
            max(p.joined_on, today - timedelta(days=420)), today - timedelta(days=15)
        )

        def obs(
            key: str,
            value: Any,
            valid_from: date = reported_on,
            source: Source = Source.firm_reported,
            department: str | None = None,
            note: str | None = None,
        ) -> Row:
            recorded = min(today, valid_from + timedelta(days=self._int(0, 10)))
            row: Row = {
                "key": key,
                "value": value,
                "valid_from": valid_from,
                "source": source,
                "source_department": department,
                "note": note,
                "recorded_by_id": None,
                "recorded_at": self._moment(recorded),
                "verified_by_id": None,
                "verified_at": None,
            }
            if source is Source.officer_verified:
                row["verified_by_id"] = officer_id
                row["verified_at"] = row["recorded_at"]
            out.append(row)
            return row

        last = next((y for y in reversed(years) if y["source"] is Source.firm_reported), None)
        employees = last["employees"] if last else 10
        revenue = float(last["revenue"]) if last else p.revenue
        values: dict[str, Any] = {}
        # 中小企业划型 for 软件和信息技术服务业: large from 300 staff and 1亿 revenue.
        values["is_sme"] = not (employees >= 300 and revenue >= 10000)
        values["hnte_field"] = rng.random() < (0.95 if pos >= 2 else 0.75)
        values["strategic_emerging"] = rng.random() < (0.85 if pos >= 2 else 0.55)
        values["key_industrial_field"] = rng.random() < (0.6 if pos >= 3 else 0.12)
        niche = self._day_between(
            p.founded_on, min(p.founded_on + timedelta(days=1100), today - timedelta(days=30))
        )
        values["niche_since"] = niche.isoformat()
        values["listed"] = p.listed
        values["equity_backed"] = p.equity_backed
        if p.top is Tier.unicorn:
            values["valuation_usd_bn"] = round(rng.uniform(1.0, 6.0), 1)
        elif p.equity_backed and rng.random() < 0.15:
            values["valuation_usd_bn"] = round(rng.uniform(0.1, 0.9), 2)  # 潜在/种子独角兽
        values["prohibited_products"] = rng.random() < 0.003
        weights = {0: (80, 15, 4, 1, 0, 0), 1: (60, 25, 10, 4, 1, 0), 2: (30, 30, 25, 12, 2, 1)}.get(
            pos, (5, 15, 30, 35, 8, 7)
        )
        values["rd_institution"] = rng.choices(RD_INSTITUTIONS, weights)[0]
        values["led_standard_within_5y"] = rng.random() < (0.4 if pos >= 3 else 0.05)
        if pos >= 3 or rng.random() < 0.1:
            values["market.domestic_share_pct"] = round(
                rng.uniform(3, 40) if pos >= 3 else rng.uniform(0.5, 12), 1
            )
            values["market.domestic_rank"] = self._int(1, 10) if pos >= 3 else self._int(5, 40)
            if pos >= 4 and rng.random() < 0.35:
                values["market.global_rank"] = self._int(1, 20)
        class1_range = {0: (0, 3), 1: (0, 6), 2: (1, 15), 3: (3, 25), 4: (8, 60)}.get(pos, (20, 200))
        class1 = self._int(*class1_range)
        values["ip.class1"] = class1
        values["ip.class1_self_developed"] = round(class1 * rng.uniform(0.6, 1.0))
        values["ip.class1_high_value"] = round(class1 * rng.uniform(0.0, 0.5))
        values["ip.class2"] = self._int(2, 40)
        if p.top in (Tier.hnte, Tier.srdi_sme, Tier.little_giant) or (pos == 1 and rng.random() < 0.2):
            values["scores.hnte_innovation"] = self._int(71, 95) if pos >= 2 else self._int(55, 85)
        if pos >= 3:
            values["scores.srdi_platform"] = self._int(70, 95)
            values["scores.srdi_2022"] = self._int(60, 90)
        elif pos == 2 and rng.random() < 0.3:
            values["scores.srdi_platform"] = self._int(45, 85)

        # Unknown is absent, never false: some firms leave some answers blank.
        optional = (
            "strategic_emerging",
            "key_industrial_field",
            "niche_since",
            "rd_institution",
            "led_standard_within_5y",
            "prohibited_products",
            "ip.class1_high_value",
        )
        for key, value in values.items():
            if key in optional and rng.random() < 0.12:
                continue
            obs(key, value)

        # About one firm in ten: department data disagrees with the firm's own report on a key or two.
        conflicts = set(rng.sample(CONFLICT_KEYS, self._int(1, 2))) if rng.random() < 0.1 else set()

        # Lists come from departments; some firms have none on file.
        if "lists.abnormal" in conflicts or rng.random() < 0.75:
            checked = self._day_between(today - timedelta(days=120), today - timedelta(days=1))
            abnormal = "lists.abnormal" in conflicts or rng.random() < 0.02
            obs("lists.abnormal", abnormal, checked, Source.department, N.DEPT_MARKET)
            obs("lists.dishonest", rng.random() < 0.005, checked, Source.department, N.DEPT_CREDIT)
            if "lists.abnormal" in conflicts:  # the firm says it is not on the 经营异常名录
                obs("lists.abnormal", False, checked)

        # IP counts grow: an older report with fewer patents.
        if class1 > 1 and rng.random() < 0.3:
            earlier = max(p.founded_on, reported_on - timedelta(days=365))
            obs("ip.class1", class1 - self._int(1, min(3, class1)), earlier)
        # The IP office confirms the counts for some firms, holds fewer for others (5 Ⅰ类 claimed, 4 on file).
        if "ip.class1" in conflicts:
            obs("ip.class1", class1 - 1 if class1 > 0 else 1, reported_on, Source.department, N.DEPT_IP)
        elif rng.random() < 0.35:
            obs("ip.class1", class1, reported_on, Source.department, N.DEPT_IP)
        if "ip.class2" in conflicts:
            obs("ip.class2", values["ip.class2"] - self._int(1, 2), reported_on, Source.department, N.DEPT_IP)
        if "is_sme" in conflicts:
            obs("is_sme", not values["is_sme"], reported_on, Source.department, N.DEPT_STATS)

        if rng.random() < 0.08:  # 走访核实 (the verifier is unknown when no officer is given)
            key = self._pick(("hnte_field", "key_industrial_field", "strategic_emerging"))
            obs(
                key,
                values[key],
                self._day_between(reported_on, today),
                Source.officer_verified,
                note="走访核实",
            )
        return out

    # -- incidents and awards -----------------------------------------------------------------------

    def _incidents(self, p: Profile) -> list[Row]:
        rng, today = self.rng, self.today
        if rng.random() >= 0.03:
            return []
        kind = rng.choices(
            (
                IncidentKind.safety,
                IncidentKind.quality,
                IncidentKind.environment,
                IncidentKind.network,
                IncidentKind.data,
                IncidentKind.tax,
                IncidentKind.fraud,
            ),
            (3, 2, 1, 1, 1, 2, 0.3),
        )[0]
        grade = rng.choices((IncidentGrade.general, IncidentGrade.larger, IncidentGrade.major), (80, 15, 5))[
            0
        ]
        department, what = {
            IncidentKind.safety: (N.DEPT_SAFETY, "生产经营场所发生安全事故"),
            IncidentKind.quality: (N.DEPT_MARKET, "产品质量抽检不合格引发质量事故"),
            IncidentKind.environment: (N.DEPT_ENV, "违反环境保护规定受到处罚"),
            IncidentKind.network: (N.DEPT_CYBER, "发生网络安全事件"),
            IncidentKind.data: (N.DEPT_CYBER, "发生数据泄露事件"),
            IncidentKind.tax: (N.DEPT_TAX, "欠缴税款被责令限期缴纳"),
            IncidentKind.fraud: (N.DEPT_MARKET, "申报材料弄虚作假"),
        }[kind]
        return [
            {
                "kind": kind,
                "grade": grade,
                "occurred_on": self._day_between(
                    max(p.founded_on, today - timedelta(days=1000)), today - timedelta(days=20)
                ),
                "source": Source.department,
                "source_department": department,
                "description": f"{what}，已整改" if rng.random() < 0.7 else what,
            }
        ]

    def _awards(self, p: Profile) -> list[Row]:
        rng, today = self.rng, self.today
        if p.position < 2 or rng.random() >= 0.07:
            return []
        name, level = self._pick(N.AWARDS)
        return [
            {
                "name": name,
                "level": AwardLevel(level),
                "awarded_on": self._day_between(
                    max(p.founded_on, today - timedelta(days=1500)), today - timedelta(days=60)
                ),
                "rank": self._int(1, 8),
                "source": Source.firm_reported,
            }
        ]

    # -- recognitions -------------------------------------------------------------------------------

    def _certificate(self, tier: Tier, issued_on: date, p: Profile) -> tuple[str | None, str | None]:
        """Certificate number and note in the form each authority uses."""
        year = issued_on.year
        if tier is Tier.hnte:
            while True:  # 高企 certificate: GR + year + 31 (上海) + 6-digit serial
                number = f"GR{year}31{self._int(1, 12000):06d}"
                if number not in self._cert_serials:
                    self._cert_serials.add(number)
                    return number, None
        if tier is Tier.tech_sme:
            while True:  # 入库登记编号: year + 行政区划 + serial (the exact form is an assumption)
                number = f"{year}{self.ref.admin_codes[p.district]}A{self._int(1, 99999):07d}"
                if number not in self._cert_serials:
                    self._cert_serials.add(number)
                    return number, None
        notes = {
            Tier.innovative_sme: f"{year}年度上海市创新型中小企业",
            Tier.srdi_sme: f"{year}年度上海市专精特新中小企业",
            Tier.little_giant: f"第{max(1, year - 2018)}批专精特新“小巨人”企业",
            # MIIT's 单项冠军 is for manufacturers; other firms come from a named local list.
            Tier.hidden_champion: f"第{max(1, year - 2015)}批制造业单项冠军企业"
            if p.industry in MANUFACTURING
            else f"{year}年度隐形冠军企业（园区名单）",
            Tier.unicorn: f"长城战略咨询（GEI）中国独角兽企业研究报告{year}",
            Tier.gazelle: f"长城战略咨询（GEI）{year}年瞪羚企业名单",
        }
        return None, notes.get(tier)

    def _recognitions(self, p: Profile) -> list[Row]:
        rng, today = self.rng, self.today
        out: list[Row] = []
        earliest = max(p.founded_on + timedelta(days=180), FOUNDED_MIN)

        def add(tier: Tier, issued_on: date, kind: RecognitionKind) -> Row:
            number, note = self._certificate(tier, issued_on, p)
            row: Row = {
                "tier": tier,
                "kind": kind,
                "level": RecognitionLevel.district
                if tier is Tier.hidden_champion and p.industry not in MANUFACTURING
                else LEVELS[tier],
                "certificate_no": number,
                "issued_on": issued_on,
                "expires_on": expiry_for(tier, issued_on),
                "revoked_on": None,
                "revoke_reason": None,
                "note": note,
            }
            out.append(row)
            return row

        def chain(tier: Tier, *, held: bool, renewals: int) -> None:
            """A current (or lapsed) recognition and, before it, the earlier terms it renewed."""
            years = VALIDITY_YEARS[tier]
            validity = (expiry_for(tier, today) - today).days
            if held:
                issued = today - timedelta(days=self._int(0, validity - 2))
            else:  # lapsed: expired between a week and two years ago
                expired_on = today - timedelta(days=self._int(7, 730))
                issued = add_years(expired_on + timedelta(days=1), -years)
            if issued < earliest:
                if not held:
                    return
                issued = self._day_between(earliest, today)
            terms = [issued]
            for _ in range(renewals):
                previous = add_years(terms[0], -years)
                if previous < earliest:
                    break
                terms.insert(0, previous)
            renew_kind = (
                RecognitionKind.review
                if tier in (Tier.little_giant, Tier.srdi_sme)
                else (RecognitionKind.renewal)
            )
            for n, start in enumerate(terms):
                kind = RecognitionKind.first if n == 0 else renew_kind
                if n == 0 and start < p.joined_on and tier in MOVABLE_TIERS:
                    kind = RecognitionKind.moved_in  # 带证迁入: certified before joining the park
                add(tier, start, kind)

        top, pos = p.top, p.position
        if top is None:
            if rng.random() < 0.2:
                chain(Tier.tech_sme, held=False, renewals=self._int(0, 1))
            if rng.random() < 0.06:
                chain(Tier.hnte, held=False, renewals=0)
        else:
            if top in (Tier.unicorn, Tier.hidden_champion):
                chain(top, held=True, renewals=self._int(0, 2))
            if top is Tier.little_giant or (top is Tier.hidden_champion and rng.random() < 0.7):
                chain(Tier.little_giant, held=True, renewals=self._int(0, 1))
            if pos >= 3 and top is not Tier.unicorn:
                chain(Tier.srdi_sme, held=True, renewals=self._int(0, 1))
            if pos >= 2 and (top is Tier.hnte or rng.random() < 0.85):
                chain(Tier.hnte, held=True, renewals=self._int(0, 2))
            if rng.random() < {1: 0.15, 2: 0.35}.get(pos, 0.55):
                chain(Tier.innovative_sme, held=True, renewals=0)
            if top is Tier.tech_sme or (pos == 2 and rng.random() < 0.55):
                chain(Tier.tech_sme, held=True, renewals=self._int(0, 2))
            if pos == 1 and rng.random() < 0.08:
                chain(Tier.hnte, held=False, renewals=0)  # lost its 高企 and slid back
        if p.gazelle:
            chain(Tier.gazelle, held=True, renewals=self._int(0, 1))

        for row in out:
            if p.status is FirmStatus.deregistered and row["expires_on"] >= p.status_since:
                row["revoked_on"] = max(row["issued_on"], p.status_since)
                row["revoke_reason"] = "企业注销"
            elif (
                row["tier"] is Tier.hnte
                and row["expires_on"] >= today
                and row["issued_on"] < today - timedelta(days=60)
                and rng.random() < 0.03
            ):
                row["revoked_on"] = self._day_between(row["issued_on"] + timedelta(days=30), today)
                row["revoke_reason"] = self._pick(N.HNTE_REVOKE_REASONS)
        if p.status is FirmStatus.deregistered:
            out = [row for row in out if row["issued_on"] < p.status_since]
        return out


def firm_rows(
    n: int,
    *,
    today: date,
    seed: int | None = None,
    first_id: int | None = 1,
    officers: Mapping[str, int] | None = None,
) -> Iterator[FirmRows]:
    """Rows of `n` firms, one dict (table → rows) per firm; `first_id=None` leaves ids to the database."""
    faker = FirmFaker(today=today, seed=seed, officers=officers)
    for k in range(n):
        yield faker.firm(None if first_id is None else first_id + k)


def table_batches(
    n: int,
    *,
    today: date,
    seed: int | None = None,
    first_id: int = 1,
    batch_size: int = 1000,
    officers: Mapping[str, int] | None = None,
) -> Iterator[FirmRows]:
    """The same rows grouped by table, `batch_size` firms at a time, ready for `insert()` executemany."""
    batch: FirmRows = {table: [] for table in TABLE_ORDER}
    count = 0
    for rows in firm_rows(n, today=today, seed=seed, first_id=first_id, officers=officers):
        for table, table_rows in rows.items():
            batch[table].extend(table_rows)
        count += 1
        if count == batch_size:
            yield batch
            batch, count = {table: [] for table in TABLE_ORDER}, 0
    if count:
        yield batch


def reset_id_sequence(connection: Connection, table: str = "firms") -> None:
    """After inserting explicit ids on PostgreSQL, move the table's id sequence past them."""
    if connection.dialect.name != "postgresql":
        return
    connection.execute(
        text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1)) FROM {table}")
    )
