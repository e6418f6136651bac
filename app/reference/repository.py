"""Every query on the reference tables: parks, districts, functional areas, carriers and industries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.reference.models import Area, Carrier, District, Industry, Park


def parks(session: Session) -> list[Park]:
    return list(session.scalars(select(Park).order_by(Park.code)))


def districts(session: Session) -> list[District]:
    return list(session.scalars(select(District).order_by(District.code)))


def areas(session: Session) -> list[Area]:
    """Functional areas, park by park."""
    return list(session.scalars(select(Area).order_by(Area.park_code, Area.code)))


def carriers(session: Session) -> list[Carrier]:
    """Carriers (incubators, maker spaces...), park by park."""
    return list(session.scalars(select(Carrier).order_by(Carrier.park_code, Carrier.code)))


def industries(session: Session) -> list[Industry]:
    return list(session.scalars(select(Industry).order_by(Industry.code)))
