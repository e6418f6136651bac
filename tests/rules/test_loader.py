"""The loader refuses a bad rule book, naming the file and the place, and a bad rule book stops the app from
starting. Each case copies the real rule files to a temporary folder and breaks exactly one thing."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.rules import loader
from app.rules.loader import PARAMETERS_FILE, RULES_DIR, TIERS, RuleBook, load_rulebook
from app.rules.vocabulary import RuleError


@pytest.fixture
def rules(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of app/rules/sets and parameters.yaml: (rules_dir, params_file)."""
    rules_dir = tmp_path / "sets"
    shutil.copytree(RULES_DIR, rules_dir)
    params_file = tmp_path / "parameters.yaml"
    shutil.copy(PARAMETERS_FILE, params_file)
    return rules_dir, params_file


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace `old`, which must occur exactly `count` times: a test cannot pass by breaking nothing."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == count, f"{old!r} occurs {text.count(old)} times in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_copied_rule_book_loads_with_every_tier(rules: tuple[Path, Path]) -> None:
    book = load_rulebook(*rules)

    assert {s.tier for s in book.sets} == set(TIERS)
    assert all(c.citation.strip() for s in book.sets for c in s.criteria)


Breaker = Callable[[Path, Path], None]


def _unknown_rule_field(d: Path, p: Path) -> None:
    edit(
        d / "tech_sme.yaml",
        "applies_to: [new, review]\n",
        "applies_to: [new, review]\nthreshold_year: 2026\n",
    )


def _unknown_criterion_field(d: Path, p: Path) -> None:
    edit(
        d / "tech_sme.yaml",
        "    citation: 国科发政〔2017〕115号 第六条（三）\n",
        "    citation: 国科发政〔2017〕115号 第六条（三）\n    weight: 2\n",
    )


def _unknown_term(d: Path, p: Path) -> None:
    edit(
        d / "tech_sme.yaml",
        'test: {cmp: [{year: employees}, "<=", {param: tech_sme.max_employees}]}',
        'test: {compare: [{year: employees}, "<=", {param: tech_sme.max_employees}]}',
    )


def _unknown_operator(d: Path, p: Path) -> None:
    edit(
        d / "tech_sme.yaml",
        'test: {cmp: [{year: employees}, "<=", {param: tech_sme.max_employees}]}',
        'test: {cmp: [{year: employees}, "=<", {param: tech_sme.max_employees}]}',
    )


def _unknown_fact(d: Path, p: Path) -> None:
    edit(d / "tech_sme.yaml", "{fact: prohibited_products}", "{fact: banned_products}")


def _no_citation(d: Path, p: Path) -> None:
    edit(d / "tech_sme.yaml", "    citation: 国科发政〔2017〕115号 第六条（三）\n", "")


def _blank_citation(d: Path, p: Path) -> None:
    edit(d / "tech_sme.yaml", "    citation: 国科发政〔2017〕115号 第六条（三）\n", '    citation: "  "\n')


def _overlap(d: Path, p: Path) -> None:
    # The 2022 专精特新 standard runs into the 2026 one, for the same tier, both modes and every district.
    edit(d / "srdi_sme.yaml", "effective_to: 2026-03-31", "effective_to: 2026-04-30")


def _unknown_param(d: Path, p: Path) -> None:
    edit(d / "tech_sme.yaml", "{param: tech_sme.max_employees}", "{param: tech_sme.max_staff}")


def _no_rule_set_for_a_tier(d: Path, p: Path) -> None:
    (d / "hnte.yaml").unlink()


def _unknown_param_field(d: Path, p: Path) -> None:
    edit(p, "tech_sme.max_employees:\n", "tech_sme.max_employees:\n  scope: national\n")


def _param_without_citation(d: Path, p: Path) -> None:
    edit(
        p,
        "  citation: 国科发政〔2017〕115号 第六条（二）\n  values: [{from: 2017-05-03, value: 500}]",
        "  values: [{from: 2017-05-03, value: 500}]",
    )


