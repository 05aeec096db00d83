"""四方五步议事: deliberation topics, their append-only timeline, the four parties, votes and tasks.

The four parties (四方): the community committee (社区两委), party representatives
(党员代表), resident representatives (居民代表) and the parties concerned (利益相关方).
The five steps (五步) are the stages of a ``Topic``: collect issues (收集问题) → set the
topic (确定议题) → deliberate (协商议事) → assign and carry out (分流落实) → supervise
and review (监督评审), then closed; a topic may be dropped before deliberation.

Every change is a ``TopicEvent`` (append-only, like a request's timeline). The online
tea house (网上茶馆会) posts the topic to resident groups; each resident has one
``Vote`` per round (``vote``: 支持/反对/弃权 while deliberating; ``review``:
满意/基本满意/不满意 when the result is reviewed); what they write with it, or on
its own, is a ``TopicComment`` (append-only).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, mapped_column

from app.models.audit import AppendOnlyError, make_append_only
from app.models.base import Base, BigId, IdMixin, TimestampMixin, utcnow

STAGES = {"collect": "收集问题", "topic": "确定议题", "deliberate": "协商议事", "carry_out": "分流落实",
          "review": "监督评审", "closed": "已办结", "dropped": "不予立项"}
STAGE_ORDER = ("collect", "topic", "deliberate", "carry_out", "review", "closed")
PARTIES = {"committee": "社区两委", "party_rep": "党员代表", "resident_rep": "居民代表",
           "stakeholder": "利益相关方"}
TOPIC_SOURCES = {"staff": "工作人员提出", "resident": "居民提出", "requests": "诉求热点", "suggestion": "百姓说事"}
VOTE_CHOICES = {"support": "支持", "oppose": "反对", "abstain": "弃权"}
REVIEW_CHOICES = {"satisfied": "满意", "basically": "基本满意", "unsatisfied": "不满意"}
ROUNDS = {"vote": VOTE_CHOICES, "review": REVIEW_CHOICES}
TASK_KINDS = {"request": "诉求", "need": "共建需求（项目）", "case": "代办件", "task": "工作任务"}


class Topic(IdMixin, TimestampMixin, Base):
    """议题: one matter going through the five steps."""

    __tablename__ = "gov_topic"
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        Index("ix_gov_topic_community_stage", "community_id", "stage"),
    )

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"))
    number: Mapped[int]   # 议题3: per community, what residents type in a group ("支持 议题3")
    title: Mapped[str] = mapped_column(String(100))
    detail: Mapped[Optional[str]] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))
    request_ids: Mapped[list[int]] = mapped_column(JSON, default=list)   # the hot spot it came from
    building_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("building.id"))
    proposer_resident_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident.id"))
    proposer_staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    stage: Mapped[str] = mapped_column(String(20), default="collect")
    # The online tea house: the groups it was posted to and the voting window.
    group_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    vote_opened_at: Mapped[Optional[datetime]]
    vote_closes_at: Mapped[Optional[datetime]]
    vote_closed_at: Mapped[Optional[datetime]]
    review_opened_at: Mapped[Optional[datetime]]
    review_closed_at: Mapped[Optional[datetime]]
    # 分流落实: what was decided, who answers for it, by when.
    decision: Mapped[Optional[str]] = mapped_column(Text)
    owner_staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    deadline: Mapped[Optional[date]]
    review_summary: Mapped[Optional[str]] = mapped_column(Text)
    drop_reason: Mapped[Optional[str]] = mapped_column(String(200))
    updated_at: Mapped[Optional[datetime]] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def label(self) -> str:
        return f"议题{self.number}"


class TopicEvent(IdMixin, Base):
    """One step on a topic's timeline. Never updated or deleted."""

    __tablename__ = "gov_topic_event"
    __table_args__ = (Index("ix_gov_topic_event_topic", "topic_id", "id"),)

    topic_id: Mapped[int] = mapped_column(BigId, ForeignKey("gov_topic.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(20))   # staff | resident | system
    actor_id: Mapped[Optional[int]] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(30))
    from_stage: Mapped[Optional[str]] = mapped_column(String(20))
    to_stage: Mapped[Optional[str]] = mapped_column(String(20))
    detail: Mapped[Optional[dict[str, Any]]]


class Participant(IdMixin, TimestampMixin, Base):
    """A participant of one of the four parties (staff, a resident, a member, a unit, or just a name)."""

    __tablename__ = "gov_participant"
    __table_args__ = (UniqueConstraint("topic_id", "party", "name"),)

    topic_id: Mapped[int] = mapped_column(BigId, ForeignKey("gov_topic.id"), index=True)
    party: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    resident_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident.id"))
    member_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("party_member.id"))
    unit_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("partner_unit.id"))
    note: Mapped[Optional[str]] = mapped_column(String(200))


class Vote(IdMixin, TimestampMixin, Base):
    """One resident's vote in one round of a topic; a later vote changes it, never adds a second."""

    __tablename__ = "gov_vote"
    __table_args__ = (UniqueConstraint("topic_id", "round", "resident_id"),)

    topic_id: Mapped[int] = mapped_column(BigId, ForeignKey("gov_topic.id"), index=True)
    round: Mapped[str] = mapped_column(String(10))   # vote | review
    resident_id: Mapped[int] = mapped_column(BigId, ForeignKey("resident.id"))
    choice: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))   # group | chat | api
    group_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident_group.id"))
    changes: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[Optional[datetime]] = mapped_column(default=utcnow, onupdate=utcnow)


class TopicComment(IdMixin, Base):
    """A resident's opinion on a topic, with or without a vote. Append-only."""

    __tablename__ = "gov_topic_comment"
    __table_args__ = (Index("ix_gov_topic_comment_topic", "topic_id", "id"),)

    topic_id: Mapped[int] = mapped_column(BigId, ForeignKey("gov_topic.id"))
    resident_id: Mapped[int] = mapped_column(BigId, ForeignKey("resident.id"))
    round: Mapped[str] = mapped_column(String(10))
    choice: Mapped[Optional[str]] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    message_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("message.id"), unique=True)
    source: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TopicTask(IdMixin, TimestampMixin, Base):
    """分流落实: a piece of the decision, followed to the end.

    ``kind`` request / case point at a resident request or a proxy case by id (their
    status says when the task is done); need at a line of the need list (done when its
    co-building project is); task is a plain assignment that its owner marks done.
    """

    __tablename__ = "gov_topic_task"
    __table_args__ = (UniqueConstraint("topic_id", "kind", "ref_id"),)

    topic_id: Mapped[int] = mapped_column(BigId, ForeignKey("gov_topic.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[Optional[int]] = mapped_column(BigId)
    title: Mapped[str] = mapped_column(String(100))
    owner_staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    deadline: Mapped[Optional[date]]
    done_at: Mapped[Optional[datetime]]
    note: Mapped[Optional[str]] = mapped_column(String(500))
    created_by_staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))


make_append_only(TopicEvent.__table__)
make_append_only(TopicComment.__table__)


def _refuse_change(mapper, connection, target):
    raise AppendOnlyError(f"{target.__tablename__} is append-only")


for _model in (TopicEvent, TopicComment):
    sa_event.listen(_model, "before_update", _refuse_change)
    sa_event.listen(_model, "before_delete", _refuse_change)
