"""Alerts through the real channel senders (fake WeCom API on loopback) and their delivery state."""
from __future__ import annotations

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from app.extensions import db
from app.handlers.alerts import alert_view, raise_alert, recipient_view
from app.models import GroupKind, Message
from app.models.alerts import Alert
from tests import factories as f
from workers.jobs import QUEUE_SEND
from workers.runner import build_worker


def deliver(app):
    build_worker(app, queues=[QUEUE_SEND], worker_class=SimpleWorker).work(burst=True)


@pytest.fixture
def community(app):
    row = f.community(name="富强新村社区")
    db.session.commit()
    return row


def test_staff_with_wecom_get_an_app_message_and_the_others_one_duty_group_message(app, community, fake_wechat):
    duty_group = f.group(community=community, name="值班群", kind=GroupKind.DUTY.value, channel="wework",
                         chat_id="duty-chat", webhook_url=fake_wechat.webhook_url("duty-key"))
    with_wecom = f.staff(roles=("community_admin",), community=community, name="王书记", wework_userid="wangsj")
    plain_a = f.staff(roles=("duty",), community=community, name="张伟", phone="13900000001")
    plain_b = f.staff(roles=("duty",), community=community, name="李娜", phone="13900000002")
    db.session.commit()
    alert = raise_alert(key="test:1", kind="breach", community_id=community.id, text="【超时未回复】测试告警",
                        recipients=[with_wecom, plain_a, plain_b], roles={with_wecom.id: "admin"})
    deliver(app)
    [app_message] = fake_wechat.sent("/cgi-bin/message/send")
    assert app_message.body["touser"] == "wangsj" and app_message.body["text"]["content"] == "【超时未回复】测试告警"
    [webhook] = fake_wechat.sent("/cgi-bin/webhook/send")
    assert webhook.query["key"] == "duty-key"
    assert "@张伟" in webhook.body["text"]["content"] and "@李娜" in webhook.body["text"]["content"]
    db.session.expire_all()
    view = alert_view(db.session.get(Alert, alert.id))
    assert {(r["staff"]["name"], r["target"], r["delivery"]) for r in view["recipients"]} == {
        ("王书记", "staff", "sent"), ("张伟", "group", "sent"), ("李娜", "group", "sent")}
    assert view["recipients"][1]["group"] == {"id": duty_group.id, "name": "值班群"}


def test_a_refused_delivery_is_visible_on_the_recipient(app, community, fake_wechat):
    staff = f.staff(roles=("duty",), community=community, name="张伟", wework_userid="left-the-company")
    db.session.commit()
    fake_wechat.script("/cgi-bin/message/send", {"errcode": 60111, "errmsg": "userid not found"})
    alert = raise_alert(key="test:2", kind="warn", community_id=community.id, text="【即将超时】测试",
                        recipients=[staff])
    deliver(app)
    db.session.expire_all()
    [recipient] = db.session.get(Alert, alert.id).recipients
    view = recipient_view(recipient)
    assert view["delivery"] == "rejected" and view["error"]


def test_with_nobody_to_name_the_duty_group_still_hears(app, community):
    group = f.group(community=community, name="值班群", kind=GroupKind.DUTY.value, chat_id="duty-2")
    db.session.commit()
    alert = raise_alert(key="test:3", kind="no_duty", community_id=community.id, text="【无人值班】测试",
                        recipients=[])
    [recipient] = alert.recipients
    assert (recipient.staff_id, recipient.target, recipient.group_id, recipient.state) == (None, "group", group.id,
                                                                                          "queued")
    message = db.session.get(Message, recipient.message_id)
    assert message.text == "【无人值班】测试" and message.chat_id == "duty-2"


def test_with_nobody_and_no_duty_group_the_alert_is_still_recorded(app, community):
    alert = raise_alert(key="test:4", kind="no_duty", community_id=community.id, text="【无人值班】测试",
                        recipients=[])
    assert alert.recipients == [] and alert.dispatched_at is not None
    assert db.session.scalars(select(Alert)).one().key == "test:4"


def test_an_inactive_duty_group_is_not_used(app, community):
    f.group(community=community, name="旧值班群", kind=GroupKind.DUTY.value, chat_id="old", active=False)
    staff = f.staff(roles=("duty",), community=community, name="张伟")
    db.session.commit()
    alert = raise_alert(key="test:5", kind="warn", community_id=community.id, text="x", recipients=[staff])
    assert [r.state for r in alert.recipients] == ["no_channel"]


def test_empty_alert_text_is_refused(app, community):
    with pytest.raises(ValueError):
        raise_alert(key="test:6", kind="warn", community_id=community.id, text="  ", recipients=[])
