"""Opening a request, from any channel (chat, mini-program form, demo), and adding to an open one.

``create_request`` is the one way in: it places the request (building → grid),
numbers it, sets the deadline, schedules the 督办 check and starts the reply
clock, so every channel gets the same promise of an answer.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any, Sequence

import redis
from flask import current_app
from sqlalchemy import func, select

from app import localtime
from app.clock import now as clock_now
from app.errors import ValidationError
from app.extensions import db, redis_ext
from app.handlers import sla
from app.handlers.requests.rules import (
    MAX_PHOTOS,
    MAX_TEXT,
    check_category,
    clean_text,
    compute_due_at,
    urgency_for,
)
from app.handlers.requests.supervision import schedule_overdue_check
from app.handlers.requests.timeline import record_event
from app.models import Building, Community, Message, Resident, ResidentGroup
from app.models.requests import OPEN_STATUSES, Level, RequestEvent, RequestStatus, ServiceRequest

log = logging.getLogger(__name__)

_BUILDING_SUFFIX = re.compile(r"(号楼|号院|栋|幢|座|号|楼)$")


# ---- where and which number ------------------------------------------------------------------

def normalise_building(raw: Any) -> str | None:
    if raw is None:
        return None
    text = str(raw).strip()
    text = _BUILDING_SUFFIX.sub("", text).strip()
    return text or None


def locate(community_id: int, building: Any = None) -> tuple[str | None, Building | None]:
    number = normalise_building(building)
    if number is None:
        return None, None
    row = db.session.scalars(select(Building).where(Building.community_id == community_id,
                                                    Building.number == number)).first()
    return number, row


def _location_text(building_number: str | None, building: Building | None, unit: str | None,
                   room: str | None) -> str | None:
    parts = []
    if building is not None:
        parts.append(building.name)
    elif building_number:
        parts.append(f"{building_number}号楼")
    if unit:
        parts.append(f"{unit}单元")
    if room:
        parts.append(f"{room}室" if str(room).isdigit() else str(room))
    return "".join(parts)[:100] or None


def _title(text: str) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= 30 else flat[:29] + "…"


def _code_prefix(created_at: datetime) -> tuple[str, str]:
    day = localtime.local_date(created_at).strftime("%Y%m%d")
    return day, f"R{day}-"


def _used_max(prefix: str) -> int:
    codes = db.session.scalars(select(ServiceRequest.code).where(ServiceRequest.code.like(prefix + "%")))
    return max((int(c[len(prefix):]) for c in codes if c[len(prefix):].isdigit()), default=0)


def code_taken(code: str) -> bool:
    return db.session.scalar(select(func.count()).where(ServiceRequest.code == code)) > 0


def _counted(client, key: str, prefix: str) -> int:
    # One command per number; the key is one day's, so a lifetime set when it is created (3 days) is enough.
    number = int(client.incr(key))
    if number == 1:
        client.expire(key, 3 * 86400)
        # The day's first number, or a counter Redis lost: continue after the table's numbers
        # (a concurrent caller that took 2, 3 … meanwhile is caught by the check of each code).
        used = _used_max(prefix)
        if used:
            number = int(client.incrby(key, used))
    return number


def counted_code(created_at: datetime) -> str | None:
    """The counter's next code, not checked against the table; None when Redis is down.

    For a caller that checks the code in its own statement (the express answer's INSERT refuses a
    code the table has, app/handlers/conversation/express.py) instead of asking first.
    """
    day, prefix = _code_prefix(created_at)
    try:
        number = _counted(redis_ext.client, f"linli:request-code:{day}", prefix)
    except redis.RedisError:
        return None
    return f"{prefix}{number:04d}"


def next_code(created_at: datetime, *, redis_only: bool = False) -> str | None:
    """A short public reference "R20261117-0042": a per-day sequence in the local time zone.

    Redis INCR gives concurrent workers distinct numbers; the counter is seeded
    from the database (so a flushed Redis does not reuse numbers) and each code
    is checked against the table before use; the unique index is the last guard.
    ``redis_only``: None instead of numbering from the database when Redis is down —
    a number given out before its request exists (a deferred report) must come from
    the counter, which remembers it; the table does not know it yet.
    """
    day, prefix = _code_prefix(created_at)
    key = f"linli:request-code:{day}"
    try:
        client = redis_ext.client
        number = _counted(client, key, prefix)
        for _ in range(1000):
            code = f"{prefix}{number:04d}"
            if not code_taken(code):
                return code
            number = int(client.incr(key))
    except redis.RedisError:
        log.warning("redis unavailable for request codes; numbering from the database")
        if redis_only:
            return None
    number = _used_max(prefix) + 1
    while code_taken(f"{prefix}{number:04d}"):
        number += 1
    return f"{prefix}{number:04d}"


# ---- creating --------------------------------------------------------------------------------

def _start_reply_clock(request: ServiceRequest, started_at: datetime | None = None) -> None:
    sla.start_reply_clock(community_id=request.community_id, message_id=request.message_id,
                          request_id=request.id, group_id=request.group_id, resident_id=request.resident_id,
                          started_at=started_at)


def _checked(community_id: int, text: Any, category: str | None, photos: Sequence[str] | None):
    text = clean_text(text, "text", MAX_TEXT, label="反映内容")
    check_category(category)
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise ValidationError(f"照片最多{MAX_PHOTOS}张 (at most {MAX_PHOTOS} photos)", field="photos")
    if db.session.get(Community, community_id) is None:
        raise ValidationError("社区不存在 (unknown community)", field="community_id")
    return text, category or "other", photos


def _place(community_id: int, building: Any, unit: str | None, room: str | None, resident: Resident | None):
    """(building number, building row, unit, room); without a building, the resident's registered address."""
    number, building_row = locate(community_id, building)
    if number is None and resident is not None and resident.building_id and resident.community_id == community_id:
        building_row = db.session.get(Building, resident.building_id)
        number = building_row.number if building_row else None
        unit = unit or resident.unit
        room = room or resident.room
    return number, building_row, unit, room


