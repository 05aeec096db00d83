"""The timer takes entries early and prepares them (workers/timer.py, app/handlers/sla/prepared.py).

Real time, the test's Redis and database, the fake WeCom on loopback. A clock answered after the
timer prepared its alert sends nothing; a real `linli timer` killed -9 after preparing leaves
nothing written, and the RQ twin then sends every recipient exactly once.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

import workers.timer as timer_module
from app import jobs
from app.extensions import db, redis_ext
from app.handlers import sla
from app.models import Alert, Direction, Message
from tests.handlers.sla.support import cover_day, make_world, start
from tests.support import worker_process as wp
from tests.support.fixtures import CREDENTIALS
from workers.runner import build_worker
from workers.timer import Timer

SEND = "/cgi-bin/message/send"
SLA = 8


@pytest.fixture
def app_overrides():
    return {**CREDENTIALS, "REPLY_SLA_SECONDS": SLA, "REPLY_WARN_SECONDS": 0}   # the breach alert only


@pytest.fixture
def world(app):
    world = make_world()
    cover_day(world, datetime.now(timezone.utc) - timedelta(hours=1))
    return world


def outbound() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Message).where(Message.direction == Direction.OUT.value))


def alert_rows() -> list[Alert]:
    db.session.rollback()
    return db.session.scalars(select(Alert).order_by(Alert.id)).all()


def test_a_clock_answered_after_the_timer_prepared_its_alert_sends_nothing(app, fake_wechat, world, monkeypatch):
    monkeypatch.setattr(timer_module, "LEAD", 3600.0)   # take it at once: the whole SLA to answer in between
    clock = start(world)
    timer = Timer(app)
    thread = threading.Thread(target=timer.run, daemon=True)
    thread.start()
    try:
        wp.wait_for(lambda: timer.prepared == 1, 20, "the timer to prepare the breach alert")
        assert alert_rows() == [] and outbound() == 0             # prepared in memory: nothing written
        stopped = sla.record_staff_reply(community_id=world.community.id, staff_id=world.duty.id,
                                         group_id=world.group.id)
        assert [c.id for c in stopped] == [clock.id]
        wp.wait_for(lambda: timer.finished == 1, SLA + 20, "the timer's due time to pass")
    finally:
        timer.stop()
        thread.join(30)
    assert alert_rows() == [] and outbound() == 0 and fake_wechat.delivered(SEND) == []


@pytest.mark.slow
def test_a_timer_killed_after_preparing_loses_nothing_and_the_rq_twin_sends_once(app, fake_wechat, world,
                                                                                  tmp_path):
    env = wp.worker_env(app, tmp_path / "timer-instance", REPLY_SLA_SECONDS=SLA, REPLY_WARN_SECONDS=0)
    log = tmp_path / "timer.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", "timer"], cwd=wp.ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wp.wait_for(lambda: dict(redis_ext.client.pubsub_numsub(jobs.TIMER_WAKE)).get(jobs.TIMER_WAKE.encode()),
                    60, "the timer to subscribe")
        clock = start(world)
        job_id = f"sla-breach-{clock.id}"
        # The timer's own entry, made due now (its "at" unchanged): the timer prepares at once and then
        # waits the whole SLA for the due time — the window in which it is killed.
        entry = json.loads(redis_ext.client.hget(jobs.TIMER_JOBS, job_id))
        assert entry["at"] == pytest.approx(clock.due_at.timestamp(), abs=0.001)
        redis_ext.client.zadd(jobs.TIMER_DUE, {job_id: time.time()})
        redis_ext.client.publish(jobs.TIMER_WAKE, job_id)
        wp.wait_for(lambda: f"prepared {job_id}" in log.read_text(errors="replace"), 30, "the timer to prepare")
    finally:
        wp.kill(proc)
    assert alert_rows() == [] and outbound() == 0                 # kill -9 after preparing: nothing to clean up
    wp.wait_for(lambda: time.time() > clock.due_at.timestamp() + 1.5, SLA + 5, "the RQ twin's time")
    build_worker(app, worker_class=SimpleWorker).work(burst=True, with_scheduler=True)
    [alert] = alert_rows()
    assert alert.kind == "breach" and alert.related["fired_by"] == "job"
    assert sorted(c.body["touser"] for c in fake_wechat.delivered(SEND)) == sorted(
        [world.duty.wework_userid, world.lead.wework_userid, world.admin.wework_userid])
    assert sla.sweep() == {"warned": 0, "breached": 0, "redispatched": 0}
    assert outbound() == 3 and len(fake_wechat.delivered(SEND)) == 3
