"""`linli calendar`: working-day overrides (调休/节假日) for years the holiday package does not know.

The State Council publishes next year's holidays and make-up working days each
November; until the `chinesecalendar` package is updated, operators enter them:

    linli calendar set 2027-10-09 workday --note "国庆调休上班"
    linli calendar set 2027-10-01 holiday --note "国庆节"
    linli calendar show 2027

Resolution deadlines counted in working days (app/workcal.py) use these at once.
"""
from __future__ import annotations

from datetime import date, timedelta

import click
from flask.cli import with_appcontext

WEEKDAYS = "一二三四五六日"


def _parse_day(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise click.ClickException(f"{raw!r} is not a date; use YYYY-MM-DD, e.g. 2027-10-09") from None


@click.group("calendar")
def calendar_group() -> None:
    """Working-day calendar: holidays and make-up working days (调休)."""


@calendar_group.command("set")
@click.argument("day")
@click.argument("kind", type=click.Choice(["workday", "holiday"]))
@click.option("--note", default=None, help="What it is, e.g. 国庆调休上班.")
@with_appcontext
def set_day(day: str, kind: str, note: str | None) -> None:
    """Declare DAY (YYYY-MM-DD) a working day or a day off; replaces an earlier override of that day."""
    from app.extensions import db
    from app.handlers.audit import record
    from app.models import CalendarDay

    parsed = _parse_day(day)
    if note is not None and len(note) > 100:
        raise click.ClickException("--note is longer than 100 characters")
    row = db.session.get(CalendarDay, parsed)
    previous = None if row is None else ("workday" if row.is_workday else "holiday")
    if row is None:
        row = CalendarDay(day=parsed, is_workday=kind == "workday", note=note)
        db.session.add(row)
    else:
        row.is_workday = kind == "workday"
        row.note = note
    record("operator", None, "calendar.set", None,
           detail={"day": parsed.isoformat(), "kind": kind, "note": note, "previous": previous})
    db.session.commit()
    click.echo(f"{parsed.isoformat()} 周{WEEKDAYS[parsed.weekday()]} is now a {kind}"
               + (f" ({note})" if note else "") + (f"; was an override: {previous}" if previous else ""))


@calendar_group.command("unset")
@click.argument("day")
@with_appcontext
def unset_day(day: str) -> None:
    """Remove the override of DAY (the holiday package or Monday–Friday applies again)."""
    from app.extensions import db
    from app.handlers.audit import record
    from app.models import CalendarDay

    parsed = _parse_day(day)
    row = db.session.get(CalendarDay, parsed)
    if row is None:
        raise click.ClickException(f"{parsed.isoformat()} has no override")
    db.session.delete(row)
    record("operator", None, "calendar.unset", None, detail={"day": parsed.isoformat()})
    db.session.commit()
    click.echo(f"{parsed.isoformat()}: override removed")


@calendar_group.command("show")
@click.argument("year", type=click.IntRange(1900, 2200))
@with_appcontext
def show_year(year: int) -> None:
    """List YEAR's exceptions: weekdays off (holidays) and weekend working days (调休), with their source."""
    import chinese_calendar

    from app.workcal import WorkCalendar, load_calendar

    calendar = load_calendar()
    package = WorkCalendar()  # without overrides: what the package alone says
    package_knows = year in {d.year for d in chinese_calendar.holidays}
    if package_knows:
        click.echo(f"{year}: holidays and make-up days from the holiday package (chinesecalendar); "
                   "overrides marked [override]")
    else:
        click.echo(f"{year}: the holiday package does not know this year; only weekends and operator "
                   "overrides apply. Add the published schedule with `linli calendar set`.")
    from app.extensions import db
    from app.models import CalendarDay
    notes = {row.day: row.note for row in db.session.query(CalendarDay).filter(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))}
    day = date(year, 1, 1)
    workdays = 0
    lines = 0
    while day.year == year:
        working = calendar.is_workday(day)
        workdays += working
        weekend = day.weekday() >= 5
        overridden = day in calendar.overrides
        if working == weekend or overridden:
            kind = "workday" if working else "holiday"
            if overridden:
                source = "[override" + (f": {notes[day]}" if notes.get(day) else "") + "]"
            else:
                name = _holiday_name(day) if not working else _makeup_name(day)
                source = f"[package{': ' + name if name else ''}]"
            if overridden and package.is_workday(day) == working:
                source += " (same as the package)"
            click.echo(f"{day.isoformat()} 周{WEEKDAYS[day.weekday()]} {kind:<8} {source}")
            lines += 1
        day += timedelta(days=1)
    if lines == 0:
        click.echo("(no exceptions: Monday–Friday are working days)")
    click.echo(f"{workdays} working days in {year}")


def _holiday_name(day: date) -> str | None:
    import chinese_calendar
    name = chinese_calendar.holidays.get(day)
    return _chinese(name)


def _makeup_name(day: date) -> str | None:
    import chinese_calendar
    name = chinese_calendar.workdays.get(day)
    return f"{_chinese(name)}调休上班" if name else None


def _chinese(english: str | None) -> str | None:
    if not english:
        return None
    import chinese_calendar
    for holiday in chinese_calendar.Holiday:
        if holiday.value == english:
            return holiday.chinese
    return english


COMMANDS = [calendar_group]
