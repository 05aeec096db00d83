"""Proxy-handling cases (代办件): 限时办理, 明确专人, 公开进度.

After the visit a booking becomes a case (or staff open one for a walk-in):
submitted → forwarded (to the department) → approved | rejected → done, each
step recorded with who and when in the append-only ``CaseEvent`` timeline. A
named staff member is responsible; the deadline is the end of the item's N-th
working day after submission on the Chinese working-day calendar (调休 included).
A periodic sweep (workers/proxy.py) raises a supervision alert, once, for every
case still open after its deadline. How cases are shown is app/handlers/proxy/views.py.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.clock import now as clock_now
from app.database import begin_write_transaction
from app.extensions import db
from app.handlers.alerts import raise_alert
from app.handlers.audit import record
from app.handlers.proxy.common import HANDLING_ROLES, new_code
from app.handlers.proxy.errors import CaseError
from app.handlers.proxy.targets import message_target
from app.handlers.sla.roster import community_admins
from app.localtime import to_local, zone_name
from app.models import Resident, Staff
from app.models.masking import mask_name
from app.models.proxy import (
    CASE_STATUS_LABELS,
    CASE_TRANSITIONS,
    Booking,
    Case,
    CaseEvent,
    CaseStatus,
    ServiceItem,
)
from app.workcal import load_calendar

log = logging.getLogger(__name__)

def deadline_for(item: ServiceItem, start: datetime) -> datetime:
    """End of the item's N-th working day after ``start`` (same day's end for a 0-day item)."""
    return load_calendar().deadline(start, item.time_limit_workdays, zone_name())


def check_handler(staff: Staff, community_id: int, field: str = "staff_id") -> Staff:
    """A staff member who may be responsible for a case in this community."""
    if staff is None or not staff.active:
        raise CaseError("unknown_staff", "找不到该工作人员或已离岗", status=400, field=field)
    if staff.community_id != community_id:
        raise CaseError("wrong_community", "该工作人员不属于本社区", status=400, field=field)
    if not staff.has_role(*HANDLING_ROLES):
        raise CaseError("wrong_role", "该工作人员没有经办代办事项的角色", status=400, field=field)
    return staff


def record_event(case: Case, action: str, *, staff: Staff | None, from_status: str | None, to_status: str | None,
                 note: str | None = None, detail: dict[str, Any] | None = None,
                 at: datetime | None = None) -> CaseEvent:
    """Add a step to the case's append-only timeline (the caller commits)."""
    event = CaseEvent(case_id=case.id, at=at or clock_now(), action=action, from_status=from_status,
                      to_status=to_status, staff_id=staff.id if staff else None, note=note, detail=detail)
    db.session.add(event)
    return event


def create_case(*, community_id: int, item: ServiceItem, resident_id: int, responsible: Staff,
                actor: Staff | None, booking: Booking | None = None, note: str | None = None,
                commit: bool = True) -> Case:
    """Open a case (status submitted) with its deadline; the booking's code is reused so the
    resident follows one number from booking to result."""
    if item.community_id != community_id:
        raise CaseError("wrong_community", "该事项不属于本社区", field="service_item_id")
    check_handler(responsible, community_id, "responsible_staff_id")
    if note is not None and len(note) > 500:
        raise CaseError("invalid", "备注最多500字", field="note")
    moment = clock_now()
    begin_write_transaction(db.session)
    for attempt in range(5):
        code = booking.code if booking is not None and attempt == 0 else new_code()
        case = Case(community_id=community_id, booking_id=booking.id if booking else None,
                    service_item_id=item.id, resident_id=resident_id, code=code,
                    status=CaseStatus.SUBMITTED.value, responsible_staff_id=responsible.id,
                    department=item.department, due_at=deadline_for(item, moment), note=note,
                    created_at=moment, updated_at=moment)
        try:
            with db.session.begin_nested():
                db.session.add(case)
                db.session.flush()
        except IntegrityError:
            if booking is not None and db.session.scalars(
                    select(Case.id).where(Case.booking_id == booking.id)).first() is not None:
                raise CaseError("exists", "该预约已转为代办件", status=409) from None
            continue  # code collision: draw another
        break
    else:  # pragma: no cover - 32^6 codes
        raise CaseError("busy", "生成编号失败，请重试", status=503)
    record_event(case, "created", staff=actor, from_status=None, to_status=case.status, note=note,
           detail={"responsible_staff_id": responsible.id, "due_at": case.due_at.isoformat(),
                   "booking_id": booking.id if booking else None}, at=moment)
    record("staff" if actor else "system", actor.id if actor else None, "proxy_case.created", case,
           community_id=community_id, detail={"item": item.key, "responsible_staff_id": responsible.id})
    if commit:
        db.session.commit()
    return case


