"""Co-governance (共建共治): the three lists — resources, needs, projects — and 百姓说事.

资源清单 ``Resource``: what a partner unit (驻区单位/共建单位, ``PartnerUnit``) or a
双报到 member (``PartyMember``) offers the community: a room, a vehicle, a skill,
volunteer hours, money or goods, with when and how much.

需求清单 ``Need``: what residents and the community need, entered by staff,
promoted from recurring requests or from a micro-wish, or decided in a
deliberation. Units and members claim a need, or the community assigns a
resource to it (双向认领): both are a ``Claim``.

项目清单 ``Project``: a need with its partners becomes a co-building project
with an owner, a plan, a deadline and progress (``ProjectUpdate``, append-only);
``Contribution`` rows (append-only) count each partner's hours and items.

百姓说事 ``Suggestion``: a resident's suggestion (not a complaint), answered
publicly and possibly promoted to a deliberation topic.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, mapped_column

from app.models.audit import AppendOnlyError, make_append_only
from app.models.base import Base, BigId, IdMixin, TimestampMixin, utcnow

UNIT_KINDS = {"hospital": "医疗卫生", "school": "学校", "company": "企业", "government": "机关事业单位",
              "property": "物业公司", "social_org": "社会组织", "other": "其他"}
RESOURCE_KINDS = {"room": "场地", "vehicle": "车辆", "skill": "专业技能", "hours": "志愿时长", "money": "资金",
                  "goods": "物资", "other": "其他"}
RESOURCE_STATUSES = {"active": "可用", "withdrawn": "已撤回"}
NEED_SOURCES = {"staff": "社区录入", "requests": "诉求汇总", "wish": "微心愿", "resident": "居民提出",
                "topic": "议事决定"}
NEED_STATUSES = {"open": "待认领", "claimed": "已认领", "in_project": "项目实施中", "done": "已完成",
                 "closed": "已关闭"}
CLAIM_DIRECTIONS = {"claimed": "单位/党员认领", "assigned": "社区指派"}
PROJECT_STATUSES = {"in_progress": "实施中", "done": "已完成", "cancelled": "已取消"}
CONTRIBUTION_KINDS = {"hours": "服务时长", "items": "物资", "money": "资金", "room": "场地", "vehicle": "车辆",
                      "service": "专业服务"}
SUGGESTION_STATUSES = {"new": "待答复", "answered": "已答复", "promoted": "已转议题", "closed": "已关闭"}


class PartnerUnit(IdMixin, TimestampMixin, Base):
    """驻区单位 / 共建单位 registered with the community (a hospital, a school, a company, a department)."""

    __tablename__ = "partner_unit"
    __table_args__ = (
        UniqueConstraint("community_id", "name"),
        CheckConstraint("lat IS NULL OR (lat >= -90 AND lat <= 90)", name="lat_range"),
        CheckConstraint("lng IS NULL OR (lng >= -180 AND lng <= 180)", name="lng_range"),
    )

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    contact_name: Mapped[Optional[str]] = mapped_column(String(50))
    phone: Mapped[Optional[str]] = mapped_column(String(30))
    address: Mapped[Optional[str]] = mapped_column(String(200))
    party_org: Mapped[Optional[str]] = mapped_column(String(200))   # the unit's party organisation
    lat: Mapped[Optional[float]]
    lng: Mapped[Optional[float]]
    agreement_on: Mapped[Optional[date]]   # 共建协议 signed on
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[Optional[datetime]] = mapped_column(default=utcnow, onupdate=utcnow)


class Resource(IdMixin, TimestampMixin, Base):
    """One line of the resource list: what a unit or a member offers, when and how much."""

    __tablename__ = "gov_resource"
    __table_args__ = (
        CheckConstraint("unit_id IS NOT NULL OR member_id IS NOT NULL", name="has_owner"),
        CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_positive"),
        Index("ix_gov_resource_community_kind", "community_id", "kind", "status"),
    )

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"))
    unit_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("partner_unit.id"), index=True)
    member_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("party_member.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(100))
    detail: Mapped[Optional[str]] = mapped_column(Text)
    # Words a need is matched on ("义诊", "法律咨询", "电脑"), beside the title.
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    quantity: Mapped[Optional[float]] = mapped_column(Numeric(12, 2, asdecimal=False))  # None: not counted
    quantity_unit: Mapped[Optional[str]] = mapped_column(String(10))   # 小时, 元, 次, 间, 辆, 件
    # When: ISO weekdays (1 = Monday … 7 = Sunday; empty = any day), a local time window, a date range.
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    time_from: Mapped[Optional[str]] = mapped_column(String(5))
    time_until: Mapped[Optional[str]] = mapped_column(String(5))
    available_from: Mapped[Optional[date]]
    available_until: Mapped[Optional[date]]
    status: Mapped[str] = mapped_column(String(20), default="active")
    recorded_by_staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    updated_at: Mapped[Optional[datetime]] = mapped_column(default=utcnow, onupdate=utcnow)


class Need(IdMixin, TimestampMixin, Base):
    """One line of the need list."""

    __tablename__ = "gov_need"
    __table_args__ = (
        CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_positive"),
        Index("ix_gov_need_community_status", "community_id", "status", "created_at"),
    )

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"))
    kind: Mapped[str] = mapped_column(String(20))   # the kind of resource it asks for (RESOURCE_KINDS)
    title: Mapped[str] = mapped_column(String(100))
    detail: Mapped[Optional[str]] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(20), default="staff")
    # Promoted from requests: their ids (read-only references to service_request).
    request_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    wish_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("micro_wish.id"), unique=True)
    topic_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("gov_topic.id"), index=True)
    resident_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident.id"), index=True)
    building_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("building.id"))
    quantity: Mapped[Optional[float]] = mapped_column(Numeric(12, 2, asdecimal=False))
    quantity_unit: Mapped[Optional[str]] = mapped_column(String(10))
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    time_from: Mapped[Optional[str]] = mapped_column(String(5))
    time_until: Mapped[Optional[str]] = mapped_column(String(5))
    wanted_by: Mapped[Optional[date]]
    beneficiaries: Mapped[Optional[int]]   # residents it serves (受益人数), for the report
    status: Mapped[str] = mapped_column(String(20), default="open")
    close_reason: Mapped[Optional[str]] = mapped_column(String(200))
    created_by_staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    updated_at: Mapped[Optional[datetime]] = mapped_column(default=utcnow, onupdate=utcnow)


class Claim(IdMixin, TimestampMixin, Base):
    """双向认领: a unit or member claims a need, or the community assigns a resource to it."""

    __tablename__ = "gov_claim"
    __table_args__ = (
        CheckConstraint("unit_id IS NOT NULL OR member_id IS NOT NULL", name="has_party"),
        # One claim per party and need: a second claim is a replay, not a second partner.
        UniqueConstraint("need_id", "unit_id"),
        UniqueConstraint("need_id", "member_id"),
    )

    need_id: Mapped[int] = mapped_column(BigId, ForeignKey("gov_need.id"), index=True)
    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    direction: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("partner_unit.id"), index=True)
    member_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("party_member.id"), index=True)
    resource_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("gov_resource.id"), index=True)
    note: Mapped[Optional[str]] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="active")   # active | withdrawn
    staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    withdrawn_at: Mapped[Optional[datetime]]


class Project(IdMixin, TimestampMixin, Base):
    """共建项目: a need matched with partners, with an owner, a plan, a deadline and progress."""

    __tablename__ = "gov_project"
    __table_args__ = (
        UniqueConstraint("community_id", "code"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_percent"),
    )

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    need_id: Mapped[int] = mapped_column(BigId, ForeignKey("gov_need.id"), unique=True)
    code: Mapped[str] = mapped_column(String(20))   # GJ2026-003
    title: Mapped[str] = mapped_column(String(100))
    plan: Mapped[Optional[str]] = mapped_column(Text)
    owner_staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"))
    lead_unit_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("partner_unit.id"))
    deadline: Mapped[Optional[date]]
    status: Mapped[str] = mapped_column(String(20), default="in_progress", index=True)
    progress: Mapped[int] = mapped_column(default=0)
    beneficiaries: Mapped[Optional[int]]
    completed_at: Mapped[Optional[datetime]]
    summary: Mapped[Optional[str]] = mapped_column(Text)
    updated_at: Mapped[Optional[datetime]] = mapped_column(default=utcnow, onupdate=utcnow)


class ProjectUpdate(IdMixin, Base):
    """One step on a project's timeline (progress reported, completed, cancelled). Append-only."""

    __tablename__ = "gov_project_update"
    __table_args__ = (Index("ix_gov_project_update_project", "project_id", "id"),)

    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("gov_project.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    kind: Mapped[str] = mapped_column(String(20))   # created | progress | done | cancelled
    progress: Mapped[Optional[int]]
    note: Mapped[Optional[str]] = mapped_column(Text)


class Contribution(IdMixin, Base):
    """What a partner gave to a project (hours, items, money…). Append-only; corrections are negative."""

    __tablename__ = "gov_contribution"
    __table_args__ = (
        CheckConstraint("unit_id IS NOT NULL OR member_id IS NOT NULL", name="has_party"),
        Index("ix_gov_contribution_community_year", "community_id", "year"),
    )

    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("gov_project.id"), index=True)
    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"))
    unit_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("partner_unit.id"), index=True)
    member_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("party_member.id"), index=True)
    # The resource-list line it draws on, if any (its remaining quantity goes down).
    resource_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("gov_resource.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[float] = mapped_column(Numeric(12, 2, asdecimal=False))
    quantity_unit: Mapped[str] = mapped_column(String(10))
    served_on: Mapped[date]
    year: Mapped[int]
    note: Mapped[Optional[str]] = mapped_column(String(500))
    # A member's hours also count for 双报到: the volunteer-hours entry written with it.
    hours_entry_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("hours_entry.id"), unique=True)
    recorded_by_staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Suggestion(IdMixin, TimestampMixin, Base):
    """百姓说事: a resident's suggestion, answered publicly, possibly promoted to a topic."""

    __tablename__ = "gov_suggestion"
    __table_args__ = (Index("ix_gov_suggestion_community_status", "community_id", "status", "created_at"),)

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"))
    resident_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))   # chat | api | staff
    # The message it came in (unique: handling a message twice records it once).
    message_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("message.id"), unique=True)
    # Where the public answer goes: the group it was said in, else the resident 1:1.
    reply_channel: Mapped[Optional[str]] = mapped_column(String(20))
    reply_kind: Mapped[Optional[str]] = mapped_column(String(10))   # group | user
    reply_to: Mapped[Optional[str]] = mapped_column(String(128))
    group_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident_group.id"))
    status: Mapped[str] = mapped_column(String(20), default="new")
    answer: Mapped[Optional[str]] = mapped_column(Text)
    answered_by_staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    answered_at: Mapped[Optional[datetime]]
    topic_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("gov_topic.id"))
    detail: Mapped[Optional[dict[str, Any]]]

    @property
    def code(self) -> str:
        """What residents quote: S12."""
        return f"S{self.id}"


make_append_only(ProjectUpdate.__table__)
make_append_only(Contribution.__table__)


def _refuse_change(mapper, connection, target):
    raise AppendOnlyError(f"{target.__tablename__} is append-only")


for _model in (ProjectUpdate, Contribution):
    sa_event.listen(_model, "before_update", _refuse_change)
    sa_event.listen(_model, "before_delete", _refuse_change)
