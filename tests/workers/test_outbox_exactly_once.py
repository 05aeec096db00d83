"""Exactly once across interruptions: claims, leases, WeCom's duplicate check, the reconciler, `linli outbox`.

A worker that dies while WeChat's answer is pending leaves its row ``sending`` with a lease; here
the dead attempt is made the way a dead worker leaves it: claimed, the request carried out by the
fake API, nothing settled. (tests/workers/test_send_crash.py kills real worker processes.)
"""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import select

from app.channels.senders import choose, target_for
from app.cli.outbox import outbox
from app.extensions import db, redis_ext
from app.handlers.messaging import attempts
from app.handlers.messaging.outbox import TO_STAFF, TO_USER, queue_message, resolve, stuck
from app.models import Message
from app.models.alerts import Alert
from tests import factories
from tests.support.fixtures import CREDENTIALS
from workers.jobs import QUEUE_SEND
from workers.runner import build_worker
from workers.sends import SendRetry, deliver, reconcile

SEND = "/cgi-bin/message/send"
CUSTOM = "/cgi-bin/message/custom/send"


@pytest.fixture
def app_overrides():
    return {**CREDENTIALS, "SEND_LEASE_SECONDS": 30, "OUTBOX_STUCK_SECONDS": 60}


def run_worker(app):
    build_worker(app, worker_class=SimpleWorker).work(burst=True)


def row(message_id: int) -> Message:
    db.session.expire_all()
    return db.session.get(Message, message_id)


def to_staff(text="【超时未回复】3号楼诉求已超过1小时未公开回复", key="alert:1:breach:staff:1", userid="zhang",
             **kw) -> Message:
    return queue_message(channel="wework", recipient_kind=TO_STAFF, recipient_id=userid, text=text,
                         idempotency_key=key, enqueue=False, **kw)


def to_user(text="您的诉求已受理", key="reply-1", **kw) -> Message:
    return queue_message(channel="mp", recipient_kind=TO_USER, recipient_id="o-1", text=text, idempotency_key=key,
                         enqueue=False, **kw)


def die_mid_send(message: Message) -> str:
    """What a worker killed -9 leaves: the row claimed, the request carried out, the answer never read."""
    target = target_for(message)
    sender = choose(target)
    attempt = attempts.claim(message, route=sender.name, repeat_window=sender.repeat_window())
    assert attempt is not None
    assert sender.send(target, message.text).status == "sent"
    return attempt


def queued_jobs(app) -> list[str]:
    return Queue(QUEUE_SEND, connection=redis_ext.client_for(app)).get_job_ids()


def test_wecom_app_messages_ask_for_wecoms_duplicate_check(app, fake_wechat):
    message_id = to_staff().id
    assert deliver(message_id) == "sent"
    [call] = fake_wechat.sent(SEND)
    assert call.body["enable_duplicate_check"] == 1 and call.body["duplicate_check_interval"] == 1800
    sent = row(message_id)  # by its id: PostgreSQL's sequences do not restart between tests
    assert (sent.status, sent.attempt_id is not None, sent.check_at) == ("sent", True, None)


def test_a_wecom_send_interrupted_mid_answer_is_sent_again_and_delivered_once(app, fake_wechat, clock):
    message = to_staff()
    die_mid_send(message)
    assert row(message.id).status == "sending"
    assert reconcile() == {"requeued": 0, "unknown": 0, "enqueued": 0}   # lease still running
    clock.advance(seconds=31)
    assert reconcile() == {"requeued": 1, "unknown": 0, "enqueued": 0}
    assert queued_jobs(app) == [f"send-{message.id}"]
    run_worker(app)
    done = row(message.id)
    assert (done.status, done.attempts) == ("sent", 2)
    assert len(fake_wechat.sent(SEND)) == 2                               # the same request twice …
    assert fake_wechat.sent(SEND)[0].body == fake_wechat.sent(SEND)[1].body
    assert len(fake_wechat.delivered(SEND)) == 1                          # … which WeCom delivers once


def test_a_rerun_of_the_dead_job_waits_for_the_lease_then_takes_over(app, fake_wechat, clock):
    message = to_staff()
    die_mid_send(message)
    assert deliver(message.id) == "busy"                                  # the lease is still running
    assert row(message.id).status == "sending" and row(message.id).check_at is not None
    clock.advance(seconds=31)
    assert deliver(message.id) == "sent"
    assert len(fake_wechat.delivered(SEND)) == 1


