"""The community's 双报到 report for a year, as JSON and as an .xlsx workbook.

Per member: check-in and admin hours, the projects chosen or served in, and whether a
party member met the yearly target (``LINLI_VOLUNTEER_TARGET_HOURS`` and at least one
project). Per event: sign-ups, attendance, waiting list and cancellations.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy import func, select

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.events.hours import as_hours, hours_view
from app.handlers.events.text import format_when
from app.localtime import local_date, local_midnight, to_local
from app.models import Community
from app.models.events import Event, EventStatus, Signup, SignupStatus
from app.models.volunteers import HoursEntry, HoursKind, MemberKind, MemberProject, PartyMember, VolunteerProject

KIND_LABELS = {"party": "在职党员", "volunteer": "志愿者"}
HOURS_KIND_LABELS = {"checkin": "签到签退", "admin": "管理员录入"}
# What a worksheet cell cannot hold (openpyxl raises IllegalCharacterError, saving fails on a surrogate).
# Names and notes also arrive from chats and imports, so the export drops them instead of failing.
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


@dataclass
class ReportRow:
    member: PartyMember
    checkin: int
    admin: int
    projects: list[str]

    @property
    def total(self) -> int:
        return self.checkin + self.admin


def _project_names(community_id: int, year: int) -> dict[int, list[str]]:
    """Per member: the projects chosen for the year, then those served in."""
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
    return names


def report_rows(community_id: int, year: int) -> list[ReportRow]:
    """Every active member, and inactive ones with hours in the year."""
    members = db.session.scalars(select(PartyMember).where(PartyMember.community_id == community_id)
                                 .order_by(PartyMember.kind, PartyMember.id)).all()
    sums = db.session.execute(select(HoursEntry.member_id, HoursEntry.kind, func.sum(HoursEntry.minutes)).where(
        HoursEntry.community_id == community_id, HoursEntry.year == year)
        .group_by(HoursEntry.member_id, HoursEntry.kind)).all()
    minutes: dict[tuple[int, str], int] = {(m, k): int(v or 0) for m, k, v in sums}
    names = _project_names(community_id, year)
    rows = []
    for member in members:
        has_hours = (member.id, HoursKind.CHECKIN.value) in minutes or (member.id, HoursKind.ADMIN.value) in minutes
        if not member.active and not has_hours:
            continue
        rows.append(ReportRow(member, minutes.get((member.id, HoursKind.CHECKIN.value), 0),
                              minutes.get((member.id, HoursKind.ADMIN.value), 0), names.get(member.id, [])))
    return rows


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """Local midnight on 1 January of ``year`` and of the next year."""
    return local_midnight(date(year, 1, 1)), local_midnight(date(year + 1, 1, 1))


def event_rows(community_id: int, year: int) -> list[dict[str, Any]]:
    start, end = year_bounds(year)
    events = db.session.scalars(select(Event).where(
        Event.community_id == community_id, Event.starts_at >= start, Event.starts_at < end,
        Event.status == EventStatus.PUBLISHED.value).order_by(Event.starts_at)).all()
    by_status: dict[tuple[int, str], int] = {}
    if events:
        for event_id, status, count in db.session.execute(
                select(Signup.event_id, Signup.status, func.count()).where(Signup.event_id.in_([e.id for e in events]))
                .group_by(Signup.event_id, Signup.status)).all():
            by_status[(event_id, status)] = count
    moment = clock_now()
    rows = []
    for event in events:
        count = {status: by_status.get((event.id, status.value), 0) for status in SignupStatus}
        rows.append({
            "event_id": event.id, "title": event.title, "kind": event.kind, "when": format_when(event),
            "date": local_date(event.starts_at).isoformat(), "capacity": event.capacity,
            "signed_up": count[SignupStatus.CONFIRMED] + count[SignupStatus.ATTENDED] + count[SignupStatus.ABSENT],
            "attended": count[SignupStatus.ATTENDED], "waiting": count[SignupStatus.WAITING],
            "cancelled": count[SignupStatus.CANCELLED], "held": event.ends_at <= moment,
            "volunteer_hours": event.volunteer_hours})
    return rows


def _member_line(row: ReportRow, target: int) -> dict[str, Any]:
    member = row.member
    return {
        "member_id": member.id, "name": member.name, "kind": member.kind, "phone": member.phone,
        "work_unit": member.work_unit, "party_org": member.party_org,
        "hours": as_hours(row.total), "hours_checkin": as_hours(row.checkin), "hours_admin": as_hours(row.admin),
        "projects": row.projects,
        "met_target": (row.total >= target * 60 and bool(row.projects)) if member.kind == MemberKind.PARTY.value
        else None,
    }


def community_report(community: Community, year: int) -> dict[str, Any]:
    target = current_app.config["VOLUNTEER_TARGET_HOURS"]
    rows = report_rows(community.id, year)
    events = event_rows(community.id, year)
    party = [r for r in rows if r.member.kind == MemberKind.PARTY.value]
    met = [r for r in party if r.total >= target * 60 and r.projects]
    return {
        "community": {"id": community.id, "name": community.name}, "year": year, "target_hours": target,
        "party_members": len(party), "volunteers": len(rows) - len(party),
        "party_members_met_target": len(met),
        "hours": as_hours(sum(r.total for r in rows)),
        "hours_checkin": as_hours(sum(r.checkin for r in rows)), "hours_admin": as_hours(sum(r.admin for r in rows)),
        "events": len(events), "events_held": sum(1 for e in events if e["held"]),
        "attendances": sum(e["attended"] for e in events),
        "members": [_member_line(r, target) for r in rows],
        "event_rows": events,
    }


def _append(sheet, row: list) -> None:
    sheet.append([_XLSX_ILLEGAL.sub("", v) if isinstance(v, str) else v for v in row])


def _summary_sheet(sheet, community: Community, year: int, report: dict[str, Any], bold) -> None:
    sheet.title = "汇总"
    for label, value in (("社区", community.name), ("年度", year), ("年度目标（小时）", report["target_hours"]),
                         ("报到党员人数", report["party_members"]), ("志愿者人数", report["volunteers"]),
                         ("达标党员人数", report["party_members_met_target"]), ("总时长（小时）", report["hours"]),
                         ("签到签退时长（小时）", report["hours_checkin"]),
                         ("管理员录入时长（小时）", report["hours_admin"]),
                         ("活动场次", report["events"]), ("已举办", report["events_held"]),
                         ("签到人次", report["attendances"]),
                         ("导出时间", to_local(clock_now()).strftime("%Y-%m-%d %H:%M"))):
        _append(sheet, [label, value])
    for cell in sheet["A"]:
        cell.font = bold
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 24


def _members_sheet(sheet, report: dict[str, Any]) -> None:
    _append(sheet, ["编号", "姓名", "类型", "手机号", "工作单位", "所在党组织", "签到签退时长", "管理员录入时长",
                    "合计时长", "服务项目", "是否达标"])
    for row in report["members"]:
        met = "" if row["met_target"] is None else ("是" if row["met_target"] else "否")
        _append(sheet, [row["member_id"], row["name"], KIND_LABELS.get(row["kind"], row["kind"]), row["phone"] or "",
                        row["work_unit"] or "", row["party_org"] or "", row["hours_checkin"], row["hours_admin"],
                        row["hours"], "、".join(row["projects"]), met])


def _entries_sheet(sheet, community: Community, year: int, report: dict[str, Any]) -> None:
    _append(sheet, ["编号", "成员", "日期", "类型", "时长（小时）", "活动", "记录人", "备注"])
    member_names = {m["member_id"]: m["name"] for m in report["members"]}
    for entry in db.session.scalars(select(HoursEntry).where(
            HoursEntry.community_id == community.id, HoursEntry.year == year)
            .order_by(HoursEntry.served_on, HoursEntry.id)):
        view = hours_view(entry)
        name = member_names.get(entry.member_id) or db.session.get(PartyMember, entry.member_id).name
        _append(sheet, [entry.id, name, view["served_on"], HOURS_KIND_LABELS.get(entry.kind, entry.kind),
                        view["hours"], view["event_title"] or "", (view["recorded_by"] or {}).get("name", ""),
                        entry.note or ""])


def _events_sheet(sheet, report: dict[str, Any]) -> None:
    _append(sheet, ["编号", "活动", "日期", "时间", "名额", "报名", "签到", "候补", "取消", "志愿时长"])
    for row in report["event_rows"]:
        _append(sheet, [row["event_id"], row["title"], row["date"], row["when"],
                        row["capacity"] if row["capacity"] is not None else "不限", row["signed_up"], row["attended"],
                        row["waiting"], row["cancelled"], row["volunteer_hours"]])


def export_xlsx(community: Community, year: int, out: BinaryIO | str | None = None) -> bytes | None:
    """The report as an Excel workbook: 汇总, 党员时长, 时长明细, 活动. Returns bytes when ``out`` is None."""
    # openpyxl is heavy and only the export needs it.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    report = community_report(community, year)
    wb = Workbook()
    bold = Font(bold=True)
    _summary_sheet(wb.active, community, year, report, bold)
    sheets = [wb.create_sheet("党员时长"), wb.create_sheet("时长明细"), wb.create_sheet("活动")]
    _members_sheet(sheets[0], report)
    _entries_sheet(sheets[1], community, year, report)
    _events_sheet(sheets[2], report)
    for sheet in sheets:
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"
    if out is None:
        buffer = io.BytesIO()
        wb.save(buffer)
        return buffer.getvalue()
    wb.save(out)
    return None
