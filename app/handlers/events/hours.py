"""Volunteer hours, in the two kinds the practice keeps apart ("whoever organises records", 谁组织谁记录).

``checkin`` hours are credited automatically at check-out from the time between
check-in and check-out (rounded down to ``LINLI_EVENT_HOURS_ROUNDING_MINUTES``, capped at
the hours the event credits); ``admin`` hours are entered by the organiser. Each entry
names the staff member who recorded it. Entries are append-only; a correction is a
negative admin entry with a note.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.audit import record
from app.handlers.events.audience import membership
from app.handlers.events.errors import refusal
from app.handlers.events.text import format_when
from app.handlers.events.volunteers import current_year, member_view, project_ids_arg, text_field
from app.localtime import iso, local_date, to_local
from app.models import Staff
from app.models.events import Event, Signup, SignupStatus
from app.models.volunteers import HoursEntry, HoursKind, MemberKind, MemberProject, PartyMember, VolunteerProject

MAX_ENTRY_MINUTES = 24 * 60


def as_hours(minutes: int) -> float:
    return round(minutes / 60, 2)


def credit_checkin_hours(event: Event, signup: Signup, staff: Staff) -> HoursEntry | None:
    """At check-out: credit the member the time served (caller commits). None when nothing is due."""
    member = db.session.get(PartyMember, signup.member_id) if signup.member_id else None
    if member is None and signup.resident_id is not None:
        member = membership(event.community_id, signup.resident_id)
        if member is not None:
            signup.member_id = member.id
    if member is None or not event.volunteer_minutes or signup.checked_in_at is None or signup.checked_out_at is None:
        return None
    step = current_app.config["EVENT_HOURS_ROUNDING_MINUTES"]
    served = int((signup.checked_out_at - signup.checked_in_at).total_seconds() // 60)
    minutes = min((served // step) * step, event.volunteer_minutes)
    if minutes <= 0:
        return None
    served_on = local_date(event.starts_at)
    entry = HoursEntry(member_id=member.id, community_id=event.community_id, event_id=event.id, signup_id=signup.id,
                       project_id=event.project_id, kind=HoursKind.CHECKIN.value, minutes=minutes,
                       served_on=served_on, year=served_on.year, recorded_by_staff_id=staff.id,
                       note=f"签到 {to_local(signup.checked_in_at):%H:%M}–签退 {to_local(signup.checked_out_at):%H:%M}",
                       created_at=clock_now())
    db.session.add(entry)
    return entry


def _entry_minutes(hours: Any) -> int:
    if isinstance(hours, bool) or not isinstance(hours, (int, float)):
        raise refusal("请填写时长（小时，可以是小数）", "invalid", 400, field="hours")
    # Bound the hours before converting: 1e308 hours in minutes is infinite and round() raises.
    minutes = round(hours * 60) if abs(hours) * 60 <= MAX_ENTRY_MINUTES else MAX_ENTRY_MINUTES + 1
    if minutes == 0 or abs(minutes) > MAX_ENTRY_MINUTES:
        raise refusal("时长必须在 -24 到 24 小时之间且不为0", "invalid", 400, field="hours")
    return minutes


def _served_on(raw: Any) -> date:
    today = local_date(clock_now())
    if raw is None:
        return today
    try:
        served_on = date.fromisoformat(str(raw))
    except ValueError:
        raise refusal("服务日期格式应为 YYYY-MM-DD", "invalid", 400, field="served_on") from None
    if served_on > today:
        raise refusal("服务日期不能是将来", "invalid", 400, field="served_on")
    return served_on


def _event_and_project(member: PartyMember, event_id: Any, project_id: Any) -> int | None:
    """The project the hours count for: given, or the event's."""
    if event_id is not None:
        event = db.session.get(Event, event_id) if isinstance(event_id, int) and not isinstance(event_id, bool) else None
        if event is None or event.community_id != member.community_id:
            raise refusal("没有找到这个活动", "not_found", 404, field="event_id")
        project_id = project_id if project_id is not None else event.project_id
    if project_id is not None:
        project_ids_arg(member.community_id, [project_id])
    return project_id