def transition(case: Case, to_status: str, *, staff: Staff | None, note: str | None = None,
               department: str | None = None, commit: bool = True) -> Case:
    """Move a case along submitted → forwarded → approved|rejected → done; tells the resident."""
    if to_status not in CASE_STATUS_LABELS:
        raise CaseError("invalid", f"未知状态 {to_status}（可用：{', '.join(CASE_STATUS_LABELS)}）", field="status")
    allowed = CASE_TRANSITIONS[case.status]
    if to_status not in allowed:
        nexts = "、".join(CASE_STATUS_LABELS[s] for s in sorted(allowed)) or "无（已办结）"
        raise CaseError("bad_transition", f"当前状态为“{CASE_STATUS_LABELS[case.status]}”，不能改为"
                                          f"“{CASE_STATUS_LABELS[to_status]}”；可改为：{nexts}",
                        status=409, field="status")
    if to_status == CaseStatus.REJECTED.value and not (note and note.strip()):
        raise CaseError("invalid", "未通过时必须填写原因（note）", field="note")
    if note is not None and len(note) > 500:
        raise CaseError("invalid", "备注最多500字", field="note")
    if department is not None and len(department) > 100:
        raise CaseError("invalid", "部门名称最多100字", field="department")
    moment = clock_now()
    before = case.status
    case.status = to_status
    case.updated_at = moment
    if note:
        case.note = note.strip()
    if to_status == CaseStatus.FORWARDED.value:
        case.forwarded_at = moment
        if department:
            case.department = department.strip()
    elif to_status in (CaseStatus.APPROVED.value, CaseStatus.REJECTED.value):
        case.decided_at = moment
    elif to_status == CaseStatus.DONE.value:
        case.done_at = moment
    record_event(case, to_status, staff=staff, from_status=before, to_status=to_status, note=note,
           detail={"department": case.department} if to_status == CaseStatus.FORWARDED.value else None, at=moment)
    record("staff" if staff else "system", staff.id if staff else None, f"proxy_case.{to_status}", case,
           community_id=case.community_id, detail={"from": before, "note": note})
    if commit:
        db.session.commit()
        if to_status in (CaseStatus.APPROVED.value, CaseStatus.REJECTED.value, CaseStatus.DONE.value):
            notify_resident(case)
    return case


def assign(case: Case, to_staff: Staff, *, staff: Staff | None, note: str | None = None,
           commit: bool = True) -> Case:
    """Hand the case to another named staff member (交接)."""
    check_handler(to_staff, case.community_id, "staff_id")
    if case.status == CaseStatus.DONE.value:
        raise CaseError("bad_transition", "已办结的代办件不能再交接", status=409)
    if to_staff.id == case.responsible_staff_id:
        return case
    before = case.responsible_staff_id
    case.responsible_staff_id = to_staff.id
    case.updated_at = clock_now()
    record_event(case, "assigned", staff=staff, from_status=case.status, to_status=case.status, note=note,
           detail={"from_staff_id": before, "to_staff_id": to_staff.id})
    record("staff" if staff else "system", staff.id if staff else None, "proxy_case.assigned", case,
           community_id=case.community_id, detail={"from": before, "to": to_staff.id})
    if commit:
        db.session.commit()
    return case


# ---- reading ----------------------------------------------------------------------------------------

def is_overdue(case: Case, at: datetime | None = None) -> bool:
    return case.status != CaseStatus.DONE.value and (at or clock_now()) > case.due_at


def timeline(case: Case) -> list[CaseEvent]:
    return list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


def public_feed_query(community_id: int, *, include_done_days: int = 30, status: str | None = None):
    """Open cases plus those done in the last ``include_done_days`` days, newest activity first."""
    since = clock_now() - timedelta(days=include_done_days)
    statement = select(Case).where(Case.community_id == community_id).where(
        (Case.status != CaseStatus.DONE.value) | (Case.done_at >= since))
    if status:
        statement = statement.where(Case.status == status)
    return statement.order_by(Case.updated_at.desc(), Case.id.desc())


