"""疑似诉求 — possible requests: when unsure, the bot does not go silent on a possible report.

A group message the bot leaves silent (not addressed, read as chatter) but marks
``maybe_report`` is kept here for the duty inbox instead of being forgotten. Staff
decide: **convert** it into a request (``create_request``: the request's reply clock
starts, and an optional reply is posted publicly at once) or **dismiss** it. The
bot itself never answers it in the group: a wrong public guess on neighbours'
chatter costs more than a look by the person on duty (docs/bot.md §4).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.clock import now as clock_now
from app.errors import Conflict, DomainError
from app.extensions import db
from app.handlers.requests.intake import create_request
from app.handlers.requests.lifecycle import reply_publicly
from app.handlers.requests.rules import check_category, clean_text
from app.localtime import iso
from app.models import Message, Resident, ResidentGroup, Staff
from app.models.requests import (
    CATEGORY_LABELS,
    POSSIBLE_STATUS_LABELS,
    PossibleRequest,
    PossibleStatus,
    ServiceRequest,
)

KIND = "possible_request"   # the inbox's name for these items (beside "reply" for open clocks)
SLOT_KEYS = ("building", "unit", "room", "floor")


def flag_possible_request(*, community_id: int, message: Message, likelihood: float, category: str | None = None,
                          slots: dict | None = None, group: ResidentGroup | None = None,
                          resident: Resident | None = None) -> PossibleRequest:
    """Keep a silent group message for the duty inbox; once per message (the caller commits)."""
    existing = db.session.scalars(select(PossibleRequest).where(PossibleRequest.message_id == message.id)).first()
    if existing is not None:
        return existing
    place = {k: str(v) for k, v in (slots or {}).items() if k in SLOT_KEYS and v not in (None, "")}
    row = PossibleRequest(community_id=community_id, message_id=message.id, group_id=group.id if group else None,
                          resident_id=resident.id if resident else None, text=message.text or "",
                          likelihood=round(float(likelihood), 3),
                          category=category if category in CATEGORY_LABELS else None,
                          slots=place or None, status=PossibleStatus.OPEN.value, created_at=clock_now())
    db.session.add(row)
    db.session.flush()
    return row


def open_possible_query(community_id: int):
    """A community's undecided possible requests, oldest first (they wait; nothing is due)."""
    return (select(PossibleRequest).where(PossibleRequest.community_id == community_id,
                                          PossibleRequest.status == PossibleStatus.OPEN.value)
            .order_by(PossibleRequest.created_at, PossibleRequest.id))


def count_open(community_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(open_possible_query(community_id).subquery())) or 0


def possible_in_community(possible_id: int, staff: Staff) -> PossibleRequest:
    row = db.session.get(PossibleRequest, possible_id)
    if row is None or row.community_id != staff.community_id:
        raise DomainError("没有这条疑似诉求 (no such possible request)", status=404, code="not_found")
    return row


def _still_open(row: PossibleRequest) -> None:
    if row.status != PossibleStatus.OPEN.value:
        by = db.session.get(Staff, row.decided_by_staff_id) if row.decided_by_staff_id else None
        raise Conflict(f"这条疑似诉求已由{by.name if by else '工作人员'}处理（{POSSIBLE_STATUS_LABELS[row.status]}）"
                       " (already decided)", code="conflict", extra={"status": row.status})


def convert_possible(row: PossibleRequest, staff: Staff, *, category: str | None = None,
            reply: str | None = None) -> ServiceRequest:
    """Make it a request (the staff's category, else the bot's guess, else 其他); its reply clock
    starts like any request's. ``reply``: a public answer posted at once (it stops that clock)."""
    _still_open(row)
    check_category(category)
    reply = clean_text(reply, "reply", 1000, label="回复内容", required=False)
    message = db.session.get(Message, row.message_id)
    group = db.session.get(ResidentGroup, row.group_id) if row.group_id else None
    resident = db.session.get(Resident, row.resident_id) if row.resident_id else None
    place = row.slots or {}
    request = create_request(
        community_id=row.community_id, text=row.text, category=category or row.category or "other",
        resident=resident, building=place.get("building"), unit=place.get("unit"), room=place.get("room"),
        message=message, group=group, chat_id=message.chat_id if message else None,
        channel=message.channel if message else None, source=KIND, actor=staff,
        classified_by="staff" if category else "bot")
    row.status, row.request_id = PossibleStatus.CONVERTED.value, request.id
    row.decided_by_staff_id, row.decided_at = staff.id, clock_now()
    db.session.commit()
    if reply:
        reply_publicly(request, staff, reply)
    return request


def dismiss_possible(row: PossibleRequest, staff: Staff, *, note: str | None = None) -> PossibleRequest:
    """Not a request (neighbours' talk the bot misread): it leaves the inbox, nothing is posted."""
    _still_open(row)
    row.note = clean_text(note, "note", 200, label="备注", required=False)
    row.status = PossibleStatus.DISMISSED.value
    row.decided_by_staff_id, row.decided_at = staff.id, clock_now()
    db.session.commit()
    return row


def possible_view(row: PossibleRequest) -> dict[str, Any]:
    """An inbox entry of kind ``possible_request``: what was said, where, by whom (masked), the bot's guess."""
    message = db.session.get(Message, row.message_id)
    group = db.session.get(ResidentGroup, row.group_id) if row.group_id else None
    resident = db.session.get(Resident, row.resident_id) if row.resident_id else None
    request = db.session.get(ServiceRequest, row.request_id) if row.request_id else None
    return {
        "kind": KIND, "id": row.id, "community_id": row.community_id, "status": row.status,
        "status_label": POSSIBLE_STATUS_LABELS.get(row.status), "created_at": iso(row.created_at),
        "likelihood": row.likelihood, "category": row.category,
        "category_label": CATEGORY_LABELS.get(row.category) if row.category else None,
        "slots": dict(row.slots or {}),
        "message": ({"id": message.id, "text": message.text, "msg_type": message.msg_type,
                     "channel": message.channel, "received_at": iso(message.received_at)}
                    if message is not None else None),
        "group": {"id": group.id, "name": group.name, "channel": group.channel} if group is not None else None,
        "resident": resident.public_view() if resident is not None else None,
        "decided_by_staff_id": row.decided_by_staff_id, "decided_at": iso(row.decided_at), "note": row.note,
        "request": {"id": request.id, "code": request.code, "status": request.status} if request else None,
    }
