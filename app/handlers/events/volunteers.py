"""Volunteer service and 双报到: the member registry, projects, hours, each member's year,
the community report and its .xlsx export, and micro-wishes (微心愿).

Hours have two kinds, kept apart as the practice requires ("whoever organises records",
谁组织谁记录): ``checkin`` hours are credited automatically at check-out from the time
between check-in and check-out (rounded down, capped at the hours the event credits);
``admin`` hours are entered by the organiser. Each entry names the staff member who
recorded it. Entries are append-only; a correction is a negative admin entry with a note.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.audit import record
from app.handlers.events import format_when, refusal, to_local
from app.models import Community, Resident, Staff
from app.models.events import (
    Event,
    EventStatus,
    HoursEntry,
    HoursKind,
    MemberKind,
    MemberProject,
    MicroWish,
    PartyMember,
    Signup,
    SignupStatus,
    VolunteerProject,
    WishStatus,
)
from app.models.masking import mask_name

PHONE = re.compile(r"^1\d{10}$")
MAX_ENTRY_MINUTES = 24 * 60


# ---- the member registry --------------------------------------------------------------------

def _text(value: Any, name: str, label: str, *, required: bool, max_length: int) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise refusal(f"请填写{label}", "invalid", 400, field=name)
        return None
    if not isinstance(value, str):
        raise refusal(f"{label}格式不对", "invalid", 400, field=name)
    value = value.strip()
    if len(value) > max_length:
        raise refusal(f"{label}过长（最多{max_length}字）", "invalid", 400, field=name)
    return value


def _member_values(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    kind = data.get("kind", None if partial else MemberKind.PARTY.value)
    if kind is not None:
        # A list or object is not a kind either (and is unhashable: a set lookup would raise).
        if not isinstance(kind, str) or kind not in {k.value for k in MemberKind}:
            raise refusal("成员类型无效，可选：party（在职党员）, volunteer（志愿者）", "invalid", 400, field="kind")
        values["kind"] = kind
    party = (kind or MemberKind.PARTY.value) == MemberKind.PARTY.value
    for name, label, required, max_length in (("name", "姓名", True, 100), ("work_unit", "工作单位", party, 200),
                                             ("party_org", "所在党组织", party, 200), ("phone", "手机号", False, 30)):
        if partial and name not in data:
            continue
        values[name] = _text(data.get(name), name, label, required=required, max_length=max_length)
    if values.get("phone") is not None:
        phone = re.sub(r"[\s-]", "", values["phone"])
        if not PHONE.match(phone):
            raise refusal("手机号应为11位数字", "invalid", 400, field="phone")
        values["phone"] = phone
    return values


def member_for_resident(community_id: int, resident_id: int) -> PartyMember | None:
    return db.session.scalars(select(PartyMember).where(
        PartyMember.community_id == community_id, PartyMember.resident_id == resident_id)).first()


def register_member(community_id: int, data: dict[str, Any], *, resident: Resident | None = None,
                    staff: Staff | None = None) -> tuple[PartyMember, bool]:
    """Register (or, for a resident already registered, update) a member. Returns (member, created)."""
    values = _member_values(data, partial=False)
    project_ids = _project_ids(community_id, data.get("project_ids"))
    year = _year_arg(data.get("year"))
    member = member_for_resident(community_id, resident.id) if resident is not None else None
    created = member is None
    if member is None:
        member = PartyMember(community_id=community_id, resident_id=resident.id if resident else None,
                             registered_at=clock_now(), registered_by_staff_id=staff.id if staff else None,
                             active=True, **values)
        db.session.add(member)
    else:
        for name, value in values.items():
            setattr(member, name, value)
        member.active = True
    try:
        db.session.flush()
        for project_id in project_ids:
            _add_project(member, project_id, year)
        record("staff" if staff else "resident", staff.id if staff else (resident.id if resident else None),
               "member.register" if created else "member.update", member, community_id=community_id,
               detail={"kind": member.kind, "projects": project_ids})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise refusal("该手机号已在本社区登记", "duplicate_phone", field="phone") from None
    return member, created


def update_member(member: PartyMember, data: dict[str, Any], staff: Staff) -> PartyMember:
    values = _member_values(data, partial=True)
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise refusal("active 必须是 true 或 false", "invalid", 400, field="active")
        values["active"] = data["active"]
    for name, value in values.items():
        setattr(member, name, value)
    try:
        record("staff", staff.id, "member.update", member, community_id=member.community_id,
               detail={"fields": sorted(values)})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise refusal("该手机号已在本社区登记", "duplicate_phone", field="phone") from None
    return member


def _year_arg(value: Any) -> int:
    if value is None:
        return current_year()
    if isinstance(value, bool) or not isinstance(value, int) or not 2000 <= value <= 2100:
        raise refusal("年份无效", "invalid", 400, field="year")
    return value


def current_year() -> int:
    return to_local(clock_now()).year


def _project_ids(community_id: int, raw: Any) -> list[int]:
    if raw is None:
        return []
    if not isinstance(raw, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in raw):
        raise refusal("project_ids 必须是项目编号列表", "invalid", 400, field="project_ids")
    for project_id in raw:
        project = db.session.get(VolunteerProject, project_id)
        if project is None or project.community_id != community_id or not project.active:
            raise refusal(f"没有找到志愿服务项目 {project_id}", "not_found", 404, field="project_ids")
    return list(dict.fromkeys(raw))


def _add_project(member: PartyMember, project_id: int, year: int) -> MemberProject:
    existing = db.session.scalars(select(MemberProject).where(
        MemberProject.member_id == member.id, MemberProject.project_id == project_id,
        MemberProject.year == year)).first()
    if existing is not None:
        return existing
    row = MemberProject(member_id=member.id, project_id=project_id, year=year, joined_at=clock_now())
    db.session.add(row)
    db.session.flush()
    return row


def choose_projects(member: PartyMember, project_ids: Any, year: Any = None, *,
                    actor: tuple[str, int | None]) -> list[MemberProject]:
    ids = _project_ids(member.community_id, project_ids)
    if not ids:
        raise refusal("请选择至少一个志愿服务项目", "invalid", 400, field="project_ids")
    the_year = _year_arg(year)
    rows = [_add_project(member, project_id, the_year) for project_id in ids]
    record(actor[0], actor[1], "member.projects", member, community_id=member.community_id,
           detail={"projects": ids, "year": the_year})
    db.session.commit()
    return rows


def create_project(community_id: int, data: dict[str, Any], staff: Staff) -> VolunteerProject:
    name = _text(data.get("name"), "name", "项目名称", required=True, max_length=100)
    description = _text(data.get("description"), "description", "项目说明", required=False, max_length=2000)
    project = VolunteerProject(community_id=community_id, name=name, description=description, active=True)
    db.session.add(project)
    try:
        db.session.flush()
        record("staff", staff.id, "project.create", project, community_id=community_id)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise refusal("已有同名的志愿服务项目", "duplicate", field="name") from None
    return project


def member_view(member: PartyMember, *, for_staff: bool = True) -> dict[str, Any]:
    from app.localtime import iso
    view = {"id": member.id, "community_id": member.community_id, "resident_id": member.resident_id,
            "kind": member.kind, "name": member.name if for_staff else mask_name(member.name),
            "work_unit": member.work_unit, "party_org": member.party_org,
            "registered_at": iso(member.registered_at), "active": member.active}
    if for_staff:
        view["phone"] = member.phone
    return view


# ---- hours ----------------------------------------------------------------------------------

def _local_date(value: datetime) -> date:
    return to_local(value).date()


def credit_checkin_hours(event: Event, signup: Signup, staff: Staff) -> HoursEntry | None:
    """At check-out: credit the member the time served (caller commits). None when nothing is due."""
    member = db.session.get(PartyMember, signup.member_id) if signup.member_id else None
    if member is None and signup.resident_id is not None:
        from app.handlers.events import membership
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
    served_on = _local_date(event.starts_at)
    entry = HoursEntry(member_id=member.id, community_id=event.community_id, event_id=event.id, signup_id=signup.id,
                       project_id=event.project_id, kind=HoursKind.CHECKIN.value, minutes=minutes,
                       served_on=served_on, year=served_on.year, recorded_by_staff_id=staff.id,
                       note=f"签到 {to_local(signup.checked_in_at):%H:%M}–签退 {to_local(signup.checked_out_at):%H:%M}",
                       created_at=clock_now())
    db.session.add(entry)
    return entry


def record_admin_hours(member: PartyMember, staff: Staff, data: dict[str, Any]) -> HoursEntry:
    """Hours entered by the organiser. Negative hours correct earlier entries and need a note."""
    hours = data.get("hours")
    if isinstance(hours, bool) or not isinstance(hours, (int, float)):
        raise refusal("请填写时长（小时，可以是小数）", "invalid", 400, field="hours")
    # Bound the hours before converting: 1e308 hours in minutes is infinite and round() raises.
    minutes = round(hours * 60) if abs(hours) * 60 <= MAX_ENTRY_MINUTES else MAX_ENTRY_MINUTES + 1
    if minutes == 0 or abs(minutes) > MAX_ENTRY_MINUTES:
        raise refusal("时长必须在 -24 到 24 小时之间且不为0", "invalid", 400, field="hours")
    note = _text(data.get("note"), "note", "备注", required=minutes < 0, max_length=500)
    served_raw = data.get("served_on")
    today = _local_date(clock_now())
    if served_raw is None:
        served_on = today
    else:
        try:
            served_on = date.fromisoformat(str(served_raw))
        except ValueError:
            raise refusal("服务日期格式应为 YYYY-MM-DD", "invalid", 400, field="served_on") from None
    if served_on > today:
        raise refusal("服务日期不能是将来", "invalid", 400, field="served_on")
    event_id = data.get("event_id")
    project_id = data.get("project_id")
    if event_id is not None:
        event = db.session.get(Event, event_id) if isinstance(event_id, int) and not isinstance(event_id, bool) else None
        if event is None or event.community_id != member.community_id:
            raise refusal("没有找到这个活动", "not_found", 404, field="event_id")
        project_id = project_id if project_id is not None else event.project_id
    if project_id is not None:
        _project_ids(member.community_id, [project_id])
    if not member.active:
        raise refusal("该成员已停用", "inactive")
    if minutes < 0:
        total = _minutes(member.id, served_on.year)
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


def _minutes(member_id: int, year: int, kind: str | None = None) -> int:
    statement = select(func.coalesce(func.sum(HoursEntry.minutes), 0)).where(
        HoursEntry.member_id == member_id, HoursEntry.year == year)
    if kind:
        statement = statement.where(HoursEntry.kind == kind)
    return int(db.session.scalar(statement) or 0)


def hours_view(entry: HoursEntry) -> dict[str, Any]:
    from app.localtime import iso
    event = db.session.get(Event, entry.event_id) if entry.event_id else None
    staff = db.session.get(Staff, entry.recorded_by_staff_id) if entry.recorded_by_staff_id else None
    return {"id": entry.id, "member_id": entry.member_id, "kind": entry.kind, "hours": entry.hours,
            "minutes": entry.minutes, "served_on": entry.served_on.isoformat(), "year": entry.year,
            "event_id": entry.event_id, "event_title": event.title if event else None,
            "project_id": entry.project_id, "note": entry.note,
            "recorded_by": {"id": staff.id, "name": staff.name} if staff else None,
            "created_at": iso(entry.created_at)}


def _hours(minutes: int) -> float:
    return round(minutes / 60, 2)


def member_year(member: PartyMember, year: int | None = None) -> dict[str, Any]:
    """Projects joined and hours against the yearly target."""
    year = year or current_year()
    target = current_app.config["VOLUNTEER_TARGET_HOURS"]
    entries = db.session.scalars(select(HoursEntry).where(
        HoursEntry.member_id == member.id, HoursEntry.year == year).order_by(HoursEntry.served_on, HoursEntry.id)).all()
    checkin = sum(e.minutes for e in entries if e.kind == HoursKind.CHECKIN.value)
    admin = sum(e.minutes for e in entries if e.kind == HoursKind.ADMIN.value)
    total = checkin + admin
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
    attended = db.session.execute(
        select(Signup, Event).join(Event, Event.id == Signup.event_id).where(
            Signup.member_id == member.id, Signup.status == SignupStatus.ATTENDED.value)
        .order_by(Event.starts_at)).all()
    events = [{"event_id": e.id, "title": e.title, "when": format_when(e), "signup_id": s.id}
              for s, e in attended if to_local(e.starts_at).year == year]
    is_party = member.kind == MemberKind.PARTY.value
    met_hours = total >= target * 60
    met_projects = len(projects) >= 1
    return {
        "member": member_view(member), "year": year, "target_hours": target,
        "hours": _hours(total), "hours_checkin": _hours(checkin), "hours_admin": _hours(admin),
        "hours_remaining": _hours(max(target * 60 - total, 0)),
        "met_hours": met_hours, "projects": list(projects.values()), "met_projects": met_projects,
        "met_target": (met_hours and met_projects) if is_party else None,
        "events_attended": events, "entries": [hours_view(e) for e in entries],
    }


# ---- the community report and export --------------------------------------------------------

@dataclass
class ReportRow:
    member: PartyMember
    checkin: int
    admin: int
    projects: list[str]

    @property
    def total(self) -> int:
        return self.checkin + self.admin


def _report_rows(community_id: int, year: int) -> list[ReportRow]:
    members = db.session.scalars(select(PartyMember).where(PartyMember.community_id == community_id)
                                 .order_by(PartyMember.kind, PartyMember.id)).all()
    sums = db.session.execute(select(HoursEntry.member_id, HoursEntry.kind, func.sum(HoursEntry.minutes)).where(
        HoursEntry.community_id == community_id, HoursEntry.year == year)
        .group_by(HoursEntry.member_id, HoursEntry.kind)).all()
    minutes: dict[tuple[int, str], int] = {(m, k): int(v or 0) for m, k, v in sums}
    chosen = db.session.execute(select(MemberProject.member_id, VolunteerProject.name).join(
        VolunteerProject, VolunteerProject.id == MemberProject.project_id).where(
        MemberProject.year == year, VolunteerProject.community_id == community_id)).all()
    served = db.session.execute(select(HoursEntry.member_id, VolunteerProject.name).join(
        VolunteerProject, VolunteerProject.id == HoursEntry.project_id).where(
        HoursEntry.year == year, HoursEntry.community_id == community_id, HoursEntry.minutes > 0)).all()
    names: dict[int, list[str]] = {}
    for member_id, name in [*chosen, *served]:
        bucket = names.setdefault(member_id, [])
        if name not in bucket:
            bucket.append(name)
    rows = []
    for member in members:
        has_hours = (member.id, HoursKind.CHECKIN.value) in minutes or (member.id, HoursKind.ADMIN.value) in minutes
        if not member.active and not has_hours:
            continue
        rows.append(ReportRow(member, minutes.get((member.id, HoursKind.CHECKIN.value), 0),
                              minutes.get((member.id, HoursKind.ADMIN.value), 0), names.get(member.id, [])))
    return rows


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    from app.handlers.events import local_zone
    zone = local_zone()
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def community_report(community: Community, year: int) -> dict[str, Any]:
    target = current_app.config["VOLUNTEER_TARGET_HOURS"]
    rows = _report_rows(community.id, year)
    start, end = _year_bounds(year)
    events = db.session.scalars(select(Event).where(
        Event.community_id == community.id, Event.starts_at >= start, Event.starts_at < end,
        Event.status == EventStatus.PUBLISHED.value).order_by(Event.starts_at)).all()
    event_ids = [e.id for e in events]
    by_status: dict[tuple[int, str], int] = {}
    if event_ids:
        for event_id, status, count in db.session.execute(
                select(Signup.event_id, Signup.status, func.count()).where(Signup.event_id.in_(event_ids))
                .group_by(Signup.event_id, Signup.status)).all():
            by_status[(event_id, status)] = count
    moment = clock_now()
    event_rows = []
    for event in events:
        confirmed = by_status.get((event.id, SignupStatus.CONFIRMED.value), 0)
        attended = by_status.get((event.id, SignupStatus.ATTENDED.value), 0)
        absent = by_status.get((event.id, SignupStatus.ABSENT.value), 0)
        event_rows.append({
            "event_id": event.id, "title": event.title, "kind": event.kind, "when": format_when(event),
            "date": to_local(event.starts_at).date().isoformat(), "capacity": event.capacity,
            "signed_up": confirmed + attended + absent, "attended": attended,
            "waiting": by_status.get((event.id, SignupStatus.WAITING.value), 0),
            "cancelled": by_status.get((event.id, SignupStatus.CANCELLED.value), 0),
            "held": event.ends_at <= moment, "volunteer_hours": event.volunteer_hours})
    party = [r for r in rows if r.member.kind == MemberKind.PARTY.value]
    met = [r for r in party if r.total >= target * 60 and r.projects]
    return {
        "community": {"id": community.id, "name": community.name}, "year": year, "target_hours": target,
        "party_members": len(party), "volunteers": len(rows) - len(party),
        "party_members_met_target": len(met),
        "hours": _hours(sum(r.total for r in rows)),
        "hours_checkin": _hours(sum(r.checkin for r in rows)), "hours_admin": _hours(sum(r.admin for r in rows)),
        "events": len(events), "events_held": sum(1 for e in event_rows if e["held"]),
        "attendances": sum(e["attended"] for e in event_rows),
        "members": [{
            "member_id": r.member.id, "name": r.member.name, "kind": r.member.kind, "phone": r.member.phone,
            "work_unit": r.member.work_unit, "party_org": r.member.party_org,
            "hours": _hours(r.total), "hours_checkin": _hours(r.checkin), "hours_admin": _hours(r.admin),
            "projects": r.projects,
            "met_target": (r.total >= target * 60 and bool(r.projects)) if r.member.kind == MemberKind.PARTY.value
            else None,
        } for r in rows],
        "event_rows": event_rows,
    }


KIND_LABELS = {"party": "在职党员", "volunteer": "志愿者"}
HOURS_KIND_LABELS = {"checkin": "签到签退", "admin": "管理员录入"}
# What a worksheet cell cannot hold (openpyxl raises IllegalCharacterError, saving fails on a surrogate).
# Names and notes also arrive from chats and imports, so the export drops them instead of failing.
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _append(sheet, row: list) -> None:
    sheet.append([_XLSX_ILLEGAL.sub("", v) if isinstance(v, str) else v for v in row])



def export_xlsx(community: Community, year: int, out: BinaryIO | str | None = None) -> bytes | None:
    """The report as an Excel workbook: 汇总, 党员时长, 时长明细, 活动. Returns bytes when ``out`` is None."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    report = community_report(community, year)
    wb = Workbook()
    bold = Font(bold=True)

    summary = wb.active
    summary.title = "汇总"
    for label, value in (("社区", community.name), ("年度", year), ("年度目标（小时）", report["target_hours"]),
                         ("报到党员人数", report["party_members"]), ("志愿者人数", report["volunteers"]),
                         ("达标党员人数", report["party_members_met_target"]), ("总时长（小时）", report["hours"]),
                         ("签到签退时长（小时）", report["hours_checkin"]),
                         ("管理员录入时长（小时）", report["hours_admin"]),
                         ("活动场次", report["events"]), ("已举办", report["events_held"]),
                         ("签到人次", report["attendances"]),
                         ("导出时间", to_local(clock_now()).strftime("%Y-%m-%d %H:%M"))):
        _append(summary, [label, value])
    for cell in summary["A"]:
        cell.font = bold
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["B"].width = 24

    members = wb.create_sheet("党员时长")
    _append(members, ["编号", "姓名", "类型", "手机号", "工作单位", "所在党组织", "签到签退时长", "管理员录入时长",
                    "合计时长", "服务项目", "是否达标"])
    for row in report["members"]:
        met = "" if row["met_target"] is None else ("是" if row["met_target"] else "否")
        _append(members, [row["member_id"], row["name"], KIND_LABELS.get(row["kind"], row["kind"]), row["phone"] or "",
                        row["work_unit"] or "", row["party_org"] or "", row["hours_checkin"], row["hours_admin"],
                        row["hours"], "、".join(row["projects"]), met])

    entries = wb.create_sheet("时长明细")
    _append(entries, ["编号", "成员", "日期", "类型", "时长（小时）", "活动", "记录人", "备注"])
    member_names = {m["member_id"]: m["name"] for m in report["members"]}
    for entry in db.session.scalars(select(HoursEntry).where(
            HoursEntry.community_id == community.id, HoursEntry.year == year)
            .order_by(HoursEntry.served_on, HoursEntry.id)):
        view = hours_view(entry)
        name = member_names.get(entry.member_id) or db.session.get(PartyMember, entry.member_id).name
        _append(entries, [entry.id, name, view["served_on"], HOURS_KIND_LABELS.get(entry.kind, entry.kind),
                          view["hours"], view["event_title"] or "", (view["recorded_by"] or {}).get("name", ""),
                          entry.note or ""])

    events = wb.create_sheet("活动")
    _append(events, ["编号", "活动", "日期", "时间", "名额", "报名", "签到", "候补", "取消", "志愿时长"])
    for row in report["event_rows"]:
        _append(events, [row["event_id"], row["title"], row["date"], row["when"],
                       row["capacity"] if row["capacity"] is not None else "不限", row["signed_up"], row["attended"],
                       row["waiting"], row["cancelled"], row["volunteer_hours"]])
    for sheet in (members, entries, events):
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"

    if out is None:
        buffer = io.BytesIO()
        wb.save(buffer)
        return buffer.getvalue()
    wb.save(out)
    return None


