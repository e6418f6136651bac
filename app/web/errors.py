"""One handler for domain errors: a full page for plain requests, a toast for htmx, JSON for the API."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import DomainError, NotAuthenticated, RuleViolation
from app.web.templating import render
from app.web.validation import translate_errors

TITLES = {
    401: "请先登录",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持的操作",
    409: "数据已被他人修改",
    422: "输入有误",
    429: "请求过于频繁",
}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: str) -> Response:
    if is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    if status == 401:
        login = request.app.url_path_for("auth:login_page")
        target = f"{login}?next={request.url.path}"
        if request.headers.get("hx-request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    if request.headers.get("hx-request") == "true":
        return render(
            request,
            "errors/_toast.html",
            {"message": message, "status": status},
            status_code=status,
            headers={"HX-Reswap": "none"},
        )
    return render(
        request,
        "errors/error.html",
        {"message": message, "status": status, "title": TITLES.get(status, "出错了")},
        status_code=status,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if isinstance(exc, RuleViolation) and is_api(request):
            loc = ["body", exc.field] if exc.field else ["body"]
            return JSONResponse(
                {"detail": [{"loc": loc, "msg": exc.message, "type": "value_error"}]}, status_code=422
            )
        if isinstance(exc, NotAuthenticated):
            return error_response(request, 401, exc.message)
        return error_response(request, exc.status_code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        detail = jsonable_encoder(translate_errors(exc.errors()))
        if is_api(request):
            return JSONResponse({"detail": detail}, status_code=422)
        return error_response(request, 422, "；".join(d["msg"] for d in detail) or "输入有误")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if is_api(request):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
            )
        message = {404: "您要找的页面不存在", 405: "不支持的操作"}.get(exc.status_code, str(exc.detail))
        return error_response(request, exc.status_code, message)
