"""Report months (YYYY-MM) and their month-end days in Asia/Shanghai (dates are Shanghai calendar days)."""

from __future__ import annotations

import calendar
import re
from datetime import date

from app.errors import RuleViolation

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse(text: str) -> str:
    """A valid `YYYY-MM` (422 in Chinese otherwise)."""
    if not _MONTH.match(text or ""):
        raise RuleViolation("月份格式应为 YYYY-MM，例如 2026-10", field="month")
    return text


def first_day(month: str) -> date:
    year, mon = (int(x) for x in month.split("-"))
    return date(year, mon, 1)


def end(month: str) -> date:
    """The month's last day (its month-end)."""
    year, mon = (int(x) for x in month.split("-"))
    return date(year, mon, calendar.monthrange(year, mon)[1])


def of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def shift(month: str, months: int) -> str:
    day = first_day(month)
    total = day.year * 12 + day.month - 1 + months
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def add_months(day: date, months: int) -> date:
    """The same day `months` later, the month's last day when it has no such day."""
    total = day.year * 12 + day.month - 1 + months
    year, mon = total // 12, total % 12 + 1
    return date(year, mon, min(day.day, calendar.monthrange(year, mon)[1]))


def add_months_end(day: date, months: int) -> date:
    """From a month-end, the month-end `months` later (31 Oct + 4 → 28 Feb, 28 Feb + 1 → 31 Mar)."""
    if day == end(of(day)):
        return end(shift(of(day), months))
    return add_months(day, months)


def label(month: str) -> str:
    year, mon = month.split("-")
    return f"{year}年{int(mon)}月"


def default_month(today: date) -> str:
    """The last month that has ended."""
    return shift(of(today), -1)
