"""Operator commands: linli roster import/show/gaps, linli sla alerts/sweep, linli stats sla."""
from __future__ import annotations

import csv
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.cli import cli
from app.extensions import db
from app.handlers import sla
from tests import factories as f
from tests.handlers.sla.support import cover_day, make_world, start

SH = ZoneInfo("Asia/Shanghai")


def run(cli_runner, *args):
    return cli_runner.invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def people(app, clock):
    community = f.community(name="富强新村社区")
    f.staff(roles=("duty",), community=community, name="张伟", phone="13900000002")
    f.staff(roles=("duty",), community=community, name="李娜", phone="13900000003")
    db.session.commit()
    return community


def write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle).writerows(rows)
    return str(path)


def test_roster_import_show_and_gaps(people, cli_runner, tmp_path):
    path = write_csv(tmp_path / "值班表.csv", [
        ["日期", "开始", "结束", "值班人员", "值班长"],
        ["2026-11-17", "00:00", "18:00", "张伟", "是"],
        ["2026-11-17", "18:00", "24:00", "李娜", ""],
        ["2026-11-18", "", "", "李娜", ""],
    ])
    result = run(cli_runner, "roster", "import", path, "--community", "富强新村社区")
    assert result.exit_code == 0, result.output
    assert "新增 3" in result.output and "created 3" in result.output
    again = run(cli_runner, "roster", "import", path, "--community", "富强新村社区")
    assert "already there 3" in again.output

    shown = run(cli_runner, "roster", "show", "--community", "富强新村社区", "--days", "3")
    assert "2026-11-17 周二" in shown.output
    assert "2026-11-17 00:00–18:00  张伟 13900000002 值班长" in shown.output
    assert "2026-11-17 18:00–24:00  李娜" in shown.output
    assert "2026-11-19 00:00–24:00" in shown.output  # the uncovered third day is listed as a gap

    gaps = run(cli_runner, "roster", "gaps", "--community", "富强新村社区", "--days", "2")
    assert gaps.exit_code == 1
    assert "1 gaps" in gaps.output and "2026-11-19 00:00–09:30" in gaps.output
    covered = run(cli_runner, "roster", "gaps", "--community", "富强新村社区", "--days", "1")
    assert covered.exit_code == 0 and "no gaps" in covered.output


def test_roster_import_reports_bad_rows_and_bad_files(people, cli_runner, tmp_path):
    path = write_csv(tmp_path / "r.csv", [["日期", "值班人员"], ["2026-11-17", "张伟"], ["2026-11-18", "王五"]])
    result = cli_runner.invoke(cli, ["roster", "import", path, "--community", "富强新村社区"])
    assert result.exit_code == 1
    assert "第3行：本社区没有名为「王五」的工作人员" in result.output
    bad = write_csv(tmp_path / "bad.csv", [["名字"], ["张伟"]])
    result = cli_runner.invoke(cli, ["roster", "import", bad, "--community", "富强新村社区"])
    assert result.exit_code == 2 and "值班人员" in result.output
    result = cli_runner.invoke(cli, ["roster", "import", path, "--community", "不存在社区"])
    assert result.exit_code == 1 and "no community named" in result.output


def test_sla_alerts_lists_recipients_and_delivery_state(app, clock, cli_runner):
    world = make_world(duty_wework=False)
    cover_day(world, clock() - timedelta(hours=1))
    clock_row = start(world)
    clock.advance(hours=1)
    swept = run(cli_runner, "sla", "sweep")
    assert "breached 1" in swept.output
    result = run(cli_runner, "sla", "alerts", "--community", world.community.name)
    assert result.exit_code == 0, result.output
    assert "1 alerts" in result.output
    assert f"breach (超时未回复告警)  {world.community.name}  key={clock_row.id}:breach" in result.output
    assert "→ 张值班 [duty] via group 值班群: queued" in result.output
    assert "→ 王书记 [admin] via wework: queued" in result.output
    none = run(cli_runner, "sla", "alerts", "--kind", "warn")
    assert "0 alerts" in none.output
    bad = cli_runner.invoke(cli, ["sla", "alerts", "--since", "last week"])
    assert bad.exit_code == 2 and "--since" in bad.output


def test_stats_sla_per_community_and_staff(app, clock, cli_runner):
    world = make_world()
    cover_day(world, clock() - timedelta(hours=1))
    base = clock()
    on_time, late = start(world), start(world)
    start(world)
    sla.stop_clock(on_time, staff_id=world.duty.id, at=base + timedelta(minutes=12, seconds=30))
    sla.stop_clock(late, staff_id=world.lead.id, at=base + timedelta(minutes=80))
    clock.advance(hours=2)
    result = run(cli_runner, "stats", "sla")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    community_line = next(line for line in lines if line.startswith(world.community.name))
    assert community_line.split()[1:] == ["3", "2", "1", "1", "1", "0", "33.3%", "46m15s", "1h20m"]
    staff_line = next(line for line in lines if line.startswith("张值班"))
    assert staff_line.split()[1:] == ["1", "1", "1", "0", "0", "0", "100.0%", "12m30s", "12m30s"]
    other = make_world()
    only_other = run(cli_runner, "stats", "sla", "--community", other.community.name)
    assert "(no reply clocks in this period)" in only_other.output
    before = run(cli_runner, "stats", "sla", "--until", "2026-11-16")
    assert "(no reply clocks in this period)" in before.output
    bad = cli_runner.invoke(cli, ["stats", "sla", "--since", "2026-11-20", "--until", "2026-11-10"])
    assert bad.exit_code == 2


def test_moments_are_local_dates_or_iso_times(app):
    from app.cli.sla import parse_moment
    assert parse_moment("2026-11-17", "--since") == datetime(2026, 11, 17, tzinfo=SH)
    assert parse_moment("2026-11-17", "--until", end_of_day=True) == datetime(2026, 11, 18, tzinfo=SH)
    assert parse_moment("2026-11-17T08:30", "--since") == datetime(2026, 11, 17, 8, 30, tzinfo=SH)
