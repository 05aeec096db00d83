"""Resident requests (诉求): the closed loop 受理 → 派单 → 处置 → 办结 → 回访.

Shared by the bot (``handle_report``, ``handle_rate``, ``continue_rating``,
``progress_lines``), the mini-program API (app/api/requests.py) and the workers
(workers/requests.py). Every state change goes through ``_transition`` /
``_event`` so it lands on the append-only timeline with who, when and what.

Lifecycle::

    received ─reply→ acknowledged ─dispatch→ dispatched ─start→ in_progress ─resolve→ resolved
        │                  (escalate: grid → community → street → department, back to dispatched)
        └── reject → rejected, merge → merged                 resolved ─rate→ rated → closed
                                                               rated (不满意) → in_progress (reopened)

Reply clock and alerts belong to app.handlers.sla / app.handlers.alerts and are
imported lazily, so this module loads without them.
"""
from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime, timedelta
from typing import Any, Iterable, Sequence
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, false, func, or_, select

from app.clock import now as clock_now
from app.errors import Conflict, Forbidden, ValidationError
from app.extensions import db
from app.handlers.messaging.features import ChatFeature
from app.models import (
    Building,
    Community,
    Department,
    Message,
    Resident,
    ResidentGroup,
    ResidentIdentity,
    Role,
    Staff,
)
from app.models.requests import (
    CATEGORY_LABELS,
    DONE_STATUSES,
    LEVEL_LABELS,
    LEVELS,
    OPEN_STATUSES,
    RATING_LABELS,
    RATINGS,
    STATUS_LABELS,
    URGENCY_LABELS,
    Level,
    RequestEvent,
    RequestStatus,
    ServiceRequest,
)

log = logging.getLogger(__name__)

CATEGORIES = tuple(CATEGORY_LABELS)
URGENCIES = tuple(URGENCY_LABELS)
MAX_TEXT = 2000
MAX_PHOTOS = 9
ACTOR_STAFF, ACTOR_RESIDENT, ACTOR_SYSTEM = "staff", "resident", "system"

# Defaults after Beijing 12345 (接诉即办): the setting overrides these class by class.
DEFAULT_DEADLINES: dict[str, tuple[int, str]] = {
    "emergency": (2, "h"), "utilities": (24, "h"), "general": (7, "d"), "complex": (15, "d")}

EVENT_LABELS = {
    "created": "提交诉求", "follow_up": "补充说明", "replied": "工作人员回复", "acknowledged": "已响应",
    "dispatched": "派单", "started": "开始处理", "escalated": "吹哨上报", "resolved": "办结",
    "rating_requested": "回访", "rated": "居民评价", "closed": "完结", "reopened": "重新办理",
    "merged": "合并到其他诉求", "merged_from": "合并重复诉求", "rejected": "不予受理",
    "reclassified": "调整分类", "supervised": "超期督办",
}
# What a resident may see of their own timeline (internal steps such as 督办 stay internal).
RESIDENT_EVENT_KINDS = ("created", "follow_up", "replied", "acknowledged", "dispatched", "started", "escalated",
                        "resolved", "rated", "closed", "reopened", "merged", "rejected")

ACTION_LABELS = {
    "acknowledge": "响应", "dispatch": "派单", "start": "开始处理", "escalate": "吹哨上报", "resolve": "办结",
    "rate": "评价", "reopen": "重新办理", "merge": "合并", "reject": "不予受理", "reclassify": "调整分类",
    "reply": "回复", "close": "完结",
}

_ALL_ROLES = frozenset(r.value for r in Role)
_COORDINATORS = frozenset({Role.DUTY.value, Role.GRID_LEADER.value, Role.COMMUNITY_ADMIN.value})
# Which roles may do what (on requests they can see at all; others get 404 first).
ACTION_ROLES: dict[str, frozenset[str]] = {
    "view": _ALL_ROLES,
    "reply": _ALL_ROLES,
    "dispatch": _COORDINATORS | {Role.STREET_ADMIN.value},
    "start": _COORDINATORS | {Role.GRID_WORKER.value, Role.STREET_ADMIN.value, Role.DEPARTMENT.value},
    "escalate": _COORDINATORS | {Role.GRID_WORKER.value, Role.STREET_ADMIN.value},
    "resolve": _COORDINATORS | {Role.GRID_WORKER.value, Role.STREET_ADMIN.value, Role.DEPARTMENT.value},
    "merge": _COORDINATORS,
    "reject": _COORDINATORS,
    "reopen": _COORDINATORS,
    "reclassify": _COORDINATORS,
    "stats": _COORDINATORS | {Role.STREET_ADMIN.value},
}


# ---- configuration ---------------------------------------------------------------------------

def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Shanghai")


