"""Browser journeys: the real app under uvicorn on its own demo database, in Debian's headless Chromium.

Playwright never downloads a browser here; the pinned `playwright` package drives /usr/bin/chromium.
Every test in this folder is marked `e2e` (`-m "not e2e"` skips them).
Fixtures: `live_server` (base URL), `browser`, `context`, `page` (a fresh page on the live server).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_FIRMS = 40
E2E_DIR = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "test-results"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    # Keeps each phase's report on the item, so `page` knows whether the test failed.
    report: pytest.TestReport = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(
            f"{CHROMIUM} is missing: CI must run the browser tests (.ci/run installs Debian chromium)"
        )
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk); CI runs these")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"uvicorn exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    pytest.fail(f"uvicorn did not answer /healthz within {timeout:.0f}s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def live_server(
    fresh_database: Callable[[str], str],
    alembic_config: Callable[[str], Config],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The base URL of the app, served by uvicorn in demo mode on a fresh, migrated, demo-seeded database."""
    _require_chromium()
    if importlib.util.find_spec("seeds.__main__") is None:
        pytest.skip("the demo data CLI (`python -m seeds demo`) does not exist yet")

    url = fresh_database("_e2e")
    command.upgrade(alembic_config(url), "head")
    folder = tmp_path_factory.mktemp("live_server")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LADDER_DEMO_MODE": "1",
        "LADDER_SECURE_COOKIES": "0",
        "LADDER_STORAGE_DIR": str(folder / "files"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("TEST_DATABASE_URL", None)
    seeded = subprocess.run(
        [sys.executable, "-m", "seeds", "demo", "--firms", str(DEMO_FIRMS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if seeded.returncode != 0:
        pytest.fail(f"`python -m seeds demo --firms {DEMO_FIRMS}` failed:\n{seeded.stdout}\n{seeded.stderr}")

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = folder / "uvicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_healthy(base_url, process, log)
        yield base_url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def browser(live_server: str) -> Iterator[Any]:
    """Headless Debian Chromium, one for the whole run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser: Any, live_server: str) -> Iterator[Any]:
    """A fresh browser profile (no cookies) per test, in Chinese and Shanghai time."""
    ctx = browser.new_context(
        base_url=live_server,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1366, "height": 900},
    )
    ctx.set_default_timeout(10_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page on the live server (`page.goto("/login")`); a failure leaves a screenshot in test-results/."""
    pg = context.new_page()
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.nodeid)[-150:]
        # A screenshot that cannot be taken must not hide the real failure.
        with contextlib.suppress(Exception):
            pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    pg.close()
