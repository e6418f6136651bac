"""What each kind of import reads: its fields, the Chinese headers officers use for them, and which are required.

Headers are matched after NFKC normalisation (full-width letters, digits, brackets and spaces become their
ASCII forms), with spaces, brackets and a trailing unit removed: "营业收入（元）" matches 营业收入 and says 元.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from app.imports.models import ImportKind
from app.indicators.models import YEAR_FIELDS


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    headers: tuple[str, ...]
    required: bool = False
    amount: bool = False  # an amount in 万元 (a header may say 元)


_IDENTITY = (
    Field(
        "uscc",
        "统一社会信用代码",
        ("统一社会信用代码", "信用代码", "社会信用代码", "统一信用代码", "USCC"),
        True,
    ),
    Field("name", "企业名称", ("企业名称", "单位名称", "公司名称", "企业全称", "名称")),
)

FIRM_FIELDS = (
    _IDENTITY[0],
    Field("name", "企业名称", ("企业名称", "单位名称", "公司名称", "企业全称", "名称"), True),
    Field("park", "园区", ("园区", "所属园区", "分园", "园区名称"), True),
    Field("area", "功能区", ("功能区", "所属功能区", "片区")),
    Field("industry", "行业", ("行业", "所属行业", "行业领域", "产业领域")),
    Field("founded_on", "成立日期", ("成立日期", "成立时间", "注册日期", "成立年月")),
    Field("district", "注册地", ("注册地", "注册区", "注册地区", "注册所在区")),
    Field("address", "地址", ("地址", "注册地址", "经营地址", "办公地址")),
)

_YEAR_HEADERS: dict[str, tuple[str, ...]] = {
    "employees": ("职工总数", "职工人数", "从业人数", "员工人数", "年末从业人员", "职工总数(人)"),
    "tech_staff": ("科技人员", "科技人员数"),
    "rd_staff": ("研发人员", "研发人员数"),
    "revenue": ("营业收入", "营收", "年营业收入"),
    "main_revenue": ("主营业务收入", "主营收入"),
    "hightech_revenue": ("高新技术产品(服务)收入", "高新技术产品收入", "高品收入"),
    "total_income": ("总收入", "收入总额"),
    "rd_expense": ("研发费用", "研发投入", "研发经费", "研究开发费用"),
    "rd_expense_domestic": ("境内研发费用",),
    "cost_total": ("成本费用总额", "成本费用"),
    "total_assets": ("资产总额", "总资产"),
    "total_liabilities": ("负债总额", "总负债"),
    "net_profit": ("净利润",),
    "equity_financing": ("股权融资", "股权融资额"),
}

YEAR_IMPORT_FIELDS = (
    _IDENTITY[0],
    _IDENTITY[1],
    Field("year", "年度", ("年度", "年份", "统计年度", "数据年度"), True),
    *(Field(name, label, _YEAR_HEADERS[name], amount=is_amount) for name, label, is_amount in YEAR_FIELDS),
)

RECOGNITION_FIELDS = (
    _IDENTITY[0],
    _IDENTITY[1],
    Field(
        "tier", "梯度", ("梯度", "认定类型", "资质类型", "梯度类型", "企业类型", "认定类别", "资质名称"), True
    ),
    Field("kind", "认定方式", ("认定方式", "认定性质", "认定类别(首次/复核)", "首次/复核")),
    Field("level", "级别", ("级别", "认定级别")),
    Field("certificate_no", "证书编号", ("证书编号", "证书号", "证书号码", "编号")),
    Field("issued_on", "认定日期", ("认定日期", "认定时间", "发证日期", "入库日期", "认定年月"), True),
    Field("expires_on", "有效期至", ("有效期至", "有效期", "到期日期", "有效期截止", "截止日期")),
)

FIELDS: dict[ImportKind, tuple[Field, ...]] = {
    ImportKind.firms: FIRM_FIELDS,
    ImportKind.years: YEAR_IMPORT_FIELDS,
    ImportKind.recognitions: RECOGNITION_FIELDS,
}


def fields_of(kind: ImportKind) -> dict[str, Field]:
    return {f.name: f for f in FIELDS[kind]}


# A unit at the end of a header, in brackets or not: 营业收入（元）, 营业收入(万元), 营业收入/万元, 营业收入 元.
_UNIT = re.compile(r"[(\[/（]?\s*(万元|元|人)\s*[)\]）]?$")
_NOISE = re.compile(r"[\s*＊:：_\-\"'“”]+")


def norm(value: object) -> str:
    """A cell as text: NFKC (full-width digits, letters and spaces → ASCII), trimmed, inner spaces kept."""
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


def header_key(text: str) -> tuple[str, str | None]:
    """(the header without noise and unit, the unit it states: "元", "万元" or None)."""
    text = norm(text)
    unit = None
    found = _UNIT.search(text)
    if found and found.start() > 0:
        unit = found.group(1)
        text = text[: found.start()]
    text = _NOISE.sub("", text).replace("（", "(").replace("）", ")")
    return text.upper() if text.isascii() else text, unit


def _lookup(kind: ImportKind) -> dict[str, str]:
    out: dict[str, str] = {}
    for field in FIELDS[kind]:
        for header in (field.label, *field.headers):
            key, _ = header_key(header)
            out.setdefault(key, field.name)
            # The same header without its brackets: 高新技术产品服务收入.
            out.setdefault(re.sub(r"[()]", "", key), field.name)
    return out


LOOKUP: dict[ImportKind, dict[str, str]] = {kind: _lookup(kind) for kind in ImportKind}


def guess(kind: ImportKind, header: str) -> str | None:
    """The field a header names, or None."""
    key, _ = header_key(header)
    if not key:
        return None
    table = LOOKUP[kind]
    return table.get(key) or table.get(re.sub(r"[()]", "", key))
