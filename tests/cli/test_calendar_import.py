"""`linli calendar import FILE`: the notice shown as understood, confirmed, applied in one go or not at all."""
from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import chinese_calendar
import pytest
from sqlalchemy import select

from app.cli.calendar import calendar_group
from app.clock import FrozenClock, set_app_clock
from app.extensions import db
from app.models import AuditLog, CalendarDay
from app.workcal import WorkCalendar
from tests.factories.requests import build_world, report
from tests.handlers.calendar.test_year_boundary import NOTICE_2027

ROOT = Path(__file__).resolve().parents[2]
NOTICES = ROOT / "tests" / "data" / "holiday_notices"


def _rows() -> dict[date, tuple[bool, str | None]]:
    db.session.expire_all()
    return {row.day: (row.is_workday, row.note) for row in db.session.scalars(select(CalendarDay))}


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_importing_each_published_notice_agrees_with_the_package(app, cli_runner, year):
    result = cli_runner.invoke(calendar_group, ["import", str(NOTICES / f"{year}.txt"), "--yes"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith(f"{year}: ") and "changes applied" in result.output
    # What was written, read as if the package knew nothing: the notice alone decides the year.
    calendar = WorkCalendar({day: workday for day, (workday, _) in _rows().items()}, use_package=False)
    day = date(year, 1, 1)
    while day.year == year:
        assert calendar.is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "calendar.import")).one()
    assert audit.detail["year"] == year and audit.actor_type == "operator"


def test_the_preview_is_a_table_per_holiday(app, cli_runner):
    result = cli_runner.invoke(calendar_group, ["import", str(NOTICES / "2025.txt"), "--yes"])
    lines = result.output.splitlines()
    assert lines[0] == "The holiday notice for 2025, as understood:"
    spring = next(line for line in lines if line.strip().startswith("春节"))
    assert "2025-01-28 周二 – 2025-02-04 周二 (8 days)" in spring
    assert spring.rstrip().endswith("2025-01-26 周日, 2025-02-08 周六")
    assert any(line.strip().startswith("国庆节、中秋节") for line in lines)
    assert "33 changes: 28 new days off, 5 new make-up working days, 0 changed or removed" in lines


def test_without_a_terminal_it_refuses_unless_yes(app, cli_runner):
    result = cli_runner.invoke(calendar_group, ["import", str(NOTICES / "2026.txt")])
    assert result.exit_code == 1
    assert "春节" in result.output  # the preview was shown
    assert result.output.splitlines()[-1] == \
        "Error: not applied: no terminal to confirm on; re-run with --yes to apply"
    assert _rows() == {}


def test_a_bad_notice_is_reported_by_line_and_nothing_is_applied(app, cli_runner, tmp_path):
    text = (NOTICES / "2026.txt").read_text(encoding="utf-8")
    bad = tmp_path / "2026.txt"
    bad.write_text(text.replace("5月9日（周六）", "5月9日（周五）").replace("共9天", "共10天"), encoding="utf-8")
    result = cli_runner.invoke(calendar_group, ["import", str(bad), "--yes"])
    assert result.exit_code == 1
    assert "line 9: 写的是共10天，但列出的放假日期是9天" in result.output
    assert "line 11: 2026年5月9日是周六，通知写的是周五" in result.output
    assert "not imported (2 problem(s) above); nothing changed" in result.output
    assert "Traceback" not in result.output
    assert _rows() == {}


