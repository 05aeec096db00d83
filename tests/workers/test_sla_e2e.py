"""The one real-worker test: a `linli worker` process (with its RQ scheduler) enforces a 4-second SLA.

Real time, real Redis, the test's real database, a fake WeCom API on loopback.
First a clock alone, enforced by the scheduled jobs only. Then two residents
write in their group through the core entry point (bot → request → clock);
alongside the worker this test runs the sweep in a tight loop (every 0.2 s,
much more often than production's 30 s) and enqueues duplicate alert jobs, so
every path that could alert twice races the scheduled jobs. Expected each
time: exactly one warning (at 2 s) and one breach alert (at 4 s) for the
unanswered question, each delivered within 5 s of its time, and nothing for
the question a staff member answered through the mini-program API.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rq import Worker
from sqlalchemy import select

from app.extensions import db, redis_ext
from app.handlers import sla
from app.handlers.messaging.inbound import InboundMessage, receive
from app.handlers.org.auth import STAFF, issue_token
from app.models import Direction, Message
from app.models.alerts import Alert
from app.models.sla import ReplyClock
from tests import factories as f
from tests.handlers.sla.support import resident_message
from workers.sla import fire_reply_alert

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SLA_SECONDS, WARN_SECONDS = 4, 2
PRECISION = timedelta(seconds=5)


@pytest.fixture
def app_overrides():
    return {"REPLY_SLA_SECONDS": SLA_SECONDS, "REPLY_WARN_SECONDS": WARN_SECONDS}


@pytest.fixture
def worker_process(app, fake_wechat, tmp_path):
    """`python -m app.cli worker` on the test's database and Redis, with the scheduler."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env.update({
        "LINLI_ENV": "development",
        "LINLI_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "LINLI_REDIS_URL": app.config["REDIS_URL"],
        "LINLI_INSTANCE_PATH": str(tmp_path / "worker-instance"),
        "LINLI_REPLY_SLA_SECONDS": str(SLA_SECONDS),
        "LINLI_REPLY_WARN_SECONDS": str(WARN_SECONDS),
        "LINLI_LOG_LEVEL": "INFO",
    })
    for key in ("WECHAT_API_BASE", "WEWORK_API_BASE", "WEWORK_CORP_ID", "WEWORK_SECRET", "WEWORK_AGENT_ID",
                "WECHAT_APPID", "WECHAT_SECRET"):
        env[f"LINLI_{key}"] = str(app.config[key])
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    connection = redis_ext.client
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"worker exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        # Ready when registered and its scheduler holds the lock of the SLA queue.
        if Worker.all(connection=connection) and connection.exists("rq:scheduler-lock:sla"):
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"worker did not start:\n{log_path.read_text(errors='replace')}")
    yield proc
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    print(log_path.read_text(errors="replace")[-4000:])


