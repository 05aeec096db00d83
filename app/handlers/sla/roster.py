"""The 24-hour duty roster (24小时轮班值守): who is on duty, gaps, swaps and the spreadsheet import.

Shifts are half-open intervals ``[starts_at, ends_at)``: a night shift ending
at 00:00 and the next one starting at 00:00 leave no gap and never overlap, so
"who is on duty at 00:00" has exactly one answer.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.handlers.audit import record
from app.models import Community, DutyShift, Role, Staff
from app.models.roster import ShiftSwap


class RosterError(ValueError):
    """A roster change that cannot be made; ``field`` names the input at fault (for the API)."""

    def __init__(self, message: str, *, field: str | None = None, conflict: bool = False):
        super().__init__(message)
        self.message = message
        self.field = field
        self.conflict = conflict


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


# ---- who is on duty -----------------------------------------------------------------------------

def on_duty(community_id: int, at: datetime) -> list[DutyShift]:
    """Shifts covering ``at`` (starts_at <= at < ends_at) of active staff, leads first."""
    return list(db.session.scalars(
        select(DutyShift).join(Staff, Staff.id == DutyShift.staff_id).where(
            DutyShift.community_id == community_id, DutyShift.starts_at <= at, DutyShift.ends_at > at,
            Staff.active.is_(True))
        .order_by(DutyShift.is_lead.desc(), DutyShift.starts_at, DutyShift.id)).unique())


def duty_lead(community_id: int, at: datetime) -> Staff | None:
    """The duty lead (值班长) on duty at ``at``, if the roster names one."""
    for shift in on_duty(community_id, at):
        if shift.is_lead:
            return shift.staff
    return None


def community_admins(community_id: int) -> list[Staff]:
    """Active community admins (社区书记/主任): they get breach and no-duty alerts."""
    from app.models import StaffRole
    return list(db.session.scalars(
        select(Staff).join(StaffRole, StaffRole.staff_id == Staff.id).where(
            Staff.community_id == community_id, Staff.active.is_(True),
            StaffRole.role == Role.COMMUNITY_ADMIN.value).order_by(Staff.id)).unique())


def shifts_between(community_id: int, start: datetime, end: datetime) -> list[DutyShift]:
    """Shifts overlapping [start, end), in time order."""
    return list(db.session.scalars(shifts_between_query(community_id, start, end)).unique())


def shifts_between_query(community_id: int, start: datetime, end: datetime):
    return (select(DutyShift).where(DutyShift.community_id == community_id, DutyShift.starts_at < end,
                                    DutyShift.ends_at > start)
            .order_by(DutyShift.starts_at, DutyShift.is_lead.desc(), DutyShift.id))


def gaps(community_id: int, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Uncovered intervals [from, to) inside [start, end) — times when nobody is on duty.

    Only active staff count: a shift of someone who has left covers nothing.
    """
    if end <= start:
        return []
    shifts = [s for s in shifts_between(community_id, start, end) if s.staff.active]
    found: list[tuple[datetime, datetime]] = []
    covered_until = start
    for shift in sorted(shifts, key=lambda s: s.starts_at):
        if shift.starts_at > covered_until:
            found.append((covered_until, min(shift.starts_at, end)))
        if shift.ends_at > covered_until:
            covered_until = shift.ends_at
        if covered_until >= end:
            break
    if covered_until < end:
        found.append((covered_until, end))
    return found


# ---- editing ------------------------------------------------------------------------------------

def _overlapping_shift(staff_id: int, starts_at: datetime, ends_at: datetime,
                       exclude: Iterable[int] = ()) -> DutyShift | None:
    statement = select(DutyShift).where(DutyShift.staff_id == staff_id, DutyShift.starts_at < ends_at,
                                        DutyShift.ends_at > starts_at)
    excluded = [i for i in exclude if i is not None]
    if excluded:
        statement = statement.where(DutyShift.id.not_in(excluded))
    return db.session.scalars(statement.limit(1)).first()


