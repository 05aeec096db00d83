"""What the API shows of a request: the staff view, the resident's view, the timeline, statistics.

A resident's timeline leaves out internal steps (督办, the bot seeing staff in
the group); the staff detail shows the resident unmasked so the handler can call back.
"""
from __future__ import annotations

from sqlalchemy import select

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.requests.rules import EVENT_LABELS, RESIDENT_EVENT_KINDS, deadline_spec
from app.handlers.sla import clock_view
from app.localtime import iso
from app.models import Department, Grid, Resident, ResidentGroup, Staff
from app.models.requests import (
    CATEGORY_LABELS,
    LEVEL_LABELS,
    RATING_LABELS,
    STATUS_LABELS,
    URGENCY_LABELS,
    RequestEvent,
    RequestStatus,
    ServiceRequest,
)
from app.models.sla import ReplyClock
from app.workcal import is_provisional_deadline

# ---- the timeline ----------------------------------------------------------------------------

def _resident_text(kind: str, detail: dict) -> str | None:
    """The line a resident reads for one step of their request."""
    if kind in ("replied", "follow_up"):
        return detail.get("text")
    if kind == "resolved":
        return detail.get("note")
    if kind == "rejected":
        return detail.get("reason")
    if kind == "escalated":
        return f"已上报{detail.get('department_name') or LEVEL_LABELS.get(detail.get('to_level'), '')}协调办理"
    if kind == "dispatched":
        return "已派给网格员办理" if detail.get("auto") else "已派给工作人员办理"
    if kind == "rated":
        return RATING_LABELS.get(detail.get("rating"))
    if kind == "merged":
        return f"已并入{detail.get('into_code')}一并办理"
    return None


def timeline_entry_view(row: RequestEvent, *, for_resident: bool = False) -> dict:
    detail = dict(row.detail or {})
    view = {"id": row.id, "at": iso(row.at), "kind": row.kind, "label": EVENT_LABELS.get(row.kind, row.kind),
            "from_status": row.from_status, "to_status": row.to_status}
    if for_resident:
        view["text"] = _resident_text(row.kind, detail)
        view["photos"] = list(detail.get("photos") or []) if row.kind == "resolved" else []
        return view
    view.update(actor_type=row.actor_type, actor_id=row.actor_id, detail=detail)
    return view


def timeline(request: ServiceRequest, *, for_resident: bool = False) -> list[dict]:
    rows = db.session.scalars(select(RequestEvent).where(RequestEvent.request_id == request.id)
                              .order_by(RequestEvent.id)).all()
    if for_resident:
        rows = [r for r in rows if r.kind in RESIDENT_EVENT_KINDS and not (r.detail or {}).get("seen_in_group")]
    return [timeline_entry_view(r, for_resident=for_resident) for r in rows]


# ---- the request -----------------------------------------------------------------------------

def _staff_brief(staff_id: int | None) -> dict | None:
    member = db.session.get(Staff, staff_id) if staff_id else None
    return member.public_view() if member is not None else None


def _named(model, row_id: int | None, *fields: str) -> dict | None:
    row = db.session.get(model, row_id) if row_id else None
    return {name: getattr(row, name) for name in ("id", *fields)} if row is not None else None


def resolution_photos(row: ServiceRequest) -> list[str]:
    """The photos of the work from the latest 办结 (a reopened and resolved again request shows the new ones)."""
    if row.resolved_at is None:
        return []
    event = db.session.scalars(select(RequestEvent).where(
        RequestEvent.request_id == row.id, RequestEvent.kind == "resolved").order_by(RequestEvent.id.desc())).first()
    return list((event.detail or {}).get("photos") or []) if event is not None else []


def _reply_clock(row: ServiceRequest) -> dict | None:
    clock = db.session.scalars(select(ReplyClock).where(ReplyClock.request_id == row.id)).first()
    return clock_view(clock) if clock is not None else None


def due_provisional(row: ServiceRequest) -> bool:
    """An open working-day deadline counted over a year whose holiday notice is not loaded yet."""
    unit = deadline_spec().get(row.urgency, (0, "d"))[1]
    return unit == "d" and row.is_open and is_provisional_deadline(row.created_at, row.due_at)


def staff_request_view(row: ServiceRequest, *, detail: bool = False) -> dict:
    at = clock_now()
    resident = db.session.get(Resident, row.resident_id) if row.resident_id else None
    view = {
        "id": row.id, "code": row.code, "community_id": row.community_id,
        "status": row.status, "status_label": STATUS_LABELS.get(row.status, row.status),
        "category": row.category, "category_label": CATEGORY_LABELS.get(row.category, row.category),
        "urgency": row.urgency, "urgency_label": URGENCY_LABELS.get(row.urgency, row.urgency),
        "title": row.title, "text": row.text, "location": row.location, "building_id": row.building_id,
        "unit": row.unit, "room": row.room, "grid_id": row.grid_id, "group_id": row.group_id,
        "channel": row.channel, "photos": list(row.photos or []),
        "assignee": _staff_brief(row.assignee_id),
        "escalation_level": row.escalation_level, "level_label": LEVEL_LABELS.get(row.escalation_level),
        "department_id": row.department_id,
        "due_at": iso(row.due_at), "due_provisional": due_provisional(row), "overdue": row.is_overdue(at),
        "seconds_to_due": int((row.due_at - at).total_seconds()) if row.is_open else None,
        "supervised_at": iso(row.supervised_at), "first_reply_at": iso(row.first_reply_at),
        "resolved_at": iso(row.resolved_at), "resolution_note": row.resolution_note,
        "resolution_photos": resolution_photos(row),
        "rating": row.rating, "rating_label": RATING_LABELS.get(row.rating) if row.rating else None,
        "rating_comment": row.rating_comment, "merged_into_id": row.merged_into_id,
        "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
        "resident": ({"id": resident.id, "name": resident.display_name} if resident is not None else None),
    }
    if not detail:
        return view
    # The staff detail shows the resident in full (phone unmasked) so the handler can call back.
    view["resident"] = resident.staff_view() if resident is not None else None
    view["group"] = _named(ResidentGroup, row.group_id, "name", "channel")
    view["grid"] = _named(Grid, row.grid_id, "name")
    view["department"] = _named(Department, row.department_id, "name")
    view["merged_into"] = _named(ServiceRequest, row.merged_into_id, "code")
    view["reply_clock"] = _reply_clock(row)
    view["timeline"] = timeline(row)
    return view


def resident_request_view(row: ServiceRequest) -> dict:
    resident = db.session.get(Resident, row.resident_id) if row.resident_id else None
    merged_into = db.session.get(ServiceRequest, row.merged_into_id) if row.merged_into_id else None
    return {
        "id": row.id, "code": row.code, "status": row.status,
        "status_label": STATUS_LABELS.get(row.status, row.status),
        "category": row.category, "category_label": CATEGORY_LABELS.get(row.category, row.category),
        "title": row.title, "text": row.text, "location": row.location, "photos": list(row.photos or []),
        "due_at": iso(row.due_at), "due_provisional": due_provisional(row), "overdue": row.is_overdue(clock_now()),
        "created_at": iso(row.created_at), "resolved_at": iso(row.resolved_at),
        "resolution_note": row.resolution_note, "resolution_photos": resolution_photos(row), "rating": row.rating,
        "can_rate": row.status == RequestStatus.RESOLVED.value,
        "merged_into": {"code": merged_into.code} if merged_into is not None else None,
        # Residents see themselves masked too: these views end up in screenshots and shared phones.
        "reporter": resident.public_view() if resident is not None else None,
        "progress": timeline(row, for_resident=True),
    }