def _pairs(raw: str | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for part in (raw or "").replace("，", ",").split(","):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            result[key.strip().lower()] = value.strip().lower()
    return result


def deadline_spec() -> dict[str, tuple[int, str]]:
    """Deadline class → (amount, unit) with unit m, h (clock time) or d (working days)."""
    spec = dict(DEFAULT_DEADLINES)
    for key, value in _pairs(current_app.config.get("RESOLUTION_DEADLINES")).items():
        if key in spec and value[:-1].isdigit() and value[-1:] in ("m", "h", "d"):
            spec[key] = (int(value[:-1]), value[-1])
    return spec


def urgency_for(category: str) -> str:
    """The deadline class of a category (LINLI_REQUEST_CATEGORY_CLASSES; unlisted → general)."""
    mapping = _pairs(current_app.config.get("REQUEST_CATEGORY_CLASSES"))
    urgency = mapping.get(category, "general")
    return urgency if urgency in URGENCIES else "general"


def compute_due_at(start: datetime, urgency: str, calendar=None) -> datetime:
    """The resolution deadline: hours around the clock, days as WORKING days (调休 aware)."""
    amount, unit = deadline_spec().get(urgency, DEFAULT_DEADLINES["general"])
    if unit == "m":
        return start + timedelta(minutes=amount)
    if unit == "h":
        return start + timedelta(hours=amount)
    if calendar is None:
        from app.workcal import load_calendar
        calendar = load_calendar()
    return calendar.deadline(start, amount, tz=str(_tz()))


def describe_limit(urgency: str) -> str:
    amount, unit = deadline_spec().get(urgency, DEFAULT_DEADLINES["general"])
    return f"{amount}{ {'m': '分钟', 'h': '小时', 'd': '个工作日'}[unit] }"


def _reply_sla_text() -> str:
    seconds = int(current_app.config.get("REPLY_SLA_SECONDS") or 3600)
    if seconds % 3600 == 0:
        return f"{seconds // 3600}小时"
    if seconds >= 60:
        return f"{max(1, round(seconds / 60))}分钟"
    return f"{seconds}秒"


def local_time_text(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(_tz())
    return f"{local.month}月{local.day}日{local:%H:%M}"


# ---- helpers ---------------------------------------------------------------------------------

def _actor(actor: Any) -> tuple[str, int | None]:
    if isinstance(actor, Staff):
        return ACTOR_STAFF, actor.id
    if isinstance(actor, Resident):
        return ACTOR_RESIDENT, actor.id
    return ACTOR_SYSTEM, None


def _text(value: Any, field: str, max_length: int, *, label: str, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(f"请填写{label} (missing {field})", field=field)
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{label}格式不正确 ({field} must be text)", field=field)
    value = value.strip()
    if len(value) > max_length:
        raise ValidationError(f"{label}不能超过{max_length}字 ({field} too long)", field=field)
    return value


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(_tz()).isoformat() if moment else None


def _event(request: ServiceRequest, actor: Any, kind: str, *, from_status: str | None = None,
           to_status: str | None = None, detail: dict | None = None, at: datetime | None = None) -> RequestEvent:
    actor_type, actor_id = _actor(actor)
    row = RequestEvent(request_id=request.id, at=at or clock_now(), actor_type=actor_type, actor_id=actor_id,
                       kind=kind, from_status=from_status, to_status=to_status, detail=detail or None)
    db.session.add(row)
    request.updated_at = row.at
    return row


def _require(request: ServiceRequest, action: str, allowed_from: Iterable[str]) -> None:
    """Refuse an action the current status does not allow, with a clear Chinese message (409)."""
    if request.status not in tuple(allowed_from):
        raise Conflict(
            f"诉求{request.code}当前状态为「{STATUS_LABELS.get(request.status, request.status)}」，"
            f"不能{ACTION_LABELS.get(action, action)} (invalid transition {request.status} → {action})",
            code="invalid_transition", extra={"status": request.status})


def _transition(request: ServiceRequest, actor: Any, action: str, kind: str, to_status: str,
                allowed_from: Iterable[str], detail: dict | None = None) -> RequestEvent:
    """Change the status and record it on the timeline, or refuse (409)."""
    _require(request, action, allowed_from)
    from_status = request.status
    request.status = to_status
    return _event(request, actor, kind, from_status=from_status, to_status=to_status, detail=detail)


def _title(text: str) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= 30 else flat[:29] + "…"


_BUILDING_SUFFIX = re.compile(r"(号楼|号院|栋|幢|座|号|楼)$")


def normalise_building(raw: Any) -> str | None:
    if raw is None:
        return None
    text = str(raw).strip()
    text = _BUILDING_SUFFIX.sub("", text).strip()
    return text or None


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


def _next_code(created_at: datetime) -> str:
    """A short public reference "R20261117-0042": a per-day sequence in the local time zone.

    Redis INCR gives concurrent workers distinct numbers; the counter is seeded
    from the database (so a flushed Redis does not reuse numbers) and each code
    is checked against the table before use; the unique index is the last guard.
    """
    day = created_at.astimezone(_tz()).strftime("%Y%m%d")
    prefix = f"R{day}-"

    def used_max() -> int:
        codes = db.session.scalars(select(ServiceRequest.code).where(ServiceRequest.code.like(prefix + "%")))
        return max((int(c[len(prefix):]) for c in codes if c[len(prefix):].isdigit()), default=0)

    def taken(code: str) -> bool:
        return db.session.scalar(select(func.count()).where(ServiceRequest.code == code)) > 0

    import redis

    from app.extensions import redis_ext
    key = f"linli:request-code:{day}"
    try:
        client = redis_ext.client
        if not client.exists(key):
            client.set(key, used_max(), nx=True, ex=3 * 86400)
        for _ in range(1000):
            code = f"{prefix}{int(client.incr(key)):04d}"
            if not taken(code):
                return code
    except redis.RedisError:
        log.warning("redis unavailable for request codes; numbering from the database")
    number = used_max() + 1
    while taken(f"{prefix}{number:04d}"):
        number += 1
    return f"{prefix}{number:04d}"


# ---- scope and permissions -------------------------------------------------------------------

def _is_plain_grid_worker(staff: Staff) -> bool:
    return staff.has_role(Role.GRID_WORKER) and not staff.has_role(
        Role.DUTY, Role.GRID_LEADER, Role.COMMUNITY_ADMIN, Role.STREET_ADMIN)


def visible_clause(staff: Staff):
    """SQL condition for the requests a staff member may see at all (others are 404 to them).

    Community staff: their community. Department staff: only what was escalated
    to their department (吹哨报到). Street admins: what their communities escalated
    to the street or to a department.
    """
    if staff.has_role(Role.DEPARTMENT) and staff.department_id:
        return and_(ServiceRequest.escalation_level == Level.DEPARTMENT.value,
                    ServiceRequest.department_id == staff.department_id)
    conditions = []
    if staff.community_id:
        conditions.append(ServiceRequest.community_id == staff.community_id)
    if staff.has_role(Role.STREET_ADMIN) and staff.street_id:
        conditions.append(and_(
            ServiceRequest.community_id.in_(select(Community.id).where(Community.street_id == staff.street_id)),
            ServiceRequest.escalation_level.in_((Level.STREET.value, Level.DEPARTMENT.value))))
    if not conditions:
        return false()
    return or_(*conditions)


def can_see(staff: Staff, request: ServiceRequest) -> bool:
    return db.session.scalar(select(func.count()).select_from(ServiceRequest).where(
        ServiceRequest.id == request.id, visible_clause(staff))) > 0


def authorize(staff: Staff, action: str, request: ServiceRequest | None = None) -> None:
    """Raise Forbidden (403) when the staff member's roles do not allow ``action``."""
    allowed = ACTION_ROLES.get(action, frozenset())
    if not staff.roles & allowed:
        what = {"stats": "查看统计", "view": "查看诉求"}.get(action) or ACTION_LABELS.get(action, "执行此操作")
        raise Forbidden(f"您的角色不能{what} (role not allowed: {action})")
    if request is None:
        return
    if action in ("start", "escalate", "resolve") and _is_plain_grid_worker(staff):
        if request.assignee_id != staff.id and (staff.grid_id is None or request.grid_id != staff.grid_id):
            raise Forbidden("网格员只能处理本网格或派给自己的诉求 (not your grid)")
    if action in ("start", "resolve") and staff.has_role(Role.DEPARTMENT) and staff.department_id:
        if request.escalation_level != Level.DEPARTMENT.value or request.department_id != staff.department_id:
            raise Forbidden("只能处理吹哨到本部门的诉求 (not escalated to your department)")


# ---- messages to the resident and to staff --------------------------------------------------

def _reporter_target(request: ServiceRequest) -> tuple[str, str, str, ResidentGroup | None] | None:
    """(channel, recipient kind, recipient id, group) for talking to the reporter, or None."""
    from app.handlers.messaging.outbox import TO_GROUP, TO_USER

    if request.group_id:
        group = db.session.get(ResidentGroup, request.group_id)
        if group is not None and group.active:
            return group.channel, TO_GROUP, group.chat_id, group
    if request.reporter_channel_id:
        return request.channel, TO_USER, request.reporter_channel_id, None
    if request.resident_id:
        # A form submission (mini-program): reach the resident through an identity they have.
        identities = db.session.scalars(select(ResidentIdentity).where(
            ResidentIdentity.resident_id == request.resident_id)).all()
        preferred = sorted(identities, key=lambda i: (i.channel != request.channel,
                                                      i.kind not in ("openid", "external_userid"), i.id))
        for identity in preferred:
            if identity.kind in ("openid", "external_userid"):
                return identity.channel, TO_USER, identity.value, None
    return None


def _send_to_reporter(request: ServiceRequest, text: str, key: str, *, staff_id: int | None = None) -> Message | None:
    """Queue a message to the reporter (their group, else 1:1). Commits the session (outbox)."""
    from app.handlers.messaging.outbox import queue_message

    target = _reporter_target(request)
    if target is None:
        return None
    channel, kind, recipient, group = target
    return queue_message(channel=channel, recipient_kind=kind, recipient_id=recipient, text=text,
                         idempotency_key=key, community_id=request.community_id,
                         chat_id=group.chat_id if group else None, group_id=group.id if group else None,
                         staff_id=staff_id, resident_id=request.resident_id,
                         meta={"request_id": request.id, "request_code": request.code})


def _notify_staff(members: Iterable[Staff | None], text: str, key: str, request: ServiceRequest) -> list[Message]:
    """Tell staff through their WeCom app (those without a WeCom userid see it in the mini-program)."""
    from app.handlers.messaging.outbox import TO_STAFF, queue_message
    from app.models import Channel

    sent: list[Message] = []
    seen: set[int] = set()
    for member in members:
        if member is None or member.id in seen or not member.active or not member.wework_userid:
            continue
        seen.add(member.id)
        sent.append(queue_message(channel=Channel.WEWORK.value, recipient_kind=TO_STAFF,
                                  recipient_id=member.wework_userid, text=text,
                                  idempotency_key=f"{key}:staff:{member.id}", community_id=request.community_id,
                                  staff_id=member.id, meta={"request_id": request.id, "request_code": request.code}))
    return sent


def _record_staff_reply(request: ServiceRequest, staff: Staff | None, message: Message | None,
                        at: datetime) -> None:
    """Stop the reply clock of the request, and any clock a follow-up message of it started on its own."""
    from app.handlers import sla
    from app.models.sla import ReplyClock

    sla.record_staff_reply(community_id=request.community_id, staff_id=staff.id if staff else None,
                           group_id=request.group_id, request_id=request.id,
                           message_id=message.id if message else None, at=at)
    follow_ups = [m for m in (
        (e.detail or {}).get("message_id") for e in db.session.scalars(select(RequestEvent).where(
            RequestEvent.request_id == request.id, RequestEvent.kind == "follow_up"))) if m]
    if not follow_ups or staff is None:  # only a person's reply stops a clock
        return
    for clock in db.session.scalars(select(ReplyClock).where(
            ReplyClock.message_id.in_(follow_ups), ReplyClock.stopped_at.is_(None))).all():
        sla.stop_clock(clock, staff_id=staff.id, at=at, stop_message_id=message.id if message else None)


def _summary(request: ServiceRequest) -> str:
    where = f"{request.location}，" if request.location else ""
    return f"{where}{CATEGORY_LABELS.get(request.category, request.category)}：{request.title}"


# ---- overdue scheduling ----------------------------------------------------------------------

def overdue_job_id(request_id: int) -> str:
    from app.jobs import job_id
    return job_id("request", "overdue", request_id)


def schedule_overdue_check(request: ServiceRequest) -> None:
    """An exact job at the deadline (the periodic sweep is the backstop). Same id → re-scheduling replaces it."""
    from workers.requests import check_request_overdue
    # RQ's scheduler truncates to whole seconds: round up so the job never runs before the deadline.
    when = request.due_at if request.due_at.microsecond == 0 else \
        request.due_at.replace(microsecond=0) + timedelta(seconds=1)
    try:
        check_request_overdue.enqueue_at(when, request.id, job_id=overdue_job_id(request.id))
    except Exception:  # noqa: BLE001 - Redis down: the sweep will still find it
        log.warning("could not schedule the overdue check for request %s; the sweep will catch it", request.id,
                    exc_info=True)


def cancel_overdue_check(request: ServiceRequest) -> None:
    from app.extensions import redis_ext
    from app.jobs import cancel
    try:
        cancel(overdue_job_id(request.id), redis_ext.client)
    except Exception:  # noqa: BLE001 - a stale job only finds the request closed and does nothing
        log.warning("could not cancel the overdue check for request %s", request.id, exc_info=True)


# ---- creating --------------------------------------------------------------------------------

def locate(community_id: int, building: Any = None) -> tuple[str | None, Building | None]:
    number = normalise_building(building)
    if number is None:
        return None, None
    row = db.session.scalars(select(Building).where(Building.community_id == community_id,
                                                    Building.number == number)).first()
    return number, row


def create_request(*, community_id: int, text: str, category: str | None = None, resident: Resident | None = None,
                   building: Any = None, unit: str | None = None, room: str | None = None,
                   message: Message | None = None, group: ResidentGroup | None = None, chat_id: str | None = None,
                   channel: str | None = None, reporter_channel_id: str | None = None,
                   photos: Sequence[str] | None = None, source: str = "chat", actor: Any = None) -> ServiceRequest:
    """Open a request. Idempotent per source message. Unknown building → created without a grid."""
    text = _text(text, "text", MAX_TEXT, label="反映内容")
    if category is not None and category not in CATEGORIES:
        raise ValidationError(f"分类无效 (category one of {', '.join(CATEGORIES)})", field="category")
    category = category or "other"
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise ValidationError(f"照片最多{MAX_PHOTOS}张 (at most {MAX_PHOTOS} photos)", field="photos")
    if db.session.get(Community, community_id) is None:
        raise ValidationError("社区不存在 (unknown community)", field="community_id")
    if message is not None:
        existing = db.session.scalars(select(ServiceRequest).where(ServiceRequest.message_id == message.id)).first()
        if existing is not None:
            return existing

    number, building_row = locate(community_id, building)
    if number is None and resident is not None and resident.building_id and resident.community_id == community_id:
        # No building in the message: the resident's registered address.
        building_row = db.session.get(Building, resident.building_id)
        number = building_row.number if building_row else None
        unit = unit or resident.unit
        room = room or resident.room
    at = clock_now()
    urgency = urgency_for(category)
    grid_id = building_row.grid_id if building_row else None
    request = ServiceRequest(
        code=_next_code(at), community_id=community_id, grid_id=grid_id,
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
    _event(request, actor if actor is not None else resident, "created", to_status=request.status, at=at, detail={
        "source": source, "category": category, "urgency": urgency, "building": number,
        "building_id": request.building_id, "grid_id": grid_id, "location": request.location,
        "due_at": _iso(request.due_at), "message_id": request.message_id, "photos": len(photos)})
    db.session.commit()
    schedule_overdue_check(request)
    return request


def find_follow_up_target(*, resident_id: int, channel: str, chat_id: str | None, at: datetime,
                          category: str | None = None) -> ServiceRequest | None:
    """The resident's open request in this chat they wrote to within LINLI_REQUEST_FOLLOWUP_SECONDS."""
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
    return target


def add_follow_up(request: ServiceRequest, *, text: str | None, actor: Any = None, message: Message | None = None,
                  photos: Sequence[str] | None = None) -> RequestEvent:
    photos = list(photos or [])
    if len(request.photos or []) + len(photos) > MAX_PHOTOS:
        photos = photos[:max(0, MAX_PHOTOS - len(request.photos or []))]
    at = clock_now()
    row = _event(request, actor, "follow_up", at=at, detail={
        "text": (text or "")[:MAX_TEXT] or None, "message_id": message.id if message else None,
        "photos": photos or None})
    if photos:
        request.photos = list(request.photos or []) + photos
    request.last_resident_at = at
    db.session.commit()
    return row


# ---- the lifecycle ---------------------------------------------------------------------------

def acknowledge(request: ServiceRequest, staff: Staff | None, *, at: datetime | None = None) -> bool:
    """received → acknowledged on the first public staff reply (the bot's own receipt does not count)."""
    at = at or clock_now()
    if request.first_reply_at is None:
        request.first_reply_at = at
    if request.status != RequestStatus.RECEIVED.value:
        return False
    _transition(request, staff, "acknowledge", "acknowledged", RequestStatus.ACKNOWLEDGED.value,
                (RequestStatus.RECEIVED.value,))
    return True


def reply_publicly(request: ServiceRequest, staff: Staff, text: str) -> Message | None:
    """A staff reply posted where the resident asked (their group, else 1:1); stops the reply clock."""
    text = _text(text, "text", 1000, label="回复内容")
    if request.status == RequestStatus.MERGED.value:
        target = db.session.get(ServiceRequest, request.merged_into_id)
        raise Conflict(f"诉求{request.code}已合并到{target.code if target else '其他诉求'}，请在该诉求下回复",
                       code="invalid_transition", extra={"status": request.status})
    at = clock_now()
    outbound = _send_to_reporter(request, f"【{request.code}】{text}",
                                 f"request:{request.id}:reply:{uuid.uuid4().hex}", staff_id=staff.id)
    _event(request, staff, "replied", at=at, detail={
        "text": text, "message_id": outbound.id if outbound else None,
        "to": (outbound.handling or {}).get("recipient_kind") if outbound else None,
        "staff_name": staff.name})
    acknowledge(request, staff, at=at)
    db.session.commit()
    _record_staff_reply(request, staff, outbound, at)
    return outbound


def acknowledge_by_staff_message(*, group_id: int, staff_id: int | None, at: datetime | None = None,
                                 message_id: int | None = None) -> list[ServiceRequest]:
    """A staff message seen in a resident group (through a channel) answers that group's new requests.

    For the conversation router: call it where it calls ``sla.record_staff_reply`` for a staff message.
    """
    at = at or clock_now()
    staff = db.session.get(Staff, staff_id) if staff_id else None
    rows = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.group_id == group_id, ServiceRequest.status == RequestStatus.RECEIVED.value,
        ServiceRequest.created_at <= at)).all()
    for request in rows:
        _event(request, staff, "replied", at=at, detail={"message_id": message_id, "seen_in_group": True,
                                                          "staff_name": staff.name if staff else None})
        acknowledge(request, staff, at=at)
    db.session.commit()
    return list(rows)


def grid_worker_for(request: ServiceRequest) -> Staff | None:
    """The grid worker of the request's grid with the fewest open requests (then the grid leader)."""
    if request.grid_id is None:
        return None
    open_count = (select(func.count(ServiceRequest.id)).where(
        ServiceRequest.assignee_id == Staff.id, ServiceRequest.status.in_(OPEN_STATUSES)).scalar_subquery())
    for role in (Role.GRID_WORKER, Role.GRID_LEADER):
        candidates = db.session.scalars(select(Staff).where(
            Staff.grid_id == request.grid_id, Staff.active.is_(True)).order_by(open_count, Staff.id)).all()
        for member in candidates:
            if member.has_role(role):
                return member
    return None


def _can_take(member: Staff, request: ServiceRequest) -> bool:
    if not member.active:
        return False
    if member.community_id == request.community_id:
        return True
    if request.escalation_level == Level.DEPARTMENT.value and member.department_id == request.department_id:
        return True
    if request.escalation_level in (Level.STREET.value, Level.DEPARTMENT.value) and member.street_id:
        community = db.session.get(Community, request.community_id)
        return community is not None and community.street_id == member.street_id
    return False


def dispatch(request: ServiceRequest, actor: Any, *, staff: Staff | None = None,
             note: str | None = None) -> ServiceRequest:
    """派单: to the given staff member, or to the grid worker of the building's grid."""
    note = _text(note, "note", 500, label="派单说明", required=False)
    _require(request, "dispatch", OPEN_STATUSES)
    auto = staff is None
    if auto:
        staff = grid_worker_for(request)
        if staff is None:
            raise Conflict("该诉求没有对应的网格（楼栋未知）或网格内没有网格员，请指定派单人员 (no grid worker; give staff_id)",
                           code="no_grid_worker")
    elif not _can_take(staff, request):
        raise ValidationError("该工作人员不能承办此诉求（不属于本社区或未激活）", field="staff_id")
    if request.status == RequestStatus.DISPATCHED.value and request.assignee_id == staff.id:
        return request  # the same dispatch twice (a double tap) changes nothing
    previous = request.assignee_id
    request.assignee_id = staff.id
    row = _transition(request, actor, "dispatch", "dispatched", RequestStatus.DISPATCHED.value, OPEN_STATUSES,
                      detail={"assignee_id": staff.id, "assignee_name": staff.name, "auto": auto, "note": note,
                              "previous_assignee_id": previous})
    db.session.commit()
    _notify_staff([staff], f"【派单】诉求{request.code}（{_summary(request)}）已派给您，请于{local_time_text(request.due_at)}前办结。"
                  + (f"说明：{note}" if note else ""), f"request:{request.id}:dispatch:{row.id}", request)
    return request


def start(request: ServiceRequest, actor: Any) -> ServiceRequest:
    if request.assignee_id is None and isinstance(actor, Staff):
        request.assignee_id = actor.id
    _transition(request, actor, "start", "started", RequestStatus.IN_PROGRESS.value,
                (RequestStatus.RECEIVED.value, RequestStatus.ACKNOWLEDGED.value, RequestStatus.DISPATCHED.value),
                detail={"assignee_id": request.assignee_id})
    db.session.commit()
    return request


def escalate(request: ServiceRequest, actor: Any, *, level: str, reason: str,
             department_id: int | None = None) -> ServiceRequest:
    """吹哨: move up grid → community → street → department (never down), with a reason."""
    if level not in LEVELS:
        raise ValidationError(f"层级无效 (level one of {', '.join(LEVELS)})", field="level")
    reason = _text(reason, "reason", 500, label="吹哨原因")
    _require(request, "escalate", OPEN_STATUSES)
    current = request.escalation_level
    if LEVELS.index(level) <= LEVELS.index(current):
        raise ValidationError(f"只能向上吹哨：当前已在{LEVEL_LABELS[current]}层级 (level must be above {current})",
                              field="level")
    department = None
    if level == Level.DEPARTMENT.value:
        if department_id is None:
            raise ValidationError("吹哨到职能部门时请选择部门 (department_id required)", field="department_id")
        department = db.session.get(Department, department_id)
        community = db.session.get(Community, request.community_id)
        if department is None or department.street_id not in (None, community.street_id):
            raise ValidationError("部门不存在或不属于本街道 (unknown department)", field="department_id")
    elif department_id is not None:
        raise ValidationError("只有吹哨到职能部门时才填写部门 (department_id only for level department)",
                              field="department_id")
    previous = request.assignee_id
    request.escalation_level = level
    request.department_id = department.id if department else None
    request.assignee_id = None
    row = _transition(request, actor, "escalate", "escalated", RequestStatus.DISPATCHED.value, OPEN_STATUSES,
                      detail={"from_level": current, "to_level": level, "reason": reason,
                              "department_id": department.id if department else None,
                              "department_name": department.name if department else None,
                              "previous_assignee_id": previous})
    db.session.commit()
    if department is not None:
        members = db.session.scalars(select(Staff).where(Staff.department_id == department.id)).all()
    elif level == Level.STREET.value:
        community = db.session.get(Community, request.community_id)
        members = [m for m in db.session.scalars(select(Staff).where(Staff.street_id == community.street_id))
                   if m.has_role(Role.STREET_ADMIN)]
    else:
        members = _community_admins(request.community_id)
    _notify_staff(members, f"【吹哨】诉求{request.code}（{_summary(request)}）由{LEVEL_LABELS[current]}上报至"
                  f"{department.name if department else LEVEL_LABELS[level]}：{reason}。"
                  f"办理时限{local_time_text(request.due_at)}。",
                  f"request:{request.id}:escalate:{row.id}", request)
    return request


def resolve(request: ServiceRequest, actor: Any, *, note: str) -> ServiceRequest:
    """办结 with a note; the resident is then asked to rate it (回访)."""
    note = _text(note, "note", 1000, label="办结说明")
    at = clock_now()
    if request.assignee_id is None and isinstance(actor, Staff):
        request.assignee_id = actor.id
    row = _transition(request, actor, "resolve", "resolved", RequestStatus.RESOLVED.value, OPEN_STATUSES,
                      detail={"note": note, "level": request.escalation_level})
    request.resolved_at = at
    request.resolution_note = note
    request.resolved_level = request.escalation_level
    db.session.commit()
    cancel_overdue_check(request)
    visit = _send_to_reporter(
        request, f"您反映的问题（编号{request.code}）已办结：{note}\n请回复“满意”“基本满意”或“不满意”对处理结果进行评价。",
        f"request:{request.id}:visit:{row.id}", staff_id=actor.id if isinstance(actor, Staff) else None)
    _event(request, None, "rating_requested", detail={"message_id": visit.id if visit else None,
                                                       "delivered": visit is not None})
    db.session.commit()
    return request


def parse_rating(text: str | None) -> str | None:
    """满意 / 基本满意 / 不满意 (and a few everyday ways to say them) → rating key."""
    if not text:
        return None
    t = re.sub(r"[\s，。！!,.~～]+", "", text)
    if not t:
        return None
    if any(w in t for w in ("不满意", "不太满意", "没解决", "没有解决", "未解决", "差评", "不行")) or t in ("3", "C", "c"):
        return "unsatisfied"
    if "基本满意" in t or t in ("一般", "还行", "还可以", "2", "B", "b"):
        return "basically"
    if "满意" in t or "好评" in t or t in ("1", "A", "a", "很好", "非常好", "好的", "谢谢"):
        return "satisfied"
    return None


def rate(request: ServiceRequest, actor: Any, *, rating: str, comment: str | None = None) -> ServiceRequest:
    """回访: 满意/基本满意 close it; 不满意 reopens it (back to in progress with the same assignee)."""
    if rating not in RATINGS:
        raise ValidationError(f"评价无效 (rating one of {', '.join(RATINGS)})", field="rating")
    comment = _text(comment, "comment", 500, label="评价留言", required=False)
    _transition(request, actor, "rate", "rated", RequestStatus.RATED.value, (RequestStatus.RESOLVED.value,),
                detail={"rating": rating, "comment": comment})
    at = clock_now()
    request.rating = rating
    request.rating_comment = comment
    request.rated_at = at
    if rating == "unsatisfied":
        row = _reopen(request, actor, "居民评价不满意", at=at)
        db.session.commit()
        schedule_overdue_check(request)
        assignee = db.session.get(Staff, request.assignee_id) if request.assignee_id else None
        _notify_staff([assignee, *_community_admins(request.community_id)],
                      f"【重新办理】诉求{request.code}（{_summary(request)}）居民评价不满意"
                      + (f"：{comment}" if comment else "") + "，已退回重新办理。",
                      f"request:{request.id}:reopened:{row.id}", request)
        return request
    _transition(request, actor, "close", "closed", RequestStatus.CLOSED.value, (RequestStatus.RATED.value,),
                detail={"reason": "rated"})
    request.closed_at = at
    db.session.commit()
    return request


def _reopen(request: ServiceRequest, actor: Any, reason: str, *, at: datetime) -> RequestEvent:
    """Back to in progress with the same assignee and the original deadline (a reopened case is not a new one)."""
    row = _transition(request, actor, "reopen", "reopened", RequestStatus.IN_PROGRESS.value,
                      (RequestStatus.RESOLVED.value, RequestStatus.RATED.value, RequestStatus.CLOSED.value),
                      detail={"reason": reason})
    request.resolved_at = None
    request.resolved_level = None
    request.closed_at = None
    return row


def reopen(request: ServiceRequest, actor: Any, *, reason: str) -> ServiceRequest:
    reason = _text(reason, "reason", 500, label="重新办理原因")
    _reopen(request, actor, reason, at=clock_now())
    db.session.commit()
    schedule_overdue_check(request)
    return request


def merge(request: ServiceRequest, actor: Any, *, into: ServiceRequest) -> ServiceRequest:
    """Merge a duplicate into another request of the same community; its reporter is told where to follow it."""
    if into.id == request.id:
        raise ValidationError("不能合并到自身 (into_id is this request)", field="into_id")
    if into.community_id != request.community_id:
        raise ValidationError("只能合并到本社区的诉求 (into_id not in this community)", field="into_id")
    if into.status in (RequestStatus.MERGED.value, RequestStatus.REJECTED.value):
        raise Conflict(f"目标诉求{into.code}状态为「{STATUS_LABELS[into.status]}」，不能作为合并目标",
                       code="invalid_transition", extra={"status": into.status})
    at = clock_now()
    _transition(request, actor, "merge", "merged", RequestStatus.MERGED.value, OPEN_STATUSES,
                detail={"into_id": into.id, "into_code": into.code})
    request.merged_into_id = into.id
    _event(into, actor, "merged_from", at=at, detail={"from_id": request.id, "from_code": request.code,
                                                      "resident_id": request.resident_id})
    if request.first_reply_at is None:
        request.first_reply_at = at
    db.session.commit()
    cancel_overdue_check(request)
    notice = _send_to_reporter(
        request, f"您反映的问题（编号{request.code}）与编号{into.code}为同一事项，已合并办理，进展请查询{into.code}。",
        f"request:{request.id}:merged", staff_id=actor.id if isinstance(actor, Staff) else None)
    _record_staff_reply(request, actor if isinstance(actor, Staff) else None, notice, at)
    return request


def reject(request: ServiceRequest, actor: Any, *, reason: str) -> ServiceRequest:
    """不予受理 with a reason the resident is told."""
    reason = _text(reason, "reason", 500, label="不予受理原因")
    at = clock_now()
    _transition(request, actor, "reject", "rejected", RequestStatus.REJECTED.value, OPEN_STATUSES,
                detail={"reason": reason})
    request.closed_at = at
    if request.first_reply_at is None:
        request.first_reply_at = at
    db.session.commit()
    cancel_overdue_check(request)
    community = db.session.get(Community, request.community_id)
    contact = f"如有疑问请联系社区（{community.phone}）。" if community is not None and community.phone else "如有疑问请联系社区。"
    notice = _send_to_reporter(request, f"您反映的问题（编号{request.code}）不予受理：{reason}。{contact}",
                               f"request:{request.id}:rejected",
                               staff_id=actor.id if isinstance(actor, Staff) else None)
    _record_staff_reply(request, actor if isinstance(actor, Staff) else None, notice, at)
    return request


def reclassify(request: ServiceRequest, actor: Any, *, category: str | None = None,
               urgency: str | None = None) -> ServiceRequest:
    """Correct the category or deadline class (the bot can be wrong); the deadline is recomputed from creation."""
    if category is not None and category not in CATEGORIES:
        raise ValidationError(f"分类无效 (category one of {', '.join(CATEGORIES)})", field="category")
    if urgency is not None and urgency not in URGENCIES:
        raise ValidationError(f"时限类别无效 (urgency one of {', '.join(URGENCIES)})", field="urgency")
    if category is None and urgency is None:
        raise ValidationError("请提供 category 或 urgency (nothing to change)", field="category")
    _require(request, "reclassify", OPEN_STATUSES)
    new_category = category or request.category
    new_urgency = urgency or (urgency_for(new_category) if category else request.urgency)
    due_at = compute_due_at(request.created_at, new_urgency)
    _event(request, actor, "reclassified", detail={
        "from_category": request.category, "to_category": new_category, "from_urgency": request.urgency,
        "to_urgency": new_urgency, "from_due_at": _iso(request.due_at), "to_due_at": _iso(due_at)})
    request.category, request.urgency, request.due_at = new_category, new_urgency, due_at
    db.session.commit()
    schedule_overdue_check(request)
    return request


# ---- 督办: supervision of overdue requests --------------------------------------------------

def _community_admins(community_id: int) -> list[Staff]:
    from app.handlers.sla.roster import community_admins
    return list(community_admins(community_id))


def supervise_overdue(request_id: int):
    """Raise the 督办 alert for an overdue open request, exactly once (the alert key is unique).

    Called by the exact job at ``due_at`` and by the periodic sweep; whichever
    comes second finds the alert already recorded and does nothing more.
    """
    from app.handlers.alerts import raise_alert

    request = db.session.get(ServiceRequest, request_id)
    at = clock_now()
    if request is None or not request.is_overdue(at):
        return None
    assignee = db.session.get(Staff, request.assignee_id) if request.assignee_id else None
    recipients: list[Staff] = []
    for member in [*_community_admins(request.community_id), assignee]:
        if member is not None and member.active and member.id not in {r.id for r in recipients}:
            recipients.append(member)
    if assignee is None and request.escalation_level == Level.DEPARTMENT.value and request.department_id:
        recipients += [m for m in db.session.scalars(select(Staff).where(
            Staff.department_id == request.department_id, Staff.active.is_(True)))
            if m.id not in {r.id for r in recipients}]
    overdue_for = at - request.due_at
    text = (f"【督办】诉求{request.code}（{_summary(request)}）已超过办理时限"
            f"（{URGENCY_LABELS.get(request.urgency, request.urgency)}，{describe_limit(request.urgency)}，"
            f"应于{local_time_text(request.due_at)}前办结），当前状态：{STATUS_LABELS[request.status]}，"
            f"承办人：{assignee.name if assignee else '未派单'}。请尽快办理并回复居民。")
    alert = raise_alert(key=f"request:{request.id}:overdue", kind="overdue", community_id=request.community_id,
                        text=text, recipients=recipients,
                        related={"request_id": request.id, "code": request.code,
                                 "overdue_seconds": int(overdue_for.total_seconds())})
    request = db.session.get(ServiceRequest, request_id)
    if alert is not None:
        _event(request, None, "supervised", detail={"alert_id": alert.id, "recipients": [r.id for r in recipients]})
    if request.supervised_at is None:
        request.supervised_at = at
    db.session.commit()
    return alert


def sweep_overdue(*, limit: int = 500) -> int:
    """Backstop for lost jobs: supervise open requests past due that were not supervised yet."""
    at = clock_now()
    ids = db.session.scalars(select(ServiceRequest.id).where(
        ServiceRequest.status.in_(OPEN_STATUSES), ServiceRequest.due_at <= at,
        ServiceRequest.supervised_at.is_(None)).order_by(ServiceRequest.due_at).limit(limit)).all()
    raised = 0
    for request_id in ids:
        try:
            if supervise_overdue(request_id) is not None:
                raised += 1
        except Exception:  # noqa: BLE001 - one bad row must not stop the sweep for the others
            db.session.rollback()
            log.exception("supervising request %s failed", request_id)
    return raised


def close_unrated(*, limit: int = 500) -> int:
    """Close resolved requests whose 回访 went unanswered for LINLI_REQUEST_RATING_WAIT_DAYS days."""
    days = int(current_app.config.get("REQUEST_RATING_WAIT_DAYS") or 0)
    if days <= 0:
        return 0
    at = clock_now()
    rows = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.status == RequestStatus.RESOLVED.value,
        ServiceRequest.resolved_at <= at - timedelta(days=days)).order_by(ServiceRequest.resolved_at)
        .limit(limit)).all()
    for request in rows:
        _transition(request, None, "close", "closed", RequestStatus.CLOSED.value, (RequestStatus.RESOLVED.value,),
                    detail={"reason": "no_rating", "waited_days": days})
        request.closed_at = at
    db.session.commit()
    return len(rows)


