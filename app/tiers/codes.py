"""Tier codes of the ladder, their Chinese labels and ladder positions (docs/domain/glossary.md)."""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    tech_sme = "tech_sme"
    innovative_sme = "innovative_sme"
    hnte = "hnte"
    srdi_sme = "srdi_sme"
    little_giant = "little_giant"
    hidden_champion = "hidden_champion"
    unicorn = "unicorn"
    gazelle = "gazelle"


TIER_LABELS: dict[Tier, str] = {
    Tier.tech_sme: "科技型中小企业",
    Tier.innovative_sme: "创新型中小企业",
    Tier.hnte: "高新技术企业",
    Tier.srdi_sme: "专精特新中小企业",
    Tier.little_giant: "专精特新“小巨人”企业",
    Tier.hidden_champion: "隐形冠军",
    Tier.unicorn: "独角兽",
    Tier.gazelle: "瞪羚",
}

# Positions in the district's cultivation pyramid (企业阶梯式成长); gazelle is a label beside the ladder.
LADDER_POSITION: dict[Tier, int] = {
    Tier.tech_sme: 1,
    Tier.innovative_sme: 1,
    Tier.hnte: 2,
    Tier.srdi_sme: 3,
    Tier.little_giant: 4,
    Tier.unicorn: 5,
    Tier.hidden_champion: 5,
}

LADDER_LEVEL_LABELS: dict[int, str] = {
    0: "未入梯",
    1: "科技型/创新型中小企业",
    2: "高新技术企业",
    3: "专精特新中小企业",
    4: "专精特新“小巨人”",
    5: "独角兽/隐形冠军",
}

# Validity in years of a recognition, used as the default expiry when none is given.
VALIDITY_YEARS: dict[Tier, int] = {
    Tier.tech_sme: 1,
    Tier.innovative_sme: 3,
    Tier.hnte: 3,
    Tier.srdi_sme: 3,
    Tier.little_giant: 3,
    Tier.hidden_champion: 3,
    Tier.unicorn: 1,
    Tier.gazelle: 1,
}


def ladder_level(tiers: set[Tier] | set[str]) -> int:
    """The highest ladder position among the tiers held (0 when none)."""
    return max((LADDER_POSITION.get(Tier(t), 0) for t in tiers), default=0)
