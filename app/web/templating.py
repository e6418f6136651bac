"""Render a page, or only the block that htmx asked for (the page-or-fragment rule)."""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.applications import Starlette

from app.auth.models import ROLE_LABELS
from app.config import ROOT
from app.web import formatting
from app.web.csrf import CSRF_FIELD, csrf_token

templates = Jinja2Blocks(directory=str(ROOT / "templates"))
env = templates.env
# Templates change only with a deploy (or a restart in development): skip the per-render stat of every file.
env.auto_reload = False
env.filters["date"] = formatting.fmt_date
env.filters["datetime"] = formatting.fmt_datetime
env.filters["amount"] = formatting.fmt_amount
env.filters["mask_phone"] = formatting.mask_phone
env.filters["mask_id"] = formatting.mask_id_number
env.globals["CSRF_FIELD"] = CSRF_FIELD
env.globals["HTMX_VERSION"] = "2.0.11"
env.globals["ROLE_LABELS"] = ROLE_LABELS


@lru_cache(maxsize=4096)
def _url_path(app: Starlette, name: str, params: tuple[tuple[str, Any], ...]) -> str:
    return str(app.url_path_for(name, **dict(params)))


def _marker(i: int) -> str:
    return f"{i + 1}00000000271828"


@lru_cache(maxsize=512)
def _url_pattern(app: Starlette, name: str, keys: tuple[str, ...]) -> str:
    """The route's path with a digit marker in place of each parameter (as Starlette builds it)."""
    return str(app.url_path_for(name, **{key: _marker(i) for i, key in enumerate(keys)}))


def url_path(app: Starlette, name: str, **params: Any) -> str:
    """The path of a named route. Starlette walks every route to build one; pages link dozens, so cache.
    Ids differ on every page (each firm's links are new): those fill in a cached pattern. A plain decimal
    number is what both the int and the str path convertors write unchanged; anything else goes through
    Starlette."""
    values = [(k, str(v)) for k, v in sorted(params.items())]
    if values and all(v.isdecimal() and v.isascii() and (v == "0" or v[0] != "0") for _, v in values):
        path = _url_pattern(app, name, tuple(k for k, _ in values))
        for i, (_, v) in enumerate(values):
            path = path.replace(_marker(i), v)
        return path
    return _url_path(app, name, tuple(values))


def wants_block(request: Request, block: str, slot: str | None = None) -> bool:
    """True when htmx targets exactly this block (`{% block firm_table %}` ↔ `id="firm-table"`; `slot`: the
    element's id when it is not the block's name, as for a block rendered once per row)."""
    headers = request.headers
    if headers.get("hx-request") != "true":
        return False
    if headers.get("hx-boosted") == "true" or headers.get("hx-history-restore-request") == "true":
        return False
    return headers.get("hx-target") == (slot or block.replace("_", "-"))


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    retarget: bool = False,
    slot: str | None = None,
) -> Response:
    """The page, or only `block` when htmx targets it (its element `slot`, when not named after the block).
    `retarget`: render `block` for any htmx request and tell htmx to swap it in place of its own element
    (HX-Retarget), e.g. a form's errors after a preview."""
    ctx: dict[str, Any] = {
        "request": request,
        "principal": getattr(request.state, "principal", None),
        "csrf_token": csrf_token(request),
        "url": partial(url_path, request.app),
        "today": formatting.today(),
    }
    ctx.update(context or {})
    block_name = block if block is not None and wants_block(request, block, slot) else None
    if retarget and block is not None and request.headers.get("hx-request") == "true":
        block_name = block
        headers = {**(headers or {}), "HX-Retarget": "#" + block.replace("_", "-"), "HX-Reswap": "outerHTML"}
    response = templates.TemplateResponse(
        request, template, ctx, block_name=block_name, status_code=status_code
    )
    response.headers["Vary"] = "HX-Request, HX-Target"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def redirect_after_post(request: Request, url: str) -> Response:
    """303 for a plain form post; HX-Location for htmx, so both land on the same page."""
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Location": url})
    return RedirectResponse(url, status_code=303)