# ---- the bot's handlers (ctx: app.handlers.conversation.ConversationContext) ------------------

MEDIA_TYPES = ("image", "voice", "video", "shortvideo", "location")


def _photos_of(message: Message | None) -> list[str]:
    """A photo reference from an image message: the picture URL (lasts), else the media id (3 days on WeChat)."""
    if message is None or message.msg_type != "image":
        return []
    media = message.media or {}
    ref = media.get("pic_url") or media.get("url") or media.get("media_id")
    return [str(ref)] if ref else []


def _already_followed(request: ServiceRequest, message_id: int) -> bool:
    return any((e.detail or {}).get("message_id") == message_id for e in db.session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == request.id, RequestEvent.kind == "follow_up")))


def join_follow_up(ctx):
    """For the router: a photo, voice or location a resident sends right after reporting joins that request.

    Returns a Reply, or None when the message is not media or there is no open
    request of theirs in this chat within LINLI_REQUEST_FOLLOWUP_SECONDS.
    """
    if ctx.resident is None or ctx.community_id is None or ctx.message.msg_type not in MEDIA_TYPES:
        return None
    chat_id = ctx.group.chat_id if ctx.group is not None else ctx.inbound.chat_id
    target = find_follow_up_target(resident_id=ctx.resident.id, channel=ctx.inbound.channel, chat_id=chat_id,
                                   at=ctx.now)
    if target is None:
        return None
    if not _already_followed(target, ctx.message.id):
        add_follow_up(target, text=ctx.inbound.text, actor=ctx.resident, message=ctx.message,
                      photos=_photos_of(ctx.message))
    what = "图片" if ctx.message.msg_type == "image" else "补充信息"
    return ctx.reply(f"已将{what}记入诉求（编号{target.code}）。", "requests.follow_up",
                     request_id=target.id, request_code=target.code, follow_up=True)


