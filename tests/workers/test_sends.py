"""workers.sends.deliver_message: senders chosen by channel + recipient kind, outcomes recorded on the row."""
from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue, SimpleWorker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from app.extensions import db
from app.handlers.messaging.outbox import TO_GROUP, TO_STAFF, TO_USER, queue_message
from app.models import Message
from tests import factories
from tests.support.fixtures import CREDENTIALS
from workers.jobs import QUEUE_SEND
from workers.runner import build_worker
from workers.sends import SendRetry, deliver, deliver_message


@pytest.fixture
def app_overrides():
    return dict(CREDENTIALS)


def run_worker(app):
    build_worker(app, worker_class=SimpleWorker).work(burst=True)


def row(message_id: int) -> Message:
    db.session.expire_all()
    return db.session.get(Message, message_id)


def to_user(text="您的诉求已受理", channel="mp", key="k1", openid="o-1", **kw) -> Message:
    return queue_message(channel=channel, recipient_kind=TO_USER, recipient_id=openid, text=text,
                         idempotency_key=key, **kw)


def scheduled(app) -> ScheduledJobRegistry:
    from app.extensions import redis_ext
    return ScheduledJobRegistry(queue=Queue(QUEUE_SEND, connection=redis_ext.client_for(app)))


def test_customer_service_message_is_sent_and_recorded(app, fake_wechat, clock):
    message = to_user()
    run_worker(app)
    sent = row(message.id)
    assert (sent.status, sent.attempts, sent.error_code) == ("sent", 1, None)
    assert sent.delivered_at == clock() and sent.handling["route"] == "custom_send"
    [call] = fake_wechat.sent("/cgi-bin/message/custom/send")
    assert call.body["touser"] == "o-1" and call.text == "您的诉求已受理"


@pytest.mark.parametrize("code, words", [(45015, "48小时"), (45047, "上限"), (43004, "未关注")])
def test_wechat_refusals_are_rejected_with_the_code_and_never_retried(app, fake_wechat, code, words):
    fake_wechat.script("/cgi-bin/message/custom/send", {"errcode": code, "errmsg": "refused"})
    message = to_user()
    run_worker(app)
    rejected = row(message.id)
    assert (rejected.status, rejected.error_code, rejected.attempts) == ("rejected", str(code), 1)
    assert words in rejected.error
    assert len(fake_wechat.calls_to("/cgi-bin/message/custom/send")) == 1
    assert scheduled(app).get_job_ids() == []


def test_a_token_still_rejected_after_one_refresh_is_recorded_as_bad_token(app, fake_wechat):
    fake_wechat.script("/cgi-bin/message/custom/send", {"errcode": 40001, "errmsg": "invalid credential"},
                       {"errcode": 40001, "errmsg": "invalid credential"})
    message = to_user()
    run_worker(app)
    assert (row(message.id).status, row(message.id).error_code) == ("rejected", "40001")


def test_transient_errors_are_retried_with_backoff_then_fail(app, fake_wechat):
    fake_wechat.script("/cgi-bin/message/custom/send", {"errcode": -1, "errmsg": "system busy"})
    message = to_user()
    run_worker(app)
    queued = row(message.id)
    assert (queued.status, queued.attempts, queued.error_code) == ("queued", 1, "transport")
    [job_id] = scheduled(app).get_job_ids()           # RQ Retry scheduled the next attempt
    from rq.job import Job

    from app.extensions import redis_ext
    job = Job.fetch(job_id, connection=redis_ext.client_for(app))
    assert job.retries_left == 4
    # the last attempt (no retries left) records the failure
    fake_wechat.script("/cgi-bin/message/custom/send", {"errcode": -1, "errmsg": "system busy"})
    assert deliver(message.id, final_attempt=True) == "failed"
    failed = row(message.id)
    assert (failed.status, failed.attempts) == ("failed", 2)


