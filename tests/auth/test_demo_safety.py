"""Outside demo mode the placeholder secret and the demo accounts' password are refused at start-up."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

import app.main
from app.auth.models import Role, User
from app.auth.security import DEMO_PASSWORD
from app.config import DEMO_SECRET, Settings, settings


def test_the_placeholder_secret_is_refused_outside_demo_mode() -> None:
    with pytest.raises(ValidationError, match="LADDER_SECRET_KEY"):
        Settings(demo_mode=False, secret_key=DEMO_SECRET)


def test_a_short_secret_is_refused_outside_demo_mode() -> None:
    with pytest.raises(ValidationError, match="LADDER_SECRET_KEY"):
        Settings(demo_mode=False, secret_key="too-short")


def test_demo_mode_accepts_the_placeholder_secret() -> None:
    assert Settings(demo_mode=True, secret_key=DEMO_SECRET).secret_key == DEMO_SECRET


@pytest.fixture
def app_sees_test_session(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """refuse_demo_accounts opens its own session: let it see this test's uncommitted rows."""
    monkeypatch.setattr(
        app.main, "SessionLocal", sessionmaker(bind=db.connection(), join_transaction_mode="create_savepoint")
    )


@pytest.mark.usefixtures("app_sees_test_session")
def test_start_up_is_refused_while_admin_has_the_demo_password_outside_demo_mode(
    make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(Role.admin, username="admin", password=DEMO_PASSWORD)
    monkeypatch.setattr(settings, "demo_mode", False)

    with pytest.raises(app.main.DemoAccountsOutsideDemoMode, match="admin"):
        app.main.refuse_demo_accounts()


@pytest.mark.usefixtures("app_sees_test_session")
def test_start_up_goes_ahead_in_demo_mode(
    make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(Role.admin, username="admin", password=DEMO_PASSWORD)
    monkeypatch.setattr(settings, "demo_mode", True)

    app.main.refuse_demo_accounts()


@pytest.mark.usefixtures("app_sees_test_session")
def test_start_up_goes_ahead_once_the_demo_accounts_have_real_passwords(
    make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(Role.admin, username="admin", password="a-real-password-now")
    monkeypatch.setattr(settings, "demo_mode", False)

    app.main.refuse_demo_accounts()
