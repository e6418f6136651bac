"""The load test: the app under uvicorn in a subprocess, driven over loopback by this process.

Each scenario is a list of request paths drawn up front from the bench database with a fixed seed (the same
firms, searches and filters on every engine), replayed by `concurrency` threads, each with its own keep-alive
connection (stdlib `http.client`: the client shares the machine's two cores with the server, so it must be
light). A scenario stops after `requests` measured requests or `max_seconds`, whichever comes first, after a
warm-up that is not measured. Latency is measured in the client, from sending the request to the last byte.
"""

from __future__ import annotations

import http.client
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

from sqlalchemy import select

from app.db import make_engine
from app.firms.models import Firm, Membership
from app.firms.repository import CURRENT
from app.reference.models import Industry, Park
from app.tiers.codes import Tier
from bench.generate import DEMO_PASSWORD
from bench.targets import BENCH_DIR, ROOT, Target, size_label

HOST = "127.0.0.1"
SCENARIO_SEED = 7


# -- the server -------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    target: Target
    workers: int
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"


def _get(
    port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 30
) -> tuple[int, dict[str, str], bytes, list[str]]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, dict(resp.getheaders()), body, resp.headers.get_all("set-cookie") or []
    finally:
        conn.close()


@contextmanager
def serve(target: Target, *, workers: int = 1, log: Callable[[str], None] = print) -> Iterator[Server]:
    """uvicorn on the bench database (demo mode, plain-HTTP cookies), stopped (by its pid) on exit."""
    port = free_port()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    log_path = BENCH_DIR / f"server-{target.engine}-{size_label(target.size)}-w{workers}.log"
    env = {**os.environ, "DATABASE_URL": target.url, "LADDER_DEMO_MODE": "1", "LADDER_SECURE_COOKIES": "0"}
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with log_path.open("wb") as out:
        # Its own session, so that the uvicorn supervisor and its worker processes form one group we own.
        process = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(target=target, workers=workers, port=port, process=process, log_path=log_path)
    try:
        _wait_healthy(server)
        yield server
    finally:
        _stop(process)


def _wait_healthy(server: Server, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"uvicorn exited ({server.process.returncode}); see {server.log_path}")
        try:
            if _get(server.port, "/healthz", timeout=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"uvicorn did not become healthy in {timeout:.0f} s; see {server.log_path}")


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a live process, from /proc (Linux); None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def server_cpu_seconds(server: Server) -> float:
    """CPU time used so far by the uvicorn process and its worker processes. Unlike latency, this does not
    grow when other work shares the machine, so it is the figure to compare between noisy runs."""
    root = server.process.pid
    total = 0.0
    stat = _proc_stat(root)
    if stat is not None:
        total += stat[1]
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return total
    for pid in pids:
        if pid != root and (child := _proc_stat(pid)) is not None and child[0] == root:
            total += child[1]
    return total


def _per_pid_cpu(match: Callable[[int], bool]) -> dict[int, float]:
    out: dict[int, float] = {}
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return out
    for pid in pids:
        if match(pid) and (stat := _proc_stat(pid)) is not None:
            out[pid] = stat[1]
    return out