def test_a_retry_after_a_transient_error_can_succeed(app, fake_wechat):
    fake_wechat.stop()
    message = to_user()
    with pytest.raises(SendRetry):
        deliver(message.id, final_attempt=False)
    fake_wechat.start()
    app.config["WECHAT_API_BASE"] = fake_wechat.base_url
    assert deliver(message.id, final_attempt=False) == "sent"
    assert (row(message.id).status, row(message.id).attempts) == ("sent", 2)


def test_a_sent_message_is_never_sent_again(app, fake_wechat):
    message = to_user()
    assert deliver(message.id) == "sent"
    assert deliver(message.id) == "sent"
    deliver_message(message.id)
    assert len(fake_wechat.calls_to("/cgi-bin/message/custom/send")) == 1


def test_staff_get_wecom_app_messages(app, fake_wechat):
    message = queue_message(channel="wework", recipient_kind=TO_STAFF, recipient_id="zhangsan",
                            text="【提醒】3栋诉求还有15分钟超时", idempotency_key="alert-1")
    run_worker(app)
    assert row(message.id).status == "sent" and row(message.id).handling["route"] == "wework_app"
    [call] = fake_wechat.sent("/cgi-bin/message/send")
    assert call.body["touser"] == "zhangsan" and call.body["agentid"] == 1000002


def test_unknown_wecom_user_is_rejected(app, fake_wechat):
    fake_wechat.script("/cgi-bin/message/send", {"errcode": 0, "errmsg": "ok", "invaliduser": "ghost"})
    message = queue_message(channel="wework", recipient_kind=TO_STAFF, recipient_id="ghost", text="x",
                            idempotency_key="a2")
    run_worker(app)
    assert (row(message.id).status, row(message.id).error_code) == ("rejected", "invaliduser")


def test_internal_wecom_groups_get_appchat(app, fake_wechat, session):
    duty = factories.group(channel="wework", chat_id="wrDUTY01", kind="duty")
    session.commit()
    message = queue_message(channel="wework", recipient_kind=TO_GROUP, recipient_id="wrDUTY01", chat_id="wrDUTY01",
                            group_id=duty.id, text="值班群通知", idempotency_key="duty-1")
    run_worker(app)
    [call] = fake_wechat.sent("/cgi-bin/appchat/send")
    assert call.body == {"chatid": "wrDUTY01", "msgtype": "text", "text": {"content": "值班群通知"}, "safe": 0}
    assert row(message.id).status == "sent"


@pytest.fixture
def webhook_group(session, fake_wechat):
    group = factories.group(channel="group", chat_id="chat-hook", webhook_url=fake_wechat.webhook_url("HOOK1"))
    session.commit()
    return group


def _to_group(group, n: int, text: str | None = None) -> Message:
    return queue_message(channel=group.channel, recipient_kind=TO_GROUP, recipient_id=group.chat_id,
                         chat_id=group.chat_id, group_id=group.id, text=text or f"群公告{n}",
                         idempotency_key=f"g-{group.id}-{n}", enqueue=False)


def test_group_webhook_respects_20_per_minute_by_deferring_never_dropping(app, fake_wechat, webhook_group, clock):
    fake_wechat.now = lambda: clock().timestamp()   # WeCom's minute and ours run on the same clock
    messages = [_to_group(webhook_group, n) for n in range(25)]
    start = clock()
    results = [deliver(m.id) for m in messages]
    assert results == ["sent"] * 20 + ["deferred"] * 5
    assert all(c.accepted for c in fake_wechat.calls_to("/cgi-bin/webhook/send"))   # never over WeCom's limit
    deferred = [row(m.id) for m in messages[20:]]
    assert all(m.status == "queued" for m in deferred)
    assert {m.handling["deferred_until"][:19] for m in deferred} == {(start + timedelta(seconds=60)).isoformat()[:19]}
    assert len(scheduled(app).get_job_ids()) == 5                                 # rescheduled, not lost
    clock.advance(seconds=61)
    assert [deliver(m.id) for m in messages[20:]] == ["sent"] * 5
    assert sorted(c.text for c in fake_wechat.sent("/cgi-bin/webhook/send")) == sorted(f"群公告{n}" for n in range(25))


