"""The 24-hour duty roster (24小时轮班值守): who is on duty, gaps, shifts and swaps.

Shifts are half-open intervals ``[starts_at, ends_at)``: a night shift ending
at 00:00 and the next one starting at 00:00 leave no gap and never overlap, so
"who is on duty at 00:00" has exactly one answer. The spreadsheet import is
roster_import.py.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import select

from app.errors import DomainError
from app.extensions import db
from app.handlers.audit import record
from app.localtime import iso, to_local
from app.models import Community, DutyShift, Role, Staff, StaffRole
from app.models.roster import ShiftSwap


class RosterError(DomainError):
    """A roster change that cannot be made; ``field`` names the input at fault (for the API).

    ``conflict``: it clashes with another shift (HTTP 409), else the input is invalid (400).
    """

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, conflict: bool = False):
        super().__init__(message, field=field, status=409 if conflict else 400,
                         code="conflict" if conflict else None)
        self.conflict = conflict


def _local_text(moment: datetime) -> str:
    return to_local(moment).strftime("%m-%d %H:%M")


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
        raise RosterError(f"{staff.name} 在 {_local_text(clash.starts_at)}–{_local_text(clash.ends_at)} "
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

def shift_view(shift: DutyShift) -> dict[str, Any]:
    return {"id": shift.id, "community_id": shift.community_id, "staff": shift.staff.public_view(),
            "starts_at": iso(shift.starts_at), "ends_at": iso(shift.ends_at), "is_lead": shift.is_lead,
            "note": shift.note}


def find_community(name: str) -> Community:
    """The community with this name, for CLI commands; RosterError if none or several."""
    rows = db.session.scalars(select(Community).where(Community.name == name.strip())).all()
    if not rows:
        raise RosterError(f"no community named {name!r}")
    if len(rows) > 1:
        raise RosterError(f"several communities are named {name!r}")
    return rows[0]
