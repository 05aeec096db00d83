"""Working days on the Chinese calendar, including make-up working days (调休).

The ``chinese_calendar`` package knows the State Council's published
holidays and make-up days; operators add ``CalendarDay`` overrides for years it
does not know yet (the schedule for a year is published each November).
Outside the package's range and without overrides, Monday–Friday are
working days.

``WorkCalendar`` is pure (no database): build it with ``load_calendar()`` in an
app context, or with explicit overrides in tests.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Mapping
from zoneinfo import ZoneInfo

import chinese_calendar


class WorkCalendar:
    def __init__(self, overrides: Mapping[date, bool] | None = None):
        self.overrides = dict(overrides or {})
        # The package's answer per date (its lookup costs ~20 µs; deadline sweeps ask often).
        # Overrides are consulted first on every call, so changing them needs no invalidation.
        self._package: dict[date, bool] = {}

    def known_years(self) -> set[int]:
        years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
        return years | {d.year for d in self.overrides}

    def is_workday(self, day: date) -> bool:
        if isinstance(day, datetime):  # a datetime is a date too: use its calendar day
            day = day.date()
        if day in self.overrides:
            return self.overrides[day]
        known = self._package.get(day)
        if known is None:
            try:
                known = chinese_calendar.is_workday(day)
            except NotImplementedError:
                # A year the package does not know yet: Monday–Friday until operators add overrides.
                known = day.weekday() < 5
            self._package[day] = known
        return known

    def is_holiday(self, day: date) -> bool:
        return not self.is_workday(day)

    def next_workday(self, day: date, *, include_today: bool = False) -> date:
        current = day if include_today else day + timedelta(days=1)
        while not self.is_workday(current):
            current += timedelta(days=1)
        return current

    def add_workdays(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (start itself not counted)."""
        if days < 0:
            raise ValueError("days must be >= 0")
        current = start
        for _ in range(days):
            current = self.next_workday(current)
        return current

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]."""
        if end <= start:
            return 0
        count, current = 0, start
        while current < end:
            current += timedelta(days=1)
            if self.is_workday(current):
                count += 1
        return count

    def deadline(self, start: datetime, days: int, tz: str = "Asia/Shanghai") -> datetime:
        """A day-based limit (限时办理): the end of the ``days``-th working day after ``start``, local time.

        A request received on a non-working day starts counting from the next
        working day (the day it is received is never counted).
        """
        zone = ZoneInfo(tz)
        local_day = start.astimezone(zone).date()
        due_day = self.add_workdays(local_day, days)
        return datetime.combine(due_day, time(23, 59, 59), tzinfo=zone)


def load_calendar() -> WorkCalendar:
    """The calendar with the operators' overrides from the database (app context needed)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models.calendar import CalendarDay

    rows = db.session.execute(select(CalendarDay.day, CalendarDay.is_workday)).all()
    return WorkCalendar({day: is_workday for day, is_workday in rows})
