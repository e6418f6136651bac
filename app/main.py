"""create_app(): routers, middleware, error handlers, static files and templates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select, text

from app import models as _models  # noqa: F401  (every table)
from app.audit import listener as _audit_listener  # noqa: F401  (registers the audit trail)
from app.auth.models import User
from app.auth.routes import router as auth_router
from app.auth.security import DEMO_PASSWORD, DEMO_USERNAMES, verify_password
from app.casework.routes import router as casework_router
from app.config import ROOT, settings
from app.db import SessionLocal
from app.firms.api import router as firms_api_router
from app.firms.web import router as firms_router
from app.imports.api import router as imports_api_router
from app.imports.export_web import router as exports_router
from app.imports.web import router as imports_router
from app.policies.api import router as policies_api_router
from app.policies.packages_web import router as packages_router
from app.policies.plans_web import router as plans_router
from app.policies.web import router as policies_router
from app.recognitions.routes import router as recognitions_router
from app.reports.api import router as reports_api_router
from app.reports.web import router as reports_router
from app.rules.admin import router as rule_settings_router
from app.rules.api import router as eligibility_api_router
from app.rules.catalogue import router as rule_catalogue_router
from app.rules.loader import rulebook
from app.rules.prospects_web import api_router as prospects_api_router
from app.rules.prospects_web import router as prospects_router
from app.rules.web import router as self_check_router
from app.web import errors, middleware
from app.web.csrf import csrf_protect


class DemoAccountsOutsideDemoMode(RuntimeError):
    pass


def refuse_demo_accounts() -> None:
    """Outside demo mode, refuse to start while any demo account still has the demo password."""
    if settings.demo_mode:
        return
    with SessionLocal() as session:
        try:
            users = session.scalars(select(User).where(User.username.in_(DEMO_USERNAMES))).all()
        except Exception:  # the schema may not exist yet (before the first migration)
            return
        weak = [u.username for u in users if verify_password(u.password_hash, DEMO_PASSWORD)]
    if weak:
        raise DemoAccountsOutsideDemoMode(
            "demo accounts with the demo password exist but LADDER_DEMO_MODE is off: " + ", ".join(weak)
        )


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    refuse_demo_accounts()
    yield


def create_app() -> FastAPI:
    # Validate every rule file and parameter now: a bad rule set stops the app from starting (RuleError).
    rulebook()
    app = FastAPI(
        title="Ladder 企业梯度培育服务平台",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(csrf_protect)],
    )
    errors.install(app)
    middleware.install(app)
    app.mount("/static", StaticFiles(directory=str(ROOT / "static")), name="static")
    app.include_router(auth_router)
    app.include_router(firms_router)
    app.include_router(firms_api_router)
    app.include_router(casework_router)
    app.include_router(recognitions_router)
    app.include_router(prospects_router)
    app.include_router(prospects_api_router)
    app.include_router(rule_settings_router)
    app.include_router(rule_catalogue_router)
    app.include_router(eligibility_api_router)
    app.include_router(self_check_router)
    app.include_router(policies_router)
    app.include_router(policies_api_router)
    app.include_router(packages_router)
    app.include_router(plans_router)
    app.include_router(imports_router)
    app.include_router(imports_api_router)
    app.include_router(exports_router)
    app.include_router(reports_router)
    app.include_router(reports_api_router)

    @app.get("/", name="home", include_in_schema=False)
    def home(request: Request) -> Response:
        return RedirectResponse(request.app.url_path_for("firms:list"), status_code=303)

    @app.get("/healthz", name="health", tags=["ops"])
    def healthz() -> Response:
        """200 when the database answers."""
        try:
            with SessionLocal() as session:
                session.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return app


app = create_app()