def create_request(*, community_id: int, text: str, category: str | None = None, resident: Resident | None = None,
                   building: Any = None, unit: str | None = None, room: str | None = None,
                   message: Message | None = None, group: ResidentGroup | None = None, chat_id: str | None = None,
                   channel: str | None = None, reporter_channel_id: str | None = None,
                   photos: Sequence[str] | None = None, source: str = "chat", actor: Any = None,
                   classified_by: str | None = None, urgency: str | None = None, code: str | None = None,
                   reported_at: datetime | None = None, detail: dict | None = None) -> ServiceRequest:
    """Open a request and start its reply clock. Idempotent per source message. Unknown building → no grid.
    ``classified_by`` ("bot", "resident") says on the timeline who chose the category of a form request.
    ``urgency`` "emergency" (the bot read danger now: a person trapped, gas, fire) overrides the
    category's deadline class; otherwise the category decides.
    ``code`` and ``reported_at``: a deferred report (deferred.py) was told its number already, and its
    deadline and reply clock run from the message's arrival, not from when a worker got to it.
    ``detail``: more for the timeline's "created" event."""
    text, category, photos = _checked(community_id, text, category, photos)
    if message is not None:
        existing = db.session.scalars(select(ServiceRequest).where(ServiceRequest.message_id == message.id)).first()
        if existing is not None:
            _start_reply_clock(existing, reported_at)  # idempotent: a retry after a crash still gets its clock
            return existing
    number, building_row, unit, room = _place(community_id, building, unit, room, resident)
    at = reported_at or clock_now()
    urgency = urgency if urgency == "emergency" else urgency_for(category)
    grid_id = building_row.grid_id if building_row else None
    request = ServiceRequest(
        code=code or next_code(at), community_id=community_id, grid_id=grid_id,
        building_id=building_row.id if building_row else None, unit=unit, room=room,
        location=_location_text(number, building_row, unit, room), category=category, urgency=urgency,
        title=_title(text), text=text, photos=photos, resident_id=resident.id if resident else None,
        message_id=message.id if message else None, group_id=group.id if group else None,
        chat_id=chat_id if chat_id is not None else (group.chat_id if group else None),
        channel=channel or (group.channel if group else "miniprogram"), reporter_channel_id=reporter_channel_id,
        status=RequestStatus.RECEIVED.value,
        escalation_level=Level.GRID.value if grid_id else Level.COMMUNITY.value,
        due_at=compute_due_at(at, urgency), last_resident_at=at, created_at=at, updated_at=at)
    db.session.add(request)
    db.session.flush()
    record_event(request, actor if actor is not None else resident, "created", to_status=request.status, at=at,
                 detail={"source": source, "category": category, "urgency": urgency, "building": number,
                         "building_id": request.building_id, "grid_id": grid_id, "location": request.location,
                         "due_at": localtime.iso(request.due_at), "message_id": request.message_id,
                         "photos": len(photos), **({"classified_by": classified_by} if classified_by else {}),
                         **(detail or {})})
    db.session.commit()
    schedule_overdue_check(request)
    _start_reply_clock(request, reported_at)
    return request


# ---- follow-ups ------------------------------------------------------------------------------

def _other_building(request: ServiceRequest, building: Any) -> bool:
    """The message names a building and the request is placed in another one."""
    number = normalise_building(building)
    if number is None or request.building_id is None:
        return False
    row = db.session.get(Building, request.building_id)
    return row is not None and row.number != number


def find_follow_up_target(*, resident_id: int, channel: str, chat_id: str | None, at: datetime,
                          category: str | None = None, building: Any = None) -> ServiceRequest | None:
    """The resident's open request in this chat they wrote to within LINLI_REQUEST_FOLLOWUP_SECONDS.

    None when the message is clearly about something else: another category, or another building
    than the one the request is placed in ("21号楼的路灯也不亮" after a report about 3号楼).
    """
    window = int(current_app.config.get("REQUEST_FOLLOWUP_SECONDS") or 0)
    if window <= 0:
        return None
    statement = select(ServiceRequest).where(
        ServiceRequest.resident_id == resident_id, ServiceRequest.status.in_(OPEN_STATUSES),
        ServiceRequest.channel == channel, ServiceRequest.last_resident_at >= at - timedelta(seconds=window),
        ServiceRequest.chat_id.is_(None) if chat_id is None else ServiceRequest.chat_id == chat_id,
    ).order_by(ServiceRequest.last_resident_at.desc(), ServiceRequest.id.desc()).limit(1)
    target = db.session.scalars(statement).first()
    # A clearly different problem ("另外，停车位被占了") opens its own request.
    if target is not None and category and category != "other" and target.category not in (category, "other"):
        return None
    if target is not None and _other_building(target, building):
        return None
    return target


def add_follow_up(request: ServiceRequest, *, text: str | None, actor: Any = None, message: Message | None = None,
                  photos: Sequence[str] | None = None) -> RequestEvent:
    photos = list(photos or [])
    if len(request.photos or []) + len(photos) > MAX_PHOTOS:
        photos = photos[:max(0, MAX_PHOTOS - len(request.photos or []))]
    at = clock_now()
    row = record_event(request, actor, "follow_up", at=at, detail={
        "text": (text or "")[:MAX_TEXT] or None, "message_id": message.id if message else None,
        "photos": photos or None})
    if photos:
        request.photos = list(request.photos or []) + photos
    request.last_resident_at = at
    db.session.commit()
    return row