def handle_report(ctx):
    """report_issue: open a request (or add to the one this resident opened a moment ago) and start the clock."""
    u = ctx.understanding
    slots = dict(getattr(u, "slots", None) or {})
    if ctx.resident is None:
        return ctx.reply("工作人员的消息不登记为居民诉求。", "requests.report", skipped="not_a_resident")
    if ctx.community_id is None:
        return ctx.reply("抱歉，暂时无法确认您所在的社区。请在小区居民群里反映，或在小程序中选择您的社区后再提交。",
                         "requests.report", skipped="no_community")
    inbound = ctx.inbound
    text = (inbound.text or ctx.message.text or "").strip() or "（图片）"
    photos = _photos_of(ctx.message)
    chat_id = ctx.group.chat_id if ctx.group is not None else inbound.chat_id
    category = getattr(u, "category", None) if getattr(u, "category", None) in CATEGORIES else None
    existing = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.message_id == ctx.message.id)).first()
    target = existing or find_follow_up_target(resident_id=ctx.resident.id, channel=inbound.channel,
                                               chat_id=chat_id, at=ctx.now, category=category)
    if target is not None and existing is None:
        # Handling the same message twice must not add the same follow-up twice.
        if not _already_followed(target, ctx.message.id):
            add_follow_up(target, text=text, actor=ctx.resident, message=ctx.message, photos=photos)
        _start_clock(ctx, target)
        return ctx.reply(f"已将您的补充说明记入诉求（编号{target.code}），值班人员会一并处理。", "requests.follow_up",
                         request_id=target.id, request_code=target.code, follow_up=True)
    request = existing or create_request(
        community_id=ctx.community_id, text=text, category=category, resident=ctx.resident,
        building=slots.get("building"), unit=slots.get("unit"), room=slots.get("room"), message=ctx.message,
        group=ctx.group, chat_id=chat_id, channel=inbound.channel,
        reporter_channel_id=None if ctx.group is not None else inbound.sender_id, photos=photos, source="chat")
    _start_clock(ctx, request)
    return ctx.reply(f"已收到您的反映（编号{request.code}），值班人员会在{_reply_sla_text()}内答复。", "requests.report",
                     request_id=request.id, request_code=request.code)