def _check_staff(community_id: int, staff: Staff | None, field_name: str) -> Staff:
    if staff is None or staff.community_id != community_id:
        raise RosterError("该工作人员不属于本社区 (staff member not in this community)", field=field_name)
    if not staff.active:
        raise RosterError(f"{staff.name} 已停用，不能排班 (staff member is inactive)", field=field_name)
    return staff


def add_shift(*, community_id: int, staff: Staff, starts_at: datetime, ends_at: datetime, is_lead: bool = False,
              note: str | None = None, actor: Staff | None = None, commit: bool = True) -> DutyShift:
    """Add one shift; a staff member cannot be on two overlapping shifts."""
    _check_staff(community_id, staff, "staff_id")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise RosterError("时间必须带时区 (times must be aware)", field="starts_at")
    if ends_at <= starts_at:
        raise RosterError("结束时间必须晚于开始时间 (ends_at must be after starts_at)", field="ends_at")
    if ends_at - starts_at > timedelta(days=7):
        raise RosterError("一个班次不能超过 7 天 (a shift is at most 7 days)", field="ends_at")
    clash = _overlapping_shift(staff.id, starts_at, ends_at)
    if clash is not None:
        raise RosterError(f"{staff.name} 在 {format_local(clash.starts_at)}–{format_local(clash.ends_at)} "
                          f"已有班次 (overlaps shift {clash.id})", field="starts_at", conflict=True)
    shift = DutyShift(community_id=community_id, staff_id=staff.id, starts_at=starts_at, ends_at=ends_at,
                      is_lead=is_lead, note=note)
    db.session.add(shift)
    db.session.flush()
    record("staff" if actor else "operator", actor.id if actor else None, "roster.shift_added", shift,
           community_id=community_id,
           detail={"staff_id": staff.id, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(),
                   "is_lead": is_lead})
    if commit:
        db.session.commit()
    return shift


def delete_shift(shift: DutyShift, *, actor: Staff | None = None) -> None:
    record("staff" if actor else "operator", actor.id if actor else None, "roster.shift_deleted", shift,
           community_id=shift.community_id,
           detail={"staff_id": shift.staff_id, "starts_at": shift.starts_at.isoformat(),
                   "ends_at": shift.ends_at.isoformat()})
    db.session.delete(shift)
    db.session.commit()


