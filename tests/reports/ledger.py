"""A hand-built ledger around the end of October 2026 (named firms, dates on both sides of the month-ends).

firm        park (Oct)   recognitions                                         story in October
甲 A        静安 市北     高企 2025-01-10…2028-01-09, 科技型 2026-04-01…2027-03-31  counts under both tiers
乙 B        静安          高企 …2026-10-31 (month-end, inclusive)               still held on 31 Oct
丙 C        静安          高企 …2026-10-30                                      expired in October
丁 D        静安          科技型 2026-01-01…2026-12-31, 高企 from 2026-10-15     upgrade (晋级)
戊 E        静安          高企 from 2026-10-20                                  new (新认定)
己 F        静安 → 杨浦    高企 2024-01-01…2026-12-31; moved on 2026-10-15       moved out / moved in
庚 G        静安          高企 from 2025-03-01, revoked 2026-10-10               revoked (撤销)
辛 H        虹口          高企 + 小巨人                                          ladder level 4
壬 I        静安          高企 from 2024-06-01, revoked 2026-11-05 (after 31 Oct) still held on 31 Oct
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.auth.models import User
from app.firms.models import Firm
from app.tiers.codes import Tier
from tests.factories import FirmFactory, MembershipFactory, RecognitionFactory

MONTH = "2026-10"
SINCE = date(2020, 1, 1)


@dataclass
class Ledger:
    firms: dict[str, Firm]
    officer: User | None


def _firm(name: str, park: str = "jingan", **membership: object) -> Firm:
    return FirmFactory(
        name=name, park=park, park__valid_from=SINCE, **{f"park__{k}": v for k, v in membership.items()}
    )


def _rec(firm: Firm, tier: Tier, issued: date, expires: date | None, **kw: object) -> None:
    RecognitionFactory(firm=firm, tier=tier, issued_on=issued, expires_on=expires, **kw)


def build(officer: User | None = None) -> Ledger:
    a = _firm("甲科技有限公司", area_code="jingan.shibei", industry_code="digital.ai")
    if officer is not None:
        a.officer_id = officer.id
    _rec(a, Tier.hnte, date(2025, 1, 10), date(2028, 1, 9))
    _rec(a, Tier.tech_sme, date(2026, 4, 1), date(2027, 3, 31))
    b = _firm("乙科技有限公司")
    _rec(b, Tier.hnte, date(2023, 11, 1), date(2026, 10, 31))
    c = _firm("丙科技有限公司")
    _rec(c, Tier.hnte, date(2023, 10, 31), date(2026, 10, 30))
    d = _firm("丁科技有限公司")
    _rec(d, Tier.tech_sme, date(2026, 1, 1), date(2026, 12, 31))
    _rec(d, Tier.hnte, date(2026, 10, 15), date(2029, 10, 14))
    e = _firm("戊科技有限公司")
    _rec(e, Tier.hnte, date(2026, 10, 20), date(2029, 10, 19))
    f = FirmFactory(name="己科技有限公司", park=False)
    MembershipFactory(firm=f, park_code="jingan", valid_from=SINCE, valid_to=date(2026, 10, 14))
    MembershipFactory(firm=f, park_code="yangpu", valid_from=date(2026, 10, 15))
    _rec(f, Tier.hnte, date(2024, 1, 1), date(2026, 12, 31))
    g = _firm("庚科技有限公司")
    _rec(
        g, Tier.hnte, date(2025, 3, 1), date(2028, 2, 28), revoked_on=date(2026, 10, 10), revoke_reason="撤销"
    )
    h = _firm("辛科技有限公司", park="hongkou")
    _rec(h, Tier.hnte, date(2024, 5, 1), date(2027, 4, 30))
    _rec(h, Tier.little_giant, date(2025, 7, 1), date(2028, 6, 30))
    i = _firm("壬科技有限公司")
    _rec(
        i, Tier.hnte, date(2024, 6, 1), date(2027, 5, 31), revoked_on=date(2026, 11, 5), revoke_reason="撤销"
    )
    firms = dict(zip("ABCDEFGHI", (a, b, c, d, e, f, g, h, i), strict=True))
    return Ledger(firms, officer)
