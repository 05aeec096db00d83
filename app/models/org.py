"""The organisation: street → community → grid → building, and departments."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, BigId, IdMixin, TimestampMixin


class Street(IdMixin, TimestampMixin, Base):
    """街道: the sub-district office above communities."""

    __tablename__ = "street"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    district: Mapped[Optional[str]] = mapped_column(String(100))

    communities: Mapped[list["Community"]] = relationship(back_populates="street")


class Community(IdMixin, TimestampMixin, Base):
    """社区: the unit that owns staff, groups, requests, stations and events."""

    __tablename__ = "community"
    __table_args__ = (UniqueConstraint("street_id", "name"),)

    street_id: Mapped[int] = mapped_column(BigId, ForeignKey("street.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[Optional[str]] = mapped_column(String(50), unique=True)
    address: Mapped[Optional[str]] = mapped_column(String(200))
    # The community office's public phone (a service number, not a person's): shown to residents.
    phone: Mapped[Optional[str]] = mapped_column(String(30))

    street: Mapped[Street] = relationship(back_populates="communities")
    grids: Mapped[list["Grid"]] = relationship(back_populates="community", order_by="Grid.id")
    buildings: Mapped[list["Building"]] = relationship(back_populates="community", order_by="Building.id")


class Grid(IdMixin, TimestampMixin, Base):
    """网格: a block of buildings served by one grid worker."""

    __tablename__ = "grid"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))

    community: Mapped[Community] = relationship(back_populates="grids")
    buildings: Mapped[list["Building"]] = relationship(back_populates="grid")


class Building(IdMixin, TimestampMixin, Base):
    """楼栋. ``number`` is the normalised key residents refer to ("3" for 3栋/三号楼)."""

    __tablename__ = "building"
    __table_args__ = (UniqueConstraint("community_id", "number"),)

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    grid_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("grid.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    compound: Mapped[Optional[str]] = mapped_column(String(100))
    units: Mapped[Optional[int]]
    floors: Mapped[Optional[int]]

    community: Mapped[Community] = relationship(back_populates="buildings")
    grid: Mapped[Optional[Grid]] = relationship(back_populates="buildings")


class Department(IdMixin, TimestampMixin, Base):
    """职能部门: receives escalations (吹哨报到)."""

    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("street_id", "name"),)

    street_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("street.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[Optional[str]] = mapped_column(String(30))
