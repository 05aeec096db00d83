"""The closed loop after intake: 响应 → 派单 → 处置 → 吹哨 → 办结 → 回访, and the side exits.

Lifecycle::

    received ─reply→ acknowledged ─dispatch→ dispatched ─start→ in_progress ─resolve→ resolved
        │                  (escalate: grid → community → street → department, back to dispatched)
        └── reject → rejected, merge → merged                 resolved ─rate→ rated → closed
                                                               rated (不满意) → in_progress (reopened)

Every change goes through ``timeline.transition`` and commits; messages to the
reporter and to staff are queued after the commit (app.handlers.requests.notify).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.clock import now as clock_now
from app.errors import Conflict, ValidationError
from app.extensions import db
from app.handlers.requests.notify import (
    community_admins,
    notify_staff,
    send_to_reporter,
    stop_reply_clocks,
    summary_line,
)
from app.handlers.requests.rules import (
    MAX_PHOTOS,
    URGENCIES,
    check_category,
    clean_text,
    compute_due_at,
    urgency_for,
)
from app.handlers.requests.supervision import cancel_overdue_check, schedule_overdue_check
from app.handlers.requests.timeline import record_event, require_status, transition
from app.localtime import format_local, iso
from app.models import Community, Message, Role, Staff
from app.models.requests import (
    OPEN_STATUSES,
    RATINGS,
    STATUS_LABELS,
    Level,
    RequestEvent,
    RequestStatus,
    ServiceRequest,
)

__all__ = ["acknowledge", "acknowledge_by_staff_message", "dispatch", "grid_worker_for", "merge",
           "rate", "reclassify", "reject", "reopen", "reply_publicly", "resolve", "start"]


def _staff_or_none(actor: Any) -> Staff | None:
    return actor if isinstance(actor, Staff) else None


# ---- answering -------------------------------------------------------------------------------

def acknowledge(request: ServiceRequest, staff: Staff | None, *, at: datetime | None = None) -> bool:
    """received → acknowledged on the first public staff reply (the bot's own receipt does not count)."""
    at = at or clock_now()
    if request.first_reply_at is None:
        request.first_reply_at = at
    if request.status != RequestStatus.RECEIVED.value:
        return False
    transition(request, staff, "acknowledge", "acknowledged", RequestStatus.ACKNOWLEDGED.value,
               (RequestStatus.RECEIVED.value,))
    return True


def reply_publicly(request: ServiceRequest, staff: Staff, text: str) -> Message | None:
    """A staff reply posted where the resident asked (their group, else 1:1); stops the reply clock."""
    text = clean_text(text, "text", 1000, label="回复内容")
    if request.status == RequestStatus.MERGED.value:
        target = db.session.get(ServiceRequest, request.merged_into_id)
        raise Conflict(f"诉求{request.code}已合并到{target.code if target else '其他诉求'}，请在该诉求下回复",
                       code="invalid_transition", extra={"status": request.status})
    at = clock_now()
    outbound = send_to_reporter(request, f"【{request.code}】{text}",
                                f"request:{request.id}:reply:{uuid.uuid4().hex}", staff_id=staff.id)
    record_event(request, staff, "replied", at=at, detail={
        "text": text, "message_id": outbound.id if outbound else None,
        "to": (outbound.handling or {}).get("recipient_kind") if outbound else None,
        "staff_name": staff.name})
    acknowledge(request, staff, at=at)
    db.session.commit()
    stop_reply_clocks(request, staff, outbound, at)
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
        record_event(request, staff, "replied", at=at, detail={"message_id": message_id, "seen_in_group": True,
                                                                "staff_name": staff.name if staff else None})
        acknowledge(request, staff, at=at)
    db.session.commit()
    return list(rows)


# ---- handling --------------------------------------------------------------------------------

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
    note = clean_text(note, "note", 500, label="派单说明", required=False)
    require_status(request, "dispatch", OPEN_STATUSES)
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
    row = transition(request, actor, "dispatch", "dispatched", RequestStatus.DISPATCHED.value, OPEN_STATUSES,
                     detail={"assignee_id": staff.id, "assignee_name": staff.name, "auto": auto, "note": note,
                             "previous_assignee_id": previous})
    db.session.commit()
    notify_staff([staff], f"【派单】诉求{request.code}（{summary_line(request)}）已派给您，请于{format_local(request.due_at)}前办结。"
                 + (f"说明：{note}" if note else ""), f"request:{request.id}:dispatch:{row.id}", request)
    return request


def start(request: ServiceRequest, actor: Any) -> ServiceRequest:
    if request.assignee_id is None and isinstance(actor, Staff):
        request.assignee_id = actor.id
    transition(request, actor, "start", "started", RequestStatus.IN_PROGRESS.value,
               (RequestStatus.RECEIVED.value, RequestStatus.ACKNOWLEDGED.value, RequestStatus.DISPATCHED.value),
               detail={"assignee_id": request.assignee_id})
    db.session.commit()
    return request


def resolve(request: ServiceRequest, actor: Any, *, note: str, photos: list[str] | None = None) -> ServiceRequest:
    """办结 with a note (and up to 9 photos of the work, kept on the "resolved" step); the resident is
    then asked to rate it (回访)."""
    note = clean_text(note, "note", 1000, label="办结说明")
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise ValidationError(f"照片最多{MAX_PHOTOS}张 (at most {MAX_PHOTOS} photos)", field="photos")
    at = clock_now()
    if request.assignee_id is None and isinstance(actor, Staff):
        request.assignee_id = actor.id
    row = transition(request, actor, "resolve", "resolved", RequestStatus.RESOLVED.value, OPEN_STATUSES,
                     detail={"note": note, "level": request.escalation_level, **({"photos": photos} if photos else {})})
    request.resolved_at = at
    request.resolution_note = note
    request.resolved_level = request.escalation_level
    db.session.commit()
    cancel_overdue_check(request)
    visit = send_to_reporter(
        request, f"您反映的问题（编号{request.code}）已办结：{note}\n请回复“满意”“基本满意”或“不满意”对处理结果进行评价。",
        f"request:{request.id}:visit:{row.id}", staff_id=actor.id if isinstance(actor, Staff) else None)
    record_event(request, None, "rating_requested", detail={"message_id": visit.id if visit else None,
                                                            "delivered": visit is not None})
    db.session.commit()
    return request


# ---- 回访 and reopening ----------------------------------------------------------------------

def rate(request: ServiceRequest, actor: Any, *, rating: str, comment: str | None = None) -> ServiceRequest:
    """回访: 满意/基本满意 close it; 不满意 reopens it (back to in progress with the same assignee)."""
    if rating not in RATINGS:
        raise ValidationError(f"评价无效 (rating one of {', '.join(RATINGS)})", field="rating")
    comment = clean_text(comment, "comment", 500, label="评价留言", required=False)
    transition(request, actor, "rate", "rated", RequestStatus.RATED.value, (RequestStatus.RESOLVED.value,),
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
        notify_staff([assignee, *community_admins(request.community_id)],
                     f"【重新办理】诉求{request.code}（{summary_line(request)}）居民评价不满意"
                     + (f"：{comment}" if comment else "") + "，已退回重新办理。",
                     f"request:{request.id}:reopened:{row.id}", request)
        return request
    transition(request, actor, "close", "closed", RequestStatus.CLOSED.value, (RequestStatus.RATED.value,),
               detail={"reason": "rated"})
    request.closed_at = at
    db.session.commit()
    return request


def _reopen(request: ServiceRequest, actor: Any, reason: str, *, at: datetime) -> RequestEvent:
    """Back to in progress with the same assignee and the original deadline (a reopened case is not a new one)."""
    row = transition(request, actor, "reopen", "reopened", RequestStatus.IN_PROGRESS.value,
                     (RequestStatus.RESOLVED.value, RequestStatus.RATED.value, RequestStatus.CLOSED.value),
                     detail={"reason": reason})
    request.resolved_at = None
    request.resolved_level = None
    request.closed_at = None
    return row


def reopen(request: ServiceRequest, actor: Any, *, reason: str) -> ServiceRequest:
    reason = clean_text(reason, "reason", 500, label="重新办理原因")
    _reopen(request, actor, reason, at=clock_now())
    db.session.commit()
    schedule_overdue_check(request)
    return request


# ---- side exits and corrections --------------------------------------------------------------

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
    transition(request, actor, "merge", "merged", RequestStatus.MERGED.value, OPEN_STATUSES,
               detail={"into_id": into.id, "into_code": into.code})
    request.merged_into_id = into.id
    record_event(into, actor, "merged_from", at=at, detail={"from_id": request.id, "from_code": request.code,
                                                            "resident_id": request.resident_id})
    if request.first_reply_at is None:
        request.first_reply_at = at
    db.session.commit()
    cancel_overdue_check(request)
    notice = send_to_reporter(
        request, f"您反映的问题（编号{request.code}）与编号{into.code}为同一事项，已合并办理，进展请查询{into.code}。",
        f"request:{request.id}:merged", staff_id=actor.id if isinstance(actor, Staff) else None)
    stop_reply_clocks(request, _staff_or_none(actor), notice, at)
    return request


def reject(request: ServiceRequest, actor: Any, *, reason: str) -> ServiceRequest:
    """不予受理 with a reason the resident is told."""
    reason = clean_text(reason, "reason", 500, label="不予受理原因")
    at = clock_now()
    transition(request, actor, "reject", "rejected", RequestStatus.REJECTED.value, OPEN_STATUSES,
               detail={"reason": reason})
    request.closed_at = at
    if request.first_reply_at is None:
        request.first_reply_at = at
    db.session.commit()
    cancel_overdue_check(request)
    community = db.session.get(Community, request.community_id)
    contact = f"如有疑问请联系社区（{community.phone}）。" if community is not None and community.phone else "如有疑问请联系社区。"
    notice = send_to_reporter(request, f"您反映的问题（编号{request.code}）不予受理：{reason}。{contact}",
                              f"request:{request.id}:rejected",
                              staff_id=actor.id if isinstance(actor, Staff) else None)
    stop_reply_clocks(request, _staff_or_none(actor), notice, at)
    return request


def reclassify(request: ServiceRequest, actor: Any, *, category: str | None = None,
               urgency: str | None = None) -> ServiceRequest:
    """Correct the category or deadline class (the bot can be wrong); the deadline is recomputed from creation."""
    check_category(category)
    if urgency is not None and urgency not in URGENCIES:
        raise ValidationError(f"时限类别无效 (urgency one of {', '.join(URGENCIES)})", field="urgency")
    if category is None and urgency is None:
        raise ValidationError("请提供 category 或 urgency (nothing to change)", field="category")
    require_status(request, "reclassify", OPEN_STATUSES)
    new_category = category or request.category
    new_urgency = urgency or (urgency_for(new_category) if category else request.urgency)
    due_at = compute_due_at(request.created_at, new_urgency)
    record_event(request, actor, "reclassified", detail={
        "from_category": request.category, "to_category": new_category, "from_urgency": request.urgency,
        "to_urgency": new_urgency, "from_due_at": iso(request.due_at), "to_due_at": iso(due_at)})
    request.category, request.urgency, request.due_at = new_category, new_urgency, due_at
    db.session.commit()
    schedule_overdue_check(request)
    return request