def _start_clock(ctx, request: ServiceRequest) -> None:
    from app.handlers import sla
    sla.start_reply_clock(community_id=request.community_id, message_id=ctx.message.id, request_id=request.id,
                          group_id=request.group_id, resident_id=request.resident_id)


def latest_to_rate(resident_id: int) -> ServiceRequest | None:
    return db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.resident_id == resident_id, ServiceRequest.status == RequestStatus.RESOLVED.value)
        .order_by(ServiceRequest.resolved_at.desc(), ServiceRequest.id.desc()).limit(1)).first()


def _rated_reply(ctx, request: ServiceRequest, rating: str):
    if rating == "unsatisfied":
        text = f"很抱歉没有让您满意。诉求{request.code}已退回重新办理，工作人员会尽快联系您。"
    else:
        text = f"感谢您的评价（{RATING_LABELS[rating]}）！诉求{request.code}已完结。"
    return ctx.reply(text, "requests.rate", request_id=request.id, request_code=request.code, rating=rating)


def handle_rate(ctx):
    """rate: rate the resident's latest resolved request; without a rating, ask for one (flow "rate")."""
    request = latest_to_rate(ctx.resident.id) if ctx.resident is not None else None
    if request is None:
        return ctx.reply("您目前没有待评价的诉求。如需查询进度，请发送“查询进度”。", "requests.rate", nothing_to_rate=True)
    rating = (getattr(ctx.understanding, "slots", None) or {}).get("rating") or parse_rating(ctx.inbound.text)
    if rating not in RATINGS:
        ctx.start_flow("rate", request_id=request.id, attempts=0)
        return ctx.reply(f"请对诉求{request.code}（{request.title}）的处理结果进行评价，回复“满意”“基本满意”或“不满意”。",
                         "requests.rate", request_id=request.id, asked=True)
    rate(request, ctx.resident, rating=rating)
    return _rated_reply(ctx, request, rating)


