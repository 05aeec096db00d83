"""`linli calendar set/unset/show`: operator overrides of the working-day calendar."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from app.cli.calendar import calendar_group
from app.extensions import db
from app.models import AuditLog, CalendarDay
from app.workcal import load_calendar


def test_set_declares_days_and_deadlines_follow(app, cli_runner):
    from app.handlers.requests import compute_due_at
    start = datetime(2027, 9, 29, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    # Before anything is entered, 2027 counts its statutory days: 国庆 Friday 10-01 is skipped.
    assert compute_due_at(start, "general").date() == date(2027, 10, 11)
    for day in range(1, 8):
        result = cli_runner.invoke(calendar_group, ["set", f"2027-10-0{day}", "holiday", "--note", "国庆节"])
        assert result.exit_code == 0, result.output
    result = cli_runner.invoke(calendar_group, ["set", "2027-10-09", "workday", "--note", "国庆调休上班"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2027-10-09 周六 is now a workday (国庆调休上班)"
    calendar = load_calendar()
    assert calendar.is_workday(date(2027, 10, 9)) and not calendar.is_workday(date(2027, 10, 4))
    assert compute_due_at(start, "general").date() == date(2027, 10, 14)
    assert db.session.query(AuditLog).filter_by(action="calendar.set").count() == 8


def test_set_replaces_an_earlier_override_and_unset_removes_it(app, cli_runner):
    assert cli_runner.invoke(calendar_group, ["set", "2027-05-06", "holiday"]).exit_code == 0
    result = cli_runner.invoke(calendar_group, ["set", "2027-05-06", "workday"])
    assert "was an override: holiday" in result.output
    assert db.session.get(CalendarDay, date(2027, 5, 6)).is_workday is True
    result = cli_runner.invoke(calendar_group, ["unset", "2027-05-06"])
    assert result.exit_code == 0 and "override removed" in result.output
    db.session.expire_all()
    assert db.session.get(CalendarDay, date(2027, 5, 6)) is None
    result = cli_runner.invoke(calendar_group, ["unset", "2027-05-06"])
    assert result.exit_code != 0 and "has no override" in result.output


def test_bad_input_is_one_clear_line(app, cli_runner):
    for args, expected in [(["set", "2027-02-30", "holiday"], "is not a date"),
                           (["set", "tomorrow", "workday"], "is not a date"),
                           (["set", "2027-01-01", "weekend"], "Invalid value"),
                           (["set", "2027-01-01", "holiday", "--note", "x" * 101], "longer than 100"),
                           (["show", "20270"], "Invalid value")]:
        result = cli_runner.invoke(calendar_group, args)
        assert result.exit_code != 0, args
        assert expected in result.output and "Traceback" not in result.output, result.output


def test_show_a_known_year_lists_holidays_and_makeup_days(app, cli_runner):
    cli_runner.invoke(calendar_group, ["set", "2026-12-31", "holiday", "--note", "试点调整"])
    result = cli_runner.invoke(calendar_group, ["show", "2026"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("2026: holidays and make-up days from the holiday package")
    assert "2026-10-01 周四 holiday  [package: 国庆节]" in lines
    assert "2026-10-10 周六 workday  [package: 国庆节调休上班]" in lines
    assert "2026-12-31 周四 holiday  [override: 试点调整]" in lines
    assert not any(line.startswith("2026-10-04") for line in lines)  # a Sunday off is no exception
    assert lines[-1].endswith("working days in 2026")


def test_show_an_unknown_year_says_so(app, cli_runner):
    cli_runner.invoke(calendar_group, ["set", "2031-10-11", "workday", "--note", "调休"])
    result = cli_runner.invoke(calendar_group, ["show", "2031"])
    assert result.exit_code == 0, result.output
    assert "does not know this year" in result.output
    assert "2031-10-11 周六 workday  [override: 调休]" in result.output
    assert "2031-01-22 周三 holiday  [statutory: 春节]" in result.output  # 除夕 (2024 rules)
    assert "2031-10-01 周三 holiday  [statutory: 中秋节、国庆节]" in result.output
    # 261 weekdays, 10 of them statutory holidays, and the Saturday override.
    assert result.output.splitlines()[-1] == "252 working days in 2031"


def test_show_a_year_nobody_loaded_names_the_import_command(app, cli_runner):
    result = cli_runner.invoke(calendar_group, ["show", "2027"])
    assert result.exit_code == 0, result.output
    assert "no notice is imported" in result.output and "linli calendar import FILE" in result.output
    assert "2027-02-05 周五 holiday  [statutory: 春节]" in result.output
    assert "2027-05-01 周六 holiday  [statutory: 劳动节]" in result.output  # a weekend day, listed for its source
    assert result.output.splitlines()[-1] == "254 working days in 2027"  # 261 weekdays less 7 statutory ones


def test_the_command_is_registered(app):
    from app.cli import cli
    assert "calendar" in cli.commands
