"""The duty inbox: what waits for staff, and the public reply to an open reply clock.

Two kinds of item (``kind``): ``reply``, an open reply clock, most urgent first; and
``possible_request`` (疑似诉求), a group message the bot left silent that might be a
report, for staff to convert or dismiss (app/handlers/requests/possible.py), oldest first,
after the clocks: nothing is due on them.

A clock that belongs to a request is answered through the request (the reply
goes on its timeline and the requests domain stops the clock); any other clock
gets the reply posted where the resident asked, and is stopped here. Above the
sla and requests domains because it needs both.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.clock import now
from app.errors import DomainError
from app.extensions import db
from app.handlers.messaging.outbox import TO_GROUP, TO_USER, queue_message
from app.handlers.requests import open_possible_query, possible_view, reply_publicly
from app.handlers.sla import clock_view, describe_clock, stop_clock
from app.models import Message, ResidentGroup, Role, Staff
from app.models.requests import ServiceRequest
from app.models.sla import ReplyClock

# Who answers residents: the duty rotation, the admins, grid leaders and workers (as the API's inbox).
REPLY_ROLES = (Role.DUTY.value, Role.COMMUNITY_ADMIN.value, Role.GRID_LEADER.value, Role.GRID_WORKER.value)


def open_clocks_query(community_id: int):
    """Open clocks of a community, most urgent first (the inbox's order)."""
    return (select(ReplyClock).where(ReplyClock.community_id == community_id, ReplyClock.stopped_at.is_(None))
            .order_by(ReplyClock.due_at, ReplyClock.id))


REPLY, POSSIBLE = "reply", "possible_request"
# What ?kind= may ask for. Clients that only know clocks ask nothing and get clocks only.
KINDS = (REPLY, POSSIBLE, "all")


def _count(statement) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0


def inbox_page(community_id: int, kind: str, offset: int, limit: int, at: datetime) -> tuple[list[dict[str, Any]], dict]:
    """One page of the inbox: open clocks (kind ``reply``) first, then the possible requests;
    and how many of each are waiting."""
    clocks, possible = open_clocks_query(community_id), open_possible_query(community_id)
    counts = {REPLY: _count(clocks), POSSIBLE: _count(possible)}
    items: list[dict[str, Any]] = []
    skip = offset
    if kind in (REPLY, "all"):
        rows = db.session.scalars(clocks.limit(limit).offset(skip)).all() if skip < counts[REPLY] else []
        items += [{**clock_view(clock, at), "kind": REPLY} for clock in rows]
        skip = max(0, skip - counts[REPLY])
    if kind in (POSSIBLE, "all") and len(items) < limit:
        rows = db.session.scalars(possible.limit(limit - len(items)).offset(skip)).all()
        items += [possible_view(row) for row in rows]
    total = sum(counts.values()) if kind == "all" else counts[kind]
    return items, {"total": total, "counts": counts}


def clock_in_community(clock_id: int, staff: Staff) -> ReplyClock:
    clock = db.session.get(ReplyClock, clock_id)
    if clock is None or clock.community_id != staff.community_id:
        raise DomainError("没有这条待回复诉求 (no such clock)", status=404, code="not_found")
    return clock


def reply_text(clock: ReplyClock, staff: Staff, text: str) -> str:
    d = describe_clock(clock)
    quote = f"回复{d['who']}“{d['text']}”：\n" if d["text"] else ""
    return f"【值班回复·{staff.name}】{quote}{text}"


def post_public_reply(clock: ReplyClock, staff: Staff, text: str) -> Message:
    """Post the reply where the resident asked: the group, else back to the resident's chat."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    key = f"inbox-reply:{clock.id}:{staff.id}:{digest}"
    group = db.session.get(ResidentGroup, clock.group_id) if clock.group_id else None
    message = db.session.get(Message, clock.message_id) if clock.message_id else None
    body = reply_text(clock, staff, text)
    if group is not None:
        return queue_message(channel=group.channel, recipient_kind=TO_GROUP, recipient_id=group.chat_id, text=body,
                             idempotency_key=key, community_id=clock.community_id, chat_id=group.chat_id,
                             group_id=group.id, staff_id=staff.id, resident_id=clock.resident_id,
                             in_reply_to_id=clock.message_id, meta={"clock_id": clock.id})
    if message is not None and message.sender_id:
        return queue_message(channel=message.channel, recipient_kind=TO_USER, recipient_id=message.sender_id,
                             text=body, idempotency_key=key, community_id=clock.community_id, staff_id=staff.id,
                             resident_id=clock.resident_id, in_reply_to_id=message.id, meta={"clock_id": clock.id})
    raise DomainError("找不到回复的群或居民，请在诉求详情中回复 (no group or chat to reply to)", status=409,
                      code="conflict")


def reply(clock: ReplyClock, staff: Staff, text: str) -> Message | None:
    """Answer an open clock publicly and stop it; a 409 DomainError if it was answered already.

    Returns the queued message (None when the request had nowhere to send it).
    """
    if clock.stopped_at is not None:
        by = db.session.get(Staff, clock.stopped_by_staff_id) if clock.stopped_by_staff_id else None
        raise DomainError(f"这条诉求已由{by.name if by else '工作人员'}回复 (already answered)", status=409,
                          code="conflict")
    at = now()
    request = db.session.get(ServiceRequest, clock.request_id) if clock.request_id is not None else None
    if request is not None:
        message = reply_publicly(request, staff, text)
    else:
        message = post_public_reply(clock, staff, text)
    db.session.refresh(clock)
    if clock.stopped_at is None:
        stop_clock(clock, staff_id=staff.id, at=at, stop_message_id=message.id if message is not None else None)
    return message
