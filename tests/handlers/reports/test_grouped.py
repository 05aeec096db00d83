"""The board's two range scans and the dashboard's one pass give what one query per part gave."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.clock import now
from app.extensions import db, redis_ext
from app.handlers import requests as flow
from app.handlers.reports import board, stats
from app.handlers.sla import start_reply_clock
from app.localtime import to_local
from app.models import Community
from app.models.requests import ServiceRequest
from tests import factories
from tests.factories.requests import build_world


def _report(community, text, building="3"):
    row = flow.create_request(community_id=community.id, text=text, channel="group", source="chat",
                              building=building)
    start_reply_clock(community_id=community.id, request_id=row.id)
    return row


def test_the_board_shows_open_and_recently_resolved_by_deadline(app, clock):
    world = build_world()
    old = _report(world.community, "3号楼楼道灯坏了")
    flow.resolve(old, world.duty, note="修好了")
    clock.advance(days=board.RECENT_DAYS + 1)  # resolved too long ago for the board
    recent = _report(world.community, "3号楼水管漏水")
    flow.resolve(recent, world.duty, note="修好了")
    waiting = [_report(world.community, f"3号楼门口积水 {i}") for i in range(3)]
    _report(world.other_community, "别的社区的诉求")
    db.session.commit()
    items = board.request_items(world.community.id, now())
    assert {i.code for i in items} == {recent.code, *(w.code for w in waiting)}
    assert [i.code for i in items] == [r.code for r in sorted([recent, *waiting], key=lambda r: (r.due_at, r.id))]


def test_the_board_keeps_the_first_items_by_deadline_when_there_are_more(app, clock, monkeypatch):
    world = build_world()
    rows = []
    for index in range(5):
        rows.append(_report(world.community, f"3号楼电梯坏了 {index}"))
        clock.advance(hours=1)
    for row in rows[1::2]:
        flow.resolve(row, world.duty, note="修好了")
    db.session.commit()
    monkeypatch.setattr(board, "MAX_ITEMS", 3)
    assert [i.code for i in board.request_items(world.community.id, now())] == [r.code for r in rows[:3]]


def test_a_street_dashboard_splits_into_its_communities_and_grids(app, clock):
    world = build_world()
    second_grid = factories.grid(community=world.other_community, name="幸福里一网格")
    factories.building(community=world.other_community, grid=second_grid, number="3")
    db.session.commit()
    quick = _report(world.community, "3号楼楼道灯坏了")
    clock.advance(minutes=5)
    flow.reply_publicly(quick, world.duty, "收到")
    _report(world.community, "3号楼下水道堵了")
    for index in range(2):
        late = _report(world.other_community, f"3号楼电动车乱停 {index}")
        clock.advance(hours=2)
        flow.reply_publicly(late, world.other_staff, "马上处理")
    db.session.commit()
    communities = list(db.session.scalars(select(Community).where(Community.street_id == world.street.id)
                                          .order_by(Community.id)))
    today = to_local(now()).date()
    span = stats.period(today - timedelta(days=6), today, today)
    street = stats.compute(communities, span, now())
    for community in communities:
        redis_ext.client.flushdb()
        alone = stats.compute([community], span, now())["overview"]
        row = next(r for r in street["per_community"] if r["name"] == community.name)
        for key in ("total", "response_rate", "resolution_rate", "reply_rate", "overdue_open"):
            assert row[key] == alone[key], (community.name, key)
    grids = {g["name"]: g for g in street["per_grid"]}
    assert grids["第一网格"]["total"] == 2 and grids["第一网格"]["reply_rate"] == 0.5  # one still unanswered
    assert grids["幸福里一网格"]["total"] == 2 and grids["幸福里一网格"]["reply_rate"] == 0.0
    assert street["overview"]["total"] == db.session.query(ServiceRequest).count() == 4
