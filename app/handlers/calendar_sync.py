"""A calendar change and everything that follows from it, as one operation for the entry points.

Importing a notice or changing an override (app/handlers/calendar) changes
working days; the deadlines and bookings counted on them must follow. This
module sits above the domains (L4) so that ``calendar`` needs to know none of
them: it takes the calendar before the change, applies the change, and asks
``requests`` and ``proxy`` to follow the difference. The CLI and the API call
these functions, never the bare calendar operations.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from app.handlers.calendar import notice_import, overrides
from app.handlers.proxy.calendar_follow import CaseMove, follow_bookings, follow_case_deadlines
from app.handlers.requests.calendar_follow import DeadlineMove
from app.handlers.requests.calendar_follow import follow_calendar as follow_request_deadlines
from app.localtime import iso
from app.models.proxy import Booking
from app.workcal import WorkCalendar, load_calendar


@dataclass
class FollowReport:
    changed_days: list[date] = field(default_factory=list)
    requests: list[DeadlineMove] = field(default_factory=list)
    cases: list[CaseMove] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)

    def lines(self) -> list[str]:
        """For operators (the CLI): what followed the change, one line each kind."""
        out = []
        for label, moves in (("requests", self.requests), ("cases", self.cases)):
            if moves:
                codes = ", ".join(m.code for m in moves[:10]) + (" …" if len(moves) > 10 else "")
                out.append(f"deadlines moved: {len(moves)} open {label} ({codes}); their assignees are told")
        if self.bookings:
            codes = ", ".join(b.code for b in self.bookings[:10]) + (" …" if len(self.bookings) > 10 else "")
            out.append(f"bookings cancelled: {len(self.bookings)} on days the stations now close ({codes}); "
                       "the residents are told")
        return out

    def view(self) -> dict:
        return {"changed_days": [d.isoformat() for d in self.changed_days],
                "requests": [{"id": m.id, "code": m.code, "from_due_at": iso(m.old), "to_due_at": iso(m.new)}
                             for m in self.requests],
                "cases": [{"id": m.id, "code": m.code, "from_due_at": iso(m.old), "to_due_at": iso(m.new)}
                          for m in self.cases],
                "cancelled_bookings": [{"id": b.id, "code": b.code} for b in self.bookings]}


def follow(old: WorkCalendar) -> FollowReport:
    """Make open deadlines and upcoming bookings agree with the calendar now in the database."""
    new = load_calendar()
    changed = sorted(day for day in old.overrides.keys() | new.overrides.keys()
                     if old.overrides.get(day) != new.overrides.get(day))
    if not changed:
        return FollowReport()
    return FollowReport(changed, follow_request_deadlines(old, new), follow_case_deadlines(old, new),
                        follow_bookings(new, changed))


def import_notice(text: str, *, confirm: bool, actor_type: str = "operator",
                  actor_id: int | None = None) -> tuple[notice_import.ImportPlan, FollowReport]:
    """``notice_import.import_notice``, then (when applied) the deadlines and bookings follow."""
    old = load_calendar()
    plan = notice_import.import_notice(text, confirm=confirm, actor_type=actor_type, actor_id=actor_id)
    return plan, (follow(old) if plan.applied else FollowReport())


def apply_notice(notice, *, actor_type: str = "operator",
                 actor_id: int | None = None) -> tuple[notice_import.ImportPlan, FollowReport]:
    old = load_calendar()
    plan = notice_import.apply_notice(notice, actor_type=actor_type, actor_id=actor_id)
    return plan, follow(old)


def set_day(day: date, kind: str, note: str | None = None, **actor) -> tuple[overrides.DayChange, FollowReport]:
    old = load_calendar()
    change = overrides.set_day(day, kind, note, **actor)
    return change, follow(old)


def unset_day(day: date, **actor) -> tuple[overrides.DayChange, FollowReport]:
    old = load_calendar()
    change = overrides.unset_day(day, **actor)
    return change, follow(old)
