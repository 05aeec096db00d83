"""How bookings, stations and cases are shown: the API's JSON views and the resident's progress line."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.handlers.proxy.cases import is_overdue, timeline
from app.handlers.proxy.common import WEEKDAY_LABELS
from app.handlers.proxy.stations import upcoming_closures
from app.localtime import iso, local_date, to_local
from app.models import Resident, Staff
from app.models.masking import mask_name
from app.models.proxy import (
    BOOKING_STATUS_LABELS,
    CASE_STATUS_LABELS,
    CASE_TRANSITIONS,
    Booking,
    Case,
    CaseEvent,
    CaseStatus,
    Station,
)
from app.workcal import is_provisional_deadline

# ---- bookings and stations -------------------------------------------------------------------------

def booking_view(booking: Booking, *, staff: bool = False) -> dict[str, Any]:
    station = booking.station
    view = {
        "id": booking.id, "code": booking.code, "status": booking.status,
        "status_label": BOOKING_STATUS_LABELS[booking.status],
        "service_item": {"id": booking.service_item.id, "key": booking.service_item.key,
                         "name": booking.service_item.name, "materials": list(booking.service_item.materials or [])},
        "station": {"id": station.id, "name": station.name, "address": station.address},
        "slot_start": iso(booking.slot_start), "slot_end": iso(booking.slot_end),
        "created_at": iso(booking.created_at), "cancelled_at": iso(booking.cancelled_at),
        "checked_in_at": iso(booking.checked_in_at), "completed_at": iso(booking.completed_at),
        "reschedule_count": booking.reschedule_count,
    }
    case = db.session.scalars(select(Case).where(Case.booking_id == booking.id)).first()
    view["case_code"] = case.code if case else None
    if staff:
        resident = db.session.get(Resident, booking.resident_id)
        handed = db.session.get(Staff, booking.handed_over_to_staff_id) if booking.handed_over_to_staff_id else None
        view.update({
            "resident": resident.staff_view() if resident else None, "source": booking.source,
            "note": booking.note, "cancel_reason": booking.cancel_reason, "cancelled_by": booking.cancelled_by,
            "no_show_at": iso(booking.no_show_at), "handed_over_to": handed.public_view() if handed else None,
            "handed_over_at": iso(booking.handed_over_at), "case_id": case.id if case else None,
            "reminded_day_before_at": iso(booking.reminded_day_before_at),
            "reminded_hour_before_at": iso(booking.reminded_hour_before_at),
        })
    return view
def station_view(station: Station, *, closures: bool = True) -> dict[str, Any]:
    view = {
        "id": station.id, "community_id": station.community_id, "name": station.name,
        "address": station.address, "phone": station.phone, "slot_minutes": station.slot_minutes,
        "capacity": station.capacity, "active": station.active,
        "hours": [{"weekday": h.weekday, "weekday_label": WEEKDAY_LABELS[h.weekday],
                   "opens": f"{h.opens:%H:%M}", "closes": f"{h.closes:%H:%M}", "capacity": h.capacity}
                  for h in station.hours],
    }
    if closures:
        view["closures"] = [{"date": c.day.isoformat(), "reason": c.reason} for c in upcoming_closures(station)]
    return view
# ---- cases ------------------------------------------------------------------------------------------

def _local_day(moment: datetime | None) -> str | None:
    return local_date(moment).isoformat() if moment else None


def due_provisional(case: Case) -> bool:
    """An open case's deadline counted over a year whose holiday notice is not loaded yet."""
    return case.status != CaseStatus.DONE.value and is_provisional_deadline(case.created_at, case.due_at)


def case_view(case: Case, *, events: bool = False) -> dict[str, Any]:
    """The staff view (resident unmasked: the staff API only)."""
    resident = db.session.get(Resident, case.resident_id)
    responsible = db.session.get(Staff, case.responsible_staff_id)
    view = {
        "id": case.id, "code": case.code, "community_id": case.community_id, "booking_id": case.booking_id,
        "service_item": {"id": case.service_item.id, "key": case.service_item.key, "name": case.service_item.name},
        "resident": resident.staff_view() if resident else None,
        "status": case.status, "status_label": CASE_STATUS_LABELS[case.status],
        "responsible": responsible.public_view() if responsible else None,
        "department": case.department, "due_at": iso(case.due_at), "due_provisional": due_provisional(case),
        "overdue": is_overdue(case),
        "created_at": iso(case.created_at), "forwarded_at": iso(case.forwarded_at),
        "decided_at": iso(case.decided_at), "done_at": iso(case.done_at), "updated_at": iso(case.updated_at),
        "note": case.note, "next": sorted(CASE_TRANSITIONS[case.status]),
    }
    if events:
        view["events"] = [event_view(e) for e in timeline(case)]
    return view

def event_view(event: CaseEvent, *, public: bool = False) -> dict[str, Any]:
    staff = db.session.get(Staff, event.staff_id) if event.staff_id else None
    view = {"at": iso(event.at), "action": event.action, "from_status": event.from_status,
            "to_status": event.to_status,
            "status_label": CASE_STATUS_LABELS.get(event.to_status) if event.to_status else None,
            "staff": staff.name if staff else None}
    if not public:
        view["note"] = event.note
        view["detail"] = event.detail
    return view


def public_view(case: Case) -> dict[str, Any]:
    """For the progress board (督办墙): names masked, no ids of people, no notes."""
    resident = db.session.get(Resident, case.resident_id)
    responsible = db.session.get(Staff, case.responsible_staff_id)
    return {
        "code": case.code, "item": case.service_item.name, "item_key": case.service_item.key,
        "resident": mask_name(resident.display_name) if resident else None,
        "status": case.status, "status_label": CASE_STATUS_LABELS[case.status],
        "responsible": responsible.name if responsible else None,
        "department": case.department, "submitted_at": iso(case.created_at), "due_date": _local_day(case.due_at),
        "due_provisional": due_provisional(case), "overdue": is_overdue(case), "done_at": iso(case.done_at),
        "steps": [event_view(e, public=True) for e in timeline(case)
                  if e.action in CASE_STATUS_LABELS or e.action == "created"],
    }

def progress_text(case: Case) -> str:
    """One line for "我的尊老金办到哪了"."""
    responsible = db.session.get(Staff, case.responsible_staff_id)
    due = to_local(case.due_at)
    who = f"负责人：{responsible.name}" if responsible else ""
    item = case.service_item.name
    if case.status == CaseStatus.SUBMITTED.value:
        state = "已受理，正在审核材料"
    elif case.status == CaseStatus.FORWARDED.value:
        state = f"已转交{case.department or '承办部门'}审批"
    elif case.status == CaseStatus.APPROVED.value:
        state = "审批已通过，正在办理结果"
    elif case.status == CaseStatus.REJECTED.value:
        state = f"未通过{f'（{case.note}）' if case.note else ''}"
    else:
        done = to_local(case.done_at) if case.done_at else None
        return f"{item}（编号{case.code}）：已办结{f'（{done.month}月{done.day}日）' if done else ''}。"
    deadline = f"限{due.month}月{due.day}日前办结"
    if is_overdue(case):
        deadline += "（已超时，社区正在督办）"
    return f"{item}（编号{case.code}）：{state}；{who}，{deadline}。"