def counts(community_id: int) -> dict[str, int]:
    rows = db.session.execute(select(Case.status, func.count()).where(Case.community_id == community_id)
                              .group_by(Case.status)).all()
    out = {status: 0 for status in CASE_STATUS_LABELS}
    out.update({status: n for status, n in rows})
    overdue = db.session.scalar(select(func.count()).select_from(Case).where(
        Case.community_id == community_id, Case.status != CaseStatus.DONE.value, Case.due_at < clock_now()))
    out["overdue"] = overdue or 0
    return out


def resident_cases(resident_id: int, *, item_id: int | None = None, recent_days: int = 30) -> list[Case]:
    since = clock_now() - timedelta(days=recent_days)
    statement = select(Case).where(Case.resident_id == resident_id).where(
        (Case.status != CaseStatus.DONE.value) | (Case.done_at >= since))
    if item_id is not None:
        statement = statement.where(Case.service_item_id == item_id)
    return list(db.session.scalars(statement.order_by(Case.created_at.desc())))


def notify_resident(case: Case) -> None:
    """Tell the resident their case was decided or finished, where we can reach them."""
    booking = db.session.get(Booking, case.booking_id) if case.booking_id else None
    resident = db.session.get(Resident, case.resident_id)
    target = message_target(resident, booking)
    if target is None:
        return
    texts = {
        CaseStatus.APPROVED.value: f"您代办的“{case.service_item.name}”（编号{case.code}）已审批通过，正在办理结果，办结后会再通知您。",
        CaseStatus.REJECTED.value: f"您代办的“{case.service_item.name}”（编号{case.code}）未通过"
                                   f"{f'：{case.note}' if case.note else ''}。如有疑问请到代办站咨询。",
        CaseStatus.DONE.value: f"您代办的“{case.service_item.name}”（编号{case.code}）已办结。感谢您的耐心等待！",
    }
    text = texts.get(case.status)
    if not text:
        return
    try:
        target.send(text, idempotency_key=f"proxy:case:{case.id}:{case.status}", community_id=case.community_id)
    except Exception:  # noqa: BLE001 - a failed notice must not undo the recorded transition
        log.exception("could not queue the case notice for case %s", case.id)


# ---- overdue supervision ------------------------------------------------------------------------

def overdue_cases(at: datetime | None = None, limit: int = 500) -> list[Case]:
    at = at or clock_now()
    return list(db.session.scalars(select(Case).where(
        Case.status != CaseStatus.DONE.value, Case.due_at < at).order_by(Case.due_at).limit(limit)))


def sweep_overdue(at: datetime | None = None) -> int:
    """Raise one supervision alert per overdue case (key case:<id>:overdue); returns alerts raised."""
    at = at or clock_now()
    raised = 0
    for case in overdue_cases(at):
        responsible = db.session.get(Staff, case.responsible_staff_id)
        resident = db.session.get(Resident, case.resident_id)
        admins = community_admins(case.community_id)
        recipients = ([responsible] if responsible and responsible.active else []) + \
            [a for a in admins if not responsible or a.id != responsible.id]
        due = to_local(case.due_at)
        text = (f"【代办超时督办】{case.service_item.name}（编号{case.code}，居民"
                f"{mask_name(resident.display_name) if resident else '未知'}）已超过办理时限"
                f"（{due.month}月{due.day}日），当前状态：{CASE_STATUS_LABELS[case.status]}，"
                f"负责人：{responsible.name if responsible else '未指定'}。请尽快办理并更新进度。")
        alert = raise_alert(key=f"case:{case.id}:overdue", kind="overdue", community_id=case.community_id,
                            text=text, recipients=recipients,
                            related={"case_id": case.id, "code": case.code, "due_at": case.due_at.isoformat()},
                            roles={**{a.id: "admin" for a in admins},
                                   **({responsible.id: "responsible"} if responsible else {})})
        if alert is not None:
            case.overdue_alerted_at = at
            record_event(case, "overdue", staff=None, from_status=case.status, to_status=case.status,
                   note="超过办理时限，已通知负责人和社区管理员督办", at=at)
            db.session.commit()
            raised += 1
    return raised