def test_reimporting_replaces_the_earlier_import_and_keeps_local_overrides(app, cli_runner, tmp_path):
    assert cli_runner.invoke(calendar_group, ["set", "2026-12-31", "holiday", "--note", "试点调整"]).exit_code == 0
    assert cli_runner.invoke(calendar_group, ["import", str(NOTICES / "2026.txt"), "--yes"]).exit_code == 0
    again = cli_runner.invoke(calendar_group, ["import", str(NOTICES / "2026.txt"), "--yes"])
    assert again.exit_code == 0 and "already agrees with this notice; nothing to do" in again.output
    # A corrected notice: 中秋 moved by a day, its make-up day gone.
    text = (NOTICES / "2026.txt").read_text(encoding="utf-8").replace(
        "9月20日（周日）、10月10日（周六）上班", "10月10日（周六）上班")
    corrected = tmp_path / "2026-corrected.txt"
    corrected.write_text(text, encoding="utf-8")
    result = cli_runner.invoke(calendar_group, ["import", str(corrected), "--yes"])
    assert result.exit_code == 0, result.output
    assert "remove 2026-09-20 周日: workday from an earlier import (2026年通知：国庆节调休上班)" in result.output
    assert "keep   2026-12-31 周四 holiday (试点调整): an override the notice does not mention" in result.output
    rows = _rows()
    assert date(2026, 9, 20) not in rows and rows[date(2026, 12, 31)] == (False, "试点调整")
    assert rows[date(2026, 10, 10)] == (True, "2026年通知：国庆节调休上班")


def test_unreadable_files_are_one_line(app, cli_runner, tmp_path):
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes((NOTICES / "2025.txt").read_text(encoding="utf-8").encode("gbk"))
    for path, expected in [(gbk, "not UTF-8 text"), (tmp_path / "missing.txt", "cannot read")]:
        result = cli_runner.invoke(calendar_group, ["import", str(path)])
        assert result.exit_code != 0 and expected in result.output and "Traceback" not in result.output


def test_a_utf8_file_with_a_byte_order_mark_is_read(app, cli_runner, tmp_path):
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + (NOTICES / "2025.txt").read_bytes())
    assert cli_runner.invoke(calendar_group, ["import", str(bom), "--yes"]).exit_code == 0
    assert _rows()[date(2025, 1, 28)] == (False, "2025年通知：春节")


def _in_a_terminal(database_url: str, redis_url: str, instance: Path, answer: bytes) -> tuple[int, str]:
    """Run the real `linli calendar import` on a pseudo-terminal and answer its question."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env.update(LINLI_DATABASE_URL=database_url, LINLI_REDIS_URL=redis_url, LINLI_INSTANCE_PATH=str(instance),
               LINLI_LOG_LEVEL="WARNING")
    controller, terminal = pty.openpty()
    child = subprocess.Popen([sys.executable, "-m", "app.cli", "calendar", "import", str(NOTICES / "2026.txt")],
                             stdin=terminal, stdout=terminal, stderr=terminal, env=env, cwd=ROOT)
    os.close(terminal)
    output, deadline, answered = b"", time.monotonic() + 60, False
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"[y/N]" in output:
                os.write(controller, answer)
                answered = True
        return child.wait(timeout=30), output.decode("utf-8", "replace")
    finally:
        os.close(controller)
        if child.poll() is None:
            child.kill()
            child.wait()


def test_on_a_terminal_it_asks_and_applies_only_on_yes(app, database_url, redis_url, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("the child process shares the test database only as a SQLite file")
    code, output = _in_a_terminal(database_url, redis_url, tmp_path / "instance", b"n\n")
    assert code == 1 and "Apply these 39 changes to 2026? [y/N]" in output and "not applied" in output, output
    assert _rows() == {}
    code, output = _in_a_terminal(database_url, redis_url, tmp_path / "instance", b"y\n")
    assert code == 0 and "2026: 39 changes applied" in output, output
    assert _rows()[date(2026, 2, 14)] == (True, "2026年通知：春节调休上班")


def test_the_import_says_which_deadlines_moved(app, cli_runner, tmp_path):
    set_app_clock(app, FrozenClock(datetime(2026, 12, 29, 10, 0, tzinfo=timezone(timedelta(hours=8)))))
    app.config["RESOLUTION_DEADLINES"] = "general=3d"
    _, request = report(build_world())
    notice = tmp_path / "2027.txt"
    notice.write_text(NOTICE_2027, encoding="utf-8")
    result = cli_runner.invoke(calendar_group, ["import", str(notice), "--yes"])
    assert result.exit_code == 0, result.output
    assert f"deadlines moved: 1 open requests ({request.code}); their assignees are told" in result.output
    result = cli_runner.invoke(calendar_group, ["set", "2027-01-05", "holiday", "--note", "试点"])
    assert f"deadlines moved: 1 open requests ({request.code})" in result.output
