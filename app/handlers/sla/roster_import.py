"""The duty roster's spreadsheet import (值班表导入): one shift per row and person.

Bad rows are reported by number while the good rows are imported; importing the
same file again adds nothing. The format is described in docs/sla-and-roster.md.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app import localtime
from app.extensions import db
from app.handlers.audit import record
from app.handlers.sla.roster import RosterError, add_shift
from app.models import Community, DutyShift, Staff

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
    zone = localtime.zone()
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
