"""The timer (workers/timer.py): precise jobs at their time, their messages sent side by side, exactly once.

Real time, the test's Redis and database, the fake WeCom on loopback. Latency itself is measured by
bench/alert_latency.py; here: never early, every recipient once, the RQ twin and a second timer
harmless, a timer that died after taking an entry loses nothing.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from rq import SimpleWorker
from rq.job import Job
from sqlalchemy import select

from app import jobs
from app.extensions import db, redis_ext
from app.handlers.sla.clock import stop_clock
from app.models import Alert, ReplyClock
from tests.handlers.sla.support import cover_day, make_world, start
from tests.support.fixtures import CREDENTIALS
from workers.runner import build_worker
from workers.timer import Timer, start_thread

SEND = "/cgi-bin/message/send"


@pytest.fixture
def app_overrides():
    return {**CREDENTIALS, "REPLY_SLA_SECONDS": 3, "REPLY_WARN_SECONDS": 1}


@pytest.fixture
def world(app):
    world = make_world()
    cover_day(world, datetime.now(timezone.utc) - timedelta(hours=1))
    return world


def timer_entries() -> dict[str, float]:
    return {k.decode(): v for k, v in redis_ext.client.zrange(jobs.TIMER_DUE, 0, -1, withscores=True)}


def wait_until(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.05)
    return predicate()


def run_rq_twins(app):
    """RQ's scheduled copies of the alert jobs, once they are due (the backstop path)."""
    build_worker(app, worker_class=SimpleWorker).work(burst=True, with_scheduler=True)


def test_a_clock_puts_its_alerts_on_the_timer_to_the_millisecond_and_stopping_removes_them(app, world):
    clock = start(world)
    entries = timer_entries()
    assert entries == {f"sla-warn-{clock.id}": pytest.approx(clock.warn_at.timestamp(), abs=0.001),
                       f"sla-breach-{clock.id}": pytest.approx(clock.due_at.timestamp(), abs=0.001)}
    assert Job.fetch(f"sla-breach-{clock.id}", connection=redis_ext.client).get_status() == "scheduled"
    stop_clock(db.session.get(ReplyClock, clock.id), staff_id=world.duty.id, at=datetime.now(timezone.utc))
    assert timer_entries() == {}


def test_the_timer_sends_every_recipient_once_never_early(app, fake_wechat, world):
    clock = start(world)
    timer = start_thread(app)
    try:
        assert wait_until(lambda: len(fake_wechat.delivered(SEND)) >= 5)
        time.sleep(0.5)
    finally:
        timer.stop()
    warn = [c for c in fake_wechat.delivered(SEND) if c.text.startswith("【即将超时】")]
    breach = [c for c in fake_wechat.delivered(SEND) if c.text.startswith("【超时未回复】")]
    assert sorted(c.body["touser"] for c in warn) == sorted([world.duty.wework_userid, world.lead.wework_userid])
    assert sorted(c.body["touser"] for c in breach) == sorted(
        [world.duty.wework_userid, world.lead.wework_userid, world.admin.wework_userid])
    assert all(c.wall >= clock.warn_at.timestamp() for c in warn)
    assert all(c.wall >= clock.due_at.timestamp() for c in breach)
    for call in warn + breach:
        due = clock.warn_at if call in warn else clock.due_at
        print(f"{call.text[:6]} → {call.body['touser']}: +{call.wall - due.timestamp():.3f} s")
    run_rq_twins(app)                                                   # the RQ copies find nothing owed
    assert len(fake_wechat.delivered(SEND)) == 5 and len(fake_wechat.sent(SEND)) == 5
    db.session.rollback()
    fired = {a.kind: a.related["fired_by"] for a in db.session.scalars(select(Alert).where(Alert.clock_id == clock.id))}
    assert fired == {"warn": "timer", "breach": "timer"}                # prepared ahead, fired at the due time


def test_two_timers_take_each_entry_once(app, world):
    when = datetime.now(timezone.utc) - timedelta(seconds=1)
    for n in range(60):
        jobs.timer_add(redis_ext.client, f"sla-breach-{900000 + n}", "sla.fire_alert", when, (900000 + n, "breach"),
                       {})
    timers = [Timer(app), Timer(app)]
    threads = [threading.Thread(target=lambda t=t: [t.tick() for _ in range(20)]) for t in timers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for timer in timers:
        timer.stop()
    assert sum(t.fired for t in timers) == 60 and timer_entries() == {}


def test_a_timer_that_died_after_taking_an_entry_loses_nothing(app, fake_wechat, world):
    clock = start(world)
    assert wait_until(lambda: time.time() > clock.due_at.timestamp() + 1.1, 10)
    taken = jobs.timer_take(redis_ext.client, time.time())              # … and then killed -9
    assert {job_id for job_id, _ in taken} == {f"sla-warn-{clock.id}", f"sla-breach-{clock.id}"}
    run_rq_twins(app)
    breach = [c for c in fake_wechat.delivered(SEND) if c.text.startswith("【超时未回复】")]
    assert len(breach) == 3


def test_a_timer_survives_redis_errors(app, world):
    timer = Timer(app)
    redis_ext.client_for(app).set(jobs.TIMER_DUE, "not a sorted set")   # every command on it now fails
    thread = threading.Thread(target=timer.run, daemon=True)
    thread.start()
    time.sleep(1.0)
    assert thread.is_alive()
    redis_ext.client_for(app).delete(jobs.TIMER_DUE)
    timer.stop()
    thread.join(40)
    assert not thread.is_alive()
