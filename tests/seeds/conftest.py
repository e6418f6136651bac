"""Fixtures for the seed tests (`db`, `fresh_database`, `alembic_config` come from tests/conftest.py)."""

from __future__ import annotations

import pytest

from app.config import settings


@pytest.fixture
def demo_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite runs outside demo mode; the demo accounts are only created inside it."""
    monkeypatch.setattr(settings, "demo_mode", True)