def db_backends_cpu(target: Target) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the target database (by pid); {} on SQLite,
    whose work is done inside the server process and already counted there."""
    if target.engine != "postgresql":
        return {}
    needle = f" {target.db_name} ".encode()

    def ours(pid: int) -> bool:
        try:
            return needle in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ") + b" "
        except OSError:
            return False

    return _per_pid_cpu(ours)


def load_average() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # the supervisor stops its own workers
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the group of the process we started, nothing else
        process.wait(timeout=10)


# -- signing in -------------------------------------------------------------------------------------------


def _cookie(set_cookies: Sequence[str], name: str) -> str | None:
    for header in set_cookies:
        first = header.split(";", 1)[0]
        key, _, value = first.partition("=")
        if key.strip() == name:
            return value.strip().strip('"')
    return None


def session_cookie(port: int, username: str) -> str:
    """The page flow: GET /login for the CSRF cookie and field, POST the form, keep `ladder_session`."""
    status, _headers, body, cookies = _get(port, "/login")
    if status != 200:
        raise RuntimeError(f"GET /login answered {status}")
    csrf = _cookie(cookies, "ladder_csrf")
    match = re.search(rb'name="csrf_token"\s+value="([^"]+)"', body) or re.search(
        rb'value="([^"]+)"\s+name="csrf_token"', body
    )
    field_value = match.group(1).decode() if match else csrf
    if not csrf or not field_value:
        raise RuntimeError("no CSRF token on /login")
    form = urllib.parse.urlencode(
        {"username": username, "password": DEMO_PASSWORD, "next": "/", "csrf_token": field_value}
    )
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(
            "POST",
            "/login",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"ladder_csrf={csrf}"},
        )
        resp = conn.getresponse()
        resp.read()
        token = _cookie(resp.headers.get_all("set-cookie") or [], "ladder_session")
        if resp.status != 303 or not token:
            raise RuntimeError(f"POST /login as {username} answered {resp.status}")
    finally:
        conn.close()
    return f"ladder_session={token}; ladder_csrf={csrf}"


def bearer_token(port: int, username: str) -> str:
    """The API flow: OAuth2 password grant at /api/v1/auth/token."""
    import json

    form = urllib.parse.urlencode({"username": username, "password": DEMO_PASSWORD, "grant_type": "password"})
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(
            "POST",
            "/api/v1/auth/token",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"POST /api/v1/auth/token as {username} answered {resp.status}")
    finally:
        conn.close()
    return str(json.loads(data)["access_token"])


# -- what to ask for --------------------------------------------------------------------------------------


ROLES: dict[str, str] = {"admin": "all parks", "officer_jingan": "静安园 only"}
TIERS = [t.value for t in Tier]


@dataclass
class Pool:
    """What one role can see, drawn from the bench database: the raw material of the request paths."""

    role: str
    firm_ids: list[int]
    names: list[str]
    usccs: list[str]
    parks: list[str]
    industries: list[str]


def load_pools(target: Target, sample: int = 3000) -> dict[str, Pool]:
    engine = make_engine(target.url)
    rng = Random(SCENARIO_SEED)
    pools: dict[str, Pool] = {}
    try:
        with engine.connect() as conn:
            parks = list(conn.scalars(select(Park.code).order_by(Park.code)))
            industries = list(conn.scalars(select(Industry.code).order_by(Industry.code)))
            for role in ROLES:
                stmt = select(Firm.id, Firm.name, Firm.uscc)
                role_parks = parks
                if role.startswith("officer_"):
                    role_parks = [role.removeprefix("officer_")]
                    stmt = stmt.join(Membership, (Membership.firm_id == Firm.id) & CURRENT).where(
                        Membership.park_code.in_(role_parks)
                    )
                rows = conn.execute(stmt.order_by(Firm.id)).all()
                picked = rng.sample(rows, min(sample, len(rows)))
                pools[role] = Pool(
                    role=role,
                    firm_ids=[r.id for r in rows],
                    names=[r.name for r in picked],
                    usccs=[r.uscc for r in picked],
                    parks=role_parks,
                    industries=industries,
                )
    finally:
        engine.dispose()
    return pools


NAME_NOISE = re.compile(r"^上海|（上海）|股份有限公司$|有限公司$")


def search_term(rng: Random, pool: Pool) -> str:
    """What an officer types: a piece of a firm name (2–4 characters) or the start of a USCC (10–18)."""
    if rng.random() < 0.7:
        core = NAME_NOISE.sub("", rng.choice(pool.names)) or rng.choice(pool.names)
        size = min(len(core), rng.choice((2, 2, 3, 4)))
        start = rng.randrange(0, len(core) - size + 1)
        return core[start : start + size]
    return rng.choice(pool.usccs)[: rng.choice((10, 12, 14, 18))]


def list_filters(rng: Random, pool: Pool) -> dict[str, str]:
    """Each filter on about a third of requests: park, tier, industry (a group or a leaf)."""
    params: dict[str, str] = {}
    if rng.random() < 0.35:
        params["park"] = rng.choice(pool.parks)
    if rng.random() < 0.35:
        params["tier"] = rng.choice(TIERS)
    if rng.random() < 0.35:
        params["industry"] = rng.choice(pool.industries)
    return params


def _page(rng: Random, pool: Pool, filtered: bool, per_page: int = 25) -> int:
    """Mostly the first pages; one request in ten jumps to a random page of the whole (unfiltered) list."""
    r = rng.random()
    if r < 0.6:
        return 1
    if r < 0.9 or filtered:
        return rng.randint(2, 10)
    return rng.randint(1, max(1, len(pool.firm_ids) // per_page))


def _query(params: dict[str, Any]) -> str:
    return "?" + urllib.parse.urlencode(params) if params else ""


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    auth: str  # "cookie" (pages) or "bearer" (API)
    target_ms: float  # p95 target at 100k firms
    paths: Callable[[Random, Pool], str]


def _list_page(rng: Random, pool: Pool) -> str:
    params: dict[str, Any] = list_filters(rng, pool)
    page = _page(rng, pool, bool(params))
    if page > 1:
        params["page"] = page
    return "/firms" + _query(params)


def _search_page(rng: Random, pool: Pool) -> str:
    return "/firms" + _query({"q": search_term(rng, pool)})


def _api_list(rng: Random, pool: Pool) -> str:
    """Half searches, half filtered lists (a random page of 50)."""
    if rng.random() < 0.5:
        return "/api/v1/firms" + _query({"q": search_term(rng, pool), "limit": 50})
    params: dict[str, Any] = list_filters(rng, pool)
    params["limit"] = 50
    page = _page(rng, pool, len(params) > 1, per_page=50)
    if page > 1:
        params["offset"] = (page - 1) * 50
    return "/api/v1/firms" + _query(params)


def _file_page(rng: Random, pool: Pool) -> str:
    return f"/firms/{rng.choice(pool.firm_ids)}"


def _file_api(rng: Random, pool: Pool) -> str:
    return f"/api/v1/firms/{rng.choice(pool.firm_ids)}"


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("list_page", "list page GET /firms (filters, page)", "cookie", 150, _list_page),
    Scenario("search_page", "search page GET /firms?q=", "cookie", 150, _search_page),
    Scenario("api_list", "API GET /api/v1/firms?q= or filters, limit=50", "bearer", 150, _api_list),
    Scenario("file_page", "file page GET /firms/{id}", "cookie", 100, _file_page),
    Scenario("file_api", "file API GET /api/v1/firms/{id}", "bearer", 100, _file_api),
)


# -- driving the load -------------------------------------------------------------------------------------


@dataclass
class Result:
    engine: str
    size: int
    workers: int
    role: str
    scenario: str
    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the server spent on the measured requests
    db_cpu: float = 0.0  # and the PostgreSQL backends serving it (SQLite runs inside the server)
    load_before: float = float("nan")  # 1-minute load average when the scenario started
    skipped: str | None = None

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    def pct(self, p: float) -> float:
        return percentile(self.latencies_ms, p)

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """Server CPU per request (all answers, errors included)."""
        n = self.count + sum(self.errors.values())
        return self.server_cpu * 1000 / n if n else float("nan")

    @property
    def db_cpu_ms(self) -> float:
        """PostgreSQL backend CPU per request (0 on SQLite, where it is part of the server's)."""
        n = self.count + sum(self.errors.values())
        return self.db_cpu * 1000 / n if n else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "size": self.size,
            "workers": self.workers,
            "role": self.role,
            "scenario": self.scenario,
            "concurrency": self.concurrency,
            "count": self.count,
            "errors": {str(k): v for k, v in self.errors.items()},
            "seconds": round(self.seconds, 3),
            "p50_ms": round(self.pct(50), 2),
            "p95_ms": round(self.pct(95), 2),
            "p99_ms": round(self.pct(99), 2),
            "rps": round(self.rps, 2),
            "server_cpu_ms_per_req": round(self.cpu_ms, 2),
            "db_cpu_ms_per_req": round(self.db_cpu_ms, 2),
            "load_before": self.load_before,
            "skipped": self.skipped,
        }


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _replay(
    port: int, paths: Sequence[str], headers: dict[str, str], concurrency: int, max_seconds: float | None
) -> tuple[list[float], dict[int, int], float]:
    """Send `paths` from `concurrency` threads; returns latencies (ms) of 200s, other statuses, wall time."""
    counter = itertools.count()
    latencies: list[float] = []
    errors: dict[int, int] = {}
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + max_seconds if max_seconds else None
    ends: list[float] = []

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=120)
        mine: list[float] = []
        bad: dict[int, int] = {}
        last = start
        try:
            while True:
                i = next(counter)
                if i >= len(paths) or (deadline is not None and time.perf_counter() > deadline):
                    break
                t0 = time.perf_counter()
                try:
                    conn.request("GET", paths[i], headers=headers)
                    resp = conn.getresponse()
                    resp.read()
                    status = resp.status
                    if resp.will_close:
                        conn.close()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    status = 0
                last = time.perf_counter()
                if status == 200:
                    mine.append((last - t0) * 1000)
                else:
                    bad[status] = bad.get(status, 0) + 1
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)
                for k, v in bad.items():
                    errors[k] = errors.get(k, 0) + v
                ends.append(last)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, max(ends, default=start) - start


