"""Formatting officers read: 万元 amounts, YYYY-MM-DD dates in Asia/Shanghai, masked personal data."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.config import settings

TZ = ZoneInfo(settings.timezone)


def today() -> date:
    """Today in Asia/Shanghai: the date every 'as of today' question uses."""
    return datetime.now(TZ).date()


def fmt_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(TZ).strftime("%Y-%m-%d")
    return value.isoformat()


def fmt_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


def fmt_amount(value: Decimal | int | float | None) -> str:
    """An amount in 万元 with thousands separators and no needless decimals (1,800 / 38.5)."""
    if value is None:
        return ""
    dec = Decimal(str(value)).quantize(Decimal("0.01"))
    text = f"{dec:,.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def mask_phone(value: str | None) -> str:
    """138****5678 for a mobile number; shorter numbers keep only their last two digits."""
    if not value:
        return ""
    text = value.strip()
    if len(text) >= 11:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    return "*" * max(len(text) - 2, 0) + text[-2:]


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    text = value.strip()
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]