def test_past_wecoms_interval_an_interrupted_send_is_unknown_not_repeated(app, fake_wechat, clock):
    message = to_staff()
    die_mid_send(message)
    clock.advance(seconds=1800)
    assert reconcile()["unknown"] == 1
    assert row(message.id).status == "unknown" and row(message.id).error_code == "interrupted"
    run_worker(app)
    assert len(fake_wechat.calls_to(SEND)) == 1


def test_a_customer_service_send_interrupted_is_unknown_and_the_admins_are_told(app, fake_wechat, clock, session):
    community = factories.community(name="幸福社区")
    factories.staff(roles=("community_admin",), community=community, name="王书记", wework_userid="wang")
    session.commit()
    message = to_user(community_id=community.id)
    die_mid_send(message)
    clock.advance(seconds=31)
    assert reconcile() == {"requeued": 0, "unknown": 1, "enqueued": 0}
    assert row(message.id).status == "unknown"
    [alert] = session.scalars(select(Alert).where(Alert.kind == "send_unknown")).all()
    assert f"消息#{message.id}" in alert.text and f"linli outbox resolve {message.id} --retry" in alert.text
    run_worker(app)
    assert len(fake_wechat.calls_to(CUSTOM)) == 1                          # never repeated
    [notice] = fake_wechat.delivered(SEND)
    assert notice.body["touser"] == "wang" and notice.text.startswith("【发送结果未知】")
    assert reconcile() == {"requeued": 0, "unknown": 0, "enqueued": 0}    # reported once


def test_an_answer_that_times_out_is_unknown_where_a_repeat_could_deliver_twice(app, fake_wechat):
    deliver(to_user(key="warm-token", text="先取令牌").id)   # the token fetch is not what times out
    app.config["WECHAT_HTTP_TIMEOUT_SECONDS"] = 0.3
    fake_wechat.delay = 0.8
    message = to_user()
    assert deliver(message.id, final_attempt=False) == "unknown"
    assert len(fake_wechat.calls_to(CUSTOM)) == 2


def test_a_token_fetch_that_times_out_is_retried_on_any_channel(app, fake_wechat):
    app.config["WECHAT_HTTP_TIMEOUT_SECONDS"] = 0.3
    fake_wechat.delay = 0.8
    message = to_user()
    with pytest.raises(SendRetry):
        deliver(message.id, final_attempt=False)
    assert row(message.id).status == "queued" and fake_wechat.calls_to(CUSTOM) == []


def test_an_answer_that_times_out_is_retried_where_wecom_dedupes_it(app, fake_wechat):
    deliver(to_staff(key="warm-token", text="先取令牌").id)   # the token fetch is not what times out
    app.config["WECHAT_HTTP_TIMEOUT_SECONDS"] = 0.3
    fake_wechat.delay = 0.8
    message = to_staff()
    with pytest.raises(SendRetry):
        deliver(message.id, final_attempt=False)
    assert row(message.id).status == "queued" and row(message.id).handling["uncertain_since"]
    fake_wechat.delay = 0
    assert deliver(message.id) == "sent"
    assert [c.text for c in fake_wechat.delivered(SEND)].count(message.text) == 1


def test_a_refused_connection_is_retried_on_any_channel(app, fake_wechat):
    fake_wechat.stop()
    message = to_user()
    with pytest.raises(SendRetry):
        deliver(message.id, final_attempt=False)
    assert row(message.id).status == "queued" and "uncertain_since" not in row(message.id).handling


def test_two_workers_at_once_send_once(app, fake_wechat):
    message = to_user()
    fake_wechat.hold(CUSTOM)
    results: list[str] = []

    def worker():
        with app.app_context():
            results.append(deliver(message.id))
            db.session.remove()

    first = threading.Thread(target=worker)
    first.start()
    while not fake_wechat.calls_to(CUSTOM):
        first.join(0.05)
    assert deliver(message.id) == "busy"
    fake_wechat.release()
    first.join(10)
    assert results == ["sent"] and len(fake_wechat.calls_to(CUSTOM)) == 1


def test_a_queued_message_whose_job_was_lost_is_handed_over_again(app, fake_wechat, clock):
    message = queue_message(channel="mp", recipient_kind=TO_USER, recipient_id="o-1", text="您好",
                            idempotency_key="lost-job")
    redis_ext.client.flushdb()                                            # Redis restarted without its data
    assert reconcile()["enqueued"] == 0                                   # not due yet
    clock.advance(seconds=61)
    assert reconcile()["enqueued"] == 1
    assert reconcile()["enqueued"] == 0                                   # handed over once per period
    run_worker(app)
    assert row(message.id).status == "sent" and len(fake_wechat.delivered(CUSTOM)) == 1