# ---- micro-wishes (微心愿) ------------------------------------------------------------------

def wish_view(wish: MicroWish, *, for_staff: bool = False, viewer_resident_id: int | None = None) -> dict[str, Any]:
    from app.localtime import iso
    resident = db.session.get(Resident, wish.resident_id)
    member = db.session.get(PartyMember, wish.member_id) if wish.member_id else None
    own = viewer_resident_id is not None and viewer_resident_id == wish.resident_id
    view = {"id": wish.id, "community_id": wish.community_id, "title": wish.title, "detail": wish.detail,
            "status": wish.status, "created_at": iso(wish.created_at), "claimed_at": iso(wish.claimed_at),
            "fulfilled_at": iso(wish.fulfilled_at), "fulfil_note": wish.fulfil_note,
            "resident": resident.staff_view() if for_staff else {"name": mask_name(resident.display_name)},
            "claimed_by": ({"id": member.id, "name": member.name if for_staff or own else mask_name(member.name)}
                           if member else None)}
    return view


def post_wish(resident: Resident, data: dict[str, Any]) -> MicroWish:
    if resident.community_id is None:
        raise refusal("请先在小程序中选择您所在的社区", "no_community", 400, field="community_id")
    title = _text(data.get("title"), "title", "心愿", required=True, max_length=100)
    detail = _text(data.get("detail"), "detail", "心愿说明", required=False, max_length=1000)
    open_count = db.session.scalar(select(func.count()).select_from(MicroWish).where(
        MicroWish.resident_id == resident.id, MicroWish.status.in_((WishStatus.OPEN.value, WishStatus.CLAIMED.value))))
    if open_count >= 3:
        raise refusal("您已有3个心愿在等待实现，请等它们实现后再发布", "too_many")
    wish = MicroWish(community_id=resident.community_id, resident_id=resident.id, title=title, detail=detail,
                     status=WishStatus.OPEN.value)
    db.session.add(wish)
    db.session.flush()
    record("resident", resident.id, "wish.post", wish, community_id=wish.community_id)
    db.session.commit()
    return wish