def run_scenario(
    server: Server,
    scenario: Scenario,
    pool: Pool,
    credentials: dict[str, str],
    *,
    requests: int,
    concurrency: int,
    warmup: int,
    max_seconds: float,
) -> Result:
    result = Result(
        engine=server.target.engine,
        size=server.target.size,
        workers=server.workers,
        role=pool.role,
        scenario=scenario.key,
        concurrency=concurrency,
    )
    rng = Random(f"{SCENARIO_SEED}:{scenario.key}:{pool.role}")
    paths = [scenario.paths(rng, pool) for _ in range(warmup + requests)]
    headers = (
        {"Cookie": credentials["cookie"]}
        if scenario.auth == "cookie"
        else {"Authorization": f"Bearer {credentials['bearer']}"}
    )
    status = _get(server.port, paths[0], headers)[0]
    if status != 200:
        result.skipped = f"{paths[0]} answered {status}"
        return result
    _replay(server.port, paths[:warmup], headers, concurrency, None)
    result.load_before = load_average()
    cpu, db = server_cpu_seconds(server), db_backends_cpu(server.target)
    result.latencies_ms, result.errors, result.seconds = _replay(
        server.port, paths[warmup:], headers, concurrency, max_seconds
    )
    result.server_cpu = server_cpu_seconds(server) - cpu
    result.db_cpu = sum(v - db.get(pid, 0.0) for pid, v in db_backends_cpu(server.target).items())
    return result


def credentials_for(server: Server) -> dict[str, dict[str, str]]:
    return {
        role: {"cookie": session_cookie(server.port, role), "bearer": bearer_token(server.port, role)}
        for role in ROLES
    }
