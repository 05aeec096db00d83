"""The service map (红色地图): the community's and its partners' stations, and where buildings are.

Coordinates are decimal degrees as a phone map shows them (latitude, longitude);
distances are computed on the sphere (app/handlers/governance/geo.py), and the
public map page draws the community's own plan from them, without map tiles.

Opening hours are a list of rules ``{"days": ..., "open": "08:30", "close": "11:30"}``
where ``days`` is ``"workdays"`` (the Chinese working-day calendar, 调休 included),
``"daily"``, ``"weekends"`` or a list of ISO weekdays (1 = Monday … 7 = Sunday). A day
with a lunch break has two rules.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, IdMixin, TimestampMixin, utcnow

STATION_KINDS = {"party_center": "党群服务中心", "warm_station": "暖心驿站", "proxy_station": "政务代办站",
                 "clinic": "卫生服务站", "activity_room": "活动室", "elderly_care": "居家养老站",
                 "convenience": "便民服务站", "other": "其他"}


class MapStation(IdMixin, TimestampMixin, Base):
    """A place on the service map with its services and opening hours."""

    __tablename__ = "map_station"
    __table_args__ = (
        UniqueConstraint("community_id", "name"),
        CheckConstraint("lat >= -90 AND lat <= 90", name="lat_range"),
        CheckConstraint("lng >= -180 AND lng <= 180", name="lng_range"),
    )

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float]
    lng: Mapped[float]
    phone: Mapped[Optional[str]] = mapped_column(String(30))
    # Service keys from the map vocabulary (app/bot/data/servicemap.yaml): blood_pressure, print …
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    hours: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    notes: Mapped[Optional[str]] = mapped_column(Text)
    unit_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("partner_unit.id"))   # run by a partner
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[Optional[datetime]] = mapped_column(default=utcnow, onupdate=utcnow)


class BuildingLocation(Base):
    """Where a building stands: distances are measured from the resident's building."""

    __tablename__ = "building_location"
    __table_args__ = (
        CheckConstraint("lat >= -90 AND lat <= 90", name="lat_range"),
        CheckConstraint("lng >= -180 AND lng <= 180", name="lng_range"),
    )

    building_id: Mapped[int] = mapped_column(BigId, ForeignKey("building.id", ondelete="CASCADE"),
                                             primary_key=True)
    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    lat: Mapped[float]
    lng: Mapped[float]
    updated_at: Mapped[Optional[datetime]] = mapped_column(default=utcnow, onupdate=utcnow)
