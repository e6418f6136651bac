"""统一社会信用代码: both check characters (GB 32100-2015 18th, GB 11714 17th)."""

from __future__ import annotations

import pytest

from app.firms.uscc import InvalidUSCC, build, org_check_char, validate


def test_the_contract_example_is_valid_and_normalised_to_upper_case() -> None:
    assert validate("91310115ma1h7abc80") == "91310115MA1H7ABC80"


@pytest.mark.parametrize(("body", "check"), [("MA1H7ABC", "8"), ("12345678", "8"), ("D2143569", "X")])
def test_gb11714_check_character(body: str, check: str) -> None:
    assert org_check_char(body) == check


def test_a_code_valid_only_by_gb32100_is_refused() -> None:
    # Rebuild the 18th character over a wrong 17th, as a careless generator would.
    from stdnum.cn.uscc import calc_check_digit

    partial = "91310106MA1H7ABC1"
    with pytest.raises(InvalidUSCC, match="第 17 位"):
        validate(partial + calc_check_digit(partial))


@pytest.mark.parametrize("bad", ["91310115MA1H7ABC81", "91310115MA1H7ABC8", "91310115MA1H7ABCI0", ""])
def test_invalid_codes(bad: str) -> None:
    with pytest.raises(InvalidUSCC):
        validate(bad)


def test_build_makes_valid_codes() -> None:
    assert validate(build("91310110", "0A2B3C4D"))
