"""Per-client rate limit of the public eligibility endpoint (docs/domain/eligibility-api.md: at least 120 a minute).

The `limits` library counts hits in a moving window. Storage is in-process memory by default (one counter per worker
process); production with several workers points `LADDER_RATE_LIMIT_STORAGE` at a shared store such as
`redis://host:6379/0` (which needs the `redis` package installed). The client is `request.client.host`: behind a
reverse proxy, run uvicorn with `--proxy-headers --forwarded-allow-ips=<proxy>` so that is the real client.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from fastapi import HTTPException, Request
from limits import RateLimitItem, parse
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter

from app.auth.dependencies import client_of
from app.config import settings

log = logging.getLogger(__name__)

NAMESPACE = "eligibility"


@dataclass(frozen=True)
class Limiter:
    item: RateLimitItem
    storage: Storage
    strategy: RateLimiter

    def retry_after(self, client: str) -> int | None:
        """Count one request of `client`; None when allowed, else the seconds until it may try again."""
        if self.strategy.hit(self.item, NAMESPACE, client):
            return None
        reset_at = self.strategy.get_window_stats(self.item, NAMESPACE, client).reset_time
        return max(1, math.ceil(reset_at - time.time()))


@lru_cache(maxsize=4)
def _build(limit: str, storage_uri: str) -> Limiter:
    item = parse(limit)  # ValueError on a malformed setting
    storage = storage_from_string(storage_uri)
    if not isinstance(storage, Storage):
        raise ValueError(f"LADDER_RATE_LIMIT_STORAGE must be a synchronous storage, not {storage_uri!r}")
    strategy: RateLimiter = (
        MovingWindowRateLimiter(storage)
        if isinstance(storage, MovingWindowSupport)
        else FixedWindowRateLimiter(storage)
    )
    return Limiter(item, storage, strategy)


def limiter() -> Limiter:
    """The limiter for the current settings (rebuilt when a test or an operator changes them)."""
    return _build(settings.eligibility_rate_limit, settings.rate_limit_storage)


def reset() -> None:
    """Forget every client's count (tests)."""
    limiter().storage.reset()


def eligibility_rate_limit(request: Request) -> None:
    """Route dependency: 429 with Retry-After once this client has used up its allowance."""
    current = limiter()
    try:
        wait = current.retry_after(client_of(request))
    except Exception:  # a shared store that is down must not take the public self-check down with it
        log.exception("rate-limit storage unavailable; request allowed")
        return
    if wait is not None:
        raise HTTPException(
            status_code=429,
            detail=f"请求过于频繁，请 {wait} 秒后再试（每个客户端限 {current.item.amount} 次/"
            f"{_period(current.item)}）",
            headers={"Retry-After": str(wait)},
        )


def _period(item: RateLimitItem) -> str:
    unit = {1: "秒", 60: "分钟", 3600: "小时", 86400: "天"}.get(item.GRANULARITY.seconds, "")
    if not unit:
        return f"{item.get_expiry()} 秒"
    return unit if item.multiples == 1 else f"{item.multiples} {unit}"