def _param_dates_out_of_order(d: Path, p: Path) -> None:
    edit(
        p,
        "values: [{from: 2022-08-01, value: 1000}, {from: 2026-04-01, value: 1500}]",
        "values: [{from: 2026-04-01, value: 1500}, {from: 2022-08-01, value: 1000}]",
    )


@pytest.mark.parametrize(
    ("case", "breaker", "message"),
    [
        (
            "a rule set with an unknown field",
            _unknown_rule_field,
            "tech_sme.yaml（tech_sme/国科发政〔2017〕115号）：未知字段 threshold_year",
        ),
        ("a criterion with an unknown field", _unknown_criterion_field, "未知字段 weight"),
        ("a condition outside the vocabulary", _unknown_term, "未知或不唯一的条目 ['compare']"),
        ("a comparison with an unknown operator", _unknown_operator, "cmp 应为 [左, 比较符, 右]"),
        ("an unknown fact", _unknown_fact, "未知事实 banned_products"),
        ("a criterion without a citation", _no_citation, "条件 not_prohibited 缺少出处（citation）"),
        ("a criterion with a blank citation", _blank_citation, "条件 not_prohibited 缺少出处（citation）"),
        (
            "two versions of a tier overlapping for the same mode and region",
            _overlap,
            "规则版本重叠：srdi_sme/工信部企业〔2022〕63号 附件2（srdi_sme.yaml）",
        ),
        ("an unknown parameter", _unknown_param, "未知参数 tech_sme.max_staff"),
        ("a tier without any rule set", _no_rule_set_for_a_tier, "以下梯度没有规则集：hnte"),
        (
            "a parameter with an unknown field",
            _unknown_param_field,
            "parameters.yaml tech_sme.max_employees：未知字段 scope",
        ),
        (
            "a parameter without a citation",
            _param_without_citation,
            "parameters.yaml tech_sme.max_employees：缺少字段 citation",
        ),
        (
            "a parameter whose dates go backwards",
            _param_dates_out_of_order,
            "srdi_sme.min_revenue：取值的生效日期须递增且不重复",
        ),
    ],
)
def test_the_loader_refuses_a_bad_rule_book_and_says_where(
    rules: tuple[Path, Path], case: str, breaker: Breaker, message: str
) -> None:
    breaker(*rules)

    with pytest.raises(RuleError) as refused:
        load_rulebook(*rules)

    assert message in str(refused.value), case


@pytest.fixture
def use_rules(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path, Path], None]]:
    """`use_rules(rules_dir, params_file)`: the cached `rulebook()` loads from there until the test ends;
    the real rule book is loaded again afterwards."""
    import app.main  # noqa: F401  (importing it builds the app: let that happen with the real rule book first)

    def _use(rules_dir: Path, params_file: Path) -> None:
        monkeypatch.setattr(loader, "load_rulebook", functools.partial(load_rulebook, rules_dir, params_file))
        loader.rulebook.cache_clear()

    yield _use
    loader.rulebook.cache_clear()


def test_the_app_refuses_to_start_with_a_bad_rule_book(
    rules: tuple[Path, Path], use_rules: Callable[[Path, Path], None]
) -> None:
    from app.main import create_app

    _no_citation(*rules)
    use_rules(*rules)

    with pytest.raises(RuleError, match="缺少出处"):
        create_app()


def test_the_app_starts_with_a_good_rule_book_read_from_the_same_place(
    rules: tuple[Path, Path], use_rules: Callable[[Path, Path], None]
) -> None:
    from app.main import create_app

    # A harmless change, to see that the app really read this copy.
    edit(
        rules[0] / "tech_sme.yaml",
        "label: 科技型中小企业评价办法（2017）",
        "label: 科技型中小企业评价办法（测试副本）",
    )
    use_rules(*rules)

    app = create_app()

    assert app.url_path_for("rules:catalogue") == "/rules"
    book = loader.rulebook()
    assert isinstance(book, RuleBook)
    assert book.by_id("tech_sme/国科发政〔2017〕115号").label == "科技型中小企业评价办法（测试副本）"
