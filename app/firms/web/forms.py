"""Form handling for the firm pages: read the posted fields, validate them with the API's schemas, and keep
what the officer typed so an invalid form comes back with every value and a Chinese message beside each field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, UploadFile

from app.errors import Conflict, RuleViolation
from app.firms.schemas import YEAR_AMOUNT_FIELDS, YEAR_INT_FIELDS
from app.web.validation import field_errors

M = TypeVar("M", bound=BaseModel)


async def read_form(request: Request) -> FormData:
    """The posted form (urlencoded or multipart); Starlette caches it, so the CSRF check's read is reused."""
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]


@dataclass
class FormState:
    """What a form shows: the values typed (as text) and the Chinese error beside each field."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    open: bool = False

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None or value == "" else value


class FormStates(dict[str, FormState]):
    """Form states by form name; a form not mentioned is empty (`states["fact"]` never fails)."""

    def __missing__(self, key: str) -> FormState:
        return FormState()


def text_values(form: FormData, names: Iterable[str]) -> dict[str, Any]:
    """The posted text of each named field (stripped); multi-valued fields (`tags`) as lists."""
    out: dict[str, Any] = {}
    for name in names:
        if name == "tags":
            out[name] = [str(v).strip() for v in form.getlist(name) if str(v).strip()]
            continue
        value = form.get(name)
        if value is None or isinstance(value, UploadFile):
            continue
        out[name] = str(value).strip()
    return out


def validate(
    model: type[M], data: dict[str, Any], *, keep_blank: bool = False, required: Iterable[str] = ()
) -> tuple[M | None, dict[str, str]]:
    """The model, or None and {field: Chinese message}.

    A blank field is left out (a required one is then 必填, an optional one takes its default); an edit form
    passes `keep_blank` so that emptying a field clears it, and names its `required` fields itself.
    """
    payload = data if keep_blank else {k: v for k, v in data.items() if v != ""}
    missing = {name: "必填" for name in required if not str(data.get(name) or "").strip()}
    try:
        parsed = model.model_validate(payload)
    except ValidationError as exc:
        return None, {**field_errors(exc.errors()), **missing}
    return (None, missing) if missing else (parsed, {})


def error_of(exc: RuleViolation | Conflict) -> dict[str, str]:
    """A business refusal as a form error: beside its field when it names one, else above the form."""
    name = getattr(exc, "field", None) or "__all__"
    return {name: exc.message}


# --- the forms ---------------------------------------------------------------------------------------

FIRM_CREATE_FIELDS = (
    "name",
    "uscc",
    "park",
    "area",
    "carrier",
    "industry",
    "founded_on",
    "district",
    "address",
    "officer_id",
    "joined_on",
    "tags",
    "reason",
)
FIRM_UPDATE_FIELDS = (
    "version",
    "name",
    "renamed_on",
    "uscc",
    "founded_on",
    "district",
    "address",
    "status",
    "status_since",
    "officer_id",
    "park",
    "area",
    "carrier",
    "industry",
    "moved_on",
    "tags",
    "reason",
)
YEAR_VALUE_FIELDS = YEAR_INT_FIELDS + YEAR_AMOUNT_FIELDS
YEAR_FORM_FIELDS = ("year", "source", "source_department", *YEAR_VALUE_FIELDS, "reason")
FACT_FIELDS = ("key", "value", "valid_from", "source", "source_department", "note", "reason")
CONTACT_FIELDS = ("name", "title", "phone", "id_number", "email", "is_primary", "reason")
INCIDENT_FIELDS = ("kind", "grade", "occurred_on", "source", "source_department", "description", "reason")
AWARD_FIELDS = ("name", "level", "awarded_on", "rank", "source", "reason")
RECOGNITION_FIELDS = ("tier", "kind", "level", "certificate_no", "issued_on", "expires_on", "note", "reason")
REVOKE_FIELDS = ("revoked_on", "revoke_reason", "reason")


def without_separators(text: Any) -> Any:
    """Officers paste amounts as 1,800 or 1，800: drop thousands separators and spaces before parsing."""
    if isinstance(text, str):
        return text.replace(",", "").replace("，", "").replace(" ", "")
    return text


def year_payload(values: dict[str, Any]) -> dict[str, Any]:
    """The YearIn fields of a posted year form (without `year`, which is a path of the service call)."""
    data = {k: v for k, v in values.items() if k != "year"}
    for name in YEAR_VALUE_FIELDS:
        if name in data:
            data[name] = without_separators(data[name])
    return data


def parse_year(text: Any) -> tuple[int | None, str | None]:
    try:
        return int(str(text).strip()), None
    except (TypeError, ValueError):
        return None, "请填写年度（如 2024）"


def contact_payload(values: dict[str, Any]) -> dict[str, Any]:
    data = dict(values)
    data["is_primary"] = values.get("is_primary") in ("1", "on", "true")
    return data


def update_payload(values: dict[str, Any]) -> dict[str, Any]:
    """An edit form sends every field; tags always (no box ticked means no tags)."""
    data = dict(values)
    data.setdefault("tags", [])
    return data
