"""百姓说事: residents' suggestions (not complaints) collected, answered publicly, promotable to 议事.

A suggestion starts no one-hour clock (it is not a request), but every one is
answered in public: in the group it was said in, else to the resident, and on the
public list with the name masked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.handlers.audit import record
from app.handlers.governance import deliberation, fields
from app.handlers.governance.errors import not_found, refuse
from app.handlers.messaging.outbox import TO_GROUP, TO_USER, queue_message
from app.localtime import iso
from app.models import Resident, Staff, Suggestion, Topic
from app.models.governance import SUGGESTION_STATUSES
from app.models.masking import mask_name

MAX_TEXT = 2000


@dataclass(frozen=True)
class ReplyTo:
    """Where the public answer goes."""

    channel: str
    kind: str   # group | user
    recipient: str
    group_id: int | None = None


def collect(community_id: int, text: Any, *, resident: Resident | None, source: str,
            reply_to: ReplyTo | None = None, message_id: int | None = None,
            staff: Staff | None = None) -> tuple[Suggestion, bool]:
    """Record a suggestion once per message; returns (suggestion, created)."""
    body = fields.text({"text": text}, "text", "建议内容", required=True, max_length=MAX_TEXT)
    if len(body) < 4:
        raise refuse("请把建议说得具体一些", field="text")
    if message_id is not None:
        existing = db.session.scalars(select(Suggestion).where(Suggestion.message_id == message_id)).first()
        if existing is not None:
            return existing, False
    row = Suggestion(community_id=community_id, resident_id=resident.id if resident else None, text=body,
                     source=source, message_id=message_id,
                     reply_channel=reply_to.channel if reply_to else None,
                     reply_kind=reply_to.kind if reply_to else None,
                     reply_to=reply_to.recipient if reply_to else None,
                     group_id=reply_to.group_id if reply_to else None, status="new")
    db.session.add(row)
    db.session.flush()
    actor = ("staff", staff.id) if staff else ("resident", resident.id if resident else None)
    record(actor[0], actor[1], "governance.suggestion", row, community_id=community_id, detail={"source": source})
    db.session.commit()
    return row, True


def answer(suggestion: Suggestion, text: Any, staff: Staff):
    """The public answer; sent where it was said (a repeated answer replaces the text but is sent once more)."""
    body = fields.text({"answer": text}, "answer", "答复", required=True, max_length=MAX_TEXT)
    if suggestion.status == "closed":
        raise refuse("这条建议已关闭", "invalid_state", 409)
    first = suggestion.answered_at is None
    suggestion.answer, suggestion.answered_by_staff_id, suggestion.answered_at = body, staff.id, now()
    if suggestion.status == "new":
        suggestion.status = "answered"
    record("staff", staff.id, "governance.suggestion.answer", suggestion, community_id=suggestion.community_id)
    db.session.commit()
    if suggestion.reply_to is None:
        return None
    head = f"【百姓说事·{suggestion.code}】" + ("答复：" if first else "更新答复：")
    quoted = suggestion.text if len(suggestion.text) <= 40 else suggestion.text[:40] + "…"
    return queue_message(
        channel=suggestion.reply_channel, recipient_kind=TO_GROUP if suggestion.reply_kind == "group" else TO_USER,
        recipient_id=suggestion.reply_to, text=f"{head}{body}\n（您的建议：{quoted}）",
        idempotency_key=f"suggestion:{suggestion.id}:answer:{int(suggestion.answered_at.timestamp())}",
        community_id=suggestion.community_id, chat_id=suggestion.reply_to if suggestion.reply_kind == "group" else None,
        group_id=suggestion.group_id, staff_id=staff.id, resident_id=suggestion.resident_id,
        meta={"suggestion_id": suggestion.id, "purpose": "suggestion_answer"})


def promote(suggestion: Suggestion, data: dict[str, Any], staff: Staff) -> Topic:
    """The suggestion becomes a topic for 四方五步议事 (collect stage)."""
    if suggestion.topic_id is not None:
        raise refuse(f"这条建议已经转为议题{db.session.get(Topic, suggestion.topic_id).number}", "already_promoted", 409)
    data = {"title": suggestion.text[:100], "detail": suggestion.text, **data}
    topic = deliberation.create_topic(suggestion.community_id, data, staff=staff, source="suggestion",
                                      suggestion_id=suggestion.id)
    suggestion.topic_id, suggestion.status = topic.id, "promoted"
    record("staff", staff.id, "governance.suggestion.promote", suggestion, community_id=suggestion.community_id,
           detail={"topic_id": topic.id})
    db.session.commit()
    return topic


def close(suggestion: Suggestion, reason: Any, staff: Staff) -> Suggestion:
    if suggestion.answered_at is None:
        raise refuse("请先公开答复再关闭", "not_answered", 409)
    suggestion.status = "closed"
    suggestion.detail = {**(suggestion.detail or {}),
                         "close_reason": fields.text({"reason": reason}, "reason", "关闭原因", max_length=200)}
    record("staff", staff.id, "governance.suggestion.close", suggestion, community_id=suggestion.community_id)
    db.session.commit()
    return suggestion


def suggestion_in(community_id: int, suggestion_id: Any) -> Suggestion:
    row = db.session.get(Suggestion, fields.as_id(suggestion_id, "suggestion_id", "建议"))
    if row is None or row.community_id != community_id:
        raise not_found("建议", "suggestion_id")
    return row


def suggestions(community_id: int, *, status: list[str] | None = None, resident_id: int | None = None,
                answered_only: bool = False) -> list[Suggestion]:
    statement = select(Suggestion).where(Suggestion.community_id == community_id)
    if status:
        statement = statement.where(Suggestion.status.in_(status))
    if resident_id:
        statement = statement.where(Suggestion.resident_id == resident_id)
    if answered_only:
        statement = statement.where(Suggestion.answered_at.is_not(None))
    return list(db.session.scalars(statement.order_by(Suggestion.created_at.desc(), Suggestion.id.desc())))


def suggestion_view(row: Suggestion, *, for_staff: bool = False) -> dict[str, Any]:
    resident = db.session.get(Resident, row.resident_id) if row.resident_id else None
    staff = db.session.get(Staff, row.answered_by_staff_id) if row.answered_by_staff_id else None
    topic = db.session.get(Topic, row.topic_id) if row.topic_id else None
    view = {"id": row.id, "code": row.code, "text": row.text, "status": row.status,
            "status_label": SUGGESTION_STATUSES.get(row.status, row.status), "answer": row.answer,
            "answered_at": iso(row.answered_at), "answered_by": staff.public_view() if staff else None,
            "topic": {"id": topic.id, "number": topic.number, "title": topic.title} if topic else None,
            "created_at": iso(row.created_at),
            "resident": mask_name(resident.display_name) if resident else None}
    if for_staff:
        view["resident"] = resident.staff_view() if resident else None
        view["source"] = row.source
    return view
