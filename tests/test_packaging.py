"""The Dockerfile and the Makefile refer only to things that exist (no Docker engine runs here)."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"not an exact pin: {line!r}"
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_every_path_the_dockerfile_copies_exists() -> None:
    copies = [args for keyword, args in _instructions(ROOT / "Dockerfile") if keyword in {"COPY", "ADD"}]
    assert copies
    for args in copies:
        words = [w for w in shlex.split(args) if not w.startswith("--")]
        for source in words[:-1]:
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is not in the repository"


def test_the_dockerfile_installs_the_lock_and_serves_the_app() -> None:
    instructions = _instructions(ROOT / "Dockerfile")
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = " ".join(args for keyword, args in instructions if keyword == "RUN")
    assert "-r requirements.lock" in runs
    cmd = " ".join(args for keyword, args in instructions if keyword in {"CMD", "ENTRYPOINT"})
    assert "alembic upgrade head" in cmd
    module, _, attribute = re.search(r"uvicorn\s+(\S+)", cmd).group(1).partition(":")  # type: ignore[union-attr]
    assert (module, attribute) == ("app.main", "app")
    assert (ROOT / Path(*module.split("."))).with_suffix(".py").is_file()
    assert "0.0.0.0" in cmd and "8000" in cmd
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}


def test_the_lock_pins_every_dependency_of_pyproject_at_its_declared_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"]) + [
        d for group in project["optional-dependencies"].values() for d in group
    ]
    pins = _lock()
    for requirement in declared:
        name, _, version = requirement.partition("==")
        name = re.sub(r"\[.*\]", "", name)
        assert pins.get(re.sub(r"[-_.]+", "-", name).lower()) == version, f"{requirement} is not in the lock"


def test_the_makefile_has_the_only_targets_anyone_needs() -> None:
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", (ROOT / "Makefile").read_text(), flags=re.M))
    assert {"run", "test", "lint", "bench", "migrate"} <= targets
