"""The demo's events and members (`linli seed-demo` runs seed_demo_events in its transaction)."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.handlers.demo import DEMO_EXTRAS, seed_demo
from app.handlers.events.demo import seed_demo_events
from app.handlers.events.matching import event_terms
from app.localtime import to_local
from app.models import Resident
from app.models.events import Event
from app.models.volunteers import MemberProject, PartyMember, VolunteerProject


def _counts() -> tuple[int, int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Event, VolunteerProject, PartyMember, MemberProject))


def test_demo_has_the_weekly_health_check_and_the_other_events(app, clock):
    assert seed_demo_events in DEMO_EXTRAS
    summary = seed_demo()
    assert any("活动 events" in line for line in summary.lines())
    community_id = summary.community_id
    heads = {e.title: e for e in db.session.scalars(select(Event).where(
        Event.community_id == community_id, Event.series_id.is_(None)))}
    assert set(heads) == {"每周二上午义诊", "四点半课堂", "党群议事会：加装电梯与停车位规划", "楼道环境整治志愿服务",
                          "主题党日：走访独居老人"}
    health = heads["每周二上午义诊"]
    assert health.recurrence == "weekly" and health.status == "published"
    start = to_local(health.starts_at)
    assert (start.weekday(), start.strftime("%H:%M")) == (1, "08:30")
    # The clock fixture is Tuesday 09:30, so the first one is next Tuesday, then weekly.
    assert start.strftime("%Y-%m-%d") == "2026-11-24"
    occurrences = db.session.scalars(select(Event).where(Event.series_id == health.id)).all()
    assert len(occurrences) >= 3 and all(to_local(o.starts_at).weekday() == 1 for o in occurrences)
    assert heads["楼道环境整治志愿服务"].audience == "volunteers" and heads["楼道环境整治志愿服务"].volunteer_minutes == 180
    assert heads["主题党日：走访独居老人"].audience == "party_members"
    members = {m.name: m for m in db.session.scalars(select(PartyMember))}
    assert {"周晓燕", "沈立新", "韩卫国", "顾佳怡", "吴建平"} <= set(members)
    linked = db.session.get(Resident, members["周晓燕"].resident_id)
    assert linked is not None and linked.name == "周晓燕"
    assert members["吴建平"].kind == "volunteer"
    # The bot knows the demo's events by their names.
    names = {n for t in event_terms(community_id) for n in t.names}
    assert {"义诊", "四点半课堂", "议事会", "大扫除"} <= names


def test_seeding_twice_changes_nothing(app, clock):
    seed_demo()
    before = _counts()
    seed_demo()
    assert _counts() == before
