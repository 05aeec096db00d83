"""The yearly notice applied as overrides: a preview first, then all of it in one transaction or nothing.

The notice decides every holiday and make-up day of its year, so importing it
makes the overrides of those days exactly the notice's. Rows from an earlier
import of the same year's notice (their note starts with "YYYY年通知：") that
the new text no longer names are removed; other overrides of that year (an
operator's local adjustment on a day the notice does not mention) are kept and
listed in the preview, so nothing changes that the operator did not see.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from app.calendar_notice import Notice, parse_notice
from app.database import begin_write_transaction
from app.extensions import db
from app.handlers.audit import record
from app.handlers.calendar.overrides import kind_of
from app.models import CalendarDay

WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class Change:
    day: date
    is_workday: bool | None      # None: the override is removed
    note: str | None
    previous: tuple[bool, str | None] | None  # (is_workday, note) of the override it replaces


@dataclass
class ImportPlan:
    notice: Notice
    changes: list[Change] = field(default_factory=list)
    kept: list[tuple[date, bool, str | None]] = field(default_factory=list)
    applied: bool = False

    @property
    def year(self) -> int:
        return self.notice.year


def import_prefix(year: int) -> str:
    return f"{year}年通知："


def plan_import(notice: Notice) -> ImportPlan:
    """What importing ``notice`` would change, against the overrides in the database now."""
    wanted = notice.overrides()
    prefix = import_prefix(notice.year)
    window = (date(notice.year - 1, 12, 1), date(notice.year + 1, 1, 31))
    existing = {row.day: row for row in db.session.scalars(
        select(CalendarDay).where(CalendarDay.day >= window[0], CalendarDay.day <= window[1]))}
    plan = ImportPlan(notice)
    for day, (is_workday, note) in wanted.items():
        row = existing.get(day)
        if row is None:
            plan.changes.append(Change(day, is_workday, note, None))
        elif (row.is_workday, row.note) != (is_workday, note):
            plan.changes.append(Change(day, is_workday, note, (row.is_workday, row.note)))
    for day, row in sorted(existing.items()):
        if day in wanted:
            continue
        if (row.note or "").startswith(prefix):
            plan.changes.append(Change(day, None, None, (row.is_workday, row.note)))
        elif day.year == notice.year:
            plan.kept.append((day, row.is_workday, row.note))
    plan.changes.sort(key=lambda change: change.day)
    return plan


def import_notice(text: str, *, confirm: bool, actor_type: str = "operator",
                  actor_id: int | None = None) -> ImportPlan:
    """Read the notice and, with ``confirm``, apply it. Raises NoticeError (nothing applied) on any problem."""
    notice = parse_notice(text)
    if not confirm:
        return plan_import(notice)
    return apply_notice(notice, actor_type=actor_type, actor_id=actor_id)


def apply_notice(notice: Notice, *, actor_type: str = "operator", actor_id: int | None = None) -> ImportPlan:
    """Write the notice's overrides in one transaction (planned again inside it: a concurrent change counts)."""
    try:
        begin_write_transaction(db.session)
        plan = plan_import(notice)
        for change in plan.changes:
            row = db.session.get(CalendarDay, change.day)
            if change.is_workday is None:
                db.session.delete(row)
            elif row is None:
                db.session.add(CalendarDay(day=change.day, is_workday=change.is_workday, note=change.note))
            else:
                row.is_workday, row.note = change.is_workday, change.note
        record(actor_type, actor_id, "calendar.import", None, detail=audit_detail(plan))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    plan.applied = True
    return plan


def audit_detail(plan: ImportPlan) -> dict:
    return {"year": plan.year,
            "holidays": [holiday.label for holiday in plan.notice.holidays],
            "changes": [{"day": c.day.isoformat(), "kind": None if c.is_workday is None else kind_of(c.is_workday),
                         "previous": None if c.previous is None else kind_of(c.previous[0])}
                        for c in plan.changes]}


def day_label(day: date) -> str:
    return f"{day.isoformat()} 周{WEEKDAYS[day.weekday()]}"


def plan_view(plan: ImportPlan) -> dict:
    """The preview (or the result) as JSON: per holiday its days off and make-up days, then the changes."""
    def change_view(change: Change) -> dict:
        return {"day": change.day.isoformat(),
                "kind": None if change.is_workday is None else kind_of(change.is_workday), "note": change.note,
                "previous": None if change.previous is None else {"kind": kind_of(change.previous[0]),
                                                                  "note": change.previous[1]}}

    return {
        "year": plan.year,
        "applied": plan.applied,
        "holidays": [{"name": holiday.label, "line": holiday.line,
                      "days_off": [d.isoformat() for d in holiday.days_off],
                      "workdays": [d.isoformat() for d in holiday.workdays]} for holiday in plan.notice.holidays],
        "warnings": [{"line": w.line, "reason": w.reason} for w in plan.notice.warnings],
        "changes": [change_view(change) for change in plan.changes],
        "kept": [{"day": day.isoformat(), "kind": kind_of(is_workday), "note": note}
                 for day, is_workday, note in plan.kept],
    }