def swap(shift_a: DutyShift, other: DutyShift | Staff, *, by: Staff | None = None,
         reason: str | None = None) -> ShiftSwap:
    """Swap two shifts' staff (换班), or hand a shift to another staff member (代班).

    The shifts keep their times (and lead flags: the lead duty goes with the
    shift, not the person); a ``ShiftSwap`` row and an audit entry record who
    had it before.
    """
    community_id = shift_a.community_id
    staff_a = db.session.get(Staff, shift_a.staff_id)
    if isinstance(other, DutyShift):
        if other.id == shift_a.id:
            raise RosterError("不能与同一个班次交换 (same shift)", field="with_shift_id")
        if other.community_id != community_id:
            raise RosterError("班次不属于本社区 (shift not in this community)", field="with_shift_id")
        staff_b = db.session.get(Staff, other.staff_id)
        if staff_b.id == staff_a.id:
            raise RosterError("两个班次是同一人，无需交换 (same staff member)", field="with_shift_id")
        _check_staff(community_id, staff_b, "with_shift_id")
        _check_staff(community_id, staff_a, "shift_id")
        excluded = (shift_a.id, other.id)
        for person, shift in ((staff_b, shift_a), (staff_a, other)):
            clash = _overlapping_shift(person.id, shift.starts_at, shift.ends_at, exclude=excluded)
            if clash is not None:
                raise RosterError(f"{person.name} 在该时段已有班次 (overlaps shift {clash.id})",
                                  field="with_shift_id", conflict=True)
        shift_a.staff_id, other.staff_id = staff_b.id, staff_a.id
        row = ShiftSwap(community_id=community_id, shift_a_id=shift_a.id, shift_b_id=other.id,
                        staff_a_id=staff_a.id, staff_b_id=staff_b.id, by_staff_id=by.id if by else None,
                        reason=reason)
    else:
        staff_b = _check_staff(community_id, other, "staff_id")
        if staff_b.id == staff_a.id:
            raise RosterError("该班次已经是此人 (already this staff member)", field="staff_id")
        clash = _overlapping_shift(staff_b.id, shift_a.starts_at, shift_a.ends_at, exclude=(shift_a.id,))
        if clash is not None:
            raise RosterError(f"{staff_b.name} 在该时段已有班次 (overlaps shift {clash.id})", field="staff_id",
                              conflict=True)
        shift_a.staff_id = staff_b.id
        row = ShiftSwap(community_id=community_id, shift_a_id=shift_a.id, shift_b_id=None, staff_a_id=staff_a.id,
                        staff_b_id=staff_b.id, by_staff_id=by.id if by else None, reason=reason)
    db.session.add(row)
    db.session.flush()
    record("staff" if by else "operator", by.id if by else None, "roster.swapped", shift_a,
           community_id=community_id,
           detail={"shift_a_id": shift_a.id, "shift_b_id": row.shift_b_id, "from_staff_id": staff_a.id,
                   "to_staff_id": staff_b.id, "reason": reason})
    db.session.commit()
    # The relationship was loaded with the old staff; refresh so callers see the new names.
    db.session.refresh(shift_a)
    if isinstance(other, DutyShift):
        db.session.refresh(other)
    return row


# ---- views --------------------------------------------------------------------------------------

def format_local(moment: datetime, fmt: str = "%m-%d %H:%M") -> str:
    return moment.astimezone(local_zone()).strftime(fmt)


def shift_view(shift: DutyShift) -> dict[str, Any]:
    from app.localtime import iso
    return {"id": shift.id, "community_id": shift.community_id, "staff": shift.staff.public_view(),
            "starts_at": iso(shift.starts_at), "ends_at": iso(shift.ends_at), "is_lead": shift.is_lead,
            "note": shift.note}


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=local_zone())


def find_community(name: str) -> Community:
    """The community with this name, for CLI commands; RosterError if none or several."""
    rows = db.session.scalars(select(Community).where(Community.name == name.strip())).all()
    if not rows:
        raise RosterError(f"no community named {name!r}")
    if len(rows) > 1:
        raise RosterError(f"several communities are named {name!r}")
    return rows[0]


# ---- spreadsheet import -------------------------------------------------------------------------

HEADERS = {
    "date": ("日期", "date", "值班日期"),
    "start": ("开始", "start", "开始时间", "上班", "starts_at"),
    "end": ("结束", "end", "结束时间", "下班", "ends_at"),
    "staff": ("值班人员", "staff", "值班人", "姓名", "name"),
    "lead": ("值班长", "lead", "带班", "带班领导"),
    "note": ("备注", "note"),
}
_TRUE = {"是", "y", "yes", "1", "true", "√", "✓", "值班长", "带班"}
_FALSE = {"", "否", "n", "no", "0", "false", "×"}
_SPLIT = re.compile(r"[、,，;；/／\s]+")


@dataclass
class RowError:
    row: int
    message: str

    def __str__(self) -> str:
        return f"第{self.row}行：{self.message}"


@dataclass
class ImportResult:
    created: int = 0
    skipped: int = 0  # identical shifts already on the roster (re-importing a file is harmless)
    errors: list[RowError] = field(default_factory=list)
    shifts: list[DutyShift] = field(default_factory=list)


