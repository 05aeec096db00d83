"""Working days on the Chinese calendar, including make-up working days (调休).

Each day is answered by the first source that knows it:

1. ``CalendarDay`` overrides: the State Council's notice imported with
   ``linli calendar import`` or days entered with ``linli calendar set``;
2. the ``chinese_calendar`` package, which knows the published holidays and
   make-up days of the years up to its release;
3. the fallback for a year nobody has loaded: the statutory holidays computed
   from the law (app/holidays.py) and Saturday/Sunday off. Make-up working days
   cannot be computed, so a deadline in such a year is *provisional*
   (``is_provisional``): right for the statutory days, not yet for 调休.

``WorkCalendar`` is pure (no database): build it with ``load_calendar()`` in an
app context, or with explicit overrides in tests.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Mapping
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlalchemy import select

from app import holidays, localtime
from app.extensions import db
from app.models.calendar import CalendarDay

# The years the installed package knows (its data is fixed at import).
PACKAGE_YEARS = frozenset({d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays})

SOURCE_OVERRIDE = "override"
SOURCE_PACKAGE = "package"
SOURCE_STATUTORY = "statutory"  # a statutory holiday computed from the law (fallback year)
SOURCE_WEEKDAY = "weekday"      # plain Monday–Friday / Saturday–Sunday


class WorkCalendar:
    def __init__(self, overrides: Mapping[date, bool] | None = None, *, use_package: bool = True):
        """``use_package=False`` answers as if the package knew no year (tests compare sources with it)."""
        self.overrides = dict(overrides or {})
        self.package_years = PACKAGE_YEARS if use_package else frozenset()
        self._override_years = {d.year for d in self.overrides}
        # The package's answer per date (its lookup costs ~20 µs; deadline sweeps ask often).
        # Overrides are consulted first on every call, so changing them needs no invalidation.
        self._package: dict[date, bool] = {}

    def known_years(self) -> set[int]:
        """Years with published data: the package's and every year with at least one override."""
        return set(self.package_years) | self._override_years

    def is_fallback_year(self, year: int) -> bool:
        """True when neither the package nor an override knows ``year``: only statutory days apply."""
        return year not in self.package_years and year not in self._override_years

    def fallback_years(self, start: date, end: date | None = None) -> list[int]:
        """The fallback years among those [start, end] touches."""
        start, end = _day(start), _day(end if end is not None else start)
        low, high = sorted((start.year, end.year))
        return [year for year in range(low, high + 1) if self.is_fallback_year(year)]

    def is_provisional(self, start: date, end: date | None = None) -> bool:
        """True when a deadline counted over [start, end] may still move once a notice is imported."""
        return bool(self.fallback_years(start, end))

    def source(self, day: date) -> str:
        """Which source answers ``day`` (SOURCE_*)."""
        day = _day(day)
        if day in self.overrides:
            return SOURCE_OVERRIDE
        if day.year in self.package_years:
            return SOURCE_PACKAGE
        if day.year >= holidays.FIRST_YEAR and day in holidays.statutory_holidays(day.year):
            return SOURCE_STATUTORY
        return SOURCE_WEEKDAY

    def statutory_names(self, day: date) -> tuple[str, ...]:
        """The statutory holidays ``day`` belongs to (for the names of days off in a fallback year)."""
        day = _day(day)
        return holidays.statutory_holidays(day.year).get(day, ()) if day.year >= holidays.FIRST_YEAR else ()

    def is_workday(self, day: date) -> bool:
        day = _day(day)
        if day in self.overrides:
            return self.overrides[day]
        known = self._package.get(day)
        if known is None:
            known = self._from_package_or_law(day)
            self._package[day] = known
        return known

    def _from_package_or_law(self, day: date) -> bool:
        if day.year in self.package_years:
            try:
                return chinese_calendar.is_workday(day)
            except NotImplementedError:  # a gap in the package's data: the law decides
                pass
        if day.year >= holidays.FIRST_YEAR and day in holidays.statutory_holidays(day.year):
            return False
        return day.weekday() < 5

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

    def deadline_is_provisional(self, start: datetime, due: datetime, tz: str = "Asia/Shanghai") -> bool:
        """``is_provisional`` for a deadline from ``start`` to ``due`` (instants, read as local days)."""
        zone = ZoneInfo(tz)
        return self.is_provisional(start.astimezone(zone).date(), due.astimezone(zone).date())


def _day(day: date) -> date:
    # A datetime is a date too: use its calendar day.
    return day.date() if isinstance(day, datetime) else day


def load_calendar() -> WorkCalendar:
    """The calendar with the operators' overrides from the database (app context needed)."""
    rows = db.session.execute(select(CalendarDay.day, CalendarDay.is_workday)).all()
    return WorkCalendar({day: is_workday for day, is_workday in rows})


def is_provisional_deadline(start: datetime, due: datetime) -> bool:
    """For views: may this working-day deadline still move once a notice is imported? (app context)

    Cheaper than ``load_calendar()`` per row: years the package knows cost nothing,
    any other year one indexed look-up.
    """
    first, last = localtime.local_date(start), localtime.local_date(due)
    for year in range(min(first.year, last.year), max(first.year, last.year) + 1):
        if year in PACKAGE_YEARS:
            continue
        loaded = db.session.scalars(select(CalendarDay.day).where(
            CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)).limit(1)).first()
        if loaded is None:
            return True
    return False


def moved_deadline(old: WorkCalendar, new: WorkCalendar, start: datetime, due: datetime) -> datetime | None:
    """Where a working-day deadline from ``start`` goes when the calendar changes from ``old`` to ``new``.

    The limit is kept as a number of working days (what ``old`` counts from the
    start's day to the due day), so only the calendar moves it, never a setting
    changed since. None when it does not move, or when ``due`` is not the end of
    a day (not a working-day deadline).
    """
    zone = localtime.zone()
    start_day, due_local = start.astimezone(zone).date(), due.astimezone(zone)
    if due_local.time().replace(microsecond=0) != time(23, 59, 59):
        return None
    days = old.workdays_between(start_day, due_local.date())
    moved = new.deadline(start, days, tz=localtime.zone_name())
    return None if moved == due else moved