def continue_rating(ctx):
    """The message after "请评价": it is the rating (or we ask once more, then give up)."""
    state = ctx.state or {}
    request = db.session.get(ServiceRequest, state.get("request_id")) if state.get("request_id") else None
    if request is None or ctx.resident is None or request.resident_id != ctx.resident.id \
            or request.status != RequestStatus.RESOLVED.value:
        ctx.end_flow()
        request = latest_to_rate(ctx.resident.id) if ctx.resident is not None else None
        if request is None:
            return ctx.reply("您目前没有待评价的诉求。", "requests.rate", nothing_to_rate=True)
    rating = (getattr(ctx.understanding, "slots", None) or {}).get("rating") or parse_rating(ctx.inbound.text)
    if rating not in RATINGS:
        attempts = int(state.get("attempts") or 0) + 1
        if attempts >= 2:
            ctx.end_flow()
            return ctx.reply("没有识别到您的评价。之后您随时可以回复“满意”“基本满意”或“不满意”进行评价。",
                             "requests.rate", request_id=request.id, gave_up=True)
        ctx.start_flow("rate", request_id=request.id, attempts=attempts)
        return ctx.reply("请回复“满意”“基本满意”或“不满意”。", "requests.rate", request_id=request.id, asked=True)
    ctx.end_flow()
    rate(request, ctx.resident, rating=rating)
    return _rated_reply(ctx, request, rating)


