"""Reference data: districts, parks, functional areas, carriers, industries and plan targets."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class CarrierKind(StrEnum):
    incubator = "incubator"
    maker_space = "maker_space"
    accelerator = "accelerator"
    university_park = "university_park"
    industrial_park = "industrial_park"


CARRIER_KIND_LABELS = {
    CarrierKind.incubator: "孵化器",
    CarrierKind.maker_space: "众创空间",
    CarrierKind.accelerator: "加速器",
    CarrierKind.university_park: "大学科技园",
    CarrierKind.industrial_park: "产业园区",
}


class District(Base):
    __tablename__ = "districts"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(32))


class Park(Base):
    __tablename__ = "parks"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"))


class Area(Base):
    __tablename__ = "areas"
    code: Mapped[str] = mapped_column(String(48), primary_key=True)
    park_code: Mapped[str] = mapped_column(ForeignKey("parks.code"), index=True)
    name: Mapped[str] = mapped_column(String(64))


class Carrier(Base):
    __tablename__ = "carriers"
    code: Mapped[str] = mapped_column(String(48), primary_key=True)
    park_code: Mapped[str] = mapped_column(ForeignKey("parks.code"), index=True)
    area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"))
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[CarrierKind] = mapped_column(String(24))


class Industry(Base):
    __tablename__ = "industries"
    code: Mapped[str] = mapped_column(String(48), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("industries.code"))


class PlanTarget(Base):
    __tablename__ = "plan_targets"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    park_code: Mapped[str] = mapped_column(ForeignKey("parks.code"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    tier: Mapped[str | None] = mapped_column(String(32))
    value: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    unit: Mapped[str] = mapped_column(String(16))
    by_year: Mapped[int]
    source: Mapped[str] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(String(256))
