"""Settings read from the environment (and `.env`), one module-level `settings`."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

# The placeholder secret that only demo mode may run with.
DEMO_SECRET = "ladder-demo-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LADDER_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'var' / 'ladder.db'}", validation_alias="DATABASE_URL"
    )
    secret_key: str = DEMO_SECRET
    # Demo mode seeds the demo accounts (password `ladder-demo`) and allows the placeholder secret.
    demo_mode: bool = False
    storage_dir: Path = ROOT / "var" / "files"
    timezone: str = "Asia/Shanghai"
    # Cookies are marked Secure unless this is off (plain-HTTP local demo).
    secure_cookies: bool = True
    session_hours: int = 12
    token_hours: int = 8
    # Login throttling: this many failures per username or per client within the window lock it out.
    login_max_failures: int = 5
    login_window_minutes: int = 15
    max_upload_mb: int = 10
    page_size: int = 25
    # Public POST /api/v1/eligibility, per client IP; a `limits` string ("120/minute", "10/second").
    eligibility_rate_limit: str = "120/minute"
    # Rate-limit counters: per-process memory by default; "redis://host:6379/0" to share between workers.
    rate_limit_storage: str = "memory://"
    # Background jobs (huey): empty = SQLite queue file var/huey.db (one machine); "redis://host:6379/1" in
    # production, shared by the web workers and the `huey_consumer app.jobs.huey` worker.
    huey_url: str = ""
    huey_sqlite_path: Path = ROOT / "var" / "huey.db"
    # Run jobs in the request instead of queueing them (huey's immediate mode; tests).
    huey_immediate: bool = False
    # Imports: largest file accepted, and the size above which a file is handled by a background job.
    max_import_mb: int = 50
    import_inline_kb: int = 512

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if not self.demo_mode and (self.secret_key == DEMO_SECRET or len(self.secret_key) < 32):
            raise ValueError(
                "LADDER_SECRET_KEY must be set to a random value of at least 32 characters outside demo mode"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


settings = Settings()
