"""Console pages of the front desk: today's proxy-handling bookings and open cases (代办), and
events with their sign-ups, waiting list and check-in by code.

Scoped and role-checked as the API (app/api/proxy.py, app/api/events.py): the staff
member's community; the handling roles for the desk, the door staff for check-in.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.clock import now
from app.errors import DomainError, NotFound
from app.extensions import db
from app.handlers.events import capacity, checkin, views
from app.handlers.events import text as event_text
from app.handlers.proxy import cases
from app.handlers.proxy import desk as proxy_desk
from app.handlers.proxy.common import HANDLING_ROLES
from app.localtime import to_local
from app.models import Resident, Role, Staff
from app.models.events import Event, Signup
from app.models.proxy import CASE_STATUS_LABELS, CASE_TRANSITIONS, Booking, Case, CaseStatus, Station
from app.web.filters import people_message
from app.web.login import current_staff, staff_required
from app.web.support import form_choice, form_text, parse_id, protect

bp = protect(Blueprint("web_desk", __name__, url_prefix="/console"))

DOOR_STAFF = (Role.COMMUNITY_ADMIN.value, Role.DUTY.value, Role.GRID_WORKER.value, Role.GRID_LEADER.value)
BOOKING_LABELS = {"confirmed": "已预约", "checked_in": "已到场", "no_show": "未到", "completed": "已办理",
                  "cancelled": "已取消", "handed_over": "已转交"}
SIGNUP_LABELS = {"confirmed": "已报名", "waiting": "候补", "attended": "已签到", "absent": "缺席", "cancelled": "已取消"}


def _refusal(exc: DomainError) -> tuple[str, int]:
    db.session.rollback()
    return people_message(exc.message), exc.status


def _desk_context(staff: Staff, error: str | None = None, typed: dict | None = None) -> dict:
    today = to_local(now()).date()
    stations = db.session.scalars(select(Station).where(Station.community_id == staff.community_id)
                                  .order_by(Station.id)).all()
    day = [(station, proxy_desk.station_bookings(station, today)) for station in stations]
    open_cases = db.session.scalars(select(Case).where(Case.community_id == staff.community_id,
                                                       Case.status != CaseStatus.DONE.value)
                                    .order_by(Case.due_at, Case.id).limit(100)).all()
    residents = {r.id: r for r in db.session.scalars(select(Resident).where(Resident.id.in_(
        {b.resident_id for _, rows in day for b in rows} | {c.resident_id for c in open_cases})))}
    return {"day": day, "today": today, "cases": open_cases, "residents": residents, "error": error, "at": now(),
            "typed": typed or {},
            "booking_labels": BOOKING_LABELS, "case_labels": CASE_STATUS_LABELS, "transitions": CASE_TRANSITIONS}


@bp.get("/desk")
@staff_required(*HANDLING_ROLES)
def desk():
    return render_template("console/desk.html", **_desk_context(current_staff()))


@bp.post("/desk/bookings/<int(max=9223372036854775807):booking_id>/<action>")
@staff_required(*HANDLING_ROLES)
def booking_action(booking_id: int, action: str):
    staff = current_staff()
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.community_id != staff.community_id or \
            action not in ("check-in", "no-show", "complete"):
        raise NotFound("没有这个预约")
    try:
        if action == "check-in":
            proxy_desk.check_in(booking, staff=staff)
            message = f"预约 {booking.code} 已签到。"
        elif action == "no-show":
            proxy_desk.mark_no_show(booking, staff=staff)
            message = f"预约 {booking.code} 已记为未到。"
        else:
            case = proxy_desk.complete(booking, staff=staff,
                                     note=form_text("note", label="备注", max_length=500, required=False))
            message = f"材料已收下，代办件 {case.code} 已受理。"
    except DomainError as exc:
        text, status = _refusal(exc)
        return render_template("console/desk.html", **_desk_context(staff, text)), status
    flash(message, "ok")
    return redirect(url_for("web_desk.desk"))


@bp.post("/desk/cases/<int(max=9223372036854775807):case_id>")
@staff_required(*HANDLING_ROLES)
def case_transition(case_id: int):
    staff = current_staff()
    case = db.session.get(Case, case_id)
    if case is None or case.community_id != staff.community_id:
        raise NotFound("没有这个代办件")
    try:
        status = form_choice("status", CASE_STATUS_LABELS, label="下一步")
        cases.transition(case, status, staff=staff,
                         note=form_text("note", label="说明", max_length=500, required=status == "rejected"))
    except DomainError as exc:
        text, status = _refusal(exc)
        typed = {"case_id": case_id, "status": request.form.get("status", ""), "note": request.form.get("note", "")}
        return render_template("console/desk.html", **_desk_context(staff, text, typed)), status
    flash(f"代办件 {case.code}：{CASE_STATUS_LABELS[case.status]}。", "ok")
    return redirect(url_for("web_desk.desk"))


def _events_context(staff: Staff, *, error: str | None = None, typed: dict | None = None) -> dict:
    upcoming = views.upcoming_events(staff.community_id, limit=20)
    counters, waiting = capacity.counts_for([e.id for e in upcoming])
    signups = {}
    for event in upcoming:
        rows = db.session.scalars(select(Signup).where(Signup.event_id == event.id)
                                  .order_by(Signup.status, Signup.position, Signup.id)).all()
        signups[event.id] = rows
    residents = {r.id: r for r in db.session.scalars(select(Resident).where(Resident.id.in_(
        {s.resident_id for rows in signups.values() for s in rows if s.resident_id})))}
    return {"events": upcoming, "counters": counters, "waiting": waiting, "signups": signups, "residents": residents,
            "labels": SIGNUP_LABELS, "error": error, "typed": typed or {}, "when": event_text.format_when}


@bp.get("/events")
@staff_required(*DOOR_STAFF)
def events_page():
    return render_template("console/events.html", **_events_context(current_staff()))


@bp.post("/events/<int(max=9223372036854775807):event_id>/checkin")
@staff_required(*DOOR_STAFF)
def event_checkin(event_id: int):
    staff = current_staff()
    event = db.session.get(Event, event_id)
    if event is None or event.community_id != staff.community_id:
        raise NotFound("没有找到这个活动")
    typed = {"event_id": event_id, "code": request.form.get("code", "")}
    try:
        signup_id = parse_id(request.form.get("signup_id"), label="报名", name="signup_id", required=False)
        code = None if signup_id else form_text("code", label="签到码", max_length=500)
        result = checkin.check_in(event, staff, code=code, signup_id=signup_id)
    except DomainError as exc:
        text, status = _refusal(exc)
        return render_template("console/events.html", **_events_context(staff, error=text, typed=typed)), status
    flash("已签到（重复扫码只记一次）。" if result.replay else "签到成功。", "ok")
    return redirect(url_for("web_desk.events_page"))
