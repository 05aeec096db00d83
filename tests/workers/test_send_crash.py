"""kill -9 of a real `linli worker` while the fake WeCom holds a send's answer (issue #16, items 4 and 5).

The request reached WeCom (the fake carried it out) but the worker died before reading the answer.
After a restart the re-run of the dead job and the reconciler must neither lose the alert nor
deliver it twice: WeCom app messages are sent again with the same body and WeCom's duplicate check
drops the repeat; a customer-service message, which nothing dedupes, becomes "unknown" and is not
repeated. Nothing is left "queued".
"""
from __future__ import annotations

import time

import pytest
from rq import Queue
from sqlalchemy import select

from app import jobs
from app.extensions import db, redis_ext
from app.handlers.alerts import raise_alert
from app.handlers.messaging.outbox import TO_USER, queue_message
from app.models import Message
from app.models.alerts import Alert
from tests import factories as f
from tests.support import worker_process as wp

pytestmark = pytest.mark.slow

SEND = "/cgi-bin/message/send"
CUSTOM = "/cgi-bin/message/custom/send"
LEASE = 2


@pytest.fixture
def app_overrides():
    return {"SEND_LEASE_SECONDS": LEASE}


@pytest.fixture
def worker_env(app, fake_wechat, tmp_path):
    return wp.worker_env(app, tmp_path / "worker-instance", SEND_LEASE_SECONDS=LEASE)


def status(message_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Message, message_id).status


def crash_mid_send(fake_wechat, worker_env, log, path: str, start) -> None:
    """Start a worker, let `start()` queue the message, kill -9 the worker once the fake holds the answer."""
    fake_wechat.hold(path)
    proc = wp.start_worker(worker_env, log)
    try:
        start()
        wp.wait_for(lambda: fake_wechat.calls_to(path), 30, "the send to reach the fake")
    finally:
        wp.kill(proc)
    fake_wechat.release()


def restart_and_reconcile(worker_env, log, message_id: int, done) -> None:
    """Restart; RQ-style re-run of the dead job at once, the reconciler after the lease (as cron runs it)."""
    proc = wp.start_worker(worker_env, log)
    try:
        jobs.enqueue("send.deliver", message_id, job_id=jobs.job_id("send", message_id, "rerun"))
        wp.wait_for(lambda: status(message_id) != "queued", 20, "the re-run")

        last = {"at": 0.0}

        def reconciled():
            if time.monotonic() - last["at"] > 1:  # about as often as cron would, not every poll
                jobs.enqueue("send.reconcile")
                last["at"] = time.monotonic()
            return done()

        wp.wait_for(reconciled, 60, "the reconciler to settle the message")
        wp.wait_for(lambda: not _busy(), 20, "the queues to drain")
    finally:
        wp.stop(proc)


def _busy() -> bool:
    return any(Queue(q, connection=redis_ext.client).count for q in jobs.ALL_QUEUES)


def test_a_wecom_alert_survives_kill_9_mid_send_and_is_delivered_once(app, fake_wechat, worker_env, tmp_path):
    community = f.community(name="崩溃测试社区")
    duty = f.staff(roles=("duty",), community=community, name="张值班", wework_userid="zhang-crash")
    db.session.commit()
    log = tmp_path / "worker.log"
    holder = {}

    def start():
        alert = raise_alert(key="crash:1", kind="breach", community_id=community.id, text="【超时未回复】1号楼诉求",
                            recipients=[duty])
        holder["message_id"] = alert.recipients[0].message_id

    crash_mid_send(fake_wechat, worker_env, log, SEND, start)
    message_id = holder["message_id"]
    assert status(message_id) == "sending"
    restart_and_reconcile(worker_env, log, message_id, lambda: status(message_id) == "sent")
    to_duty = [c for c in fake_wechat.sent(SEND) if c.body["touser"] == "zhang-crash"]
    assert len(to_duty) == 2 and to_duty[0].body == to_duty[1].body      # sent again, the same request …
    assert [c.body["touser"] for c in fake_wechat.delivered(SEND)] == ["zhang-crash"]   # … delivered once
    row = db.session.get(Message, message_id)
    assert (row.status, row.attempts) == ("sent", 2)
    assert db.session.scalars(select(Message).where(Message.status.in_(("queued", "sending")))).all() == []


def test_a_customer_service_reply_killed_mid_send_is_unknown_never_sent_twice(app, fake_wechat, worker_env,
                                                                             tmp_path):
    community = f.community(name="崩溃测试社区")
    f.staff(roles=("community_admin",), community=community, name="王书记", wework_userid="wang-crash")
    db.session.commit()
    log = tmp_path / "worker.log"
    holder = {}

    def start():
        holder["message_id"] = queue_message(channel="mp", recipient_kind=TO_USER, recipient_id="o-crash",
                                             text="您的诉求已受理", idempotency_key="crash-reply",
                                             community_id=community.id).id

    crash_mid_send(fake_wechat, worker_env, log, CUSTOM, start)
    message_id = holder["message_id"]
    restart_and_reconcile(worker_env, log, message_id, lambda: status(message_id) == "unknown" and any(
        c.body["touser"] == "wang-crash" for c in fake_wechat.delivered(SEND)))
    assert len(fake_wechat.calls_to(CUSTOM)) == 1                         # never repeated
    [alert] = db.session.scalars(select(Alert).where(Alert.kind == "send_unknown")).all()
    assert alert.related == {"message_id": message_id}
    assert [c.body["touser"] for c in fake_wechat.delivered(SEND)] == ["wang-crash"]
