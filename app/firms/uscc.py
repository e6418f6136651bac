"""统一社会信用代码 (USCC): both check characters.

python-stdnum checks the GB 32100-2015 check character (the 18th). The organisation code embedded in
characters 9–17 carries its own GB 11714 check character (the 17th), which stdnum does not check.
"""

from __future__ import annotations

from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError

# GB 11714-1997: weights of the 8 body characters; digits are their value, letters A–Z are 10–35.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


class InvalidUSCC(ValueError):
    pass


def _org_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def org_check_char(body: str) -> str:
    """The GB 11714 check character for an 8-character organisation code body."""
    remainder = 11 - sum(_org_value(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def normalise(value: str) -> str:
    return stdnum_uscc.compact(value or "").upper()


def validate(value: str) -> str:
    """The normalised code, or InvalidUSCC with a message an officer understands."""
    code = normalise(value)
    if len(code) != 18:
        raise InvalidUSCC("统一社会信用代码应为 18 位")
    try:
        stdnum_uscc.validate(code)
    except ValidationError as exc:
        if "checksum" in type(exc).__name__.lower():
            raise InvalidUSCC("统一社会信用代码第 18 位校验码不正确（GB 32100-2015）") from exc
        raise InvalidUSCC("统一社会信用代码含有无效字符或格式不正确") from exc
    if org_check_char(code[8:16]) != code[16]:
        raise InvalidUSCC("统一社会信用代码中的组织机构代码校验码（第 17 位）不正确（GB 11714）")
    return code


def is_valid(value: str) -> bool:
    try:
        validate(value)
    except InvalidUSCC:
        return False
    return True


def build(prefix: str, org_body: str) -> str:
    """A valid code from the first 8 characters (登记管理部门, 机构类别, 行政区划) and an org-code body.

    Used by the demo and benchmark data generators.
    """
    org = org_body + org_check_char(org_body)
    partial = prefix + org
    return partial + stdnum_uscc.calc_check_digit(partial)
