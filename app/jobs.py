"""The background job queue (huey): a SQLite file under var/ by default, Redis in production.

Workers run `huey_consumer app.jobs.huey` (`make run` starts one beside the web server). Every task opens and
owns its unit of work (STYLE §3); tasks live in their domain (`app/imports/jobs.py`) and are registered here.
"""

from __future__ import annotations

from huey import Huey, RedisHuey, SqliteHuey

from app.config import settings


def make_huey() -> Huey:
    if settings.huey_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("ladder", url=settings.huey_url, immediate=settings.huey_immediate)
    if settings.huey_url:
        raise ValueError("LADDER_HUEY_URL must be empty (SQLite queue) or a redis:// URL")
    settings.huey_sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("ladder", filename=str(settings.huey_sqlite_path), immediate=settings.huey_immediate)


huey = make_huey()

# The consumer imports this module: register the tasks it must know.
from app.imports import jobs as _import_jobs  # noqa: E402, F401
from app.recognitions import jobs as _recognition_jobs  # noqa: E402, F401