class SweepLoop(threading.Thread):
    """The backstop, running far more often than in production to race the scheduled jobs."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app, self.stop, self.runs, self.errors = app, threading.Event(), 0, []

    def run(self):
        while not self.stop.is_set():
            with self.app.app_context():
                try:
                    sla.sweep()
                    self.runs += 1
                except Exception as exc:  # noqa: BLE001 - reported by the test
                    self.errors.append(repr(exc))
                finally:
                    db.session.remove()
            self.stop.wait(0.2)


def alert_messages(clock_id=None):
    db.session.expire_all()
    rows = db.session.scalars(select(Message).where(
        Message.direction == Direction.OUT.value, Message.dedupe_key.like("alert:%")).order_by(Message.id)).all()
    return [m for m in rows if clock_id is None or m.dedupe_key.startswith(f"alert:{clock_id}:")]


def wait_for_deliveries(clock_id, count, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = alert_messages(clock_id)
        if len(sent) >= count and all(m.delivered_at for m in sent):
            return
        time.sleep(0.2)


def check_on_time(clock_row, expected_recipients):
    """One warning and one breach for the clock, recorded and delivered within 5 s of their times."""
    alerts = db.session.scalars(select(Alert).where(Alert.clock_id == clock_row.id).order_by(Alert.id)).all()
    assert [a.kind for a in alerts] == ["warn", "breach"]
    warn, breach = alerts
    assert clock_row.warn_at <= warn.created_at < clock_row.warn_at + PRECISION
    assert clock_row.due_at <= breach.created_at < clock_row.due_at + PRECISION
    messages = alert_messages(clock_row.id)
    assert sorted((m.recipient_id, m.handling["alert_kind"]) for m in messages) == expected_recipients
    for message in messages:
        target = clock_row.warn_at if message.handling["alert_kind"] == "warn" else clock_row.due_at
        assert message.status == "sent", (message.status, message.error)
        assert message.delivered_at - target < PRECISION, message.delivered_at - target
        print(f"clock {clock_row.id} {message.handling['alert_kind']} → {message.recipient_id}: "
              f"recorded +{(next(a for a in alerts if a.kind == message.handling['alert_kind']).created_at - target).total_seconds():.2f} s, "
              f"delivered +{(message.delivered_at - target).total_seconds():.2f} s")
    return alerts


EXPECTED = [("wang-e2e", "breach"), ("zhang-e2e", "breach"), ("zhang-e2e", "warn")]


def test_a_real_worker_alerts_exactly_once_and_on_time(app, client, fake_wechat, worker_process):
    community = f.community(name="e2e社区")
    group = f.group(community=community, name="1号楼居民群", channel="group", chat_id="wrwG-e2e")
    duty = f.staff(roles=("duty",), community=community, name="张值班", wework_userid="zhang-e2e")
    f.staff(roles=("community_admin",), community=community, name="王书记", wework_userid="wang-e2e")
    resident = f.resident(community_id=community.id, name="赵大妈")
    now = datetime.now(timezone.utc)
    f.shift(duty, now - timedelta(hours=1), now + timedelta(hours=1))
    db.session.commit()
    world = type("W", (), {"community": community, "group": group, "resident": resident})

    def ask(text="3号楼2单元楼道灯坏了"):
        return sla.start_reply_clock(community_id=community.id, message_id=resident_message(world, text).id,
                                     group_id=group.id, resident_id=resident.id)

    def report(text, sender):
        inbound = InboundMessage(channel="group", dedupe_key=f"e2e-{sender}", sender_id=sender,
                                 chat_id=group.chat_id, chat_type="group", sender_name="居民", text=text)
        receive(inbound)
        message = db.session.scalars(select(Message).where(Message.dedupe_key == inbound.dedupe_key)).one()
        clock_row = db.session.scalars(select(ReplyClock).where(ReplyClock.message_id == message.id)).one()
        assert clock_row.request_id is not None and clock_row.group_id == group.id
        return clock_row

    # 1. The scheduled jobs alone (no sweep) are on time.
    alone = ask()
    wait_for_deliveries(alone.id, 3, SLA_SECONDS + 15)
    alerts = check_on_time(alone, EXPECTED)
    assert [a.related["fired_by"] for a in alerts] == ["job", "job"]

    # 2. Residents' messages through the core entry point (bot → request → clock), with the sweep
    #    racing the jobs, duplicate jobs queued, and one question answered in time.
    sweeper = SweepLoop(app)
    sweeper.start()
    try:
        unanswered = report("3号楼2单元楼道灯坏了，晚上看不见", "member-zhao")
        answered = report("小区东门的路灯不亮好几天了", "member-qian")
        # Duplicates of the scheduled jobs (other ids), and an early one straight away.
        fire_reply_alert.enqueue_at(unanswered.warn_at, unanswered.id, "warn")
        fire_reply_alert.enqueue_at(unanswered.due_at, unanswered.id, "breach")
        fire_reply_alert.enqueue_at(unanswered.due_at, unanswered.id, "breach")
        fire_reply_alert.enqueue(unanswered.id, "breach")
        # A staff member answers the second question through the mini-program after a second.
        time.sleep(1)
        reply = client.post(f"/api/v1/inbox/{answered.id}/reply", json={"text": "已报修，明晚前修好"},
                            headers={"Authorization": f"Bearer {issue_token(STAFF, duty.id).token}"})
        assert reply.status_code == 200, reply.get_json()
        wait_for_deliveries(unanswered.id, 3, SLA_SECONDS + 15)
        time.sleep(2)  # let any duplicate (sweep, extra jobs) show itself
    finally:
        sweeper.stop.set()
        sweeper.join(10)

    assert sweeper.errors == [] and sweeper.runs > 10
    check_on_time(unanswered, EXPECTED)
    assert alert_messages(answered.id) == []
    assert db.session.scalars(select(Alert).where(Alert.clock_id == answered.id)).all() == []
    db.session.refresh(answered)
    assert answered.stopped_at is not None and answered.stopped_by_staff_id == duty.id
    assert answered.warned_at is None and answered.breached_at is None
    # Every alert message reached the fake WeCom API exactly once.
    wecom = [c for c in fake_wechat.sent("/cgi-bin/message/send") if c.text.startswith(("【即将超时】", "【超时未回复】"))]
    assert sorted(c.body["touser"] for c in wecom) == sorted(["wang-e2e", "zhang-e2e", "zhang-e2e"] * 2)
    # The answered request went through the requests timeline.
    from app.models.requests import ServiceRequest
    assert db.session.get(ServiceRequest, answered.request_id).first_reply_at is not None
