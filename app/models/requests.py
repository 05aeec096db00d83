"""Resident requests (诉求) and their append-only timeline.

A request goes received → acknowledged → dispatched → in_progress → resolved →
rated → closed (or rejected / merged). Every change is a ``RequestEvent`` row;
the request row itself only holds the current state, so the timeline is the
record of who did what and when.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.audit import AppendOnlyError, make_append_only
from app.models.base import Base, BigId, IdMixin, utcnow


class RequestStatus(str, enum.Enum):
    RECEIVED = "received"          # 已接收: created, nobody from the staff has answered yet
    ACKNOWLEDGED = "acknowledged"  # 已响应: first public staff reply
    DISPATCHED = "dispatched"      # 已派单: assigned to a grid worker / escalated to a level
    IN_PROGRESS = "in_progress"    # 处理中
    RESOLVED = "resolved"          # 已办结: waiting for the resident's rating (回访)
    RATED = "rated"                # 已评价 (immediately followed by closed or, when unsatisfied, reopened)
    CLOSED = "closed"              # 已完结
    REJECTED = "rejected"          # 不予受理
    MERGED = "merged"              # 已合并 into another request


OPEN_STATUSES = (RequestStatus.RECEIVED.value, RequestStatus.ACKNOWLEDGED.value,
                 RequestStatus.DISPATCHED.value, RequestStatus.IN_PROGRESS.value)
# The SQL of "status is open", for the partial index; queries must say exactly status IN (OPEN_STATUSES).
OPEN_PREDICATE = "status IN ({})".format(", ".join(f"'{s}'" for s in OPEN_STATUSES))
DONE_STATUSES = (RequestStatus.RESOLVED.value, RequestStatus.RATED.value, RequestStatus.CLOSED.value)
TERMINAL_STATUSES = (RequestStatus.CLOSED.value, RequestStatus.REJECTED.value, RequestStatus.MERGED.value)

STATUS_LABELS = {
    "received": "已接收", "acknowledged": "已响应", "dispatched": "已派单", "in_progress": "处理中",
    "resolved": "已办结（待评价）", "rated": "已评价", "closed": "已完结", "rejected": "不予受理",
    "merged": "已合并",
}

CATEGORY_LABELS = {
    "repair": "报修", "utilities": "水电气暖", "environment": "环境卫生", "parking": "停车",
    "ebike": "电动车", "noise": "噪音扰民", "property": "物业管理", "safety": "安全隐患",
    "neighbor": "邻里纠纷", "other": "其他",
}

# Deadline classes (12345's 限时办理): emergency 2 h, utilities (水电气热) 24 h, general 7 / complex 15 working days.
URGENCY_LABELS = {"emergency": "紧急", "utilities": "水电气热", "general": "一般", "complex": "复杂"}


class Level(str, enum.Enum):
    """Who handles it (吹哨报到 goes up this ladder, never down)."""

    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"
    DEPARTMENT = "department"


LEVELS = tuple(level.value for level in Level)
LEVEL_LABELS = {"grid": "网格", "community": "社区", "street": "街道", "department": "职能部门"}

RATINGS = ("satisfied", "basically", "unsatisfied")
RATING_LABELS = {"satisfied": "满意", "basically": "基本满意", "unsatisfied": "不满意"}


class ServiceRequest(IdMixin, Base):
    __tablename__ = "service_request"
    __table_args__ = (
        # Staff lists: a community's requests by status, newest first.
        Index("ix_service_request_community_status", "community_id", "status", "created_at"),
        # The overdue sweep: open requests past due that were not yet supervised.
        Index("ix_service_request_due", "status", "due_at", "supervised_at"),
        # A resident's own requests, and the follow-up lookup (same resident, same chat, still open).
        Index("ix_service_request_resident", "resident_id", "status", "last_resident_at"),
        # Departments see what was escalated to them.
        Index("ix_service_request_department", "department_id", "escalation_level"),
        # A city's worth of rows (docs/scaling.md): the request list newest first and every statistic of a
        # period (a street's year) read a community's range by creation time, the board and 考核 by resolution.
        Index("ix_service_request_community_created", "community_id", "created_at", "id"),
        Index("ix_service_request_community_resolved", "community_id", "resolved_at"),
        # Open requests by deadline (the console's list, the board): only the open ones are in it.
        Index("ix_service_request_open_due", "community_id", "due_at", "id",
              postgresql_where=sql_text(OPEN_PREDICATE), sqlite_where=sql_text(OPEN_PREDICATE)),
        # The dashboard's 督办 count of a period: only the few supervised requests are in it.
        Index("ix_service_request_community_supervised", "community_id", "supervised_at",
              postgresql_where=sql_text("supervised_at IS NOT NULL"),
              sqlite_where=sql_text("supervised_at IS NOT NULL")),
    )

    code: Mapped[str] = mapped_column(String(20), unique=True)
    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"))
    grid_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("grid.id"), index=True)
    building_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("building.id"), index=True)
    unit: Mapped[Optional[str]] = mapped_column(String(20))
    room: Mapped[Optional[str]] = mapped_column(String(20))
    # Where, as the resident said it ("3号楼2单元501"), kept even when the building is unknown.
    location: Mapped[Optional[str]] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(20))  # deadline class: emergency|utilities|general|complex
    title: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    photos: Mapped[list[Any]] = mapped_column(JSON, default=list)
    resident_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident.id"))
    # The message that opened it; unique so handling the same message twice opens one request.
    message_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("message.id"), unique=True)
    group_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident_group.id"), index=True)
    chat_id: Mapped[Optional[str]] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(20))
    # The resident's id on that channel (openid / external userid), for 1:1 replies and the 回访.
    reporter_channel_id: Mapped[Optional[str]] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(20), default=RequestStatus.RECEIVED.value)
    assignee_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    escalation_level: Mapped[str] = mapped_column(String(20), default=Level.GRID.value)
    department_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("department.id"))
    due_at: Mapped[datetime]
    first_reply_at: Mapped[Optional[datetime]]
    resolved_at: Mapped[Optional[datetime]]
    resolution_note: Mapped[Optional[str]] = mapped_column(Text)
    # The level that resolved it (for "solved at grid level" counts, 12345's 就地解决).
    resolved_level: Mapped[Optional[str]] = mapped_column(String(20))
    rating: Mapped[Optional[str]] = mapped_column(String(20))
    rating_comment: Mapped[Optional[str]] = mapped_column(String(500))
    rated_at: Mapped[Optional[datetime]]
    closed_at: Mapped[Optional[datetime]]
    # 督办: when the overdue supervision alert went out (the alert itself is unique per key).
    supervised_at: Mapped[Optional[datetime]]
    merged_into_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("service_request.id"), index=True)
    last_resident_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    events: Mapped[list["RequestEvent"]] = relationship(
        back_populates="request", order_by="RequestEvent.id", viewonly=True)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, at: datetime) -> bool:
        return self.is_open and self.due_at <= at

    def __repr__(self) -> str:
        return f"<ServiceRequest {self.id} {self.code} {self.status}>"


class RequestEvent(IdMixin, Base):
    """One step on a request's timeline. Never updated or deleted."""

    __tablename__ = "request_event"
    __table_args__ = (
        Index("ix_request_event_request", "request_id", "id"),
        # 吹哨 counts of a period: only the escalations are in it (a few percent of the timeline).
        Index("ix_request_event_escalated", "request_id", postgresql_where=sql_text("kind = 'escalated'"),
              sqlite_where=sql_text("kind = 'escalated'")),
    )

    request_id: Mapped[int] = mapped_column(BigId, ForeignKey("service_request.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(20))  # staff, resident, system
    actor_id: Mapped[Optional[int]] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[Optional[str]] = mapped_column(String(20))
    to_status: Mapped[Optional[str]] = mapped_column(String(20))
    detail: Mapped[Optional[dict[str, Any]]]

    request: Mapped[ServiceRequest] = relationship(back_populates="events")


@event.listens_for(RequestEvent, "before_update")
def _no_update(mapper, connection, target):
    raise AppendOnlyError("request_event is append-only")


@event.listens_for(RequestEvent, "before_delete")
def _no_delete(mapper, connection, target):
    raise AppendOnlyError("request_event is append-only")


make_append_only(RequestEvent.__table__)


class PossibleStatus(str, enum.Enum):
    OPEN = "open"              # waiting for staff to decide
    CONVERTED = "converted"    # staff made it a request (request_id)
    DISMISSED = "dismissed"    # staff decided it was not one


POSSIBLE_STATUS_LABELS = {"open": "待判断", "converted": "已转为诉求", "dismissed": "已忽略"}


class PossibleRequest(IdMixin, Base):
    """疑似诉求: a group message the bot left silent that might be a report (``maybe_report``).

    The bot never answers it in the group; it waits in the duty inbox until staff convert it
    into a request (which starts the request's reply clock) or dismiss it."""

    __tablename__ = "possible_request"
    __table_args__ = (
        # The inbox: a community's open ones, oldest first.
        Index("ix_possible_request_community_status", "community_id", "status", "created_at"),
    )

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"))
    # One per message: handling the same message twice flags it once.
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("message.id"), unique=True)
    group_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident_group.id"))
    resident_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident.id"))
    text: Mapped[str] = mapped_column(Text)
    likelihood: Mapped[float]                       # the bot's report_likelihood, 0..1
    category: Mapped[Optional[str]] = mapped_column(String(20))   # the bot's guess, if it had one
    slots: Mapped[Optional[dict[str, Any]]]          # building, unit, room … as the bot read them
    status: Mapped[str] = mapped_column(String(20), default=PossibleStatus.OPEN.value)
    decided_by_staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    decided_at: Mapped[Optional[datetime]]
    note: Mapped[Optional[str]] = mapped_column(String(200))      # why it was dismissed
    request_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("service_request.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
