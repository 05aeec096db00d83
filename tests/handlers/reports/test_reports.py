"""Reports: the board shows nothing private, small samples are not ranked, exports open in Excel."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.clock import now
from app.extensions import db, redis_ext
from app.handlers import requests as flow
from app.handlers.demo import seed_demo
from app.handlers.reports import board, export, stats
from app.handlers.reports.masking import public_name
from app.handlers.sla import start_reply_clock
from app.localtime import to_local
from app.models import Community, Grid, Resident


@pytest.fixture
def demo(app, clock):
    return seed_demo()


def _report(community_id, text, *, resident=None, building="3"):
    row = flow.create_request(community_id=community_id, text=text, channel="group", source="chat",
                              resident=resident, building=building)
    start_reply_clock(community_id=community_id, request_id=row.id)
    return row


@pytest.mark.parametrize("name, shown", [("陈桂芳", "陈**"), ("老刘", "老**"), ("Li Lei", "L**"), ("", "居民"),
                                         (None, "居民"), ("欧阳娜娜娜", "欧**")])
def test_public_names_have_one_shape(name, shown):
    assert public_name(name) == shown


def test_the_board_names_the_staff_and_hides_the_resident(demo):
    resident = db.session.scalars(select(Resident).where(Resident.name == "陈桂芳")).one()
    row = _report(demo.community_id, "3号楼2单元楼道灯坏了，我电话13900001001", resident=resident)
    data = board.board(demo.community_id)
    item = next(i for i in data["items"] if i.code == row.code)
    assert item.resident == "陈**" and item.responsible == "值班人员" and item.place == "3号楼"
    assert item.seconds_left > 0 and not item.overdue and item.last_step == "提交诉求"
    shown = repr(data)
    assert "13900001001" not in shown and "陈桂芳" not in shown and str(resident.id) not in item.resident
    assert "楼道灯坏了" not in shown  # a resident's own words may name a neighbour


def test_the_board_puts_overdue_first_and_counts_it(demo, clock):
    first = _report(demo.community_id, "小区门口垃圾桶满了没人清理")
    clock.advance(days=10)
    second = _report(demo.community_id, "楼下电动车乱停")
    data = board.board(demo.community_id)
    codes = [i.code for i in data["items"]]
    assert codes.index(first.code) < codes.index(second.code)
    assert data["items"][0].overdue and data["overdue"] == 1


def test_thirty_day_rates(demo):
    before = board.compute_rates(demo.community_id, now())  # the demo has closed reports of its own
    _report(demo.community_id, "楼道灯坏了")
    rates = board.compute_rates(demo.community_id, now())
    assert board.thirty_day_rates(demo.community_id, now()) == rates  # computed, then from the cache
    assert rates["total"] == before["total"] + 1
    assert rates["reply_rate"] is None  # the only clock is open: not decided yet


def test_small_samples_are_listed_but_not_ranked():
    rows = [{"name": "甲", "total": 12, "resolution_rate": 0.5}, {"name": "乙", "total": 1, "resolution_rate": 1.0},
            {"name": "丙", "total": 30, "resolution_rate": 0.9}]
    ranked = stats.rank(rows)
    assert [(r["name"], r["rank"], r["small_sample"]) for r in ranked] == [
        ("丙", 1, False), ("甲", 2, False), ("乙", None, True)]


def test_the_dashboard_and_its_exports(demo, clock):
    community = db.session.get(Community, demo.community_id)
    today = to_local(now()).date()
    # The demo community has closed reports of its own (the 3号楼 e-bike hot spot): count from them.
    before = stats.dashboard([community], stats.period(None, None, today), now())
    redis_ext.client.flushdb()  # the dashboard's one-minute cache
    for index in range(3):
        _report(community.id, f"3号楼电梯又坏了 {index}", building="3")
    _report(community.id, "12号楼门口积水", building="12")
    data = stats.dashboard([community], stats.period(None, None, today), now())
    assert data["overview"]["total"] == before["overview"]["total"] + 4
    grids = {g["name"]: g for g in data["per_grid"]}
    earlier = {g["name"]: g for g in before["per_grid"]}
    assert set(grids) == {g.name for g in db.session.scalars(select(Grid).where(Grid.community_id == community.id))}
    first = grids["第一网格"]
    assert first["total"] == earlier["第一网格"]["total"] + 3
    assert first["small_sample"] == (first["total"] < 10) and (first["rank"] is None) == first["small_sample"]
    hot = data["hotspots"]
    assert any(h["building"] == "3号楼" and h["count"] >= 3 for h in hot)
    trend_total = sum(sum(s["counts"]) for s in data["trend"]["series"])
    assert trend_total == sum(sum(s["counts"]) for s in before["trend"]["series"]) + 4
    for chart in export.CHARTS:
        title, headers, rows = export.table(chart, data)
        book = load_workbook(io.BytesIO(export.workbook(title, headers, rows)))
        sheet = book.active
        assert sheet["A1"].value == title
        assert [c.value for c in sheet[2]] == headers
    title, headers, rows = export.table("grids", data)
    assert any(r[-1] == "样本不足，不排名" for r in rows)


def test_periods_are_checked(demo):
    today = to_local(now()).date()
    with pytest.raises(Exception, match="开始日期不能晚于结束日期"):
        stats.period(today, today - timedelta(days=1), today)
    with pytest.raises(Exception, match="最长一年"):
        stats.period(today - timedelta(days=400), today, today)


def test_unknown_chart_is_not_found(demo):
    data = stats.dashboard([db.session.get(Community, demo.community_id)],
                           stats.period(None, None, to_local(now()).date()), now())
    with pytest.raises(Exception, match="没有这张图表"):
        export.table("nope", data)
