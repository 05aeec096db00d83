"""Residents (with their WeChat identities) and staff (with their roles)."""
from __future__ import annotations

import enum
from typing import Optional

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, BigId, IdMixin, TimestampMixin
from app.models.masking import mask_name, mask_phone


class Channel(str, enum.Enum):
    """Where a message or an identity comes from."""

    MP = "mp"                    # official account (公众号)
    MINIPROGRAM = "miniprogram"  # mini-program customer service (小程序客服)
    WEWORK = "wework"            # WeCom app / customer groups (企业微信)
    GROUP = "group"              # group messages delivered by a bridge (group ingest)


class IdentityKind(str, enum.Enum):
    OPENID = "openid"
    UNIONID = "unionid"
    EXTERNAL_USERID = "external_userid"  # WeCom external contact
    WEWORK_USERID = "wework_userid"      # WeCom member (staff)
    GROUP_MEMBER = "group_member"        # a sender id as seen by a group bridge


class Resident(IdMixin, TimestampMixin, Base):
    """居民. ``phone`` is private: only the staff API may show it unmasked."""

    __tablename__ = "resident"

    community_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    building_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("building.id"), index=True)
    name: Mapped[Optional[str]] = mapped_column(String(100))
    nickname: Mapped[Optional[str]] = mapped_column(String(100))
    phone: Mapped[Optional[str]] = mapped_column(String(30))
    unit: Mapped[Optional[str]] = mapped_column(String(20))
    room: Mapped[Optional[str]] = mapped_column(String(20))

    identities: Mapped[list["ResidentIdentity"]] = relationship(
        back_populates="resident", cascade="all, delete-orphan")

    @property
    def display_name(self) -> str:
        return self.name or self.nickname or f"居民{self.id}"

    def public_view(self) -> dict:
        """What residents, groups and public pages may see."""
        return {"id": self.id, "name": mask_name(self.display_name), "phone": mask_phone(self.phone)}

    def own_view(self) -> dict:
        """What the resident is shown of themselves at login and in /me: their own name whole; the
        phone masked (login answers travel further than the profile, where it is shown whole)."""
        return {"id": self.id, "name": self.display_name, "phone": mask_phone(self.phone)}

    def staff_view(self) -> dict:
        """Only for the staff API, scoped to the resident's community."""
        return {"id": self.id, "name": self.name, "nickname": self.nickname, "phone": self.phone,
                "community_id": self.community_id, "building_id": self.building_id,
                "unit": self.unit, "room": self.room}

    def __repr__(self) -> str:  # never leak the phone into logs
        return f"<Resident {self.id}>"


class ResidentIdentity(IdMixin, TimestampMixin, Base):
    """A resident's id on one channel (openid, unionid, WeCom external userid...)."""

    __tablename__ = "resident_identity"
    __table_args__ = (UniqueConstraint("channel", "kind", "value"),)

    resident_id: Mapped[int] = mapped_column(BigId, ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(128))

    resident: Mapped[Resident] = relationship(back_populates="identities")


class Role(str, enum.Enum):
    DUTY = "duty"                        # 值班 (两委 members on the 24-hour rotation)
    GRID_WORKER = "grid_worker"          # 网格员
    GRID_LEADER = "grid_leader"          # 网格长
    COMMUNITY_ADMIN = "community_admin"  # 社区书记/主任
    STREET_ADMIN = "street_admin"        # 街道
    DEPARTMENT = "department"            # 职能部门


ROLE_LABELS = {
    Role.DUTY: "值班", Role.GRID_WORKER: "网格员", Role.GRID_LEADER: "网格长",
    Role.COMMUNITY_ADMIN: "社区管理员", Role.STREET_ADMIN: "街道管理员", Role.DEPARTMENT: "部门",
}


class Staff(IdMixin, TimestampMixin, Base):
    """工作人员. Belongs to a community (or, for street/department staff, a street/department)."""

    __tablename__ = "staff"
    __table_args__ = (
        CheckConstraint("community_id IS NOT NULL OR street_id IS NOT NULL OR department_id IS NOT NULL",
                        name="belongs_somewhere"),
    )

    community_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    street_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("street.id"), index=True)
    grid_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("grid.id"), index=True)
    department_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("department.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[Optional[str]] = mapped_column(String(30), unique=True)
    title: Mapped[Optional[str]] = mapped_column(String(50))
    wework_userid: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    openid: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    role_rows: Mapped[list["StaffRole"]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}

    def has_role(self, *roles: Role | str) -> bool:
        wanted = {r.value if isinstance(r, Role) else r for r in roles}
        return bool(self.roles & wanted)

    def set_roles(self, roles) -> None:
        wanted = {r.value if isinstance(r, Role) else r for r in roles}
        self.role_rows = [r for r in self.role_rows if r.role in wanted]
        have = {r.role for r in self.role_rows}
        for role in sorted(wanted - have):
            self.role_rows.append(StaffRole(role=role))

    def public_view(self) -> dict:
        return {"id": self.id, "name": self.name, "title": self.title}

    def staff_view(self) -> dict:
        return {"id": self.id, "name": self.name, "title": self.title, "phone": self.phone,
                "community_id": self.community_id, "street_id": self.street_id, "grid_id": self.grid_id,
                "department_id": self.department_id, "roles": sorted(self.roles), "active": self.active}

    def __repr__(self) -> str:
        return f"<Staff {self.id} {self.name}>"


class StaffRole(Base):
    __tablename__ = "staff_role"

    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)

    staff: Mapped[Staff] = relationship(back_populates="role_rows")