def progress_line(request: ServiceRequest, at: datetime) -> str:
    short = request.title if len(request.title) <= 14 else request.title[:13] + "…"
    line = f"诉求{request.code}「{short}」：{STATUS_LABELS.get(request.status, request.status)}"
    if request.status in OPEN_STATUSES:
        line += f"，应于{local_time_text(request.due_at)}前办结"
        if request.due_at <= at:
            line += "（已超期，已督办）" if request.supervised_at else "（已超期）"
    elif request.status == RequestStatus.RESOLVED.value:
        line += "，请回复“满意”“基本满意”或“不满意”评价"
    elif request.status == RequestStatus.MERGED.value and request.merged_into_id:
        into = db.session.get(ServiceRequest, request.merged_into_id)
        if into is not None:
            line += f"，已并入{into.code}一并办理（{STATUS_LABELS.get(into.status, into.status)}）"
    return line


def progress_lines(ctx) -> list[str]:
    """The resident's own requests: open ones first, then the last month's finished ones (at most 5)."""
    if ctx.resident is None:
        return []
    at = ctx.now or clock_now()
    rows = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.resident_id == ctx.resident.id,
        or_(ServiceRequest.status.in_(OPEN_STATUSES + (RequestStatus.RESOLVED.value,)),
            ServiceRequest.updated_at >= at - timedelta(days=30)))
        .order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc()).limit(20)).all()
    rows.sort(key=lambda r: (r.status not in OPEN_STATUSES + (RequestStatus.RESOLVED.value,), -r.id))
    return [progress_line(r, at) for r in rows[:5]]


