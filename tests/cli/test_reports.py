"""`linli reports rollup` / `refresh` as an operator runs them: what they build, and their errors."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.cli import cli
from app.clock import now
from app.extensions import db
from app.handlers import requests as flow
from app.localtime import local_date
from app.models.reports import RequestDay, RollupDay, RollupState
from tests.factories.requests import build_world


def test_rollup_rebuilds_the_closed_days_of_a_range(cli_runner, clock):
    world = build_world()
    flow.create_request(community_id=world.community.id, text="3号楼楼道灯坏了", channel="group", source="chat",
                        building="3")
    clock.advance(days=2)
    today = local_date(now())
    result = cli_runner.invoke(cli, ["reports", "rollup", "--from", (today - timedelta(days=4)).isoformat(),
                                     "--to", today.isoformat()])
    assert result.exit_code == 0, result.output
    assert "rollup rebuilt: 2 communities × 4 days" in result.stdout  # today is computed live, never built
    assert db.session.scalar(select(func.count()).select_from(RollupDay)) == 8
    assert db.session.scalar(select(func.sum(RequestDay.total))) == 1
    only = cli_runner.invoke(cli, ["reports", "rollup", "--from", (today - timedelta(days=1)).isoformat(),
                                   "--to", today.isoformat(), "--community", str(world.other_community.id)])
    assert only.exit_code == 0 and "1 communities × 1 days" in only.stdout
    refreshed = cli_runner.invoke(cli, ["reports", "refresh"])
    assert refreshed.exit_code == 0 and "rollup refreshed:" in refreshed.stdout
    assert db.session.get(RollupState, 1).generation == 3


def test_rollup_refuses_bad_dates_and_unknown_communities(cli_runner, clock):
    build_world()
    bad = cli_runner.invoke(cli, ["reports", "rollup", "--from", "2026-13-01", "--to", "2026-12-01"])
    assert bad.exit_code == 2 and "日期格式不对" in bad.output
    backwards = cli_runner.invoke(cli, ["reports", "rollup", "--from", "2026-11-10", "--to", "2026-11-01"])
    assert backwards.exit_code == 2 and "开始日期不能晚于结束日期" in backwards.output
    unknown = cli_runner.invoke(cli, ["reports", "rollup", "--from", "2026-11-01", "--to", "2026-11-02",
                                      "--community", "999999"])
    assert unknown.exit_code == 2 and "没有这个社区：999999" in unknown.output
    assert db.session.scalar(select(func.count()).select_from(RollupDay)) == 0
