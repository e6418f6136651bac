"""Recognition rows (认定记录): a firm (by USCC), a tier, the certificate and its dates. A row is the same
recognition as a stored one when firm and tier match and so does the certificate number (or, without one,
the date of recognition)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select

from app.imports import values
from app.imports.context import RowErrors, Run
from app.imports.firm_rows import read_uscc
from app.imports.year_rows import firm_in_scope, firms_by_uscc
from app.recognitions.models import (
    RECOGNITION_KIND_LABELS,
    RECOGNITION_LEVEL_LABELS,
    Recognition,
    RecognitionKind,
    RecognitionLevel,
)
from app.recognitions.service import default_expiry
from app.tiers.codes import TIER_LABELS, Tier


def _key(text: str) -> str:
    return re.sub(r"[\s\"'“”‘’「」()（）]", "", text).lower()


TIER_NAMES: dict[str, Tier] = {_key(label): tier for tier, label in TIER_LABELS.items()} | {
    _key(tier.value): tier for tier in Tier
}
TIER_NAMES |= {
    _key(k): v
    for k, v in {
        "科技型中小企业入库": Tier.tech_sme,
        "科技型": Tier.tech_sme,
        "创新型": Tier.innovative_sme,
        "科技和创新型中小企业": Tier.innovative_sme,
        "高企": Tier.hnte,
        "国家高新技术企业": Tier.hnte,
        "专精特新": Tier.srdi_sme,
        "专精特新企业": Tier.srdi_sme,
        "小巨人": Tier.little_giant,
        "专精特新小巨人": Tier.little_giant,
        "国家级专精特新小巨人企业": Tier.little_giant,
        "单项冠军": Tier.hidden_champion,
        "制造业单项冠军": Tier.hidden_champion,
        "隐形冠军企业": Tier.hidden_champion,
        "独角兽企业": Tier.unicorn,
        "瞪羚企业": Tier.gazelle,
    }.items()
}
KIND_NAMES = {_key(v): k for k, v in RECOGNITION_KIND_LABELS.items()} | {
    "首次": RecognitionKind.first,
    "新认定": RecognitionKind.first,
    "重新": RecognitionKind.renewal,
    "迁入": RecognitionKind.moved_in,
}
LEVEL_NAMES = {_key(v): k for k, v in RECOGNITION_LEVEL_LABELS.items()} | {
    "市级": RecognitionLevel.municipal,
    "省级": RecognitionLevel.municipal,
    "国家": RecognitionLevel.national,
    "区": RecognitionLevel.district,
}
FIELDS = ("kind", "level", "certificate_no", "issued_on", "expires_on")


def _parse(run: Run, errors: RowErrors, cells: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    raw = values.text(cells.get("tier"))
    tier = TIER_NAMES.get(_key(raw)) if raw else None
    if not raw:
        errors.add("tier", "缺少梯度（认定类型）")
    elif tier is None:
        errors.add("tier", f"梯度“{raw}”无法识别（如 高新技术企业、专精特新中小企业、专精特新“小巨人”企业）")
    else:
        out["tier"] = tier
    for name, table, what in (("kind", KIND_NAMES, "认定方式"), ("level", LEVEL_NAMES, "级别")):
        if name in cells:
            raw = values.text(cells[name])
            found = table.get(_key(raw))
            if found is None:
                errors.add(name, f"{what}“{raw}”无法识别")
            else:
                out[name] = found
    if "certificate_no" in cells:
        cert = values.text(cells["certificate_no"])
        if len(cert) > 64:
            errors.add("certificate_no", "证书编号不能超过 64 个字符")
        else:
            out["certificate_no"] = cert
    for name, what in (("issued_on", "认定日期"), ("expires_on", "有效期至")):
        if name in cells:
            try:
                out[name] = values.day(cells[name])
            except ValueError as exc:
                errors.add(name, f"{what}{exc}")
        elif name == "issued_on":
            errors.add(name, "缺少认定日期")
    issued, expires = out.get("issued_on"), out.get("expires_on")
    if issued and issued > run.today:
        errors.add("issued_on", "认定日期不能晚于今天")
    if issued and expires and expires < issued:
        errors.add("expires_on", "有效期至不能早于认定日期")
    return out


def process(run: Run, chunk: list[tuple[int, list[Any]]]) -> None:
    session = run.session
    parsed: list[tuple[RowErrors, str, dict[str, Any]]] = []
    for number, raw in chunk:
        run.rows += 1
        errors = RowErrors(run, number)
        cells = run.cells(raw)
        uscc = read_uscc(run, errors, cells)
        row = _parse(run, errors, cells)
        if uscc and "tier" in row and "issued_on" in row:
            same = row.get("certificate_no") or row["issued_on"]
            errors.first_of(("rec", uscc, row["tier"], same), "tier", "同一企业同一梯度的认定")
            if row.get("certificate_no"):
                errors.first_of(("cert", row["tier"], row["certificate_no"]), "certificate_no", "证书编号")
        if errors:
            errors.reject()
        else:
            parsed.append((errors, uscc or "", row))
    if not parsed:
        return
    firms = firms_by_uscc(run, list({u for _, u, _ in parsed}))
    ids = [f[0] for f in firms.values()]
    stored: dict[int, list[Recognition]] = {}
    for rec in session.scalars(select(Recognition).where(Recognition.firm_id.in_(ids))):
        stored.setdefault(rec.firm_id, []).append(rec)
    certs = {r["certificate_no"] for _, _, r in parsed if r.get("certificate_no")}
    taken = {
        (t, c): f
        for t, c, f in session.execute(
            select(Recognition.tier, Recognition.certificate_no, Recognition.firm_id).where(
                Recognition.certificate_no.in_(certs)
            )
        )
    }
    for errors, uscc, row in parsed:
        firm_id = firm_in_scope(run, errors, firms.get(uscc))
        if firm_id is None:
            errors.reject()
            continue
        match = _match(stored.get(firm_id, []), row)
        if match is None and (row["tier"], row.get("certificate_no")) in taken:
            errors.add("certificate_no", "该证书编号已登记在其他认定记录上")
            errors.reject()
            continue
        if match is None:
            run.new += 1
            if run.commit:
                issued: date = row["issued_on"]
                rec = Recognition(
                    firm_id=firm_id,
                    tier=row["tier"],
                    kind=row.get("kind", RecognitionKind.first),
                    level=row.get("level"),
                    certificate_no=row.get("certificate_no"),
                    issued_on=issued,
                    expires_on=row.get("expires_on") or default_expiry(row["tier"], issued),
                )
                session.add(rec)
                stored.setdefault(firm_id, []).append(rec)
                run.touched_firms.add(firm_id)
            continue
        changes = {k: row[k] for k in FIELDS if k in row and getattr(match, k) != row[k]}
        if not changes:
            run.unchanged += 1
            continue
        run.updated += 1
        if run.commit:
            for key, value in changes.items():
                setattr(match, key, value)
            run.touched_firms.add(firm_id)
    if run.commit:
        session.flush()


def _match(recs: list[Recognition], row: dict[str, Any]) -> Recognition | None:
    for rec in recs:
        if rec.tier != row["tier"]:
            continue
        if row.get("certificate_no"):
            if rec.certificate_no == row["certificate_no"]:
                return rec
        elif rec.issued_on == row["issued_on"]:
            return rec
    return None
