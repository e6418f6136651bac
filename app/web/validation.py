"""Chinese messages for pydantic validation errors, keeping FastAPI's standard 422 shape."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

MESSAGES: dict[str, str] = {
    "missing": "必填",
    "string_too_short": "至少需要 {min_length} 个字符",
    "string_too_long": "不能超过 {max_length} 个字符",
    "string_type": "应为文本",
    "string_pattern_mismatch": "格式不正确",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "decimal_max_places": "最多 {decimal_places} 位小数",
    "decimal_max_digits": "数字过大",
    "bool_parsing": "应为是或否",
    "bool_type": "应为是或否",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_inexact": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "不能大于 {le}",
    "enum": "取值无效，可选：{expected}",
    "literal_error": "取值无效，可选：{expected}",
    "json_invalid": "请求体不是有效的 JSON",
    "model_type": "格式不正确",
    "model_attributes_type": "格式不正确",
    "dict_type": "格式不正确",
    "list_type": "应为列表",
    "extra_forbidden": "不允许的字段",
    "too_short": "至少需要 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "uuid_parsing": "格式不正确",
    "url_parsing": "网址格式不正确",
}


def message_for(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind in ("value_error", "assertion_error"):
        # Our validators raise ValueError with a Chinese message; pydantic prefixes it.
        msg = str(error.get("msg", ""))
        for prefix in ("Value error, ", "Assertion failed, "):
            if msg.startswith(prefix):
                return msg[len(prefix) :]
        return msg
    template = MESSAGES.get(kind)
    if template is None:
        return "输入无效"
    ctx = dict(error.get("ctx") or {})
    if "expected" in ctx:
        # pydantic writes "'a', 'b' or 'c'": list the choices the Chinese way.
        choices = re.findall(r"'([^']*)'", str(ctx["expected"])) or [str(ctx["expected"])]
        ctx["expected"] = "、".join(choices)
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template.split("{")[0].rstrip("，：: ") or "输入无效"


def translate_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for error in errors:
        item = {"loc": list(error.get("loc", [])), "msg": message_for(error), "type": error.get("type")}
        if "input" in error and not isinstance(error["input"], (bytes, bytearray)):
            item["input"] = error["input"]
        out.append(item)
    return out


def field_errors(errors: Sequence[Any]) -> dict[str, str]:
    """For forms: the field name (last element of loc) → its first Chinese message."""
    result: dict[str, str] = {}
    for error in errors:
        loc = error.get("loc") or ["__all__"]
        result.setdefault(str(loc[-1]), message_for(error))
    return result