def test_outbox_stuck_lists_and_resolve_settles(app, fake_wechat, clock, cli_runner):
    unknown = to_user(key="u1")
    die_mid_send(unknown)
    queued = to_user(key="q1", text="第二条")
    clock.advance(seconds=31)
    reconcile()
    assert [m.id for m in stuck()] == [unknown.id]                        # the queued one is not old enough
    clock.advance(seconds=60)
    listing = cli_runner.invoke(outbox, ["stuck"])
    assert listing.exit_code == 0, listing.output
    lines = listing.output.splitlines()
    assert lines[0].split() == ["id", "status", "age", "channel", "route", "recipient", "attempts", "why"]
    assert lines[1].split()[:3] == [str(unknown.id), "unknown", "1m31s"]
    assert lines[2].split()[:2] == [str(queued.id), "queued"]
    assert cli_runner.invoke(outbox, ["resolve", str(unknown.id), "--sent"]).exit_code == 0
    assert row(unknown.id).status == "sent" and row(unknown.id).handling["resolved"]["was"] == "unknown"
    again = cli_runner.invoke(outbox, ["resolve", str(unknown.id), "--retry"])
    assert again.exit_code == 1 and "已发送" in again.output and "Traceback" not in again.output
    assert cli_runner.invoke(outbox, ["resolve", str(queued.id), "--failed"]).exit_code == 0
    assert row(queued.id).status == "failed"
    assert cli_runner.invoke(outbox, ["stuck"]).output.strip().endswith("没有卡住的外发消息 (nothing stuck)")
    missing = cli_runner.invoke(outbox, ["resolve", "999", "--sent"])
    assert missing.exit_code == 1 and "999" in missing.output
    neither = cli_runner.invoke(outbox, ["resolve", str(queued.id)])
    assert neither.exit_code == 2


def test_resolve_retry_sends_an_unknown_message_again(app, fake_wechat, clock):
    message = to_user()
    die_mid_send(message)
    clock.advance(seconds=31)
    reconcile()
    resolve(message.id, "retry")
    assert row(message.id).status == "queued"
    run_worker(app)
    assert row(message.id).status == "sent" and len(fake_wechat.calls_to(CUSTOM)) == 2


def test_resolve_refuses_a_send_in_progress(app, fake_wechat):
    message = to_user()
    die_mid_send(message)
    with pytest.raises(Exception, match="正在发送中"):
        resolve(message.id, "failed")


def test_a_long_wecom_text_interrupted_mid_part_resumes_at_that_part(app, fake_wechat, clock):
    text = "\n".join(f"第{n}条：" + "通知内容" * 40 for n in range(6))
    message = to_staff(text=text)
    target = target_for(message)
    sender = choose(target)
    attempt = attempts.claim(message, route=sender.name, repeat_window=sender.repeat_window())
    from app.channels.senders import split_text
    parts = split_text(text, sender.max_bytes)
    assert len(parts) > 1
    sender.send(target, parts[0])
    attempts.renew(message.id, attempt, parts=len(parts), parts_sent=1)
    sender.send(target, parts[1])                                         # killed while part 2 was answered
    clock.advance(seconds=31)
    reconcile()
    run_worker(app)
    assert row(message.id).status == "sent"
    assert [c.text for c in fake_wechat.delivered(SEND)] == parts
    assert clock() - row(message.id).delivered_at < timedelta(seconds=1)


def test_a_bridge_message_is_left_to_the_bridge_unclaimed(app, fake_wechat, clock, session):
    group = factories.group(channel="group", chat_id="chat-bridge")
    session.commit()
    message = queue_message(channel="group", recipient_kind="group", recipient_id=group.chat_id,
                            chat_id=group.chat_id, group_id=group.id, text="群公告", idempotency_key="bridge-1",
                            enqueue=False)
    assert deliver(message.id) == "awaiting_pull"
    waiting = row(message.id)
    assert (waiting.status, waiting.attempt_id, waiting.check_at) == ("queued", None, None)
    clock.advance(hours=1)
    assert reconcile() == {"requeued": 0, "unknown": 0, "enqueued": 0}   # the bridge pulls it, not a worker
