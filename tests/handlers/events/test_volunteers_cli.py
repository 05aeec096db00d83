"""`linli events list|sweep` and `linli volunteers report|export`."""
from __future__ import annotations

import pytest
from openpyxl import load_workbook

from app.cli.events import events_group, volunteers_group
from app.extensions import db
from app.handlers.events.hours import record_admin_hours
from app.handlers.events.signups import signup_for
from app.handlers.events.volunteers import register_member
from tests import factories
from tests.handlers.events.support import local, make_event


@pytest.fixture
def world(app, clock):
    community = factories.community(name="富强新村社区")
    admin = factories.staff(community=community, roles=("community_admin",), name="王秀英")
    resident = factories.resident(community_id=community.id, name="周晓燕")
    db.session.commit()
    member, _ = register_member(community.id, {"name": "周晓燕", "work_unit": "实验小学", "party_org": "党总支"},
                                resident=resident)
    register_member(community.id, {"name": "吴建平", "kind": "volunteer"}, staff=admin)
    record_admin_hours(member, admin, {"hours": 6.5, "served_on": "2026-05-04", "note": "五四志愿服务"})
    event = make_event(community, capacity=2)
    signup_for(event.id, resident=resident)
    make_event(community, title="草稿活动", kind="meeting", starts_at=local(2026, 11, 26, 19, 0), publish=False)
    return {"community": community, "event": event}


def test_events_list(cli_runner, world):
    result = cli_runner.invoke(events_group, ["list", "--community", "富强新村社区"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines == [f"{world['event'].id}\t2026-11-24 08:30\t每周二上午义诊\tpublished\t1/2\twaiting 0"]
    everything = cli_runner.invoke(events_group, ["list", "--all"])
    assert "草稿活动\tdraft" in everything.output


def test_events_list_unknown_community_is_one_line(cli_runner, world):
    result = cli_runner.invoke(events_group, ["list", "--community", "不存在社区"])
    assert result.exit_code != 0 and "no community named '不存在社区'" in result.output
    assert "Traceback" not in result.output


def test_volunteers_report(cli_runner, world):
    result = cli_runner.invoke(volunteers_group, ["report", "--community", "富强新村社区", "--year", "2026"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("富强新村社区 2026: 1 party members (0 met the 24-hour target), 1 volunteers, 6.5 hours")
    assert "周晓燕\t在职党员\t6.5h\t-\tnot met" in lines[1]
    assert "吴建平\t志愿者\t0h\t-\t-" in lines[2]


def test_volunteers_export_writes_a_workbook(cli_runner, world, tmp_path):
    path = tmp_path / "fuqiang-2026.xlsx"
    result = cli_runner.invoke(volunteers_group, ["export", "--community", "富强新村社区", "--year", "2026",
                                                  "-o", str(path)])
    assert result.exit_code == 0, result.output
    book = load_workbook(path)
    rows = list(book["党员时长"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[8]) for r in rows] == [("周晓燕", 6.5), ("吴建平", 0)]
    detail = list(book["时长明细"].iter_rows(min_row=2, values_only=True))
    assert detail[0][1:8] == ("周晓燕", "2026-05-04", "管理员录入", 6.5, None, "王秀英", "五四志愿服务")


@pytest.mark.parametrize("args, message", [
    (["-o", "{tmp}/report.csv"], "should end in .xlsx"),
    (["-o", "{tmp}/missing/report.xlsx"], "does not exist"),
])
def test_volunteers_export_bad_output(cli_runner, world, tmp_path, args, message):
    args = [a.format(tmp=tmp_path) for a in args]
    result = cli_runner.invoke(volunteers_group, ["export", "--community", "富强新村社区", *args])
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output


def test_events_sweep_command(cli_runner, world, clock):
    clock.advance(days=8)
    result = cli_runner.invoke(events_group, ["sweep"])
    assert result.exit_code == 0 and result.output.startswith("materialised 0, reminded 0, closed 1")