def claim_wish(wish_id: int, member: PartyMember) -> MicroWish:
    wish = db.session.get(MicroWish, wish_id)
    if wish is None or wish.community_id != member.community_id:
        raise refusal("没有找到这个心愿", "not_found", 404)
    if not member.active:
        raise refusal("您的登记已停用", "inactive", 403)
    if wish.resident_id == member.resident_id:
        raise refusal("不能认领自己的心愿", "own_wish")
    db.session.commit()
    # Conditional update: of two members claiming at once, exactly one wins.
    result = db.session.execute(update(MicroWish).where(MicroWish.id == wish_id, MicroWish.status == WishStatus.OPEN.value)
                                .values(status=WishStatus.CLAIMED.value, member_id=member.id, claimed_at=clock_now())
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise refusal("这个心愿已被认领或已关闭", "already_claimed")
    record("resident", member.resident_id, "wish.claim", wish, community_id=wish.community_id,
           detail={"member_id": member.id})
    db.session.commit()
    wish = db.session.scalars(select(MicroWish).where(MicroWish.id == wish_id)
                              .execution_options(populate_existing=True)).one()
    _tell_wisher(wish, f"您的微心愿“{wish.title}”已由{mask_name(member.name)}认领，会尽快帮您实现。",
                 f"wish:{wish.id}:claimed:{member.id}")
    return wish


def fulfil_wish(wish_id: int, *, member: PartyMember | None = None, staff: Staff | None = None,
                note: str | None = None) -> MicroWish:
    wish = db.session.get(MicroWish, wish_id)
    community_id = member.community_id if member else staff.community_id if staff else None
    if wish is None or wish.community_id != community_id:
        raise refusal("没有找到这个心愿", "not_found", 404)
    if member is not None and wish.member_id != member.id:
        raise refusal("只有认领人可以标记实现", "not_claimer", 403)
    if wish.status == WishStatus.FULFILLED.value:
        return wish
    if wish.status != WishStatus.CLAIMED.value:
        raise refusal("心愿还没有被认领", "not_claimed")
    wish.status = WishStatus.FULFILLED.value
    wish.fulfilled_at = clock_now()
    wish.fulfil_note = _text(note, "note", "说明", required=False, max_length=500)
    record("staff" if staff else "resident", staff.id if staff else member.resident_id, "wish.fulfil", wish,
           community_id=wish.community_id)
    db.session.commit()
    _tell_wisher(wish, f"您的微心愿“{wish.title}”已经实现啦！感谢您对社区工作的支持。", f"wish:{wish.id}:fulfilled")
    return wish


def cancel_wish(wish_id: int, resident: Resident) -> MicroWish:
    wish = db.session.get(MicroWish, wish_id)
    if wish is None or wish.resident_id != resident.id:
        raise refusal("没有找到这个心愿", "not_found", 404)
    if wish.status == WishStatus.CANCELLED.value:
        return wish
    if wish.status != WishStatus.OPEN.value:
        raise refusal("心愿已被认领，如需撤回请联系社区", "already_claimed")
    wish.status = WishStatus.CANCELLED.value
    wish.cancelled_at = clock_now()
    record("resident", resident.id, "wish.cancel", wish, community_id=wish.community_id)
    db.session.commit()
    return wish


def _tell_wisher(wish: MicroWish, text: str, key: str) -> None:
    from app.handlers.events import default_notice_target
    from app.handlers.messaging.outbox import TO_USER, queue_message
    target = default_notice_target(wish.resident_id)
    if target is None:
        return
    queue_message(channel=target.channel, recipient_kind=TO_USER, recipient_id=target.recipient, text=text,
                  idempotency_key=key, community_id=wish.community_id, resident_id=wish.resident_id,
                  meta={"wish_id": wish.id})


def open_wishes(community_id: int) -> list[MicroWish]:
    return list(db.session.scalars(select(MicroWish).where(
        MicroWish.community_id == community_id, MicroWish.status == WishStatus.OPEN.value)
        .order_by(MicroWish.created_at, MicroWish.id)))

