"""Where the bench databases live, one per engine and size. No app imports here: `bench.profile` must set
DATABASE_URL from a target before anything reads app.config."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
# Another prefix points the bench at copies (CREATE DATABASE ladder_scratch_100k TEMPLATE ladder_bench_100k).
PG_DB_PREFIX = os.environ.get("BENCH_PG_DB_PREFIX", "ladder_bench_")
ENGINES = ("sqlite", "postgresql")


def size_label(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


@dataclass(frozen=True)
class Target:
    engine: str
    size: int
    pg_server: str = PG_SERVER

    @property
    def label(self) -> str:
        return f"{self.engine} {size_label(self.size)}"

    @property
    def db_name(self) -> str:
        return f"{PG_DB_PREFIX}{size_label(self.size)}"

    @property
    def sqlite_path(self) -> Path:
        return BENCH_DIR / f"ladder_{size_label(self.size)}.db"

    @property
    def url(self) -> str:
        if self.engine == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        return f"{self.pg_server.rstrip('/')}/{self.db_name}"
