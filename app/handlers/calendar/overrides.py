"""One override at a time: a day declared a working day (调休上班) or a day off, or the override removed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.errors import DomainError
from app.extensions import db
from app.handlers.audit import record
from app.models import CalendarDay

MAX_NOTE = 100
WORKDAY, HOLIDAY = "workday", "holiday"


@dataclass(frozen=True)
class DayChange:
    day: date
    kind: str | None            # WORKDAY / HOLIDAY, None once removed
    note: str | None
    previous: str | None        # the kind of the override it replaced, None if there was none


def kind_of(is_workday: bool) -> str:
    return WORKDAY if is_workday else HOLIDAY


def set_day(day: date, kind: str, note: str | None = None, *, actor_type: str = "operator",
            actor_id: int | None = None) -> DayChange:
    """Declare ``day`` a working day or a day off, replacing an earlier override of it; commits."""
    if kind not in (WORKDAY, HOLIDAY):
        raise DomainError(f"kind must be {WORKDAY} or {HOLIDAY}", field="kind")
    if note is not None and len(note) > MAX_NOTE:
        raise DomainError(f"note is longer than {MAX_NOTE} characters", field="note")
    row = db.session.get(CalendarDay, day)
    previous = None if row is None else kind_of(row.is_workday)
    if row is None:
        db.session.add(CalendarDay(day=day, is_workday=kind == WORKDAY, note=note))
    else:
        row.is_workday, row.note = kind == WORKDAY, note
    record(actor_type, actor_id, "calendar.set", None,
           detail={"day": day.isoformat(), "kind": kind, "note": note, "previous": previous})
    db.session.commit()
    return DayChange(day, kind, note, previous)


def unset_day(day: date, *, actor_type: str = "operator", actor_id: int | None = None) -> DayChange:
    """Remove the override of ``day`` (the package or the statutory fallback applies again); commits."""
    row = db.session.get(CalendarDay, day)
    if row is None:
        raise DomainError(f"{day.isoformat()} has no override", field="day", status=404, code="not_found")
    previous = kind_of(row.is_workday)
    db.session.delete(row)
    record(actor_type, actor_id, "calendar.unset", None, detail={"day": day.isoformat(), "previous": previous})
    db.session.commit()
    return DayChange(day, None, None, previous)
