"""One family of domain errors, rendered by one handler (app/web/errors.py)."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code


class NotFound(DomainError):
    status_code = 404

    def __init__(self, message: str = "未找到该记录，或您无权查看") -> None:
        super().__init__(message)


class NotPermitted(DomainError):
    status_code = 403

    def __init__(self, message: str = "您没有执行此操作的权限") -> None:
        super().__init__(message)


class Conflict(DomainError):
    status_code = 409


class RuleViolation(DomainError):
    """A business rule refused the input; `field` names the input it concerns (for 422 `loc`)."""

    status_code = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotAuthenticated(DomainError):
    status_code = 401

    def __init__(self, message: str = "请先登录") -> None:
        super().__init__(message)
