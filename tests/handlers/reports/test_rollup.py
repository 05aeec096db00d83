"""The dashboard from its rollup gives exactly the figures of the direct computation, on SQLite and on a
private PostgreSQL: before the rollup exists, after it is built, after old requests and clocks change
(before and after the job catches up), across midnight with a clock still inside its hour, and after
the reply target changes."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.clock import now
from app.extensions import db
from app.handlers import requests as flow
from app.handlers.reports import rollup, stats
from app.handlers.sla import record_staff_reply, start_reply_clock
from app.localtime import at_local, local_date
from app.models import Community
from app.models.reports import RequestDay, RollupDay
from app.models.requests import ServiceRequest
from app.models.sla import ReplyClock
from tests import factories
from tests.factories.requests import build_world, inbound_message
from tests.support.faults import _postgres_server, private_postgres  # noqa: F401

DAYS = 12


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, database_template, tmp_path):
    if request.param == "postgresql":
        yield request.getfixturevalue("private_postgres").url
        return
    if database_template is None:
        pytest.skip("the session's database is not the embedded SQLite")
    import shutil
    path = tmp_path / "linli.db"
    shutil.copyfile(database_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def city(app, clock):
    """Two communities of a street, two grids, DAYS days of requests and clocks in every state."""
    world = build_world()
    second = factories.grid(community=world.community, name="第二网格")
    factories.building(community=world.community, grid=second, number="8")
    db.session.commit()
    rng = random.Random(13)
    clock.advance(days=-DAYS)
    people = {world.community.id: [world.duty, world.worker, world.admin],
              world.other_community.id: [world.other_staff]}
    for _day in range(DAYS):
        for _ in range(6):
            community = rng.choice([world.community, world.community, world.other_community])
            staff = rng.choice(people[community.id])
            row = flow.create_request(community_id=community.id, text=rng.choice(
                ["3号楼楼道灯坏了", "8号楼下水道堵了", "3号楼门口电动车乱停", "8号楼垃圾桶满了"]),
                channel="group", source="chat", building=rng.choice(["3", "8"]))
            start_reply_clock(community_id=community.id, request_id=row.id)
            clock.advance(minutes=rng.choice([5, 30, 90]))
            outcome = rng.random()
            if outcome < 0.7:
                flow.reply_publicly(row, staff, "收到")
            if 0.2 < outcome < 0.75:
                if outcome < 0.3:
                    flow.escalate(row, staff, level="street", reason="需要街道协调")
                flow.resolve(row, staff, note="处理好了")
                if outcome < 0.6:
                    flow.rate(row, None, rating=rng.choice(["satisfied", "basically", "unsatisfied"]))
            elif outcome >= 0.9:
                flow.reject(row, staff, reason="不属于社区职责")
        message, _ = inbound_message("有人在吗")  # chatter: a clock without a request
        start_reply_clock(community_id=world.community.id, message_id=message.id)
        clock.advance(hours=rng.choice([3, 5]))
        clock.advance(hours=24 - (clock.current.hour % 24) + rng.choice([0, 1, 9]))
    db.session.commit()
    return world


def _street(world):
    return list(db.session.scalars(select(Community).where(Community.street_id == world.street.id)
                                   .order_by(Community.id)))


def _spans():
    today = local_date(now())
    return [stats.period(today - timedelta(days=DAYS + 2), today, today),
            stats.period(today - timedelta(days=6), today - timedelta(days=1), today),
            stats.period(today - timedelta(days=3), today - timedelta(days=3), today)]


def same_as_direct(world):
    """Every period and scope: the dashboard's numbers with the rollup are the direct computation's."""
    at = now()
    street = _street(world)
    for communities in (street, street[:1], street[1:]):
        for span in _spans():
            assert stats.compute(communities, span, at) == stats.compute(communities, span, at, direct=True), \
                ([c.name for c in communities], span)


def _closed_requests():
    return db.session.scalar(select(func.count()).select_from(ServiceRequest)
                             .where(ServiceRequest.created_at < at_local(local_date(now()))))


def test_the_rollup_gives_the_direct_figures_built_or_not(city, clock):
    same_as_direct(city)  # nothing built: all live
    result = rollup.rebuild(local_date(now()) - timedelta(days=DAYS + 2), local_date(now()))
    assert result["days"] == DAYS + 2  # today is never built
    built = db.session.scalar(select(func.sum(RequestDay.total + RequestDay.merged)))
    assert built == _closed_requests() > 0
    assert db.session.scalar(select(func.count()).select_from(RollupDay)) == 2 * (DAYS + 2)
    same_as_direct(city)
    # The job the next day: builds the day that closed, recomputes nothing else.
    clock.advance(days=1)
    done = rollup.refresh()
    assert done["new_days"] == 1 and done["pairs"] == 2
    same_as_direct(city)


def test_changes_to_closed_days_show_at_once_and_the_job_recomputes_them(city, clock):
    rollup.rebuild(local_date(now()) - timedelta(days=DAYS + 2), local_date(now()))
    clock.advance(minutes=20)
    old = db.session.scalars(select(ServiceRequest).where(ServiceRequest.status == "received")
                             .order_by(ServiceRequest.id)).first()
    flow.reply_publicly(old, city.duty, "抱歉，晚了")  # a late reply stops its clock days later
    flow.resolve(old, city.duty, note="已处理")
    flow.rate(old, None, rating="satisfied")
    rated = db.session.scalars(select(ServiceRequest).where(ServiceRequest.rating.is_not(None),
                                                            ServiceRequest.id != old.id)).first()
    flow.reopen(rated, city.admin, reason="居民补充了情况")
    waiting = db.session.scalars(select(ServiceRequest).where(ServiceRequest.status == "received")
                                 .order_by(ServiceRequest.id.desc())).first()
    flow.merge(waiting, city.duty, into=rated)
    first_open = db.session.scalars(select(ServiceRequest).where(ServiceRequest.status == "received")
                                    .order_by(ServiceRequest.id)).first()
    flow.reclassify(first_open, city.admin, category="environment")
    db.session.commit()
    same_as_direct(city)  # before the job: the changed days are read live
    clock.advance(minutes=5)
    done = rollup.refresh()
    assert done["pairs"] >= 1 and done["new_days"] == 0
    same_as_direct(city)
    clock.advance(minutes=10)
    rollup.refresh()  # the changes are still within rollup.MARGIN of the last run: recomputed once more
    clock.advance(minutes=10)
    assert rollup.refresh()["pairs"] == 0  # then nothing changed since
    same_as_direct(city)


def test_a_clock_inside_its_hour_at_midnight_and_a_new_reply_target(city, clock, app):
    today = local_date(now())
    clock.set(at_local(today) + timedelta(hours=23, minutes=40))
    late = flow.create_request(community_id=city.community.id, text="3号楼电梯坏了", channel="group",
                               source="chat", building="3")
    running = start_reply_clock(community_id=city.community.id, request_id=late.id)
    assert running.due_at > at_local(today + timedelta(days=1))
    clock.advance(minutes=30)  # 00:10: yesterday closed, its last clock still running
    rollup.rebuild(today - timedelta(days=DAYS), today)
    pair = db.session.get(RollupDay, (city.community.id, today))
    assert pair.settles_at == running.due_at
    same_as_direct(city)
    clock.advance(hours=1)  # its hour is over: unanswered now, without any change to the row
    same_as_direct(city)
    record_staff_reply(community_id=city.community.id, staff_id=city.duty.id, request_id=late.id, at=now())
    assert db.session.get(ReplyClock, running.id).stopped_at is not None
    same_as_direct(city)
    app.config["REPLY_SLA_SECONDS"] = 1800  # the rollup counted "in time" against an hour: read live
    same_as_direct(city)
    rollup.rebuild(today - timedelta(days=DAYS), today)
    same_as_direct(city)


def test_a_rebuild_between_reads_is_noticed(city, clock, monkeypatch):
    from app.handlers.reports import rollup_read

    today = local_date(now())
    rollup.rebuild(today - timedelta(days=DAYS + 2), today - timedelta(days=4))
    original, calls = rollup_read._from_rollup, []

    def rebuild_meanwhile(*args):
        if not calls:  # days the dashboard is about to compute live are built in between, once
            calls.append(rollup.rebuild(today - timedelta(days=3), today))
        original(*args)

    monkeypatch.setattr(rollup_read, "_from_rollup", rebuild_meanwhile)
    same_as_direct(city)
    assert calls


def _ordered(rows):
    """Sorted, None first (grids and staff of chatter's clocks, days without a running clock)."""
    return sorted(rows, key=lambda row: [(value is not None, value) for value in row])


def _rows(model, columns):
    return _ordered(tuple(getattr(row, c) for c in columns) for row in db.session.scalars(select(model)))


def test_the_servers_build_writes_the_rows_of_the_python_tallies(city, clock):
    """On PostgreSQL the rollup is built by INSERT … SELECT (reports/rollup_pg.py): the same rows as the
    Python tallies that build it on SQLite, clocks still inside their hour and merged requests included."""
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("the server-side build is PostgreSQL's")
    from app.models.reports import REQUEST_DAY_COUNTS, ClockDay

    today = local_date(now())
    late = flow.create_request(community_id=city.community.id, text="3号楼电梯坏了", channel="group",
                               source="chat", building="3")
    start_reply_clock(community_id=city.community.id, request_id=late.id)
    clock.advance(days=1)
    pairs = {(c.id, today - timedelta(days=n)) for c in _street(city) for n in range(DAYS + 2)}
    at = now() - timedelta(hours=23, minutes=50)  # the late clock is neither stopped nor due yet
    rollup.build(pairs, at)
    request_columns = ("community_id", "day", "grid_id", "category", *REQUEST_DAY_COUNTS)
    clock_columns = ("community_id", "day", "grid_id", "staff_id", "clocks", "replied", "within", "unanswered")
    from_server = (_rows(RequestDay, request_columns), _rows(ClockDay, clock_columns),
                   _ordered((row.community_id, row.day, sorted(row.reply_seconds))
                          for row in db.session.scalars(select(ClockDay))),
                   _rows(RollupDay, ("community_id", "day", "reply_sla_seconds", "settles_at")))
    assert sum(row[4] + row[5] for row in from_server[0]) == db.session.scalar(
        select(func.count()).select_from(ServiceRequest)) > 0
    assert any(row[3] is not None for row in from_server[3])
    db.session.rollback()
    requests, clocks, settles = rollup.pair_counts(pairs, at, settled=True)
    expected_requests = _ordered((c, d, g, category, *(counts[name] for name in REQUEST_DAY_COUNTS))
                               for (c, d, g, category), counts in requests.items())
    expected_clocks = _ordered((c, d, g, s, t.clocks, t.replied, t.within, t.unanswered)
                             for (c, d, g, s), t in clocks.items())
    expected_times = _ordered((c, d, sorted(t.times)) for (c, d, _g, _s), t in clocks.items())
    sla = int(flow.reply_sla().total_seconds())
    expected_days = _ordered((c, d, sla, settles.get((c, d))) for c, d in pairs)
    assert from_server == (expected_requests, expected_clocks, expected_times, expected_days)