def _header_map(header: list[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = str(cell or "").strip().lower()
        for key, aliases in HEADERS.items():
            if name in {a.lower() for a in aliases} and key not in found:
                found[key] = index
    return found


def read_rows(path: str | Path) -> list[list[Any]]:
    """Rows of the first sheet (.xlsx) or of a CSV file (UTF-8, or GBK as saved by Chinese Excel)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook
        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
            raise RosterError(f"cannot read {path.name} as an Excel file: {exc}") from None
        try:
            sheet = workbook["值班表"] if "值班表" in workbook.sheetnames else workbook.worksheets[0]
            return [list(row) for row in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
    if suffix == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes any byte string
            raise RosterError(f"cannot decode {path.name}")
        return [row for row in csv.reader(io.StringIO(text))]
    raise RosterError(f"{path.name}: use an .xlsx or .csv file")


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if not match:
        raise ValueError(f"日期「{text}」无法识别，请写成 2026-11-17")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ValueError(f"日期「{text}」不存在") from None


def _parse_time(value: Any) -> tuple[date | None, time, bool]:
    """(date if the cell has one, time, is "24:00")."""
    if isinstance(value, datetime):
        return value.date(), value.time().replace(tzinfo=None), False
    if isinstance(value, time):
        return None, value.replace(tzinfo=None), False
    if isinstance(value, timedelta):  # some spreadsheets store a duration for a time of day
        seconds = int(value.total_seconds())
        if seconds == 86400:
            return None, time(0), True
        return None, time(seconds // 3600 % 24, seconds // 60 % 60), False
    text = str(value).strip().replace("：", ":")
    match = re.fullmatch(r"(?:(\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2})\s*日?\s+)?(\d{1,2}):(\d{2})(?::\d{2})?",
                         text)
    if not match:
        raise ValueError(f"时间「{text}」无法识别，请写成 08:00 或 2026-11-17 08:00")
    day = _parse_date(match[1]) if match[1] else None
    hour, minute = int(match[2]), int(match[3])
    if hour == 24 and minute == 0:
        return day, time(0), True
    if hour > 23 or minute > 59:
        raise ValueError(f"时间「{text}」不存在")
    return day, time(hour, minute), False


def _interval(cells: dict[str, Any], zone: ZoneInfo) -> tuple[datetime, datetime]:
    day_cell, start_cell, end_cell = cells.get("date"), cells.get("start"), cells.get("end")
    day = _parse_date(day_cell) if not _blank(day_cell) else None
    if _blank(start_cell) and _blank(end_cell):
        if day is None:
            raise ValueError("缺少日期或开始/结束时间")
        start = datetime.combine(day, time(0), tzinfo=zone)
        return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    if _blank(start_cell) or _blank(end_cell):
        raise ValueError("开始和结束时间要同时填写（或都不填表示全天 00:00–24:00）")
    start_day, start_time, _ = _parse_time(start_cell)
    end_day, end_time, end_is_24 = _parse_time(end_cell)
    start_day = start_day or day
    if start_day is None:
        raise ValueError("缺少日期：填写“日期”列，或在开始时间里写上日期")
    start = datetime.combine(start_day, start_time, tzinfo=zone)
    if end_day is not None:
        end = datetime.combine(end_day, end_time, tzinfo=zone)
        if end_is_24:
            end += timedelta(days=1)
    else:
        end = datetime.combine(start_day, end_time, tzinfo=zone)
        if end_is_24 or end <= start:
            # 18:00–08:00 is a night shift ending the next morning; 24:00 is the next midnight.
            end += timedelta(days=1)
    if end <= start:
        raise ValueError("结束时间必须晚于开始时间")
    return start, end


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _StaffIndex:
    def __init__(self, community_id: int):
        self.rows = list(db.session.scalars(select(Staff).where(Staff.community_id == community_id)))

    def find(self, value: str) -> Staff:
        text = value.strip()
        digits = re.sub(r"\D", "", text)
        if len(digits) >= 7 and len(digits) == len(re.sub(r"[\s-]", "", text)):
            matches = [s for s in self.rows if s.phone and re.sub(r"\D", "", s.phone) == digits]
            if not matches:
                raise ValueError(f"本社区没有手机号为 {text} 的工作人员")
        else:
            matches = [s for s in self.rows if s.name == text]
            if not matches:
                raise ValueError(f"本社区没有名为「{text}」的工作人员（先用 linli staff add 添加）")
            if len(matches) > 1:
                raise ValueError(f"本社区有 {len(matches)} 位「{text}」，请改填手机号")
        staff = matches[0]
        if not staff.active:
            raise ValueError(f"{staff.name} 已停用")
        return staff


def import_roster(path: str | Path, community: Community) -> ImportResult:
    """Import shifts from a spreadsheet; bad rows are reported by number, good rows are imported."""
    rows = read_rows(path)
    result = ImportResult()
    header_index = next((i for i, row in enumerate(rows) if any(not _blank(c) for c in row)), None)
    if header_index is None:
        raise RosterError("the file is empty")
    columns = _header_map(rows[header_index])
    if "staff" not in columns:
        raise RosterError("missing column 值班人员 (staff); the header row needs 日期/开始/结束/值班人员/值班长")
    if "date" not in columns and not {"start", "end"} <= columns.keys():
        raise RosterError("missing column 日期 (date), or 开始 and 结束 (start, end)")
    zone = local_zone()
    people = _StaffIndex(community.id)
    for offset, row in enumerate(rows[header_index + 1:], start=header_index + 2):
        cells = {key: (row[i] if i < len(row) else None) for key, i in columns.items()}
        if all(_blank(v) for v in cells.values()):
            continue
        try:
            created, skipped = _import_row(cells, community, zone, people)
        except ValueError as exc:
            db.session.rollback()
            result.errors.append(RowError(offset, str(exc)))
            continue
        db.session.commit()
        result.created += len(created)
        result.skipped += skipped
        result.shifts.extend(created)
    if result.created:
        record("operator", None, "roster.imported", community, community_id=community.id,
               detail={"file": Path(path).name, "created": result.created, "skipped": result.skipped,
                       "errors": len(result.errors)})
        db.session.commit()
    return result


def _import_row(cells: dict[str, Any], community: Community, zone: ZoneInfo,
                people: _StaffIndex) -> tuple[list[DutyShift], int]:
    starts_at, ends_at = _interval(cells, zone)
    names = [n for n in _SPLIT.split(str(cells.get("staff") or "").strip()) if n]
    if not names:
        raise ValueError("缺少值班人员")
    staff_rows = [people.find(n) for n in names]
    lead_cell = str(cells.get("lead") or "").strip()
    lead_ids: set[int] = set()
    if lead_cell.lower() in _TRUE:
        lead_ids = {s.id for s in staff_rows}
    elif lead_cell.lower() not in _FALSE:
        for name in _SPLIT.split(lead_cell):
            if name:
                lead = people.find(name)
                lead_ids.add(lead.id)
                if lead.id not in {s.id for s in staff_rows}:
                    staff_rows.append(lead)
    note = str(cells.get("note") or "").strip()[:200] or None
    created: list[DutyShift] = []
    skipped = 0
    for staff in staff_rows:
        is_lead = staff.id in lead_ids
        same = db.session.scalars(select(DutyShift).where(
            DutyShift.community_id == community.id, DutyShift.staff_id == staff.id,
            DutyShift.starts_at == starts_at, DutyShift.ends_at == ends_at)).first()
        if same is not None:
            if is_lead and not same.is_lead:
                same.is_lead = True
            skipped += 1
            continue
        try:
            created.append(add_shift(community_id=community.id, staff=staff, starts_at=starts_at, ends_at=ends_at,
                                     is_lead=is_lead, note=note, commit=False))
        except RosterError as exc:
            raise ValueError(exc.message) from None
    return created, skipped
