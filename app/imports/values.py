"""Cell values as officers type them: numbers with separators or full-width digits, dates in the usual
Chinese forms, amounts in 元 or 万元. Every failure is a ValueError with the Chinese reason shown to them."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from app.imports.fields import norm

CENT = Decimal("0.01")
TEN_THOUSAND = Decimal(10_000)
_EXCEL_EPOCH = date(1899, 12, 30)
_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_NUMBER_NOISE = re.compile(r"[,\s，]")
DATE_HINT = "日期格式不正确（应为 2025-06-30、2025/6/30 或 2025年6月30日）"


def text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 91310000… read as a number keeps no ".0"
    return norm(value)


def decimal(value: Any) -> Decimal:
    """A number as Decimal (exact: floats go through their shortest repr), or ValueError("不是数字")."""
    if isinstance(value, bool):
        raise ValueError("不是数字")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    raw = _NUMBER_NOISE.sub("", norm(value))
    for unit in ("万元", "元"):
        raw = raw.removesuffix(unit)
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"“{norm(value)}”不是数字") from None
    if not number.is_finite():
        raise ValueError(f"“{norm(value)}”不是数字")
    return number


def amount(value: Any, unit: str) -> Decimal:
    """An amount in 万元, from 元 or 万元, to the cent of 万元 the registry keeps (half up)."""
    number = decimal(value)
    if unit == "元":
        number = number / TEN_THOUSAND
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def integer(value: Any) -> int:
    number = decimal(value)
    if number != number.to_integral_value():
        raise ValueError(f"“{norm(value)}”应为整数")
    return int(number)


def year(value: Any) -> int:
    raw = norm(value).removesuffix("年度").removesuffix("年") if isinstance(value, str) else value
    try:
        return integer(raw)
    except ValueError:
        raise ValueError(f"年度“{norm(value)}”不是年份（应为 2024 这样的四位数）") from None


def day(value: Any) -> date:
    """A date from an Excel date cell, an Excel serial number, or text like 2025-06-30 / 2025年6月30日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20_000 <= value <= 80_000:  # an Excel serial day number (1954–2119)
            return _EXCEL_EPOCH + timedelta(days=int(value))
        value = str(int(value)) if float(value).is_integer() else str(value)
    raw = norm(value)
    found = _DATE.match(raw) or _COMPACT.match(raw)
    try:
        if found:
            return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        month = _MONTH.match(raw)
        if month:  # 成立年月 "2019年3月": the first of that month
            return date(int(month.group(1)), int(month.group(2)), 1)
    except ValueError:
        raise ValueError(f"“{raw}”不是有效的日期") from None
    raise ValueError(f"“{raw}”{DATE_HINT}")
