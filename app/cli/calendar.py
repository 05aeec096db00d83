"""`linli calendar`: the working-day calendar — the yearly notice, single-day overrides, a year's exceptions.

Each autumn the State Council publishes next year's holidays and make-up
working days (调休). Save the notice's text as published (title included) and
import it; it is shown as understood and applied only after confirmation:

    linli calendar import 2027通知.txt          # asks; --yes to skip (needed without a terminal)
    linli calendar set 2027-10-09 workday --note "国庆调休上班"
    linli calendar unset 2027-10-09
    linli calendar show 2027

Resolution deadlines counted in working days (app/workcal.py) use these at once.
"""
from __future__ import annotations

import sys
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app import holidays
from app.calendar_notice import NoticeError, parse_notice
from app.errors import DomainError
from app.extensions import db
from app.handlers import calendar_sync
from app.handlers.calendar import notice_import, overrides
from app.handlers.calendar.readiness import IMPORT_COMMAND
from app.models import CalendarDay
from app.workcal import SOURCE_OVERRIDE, SOURCE_PACKAGE, SOURCE_STATUTORY, WorkCalendar, load_calendar

WEEKDAYS = "一二三四五六日"
MAX_NOTICE_BYTES = 200_000


def _parse_day(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise click.ClickException(f"{raw!r} is not a date; use YYYY-MM-DD, e.g. 2027-10-09") from None


@click.group("calendar")
def calendar_group() -> None:
    """Working-day calendar: holidays and make-up working days (调休)."""


@calendar_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Apply without asking (required when there is no terminal).")
@with_appcontext
def import_notice(file: Path, yes: bool) -> None:
    """Import the State Council's holiday notice for a year from FILE (its text as published, UTF-8)."""
    text = _read_notice(file)
    try:
        plan = notice_import.plan_import(parse_notice(text))
    except NoticeError as exc:
        for problem in exc.problems:
            click.echo(f"line {problem.line}: {problem.reason}", err=True)
        raise click.ClickException(f"{file}: not imported ({len(exc.problems)} problem(s) above); nothing changed")
    for line in preview_lines(plan):
        click.echo(line)
    if not plan.changes:
        click.echo(f"{plan.year}: the calendar already agrees with this notice; nothing to do")
        return
    if not yes:
        if not sys.stdin.isatty():
            raise click.ClickException("not applied: no terminal to confirm on; re-run with --yes to apply")
        if not click.confirm(f"Apply these {len(plan.changes)} changes to {plan.year}?", default=False):
            raise click.ClickException("not applied; nothing changed")
    applied, followed = calendar_sync.apply_notice(plan.notice)
    click.echo(f"{applied.year}: {len(applied.changes)} changes applied")
    for line in followed.lines():
        click.echo(line)


def _read_notice(file: Path) -> str:
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{file}: cannot read ({exc.strerror or exc})")
    if len(raw) > MAX_NOTICE_BYTES:
        raise click.ClickException(f"{file}: larger than {MAX_NOTICE_BYTES // 1000} kB; is it the notice?")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{file}: not UTF-8 text; save the notice as UTF-8 and try again")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _day(day: date) -> str:
    return f"{day.isoformat()} 周{WEEKDAYS[day.weekday()]}"


def _runs(days: tuple[date, ...]) -> str:
    runs: list[list[date]] = []
    for day in days:
        if runs and day - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(_day(r[0]) if len(r) == 1 else f"{_day(r[0])} – {_day(r[-1])}" for r in runs)


def preview_lines(plan: notice_import.ImportPlan) -> list[str]:
    """The notice as understood: one row per holiday, then what changes."""
    rows = [("holiday", "days off", "make-up working days")]
    for holiday in plan.notice.holidays:
        rows.append((holiday.label, f"{_runs(holiday.days_off)} ({len(holiday.days_off)} days)",
                     ", ".join(_day(d) for d in holiday.workdays) or "-"))
    widths = [max(_width(row[i]) for row in rows) for i in range(2)]
    lines = [f"The holiday notice for {plan.year}, as understood:"]
    lines += [f"  {_pad(a, widths[0])} | {_pad(b, widths[1])} | {c}" for a, b, c in rows]
    lines += [f"  warning: line {w.line}: {w.reason}" for w in plan.notice.warnings]
    for change in plan.changes:
        was = "" if change.previous is None else \
            f" (replaces {overrides.kind_of(change.previous[0])}: {change.previous[1] or 'no note'})"
        if change.is_workday is None:
            lines.append(f"  remove {_day(change.day)}: {overrides.kind_of(change.previous[0])} "
                         f"from an earlier import ({change.previous[1]})")
        elif change.previous is not None:
            lines.append(f"  change {_day(change.day)} to {overrides.kind_of(change.is_workday)}{was}")
    for day, is_workday, note in plan.kept:
        lines.append(f"  keep   {_day(day)} {overrides.kind_of(is_workday)} ({note or 'no note'}): "
                     "an override the notice does not mention")
    new = [c for c in plan.changes if c.previous is None]
    lines.append(f"{len(plan.changes)} changes: {sum(not c.is_workday for c in new)} new days off, "
                 f"{sum(bool(c.is_workday) for c in new)} new make-up working days, "
                 f"{len(plan.changes) - len(new)} changed or removed")
    return lines


@calendar_group.command("set")
@click.argument("day")
@click.argument("kind", type=click.Choice([overrides.WORKDAY, overrides.HOLIDAY]))
@click.option("--note", default=None, help="What it is, e.g. 国庆调休上班.")
@with_appcontext
def set_day(day: str, kind: str, note: str | None) -> None:
    """Declare DAY (YYYY-MM-DD) a working day or a day off; replaces an earlier override of that day."""
    try:
        change, followed = calendar_sync.set_day(_parse_day(day), kind, note)
    except DomainError as exc:
        raise click.ClickException(exc.message.replace("note is", "--note is"))
    click.echo(f"{_day(change.day)} is now a {kind}" + (f" ({note})" if note else "")
               + (f"; was an override: {change.previous}" if change.previous else ""))
    for line in followed.lines():
        click.echo(line)


@calendar_group.command("unset")
@click.argument("day")
@with_appcontext
def unset_day(day: str) -> None:
    """Remove the override of DAY (the holiday package or the statutory holidays apply again)."""
    try:
        change, followed = calendar_sync.unset_day(_parse_day(day))
    except DomainError as exc:
        raise click.ClickException(exc.message)
    click.echo(f"{change.day.isoformat()}: override removed")
    for line in followed.lines():
        click.echo(line)


@calendar_group.command("show")
@click.argument("year", type=click.IntRange(1900, 2200))
@with_appcontext
def show_year(year: int) -> None:
    """List YEAR's exceptions: weekdays off (holidays) and weekend working days (调休), with their source."""
    calendar = load_calendar()
    package = WorkCalendar()  # without overrides: what the package (or the law) alone says
    click.echo(_show_header(year, calendar))
    notes = dict(db.session.execute(select(CalendarDay.day, CalendarDay.note).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))).all())
    day, workdays, lines = date(year, 1, 1), 0, 0
    while day.year == year:
        working = calendar.is_workday(day)
        workdays += working
        source = calendar.source(day)
        if working == (day.weekday() >= 5) or source in (SOURCE_OVERRIDE, SOURCE_STATUTORY):
            label = _source_label(day, source, working, notes.get(day))
            if source == SOURCE_OVERRIDE and package.is_workday(day) == working:
                label += " (same as the package)" if year in package.package_years else " (same as the law)"
            click.echo(f"{_day(day)} {'workday' if working else 'holiday':<8} {label}")
            lines += 1
        day += timedelta(days=1)
    if lines == 0:
        click.echo("(no exceptions: Monday–Friday are working days)")
    click.echo(f"{workdays} working days in {year}")