def test_each_webhook_has_its_own_limit(app, fake_wechat, webhook_group, session):
    other = factories.group(channel="group", chat_id="chat-hook-2", webhook_url=fake_wechat.webhook_url("HOOK2"))
    session.commit()
    for n in range(20):
        assert deliver(_to_group(webhook_group, n).id) == "sent"
    assert deliver(_to_group(other, 1).id) == "sent"
    assert deliver(_to_group(webhook_group, 99).id) == "deferred"


def test_wecom_frequency_errors_defer_instead_of_failing(app, fake_wechat, webhook_group):
    fake_wechat.script("/cgi-bin/webhook/send", {"errcode": 45009, "errmsg": "api freq out of limit"})
    message = _to_group(webhook_group, 1)
    assert deliver(message.id) == "deferred"
    assert row(message.id).status == "queued"


def test_long_group_texts_go_in_parts_and_a_retry_resumes_after_the_sent_parts(app, fake_wechat, webhook_group):
    text = "\n".join(f"第{n}条：" + "通知内容" * 40 for n in range(12))   # ~6 KB
    message = _to_group(webhook_group, 1, text=text)
    fake_wechat.script("/cgi-bin/webhook/send", {"errcode": 0, "errmsg": "ok"}, {"errcode": -1, "errmsg": "busy"})
    with pytest.raises(SendRetry):
        deliver(message.id, final_attempt=False)
    assert row(message.id).handling["parts_sent"] == 1
    assert deliver(message.id) == "sent"
    parts = [c for c in fake_wechat.calls_to("/cgi-bin/webhook/send")]
    assert len(parts) == 1 + 1 + (row(message.id).handling["parts"] - 1)
    assert all(len(c.text.encode()) <= 2048 for c in parts)
    assert "".join(c.text for c in parts if c.accepted).replace("\n", "") == text.replace("\n", "")


def test_a_webhook_outside_wecom_is_rejected(app, fake_wechat, session):
    bad = factories.group(channel="group", chat_id="chat-bad", webhook_url="http://127.0.0.1:9/steal?key=1")
    session.commit()
    message = _to_group(bad, 1)
    assert deliver(message.id) == "rejected"
    assert row(message.id).error_code == "webhook_url_not_allowed"


def test_messages_with_no_route_are_rejected_with_the_reason(app, fake_wechat):
    message = queue_message(channel="mp", recipient_kind=TO_GROUP, recipient_id="x", text="x", idempotency_key="n1")
    assert deliver(message.id) == "rejected"
    assert row(message.id).error_code == "no_route"


def test_an_unconfigured_channel_is_rejected_not_retried(app):
    app.config.update(WECHAT_APPID="", WECHAT_SECRET="")
    message = to_user()
    assert deliver(message.id, final_attempt=False) == "rejected"
    assert row(message.id).error_code == "not_configured"


def test_every_outbound_row_ends_with_a_recorded_status(app, fake_wechat, session):
    """No silent loss: after the worker ran, each row is sent/rejected, or queued with a reason."""
    to_user(key="a")
    to_user(key="b", channel="miniprogram")
    fake_wechat.script("/cgi-bin/message/custom/send", {"errcode": 45015, "errmsg": "out of time"})
    queue_message(channel="wework", recipient_kind=TO_STAFF, recipient_id="zhangsan", text="x", idempotency_key="c")
    run_worker(app)
    rows = list(db.session.scalars(select(Message).where(Message.direction == "out")))
    assert sorted(r.status for r in rows) == ["rejected", "sent", "sent"]
    assert all(r.handling.get("route") for r in rows)