# ---- views and statistics (used by the API) -------------------------------------------------

def event_view(row: RequestEvent, *, for_resident: bool = False) -> dict:
    detail = dict(row.detail or {})
    view = {"id": row.id, "at": _iso(row.at), "kind": row.kind, "label": EVENT_LABELS.get(row.kind, row.kind),
            "from_status": row.from_status, "to_status": row.to_status}
    if for_resident:
        text = None
        if row.kind in ("replied", "follow_up"):
            text = detail.get("text")
        elif row.kind == "resolved":
            text = detail.get("note")
        elif row.kind == "rejected":
            text = detail.get("reason")
        elif row.kind == "escalated":
            text = f"已上报{detail.get('department_name') or LEVEL_LABELS.get(detail.get('to_level'), '')}协调办理"
        elif row.kind == "dispatched":
            text = "已派给网格员办理" if detail.get("auto") else "已派给工作人员办理"
        elif row.kind == "rated":
            text = RATING_LABELS.get(detail.get("rating"))
        elif row.kind == "merged":
            text = f"已并入{detail.get('into_code')}一并办理"
        view["text"] = text
        return view
    view.update(actor_type=row.actor_type, actor_id=row.actor_id, detail=detail)
    return view


def timeline(request: ServiceRequest, *, for_resident: bool = False) -> list[dict]:
    rows = db.session.scalars(select(RequestEvent).where(RequestEvent.request_id == request.id)
                              .order_by(RequestEvent.id)).all()
    if for_resident:
        rows = [r for r in rows if r.kind in RESIDENT_EVENT_KINDS and not (r.detail or {}).get("seen_in_group")]
    return [event_view(r, for_resident=for_resident) for r in rows]


def request_stats(condition, *, start: datetime, end: datetime) -> dict:
    """响应率/解决率/满意率 and friends over requests created in [start, end) matching ``condition``.

    - response rate: first public staff reply within LINLI_REPLY_SLA_SECONDS of creation, over all
      requests except merged duplicates;
    - resolution rate: resolved (办结, rated or closed) over accepted requests (not rejected, not merged);
    - on-time rate: resolved by the deadline, over resolved;
    - satisfaction rate: latest rating 满意 or 基本满意, over rated requests;
    - solved at grid level: resolved while still at grid level (never escalated) — 就地解决.
    """
    sla = timedelta(seconds=int(current_app.config.get("REPLY_SLA_SECONDS") or 3600))
    rows = db.session.execute(select(
        ServiceRequest.id, ServiceRequest.category, ServiceRequest.status, ServiceRequest.created_at,
        ServiceRequest.first_reply_at,
        ServiceRequest.resolved_at, ServiceRequest.due_at, ServiceRequest.rating, ServiceRequest.resolved_level,
        ServiceRequest.escalation_level,
    ).where(condition, ServiceRequest.created_at >= start, ServiceRequest.created_at < end)).all()
    at = clock_now()
    escalated_ids = set(db.session.scalars(select(RequestEvent.request_id).join(
        ServiceRequest, ServiceRequest.id == RequestEvent.request_id).where(
        RequestEvent.kind == "escalated", condition, ServiceRequest.created_at >= start,
        ServiceRequest.created_at < end).distinct()))

    def summarise(items) -> dict:
        total = [r for r in items if r.status != RequestStatus.MERGED.value]
        accepted = [r for r in total if r.status != RequestStatus.REJECTED.value]
        responded = [r for r in total if r.first_reply_at is not None and r.first_reply_at - r.created_at <= sla]
        resolved = [r for r in accepted if r.status in DONE_STATUSES]
        on_time = [r for r in resolved if r.resolved_at is not None and r.resolved_at <= r.due_at]
        rated = [r for r in total if r.rating in RATINGS]
        satisfied = [r for r in rated if r.rating in ("satisfied", "basically")]
        by_level = {level: sum(1 for r in resolved if r.resolved_level == level) for level in LEVELS}

        def ratio(part, whole):
            return round(len(part) / len(whole), 4) if whole else None

        return {
            "total": len(total), "accepted": len(accepted), "rejected": len(total) - len(accepted),
            "merged": len(items) - len(total),
            "responded_in_time": len(responded), "response_rate": ratio(responded, total),
            "resolved": len(resolved), "resolution_rate": ratio(resolved, accepted),
            "resolved_on_time": len(on_time), "on_time_rate": ratio(on_time, resolved),
            "rated": len(rated), "satisfied": sum(1 for r in rated if r.rating == "satisfied"),
            "basically": sum(1 for r in rated if r.rating == "basically"),
            "unsatisfied": sum(1 for r in rated if r.rating == "unsatisfied"),
            "satisfaction_rate": ratio(satisfied, rated),
            "solved_at_grid_level": by_level[Level.GRID.value], "resolved_by_level": by_level,
            "escalated": sum(1 for r in accepted if r.id in escalated_ids),
            "open": sum(1 for r in accepted if r.status in OPEN_STATUSES),
            "overdue_open": sum(1 for r in accepted if r.status in OPEN_STATUSES and r.due_at <= at),
        }

    result = summarise(rows)
    result["per_category"] = [
        {"category": category, "label": CATEGORY_LABELS[category],
         **summarise([r for r in rows if r.category == category])}
        for category in CATEGORIES if any(r.category == category for r in rows)]
    return result


CHAT = ChatFeature(
    intents={"report_issue": handle_report, "rate": handle_rate},
    flows={"rate": continue_rating},
    progress=progress_lines,
    media=join_follow_up,
    staff_group_hook=acknowledge_by_staff_message,
)
