"""响应率/解决率/满意率 in one pass: the totals, communities and grids of ``request_stats_by`` agree with
the rules counted request by request, and with ``request_stats`` of each grid and community alone."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.handlers import requests as flow
from app.models.requests import DONE_STATUSES, OPEN_STATUSES, RATINGS, RequestEvent, ServiceRequest
from tests import factories

ADDITIVE = ("total", "accepted", "rejected", "merged", "responded_in_time", "resolved", "resolved_on_time", "rated",
            "satisfied", "basically", "unsatisfied", "solved_at_grid_level", "escalated", "open", "overdue_open")


def by_the_rules(rows: list[ServiceRequest], at) -> dict:
    """The definitions of app/handlers/requests/stats.py, counted one request at a time."""
    escalated = set(db.session.scalars(select(RequestEvent.request_id).where(RequestEvent.kind == "escalated")))
    total = [r for r in rows if r.status != "merged"]
    accepted = [r for r in total if r.status != "rejected"]
    resolved = [r for r in accepted if r.status in DONE_STATUSES]
    rated = [r for r in total if r.rating in RATINGS]
    return {
        "total": len(total), "accepted": len(accepted), "rejected": len(total) - len(accepted),
        "merged": len(rows) - len(total),
        "responded_in_time": sum(1 for r in total if r.first_reply_at and r.first_reply_at - r.created_at
                                 <= timedelta(hours=1)),
        "resolved": len(resolved), "resolved_on_time": sum(1 for r in resolved if r.resolved_at <= r.due_at),
        "rated": len(rated), "satisfied": sum(1 for r in rated if r.rating == "satisfied"),
        "basically": sum(1 for r in rated if r.rating == "basically"),
        "unsatisfied": sum(1 for r in rated if r.rating == "unsatisfied"),
        "solved_at_grid_level": sum(1 for r in resolved if r.resolved_level == "grid"),
        "escalated": sum(1 for r in accepted if r.id in escalated),
        "open": sum(1 for r in accepted if r.status in OPEN_STATUSES),
        "overdue_open": sum(1 for r in accepted if r.status in OPEN_STATUSES and r.due_at <= at),
    }


@pytest.fixture
def mixed(world, clock):
    """Requests in two grids and another community, in every state the rates distinguish."""
    second = factories.grid(community=world.community, name="第二网格")
    factories.building(community=world.community, grid=second, number="8")
    db.session.commit()

    def report(text, building="3", community=world.community):
        return flow.create_request(community_id=community.id, text=text, channel="group", source="chat",
                                   building=building)

    quick = report("3号楼楼道灯坏了")
    clock.advance(minutes=10)
    flow.reply_publicly(quick, world.duty, "收到")
    flow.start(quick, world.worker)
    flow.resolve(quick, world.worker, note="换好了")
    flow.rate(quick, None, rating="satisfied")
    late = report("8号楼下水道堵了", building="8")
    clock.advance(hours=2)
    flow.reply_publicly(late, world.duty, "马上来")
    flow.escalate(late, world.duty, level="street", reason="需要街道协调")
    flow.resolve(late, world.admin, note="已疏通")
    flow.rate(late, None, rating="unsatisfied")
    flow.reject(report("8号楼楼上装修太吵", building="8"), world.duty, reason="不属于社区职责")  # a reply in time
    flow.merge(report("3号楼楼道灯还是不亮"), world.duty, into=quick)
    report("3号楼门口电动车乱停")
    report("8号楼垃圾桶满了", building="8")
    report("小区路灯不亮", community=world.other_community)
    db.session.commit()
    clock.advance(days=20)  # the open ones are overdue now
    return second


def test_grouped_rates_agree_with_the_rules_and_with_each_part_alone(world, mixed, clock):
    start, end = now() - timedelta(days=30), now() + timedelta(seconds=1)
    both = [world.community.id, world.other_community.id]
    grouped = flow.request_stats_by(ServiceRequest.community_id.in_(both), start=start, end=end,
                                    by=("community_id", "grid_id"))
    rows = list(db.session.scalars(select(ServiceRequest)))
    total = grouped["total"]
    assert {k: total[k] for k in ADDITIVE} == by_the_rules(rows, now())
    assert (total["total"], total["merged"], total["rejected"], total["responded_in_time"]) == (6, 1, 1, 2)
    assert (total["resolved"], total["satisfied"], total["unsatisfied"], total["escalated"]) == (1, 1, 1, 1)
    assert total["overdue_open"] == 4 and total["satisfaction_rate"] == 0.5  # 不满意 reopened the late one
    assert total["resolution_rate"] == round(1 / 5, 4) and total["response_rate"] == round(2 / 6, 4)
    assert sum(c["total"] for c in total["per_category"]) == total["total"]

    assert set(grouped["community_id"]) == set(both)
    for key, group in (("community_id", grouped["community_id"]), ("grid_id", grouped["grid_id"])):
        for value, stats in group.items():
            column = getattr(ServiceRequest, key)
            alone = flow.request_stats(column == value, start=start, end=end)
            assert stats == {k: v for k, v in alone.items() if k != "per_category"}
            assert {k: stats[k] for k in ADDITIVE} == by_the_rules([r for r in rows if getattr(r, key) == value],
                                                                  now())
    assert set(grouped["grid_id"]) == {world.grid.id, mixed.id}  # the other community's request has no grid
    first, second = grouped["grid_id"][world.grid.id], grouped["grid_id"][mixed.id]
    assert (first["total"], first["merged"], first["solved_at_grid_level"]) == (2, 1, 1)
    assert (second["total"], second["rejected"], second["escalated"], second["open"]) == (3, 1, 1, 2)


def test_no_requests_and_unknown_groups(world, clock):
    empty = flow.empty_stats()
    assert empty["total"] == 0 and empty["response_rate"] is None and empty["resolved_by_level"]["grid"] == 0
    none = flow.request_stats_by(ServiceRequest.community_id == world.community.id, start=now() - timedelta(days=1),
                                 end=now(), by=("grid_id",))
    assert none["grid_id"] == {} and {k: v for k, v in none["total"].items() if k != "per_category"} == empty
    with pytest.raises(ValueError):
        flow.request_stats_by(ServiceRequest.id > 0, start=now(), end=now(), by=("title",))