def _show_header(year: int, calendar: WorkCalendar) -> str:
    if year in calendar.package_years:
        return (f"{year}: holidays and make-up days from the holiday package (chinesecalendar); "
                "overrides marked [override]")
    if not calendar.is_fallback_year(year):
        return (f"{year}: the holiday package does not know this year; the overrides (an imported notice or "
                "`linli calendar set`) and the statutory holidays apply")
    return (f"{year}: the holiday package does not know this year and no notice is imported: the statutory "
            "holidays and weekends apply, no make-up working day (deadlines are provisional). "
            f"Import the State Council's notice with `{IMPORT_COMMAND}`.")


def _source_label(day: date, source: str, working: bool, note: str | None) -> str:
    if source == SOURCE_OVERRIDE:
        return "[override" + (f": {note}" if note else "") + "]"
    if source == SOURCE_STATUTORY:
        return f"[statutory: {'、'.join(holidays.statutory_holidays(day.year)[day])}]"
    if source == SOURCE_PACKAGE:
        name = _makeup_name(day) if working else _chinese(chinese_calendar.holidays.get(day))
        return f"[package{': ' + name if name else ''}]"
    return "[weekday]"


def _makeup_name(day: date) -> str | None:
    name = chinese_calendar.workdays.get(day)
    return f"{_chinese(name)}调休上班" if name else None


def _chinese(english: str | None) -> str | None:
    if not english:
        return None
    for holiday in chinese_calendar.Holiday:
        if holiday.value == english:
            return holiday.chinese
    return english


COMMANDS = [calendar_group]