def record_admin_hours(member: PartyMember, staff: Staff, data: dict[str, Any]) -> HoursEntry:
    """Hours entered by the organiser. Negative hours correct earlier entries and need a note."""
    minutes = _entry_minutes(data.get("hours"))
    note = text_field(data.get("note"), "note", "备注", required=minutes < 0, max_length=500)
    served_on = _served_on(data.get("served_on"))
    event_id = data.get("event_id")
    project_id = _event_and_project(member, event_id, data.get("project_id"))
    if not member.active:
        raise refusal("该成员已停用", "inactive")
    if minutes < 0:
        total = minutes_in_year(member.id, served_on.year)
        if total + minutes < 0:
            raise refusal(f"更正后全年时长不能为负（当前{total / 60:g}小时）", "negative_total", field="hours")
    entry = HoursEntry(member_id=member.id, community_id=member.community_id, event_id=event_id,
                       project_id=project_id, kind=HoursKind.ADMIN.value, minutes=minutes, served_on=served_on,
                       year=served_on.year, recorded_by_staff_id=staff.id, note=note, created_at=clock_now())
    db.session.add(entry)
    db.session.flush()
    record("staff", staff.id, "hours.admin", entry, community_id=member.community_id,
           detail={"member_id": member.id, "minutes": minutes})
    db.session.commit()
    return entry


def minutes_in_year(member_id: int, year: int, kind: str | None = None) -> int:
    statement = select(func.coalesce(func.sum(HoursEntry.minutes), 0)).where(
        HoursEntry.member_id == member_id, HoursEntry.year == year)
    if kind:
        statement = statement.where(HoursEntry.kind == kind)
    return int(db.session.scalar(statement) or 0)


def hours_view(entry: HoursEntry) -> dict[str, Any]:
    event = db.session.get(Event, entry.event_id) if entry.event_id else None
    staff = db.session.get(Staff, entry.recorded_by_staff_id) if entry.recorded_by_staff_id else None
    return {"id": entry.id, "member_id": entry.member_id, "kind": entry.kind, "hours": entry.hours,
            "minutes": entry.minutes, "served_on": entry.served_on.isoformat(), "year": entry.year,
            "event_id": entry.event_id, "event_title": event.title if event else None,
            "project_id": entry.project_id, "note": entry.note,
            "recorded_by": {"id": staff.id, "name": staff.name} if staff else None,
            "created_at": iso(entry.created_at)}


def _year_projects(member: PartyMember, year: int, entries: list[HoursEntry]) -> list[dict[str, Any]]:
    """The projects chosen for the year, and those served in (with hours) though not chosen."""
    projects: dict[int, dict[str, Any]] = {}
    for row in db.session.scalars(select(MemberProject).where(
            MemberProject.member_id == member.id, MemberProject.year == year)):
        project = db.session.get(VolunteerProject, row.project_id)
        projects[project.id] = {"id": project.id, "name": project.name, "chosen": True, "served": False}
    for entry in entries:
        if entry.project_id is not None and entry.minutes > 0:
            if entry.project_id not in projects:
                project = db.session.get(VolunteerProject, entry.project_id)
                projects[project.id] = {"id": project.id, "name": project.name, "chosen": False, "served": False}
            projects[entry.project_id]["served"] = True
    return list(projects.values())


def _events_attended(member: PartyMember, year: int) -> list[dict[str, Any]]:
    attended = db.session.execute(
        select(Signup, Event).join(Event, Event.id == Signup.event_id).where(
            Signup.member_id == member.id, Signup.status == SignupStatus.ATTENDED.value)
        .order_by(Event.starts_at)).all()
    return [{"event_id": e.id, "title": e.title, "when": format_when(e), "signup_id": s.id}
            for s, e in attended if to_local(e.starts_at).year == year]


def member_year(member: PartyMember, year: int | None = None) -> dict[str, Any]:
    """Projects joined and hours against the yearly target."""
    year = year or current_year()
    target = current_app.config["VOLUNTEER_TARGET_HOURS"]
    entries = db.session.scalars(select(HoursEntry).where(
        HoursEntry.member_id == member.id, HoursEntry.year == year).order_by(HoursEntry.served_on, HoursEntry.id)).all()
    checkin = sum(e.minutes for e in entries if e.kind == HoursKind.CHECKIN.value)
    admin = sum(e.minutes for e in entries if e.kind == HoursKind.ADMIN.value)
    total = checkin + admin
    projects = _year_projects(member, year, entries)
    met_hours = total >= target * 60
    met_projects = len(projects) >= 1
    return {
        "member": member_view(member), "year": year, "target_hours": target,
        "hours": as_hours(total), "hours_checkin": as_hours(checkin), "hours_admin": as_hours(admin),
        "hours_remaining": as_hours(max(target * 60 - total, 0)),
        "met_hours": met_hours, "projects": projects, "met_projects": met_projects,
        "met_target": (met_hours and met_projects) if member.kind == MemberKind.PARTY.value else None,
        "events_attended": _events_attended(member, year), "entries": [hours_view(e) for e in entries],
    }
