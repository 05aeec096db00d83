"""Booking by chat end to end: the real bot and conversation router, and the WeChat server simulator.

``receive`` is the core entry point every channel calls; the simulator posts
signed, encrypted pushes to /wechat/mp exactly as WeChat does and checks the
passive replies. Reminders then go out through the outbox to the fake WeChat API.
"""
from __future__ import annotations

import itertools
import re
from datetime import timezone

import pytest

from app.extensions import db
from app.handlers.messaging.inbound import InboundMessage, receive
from app.models.proxy import BookingStatus
from tests.channels.conftest import CHANNEL_SETTINGS, WECHAT_AES_KEY, WECHAT_TOKEN
from tests.handlers.proxy.support import bookings, local, resident, run_due_jobs, setup_community
from tests.support.fixtures import CREDENTIALS
from tests.support.wechat_sim import WeChatSimulator
from workers.jobs import ALL_QUEUES

UTC = timezone.utc
CODE = re.compile(r"预约码：?\s*([A-Z0-9]{6})")
_seq = itertools.count(1)


@pytest.fixture
def app_overrides():
    return dict(CHANNEL_SETTINGS)


def say(openid: str, text: str) -> str | None:
    reply, _ = receive(InboundMessage(channel="mp", dedupe_key=f"e2e-{next(_seq)}", sender_id=openid, text=text))
    return reply.text if reply else None


def test_book_reschedule_progress_and_cancel_through_the_router(app, clock):
    s = setup_community()
    r = resident(s.community)
    openid = r.identities[0].value

    text = say(openid, "想预约代办尊老金")
    assert "请携带：" in text and "1）今天 11月17日（周二） 上午 10:00" in text
    text = say(openid, "明天下午八十点")
    assert "八十点" in text and "不是有效的时间" in text
    text = say(openid, "2")
    assert "预约成功" in text
    code = CODE.search(text).group(1)
    (booking,) = bookings()
    assert booking.code == code and booking.slot_start == local(2026, 11, 17, 14, 0).astimezone(UTC)

    text = say(openid, "我的尊老金办到哪了")
    assert code in text and "尊老金申领" in text

    text = say(openid, "预约改到周五")
    assert "原定今天" in text and "1）11月20日（周五） 上午 08:30" in text
    text = say(openid, "周五下午")
    assert "改约成功" in text and code in text
    db.session.refresh(booking)
    assert booking.slot_start == local(2026, 11, 20, 14, 0).astimezone(UTC)

    text = say(openid, f"取消预约 {code}")
    assert "已取消" in text and code in text
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CANCELLED.value


def test_asking_which_item_then_a_slot_through_the_router(app, clock):
    s = setup_community()
    openid = resident(s.community).identities[0].value
    text = say(openid, "想预约代办")
    assert "哪一项" in text and "1. 尊老金申领" in text
    text = say(openid, "独生子女费")
    assert "独生子女父母奖励申领" in text and "《独生子女父母光荣证》原件" in text
    text = say(openid, "明天上午")
    assert "预约成功" in text
    assert bookings()[0].slot_start == local(2026, 11, 18, 8, 30).astimezone(UTC)


def test_someone_elses_code_and_a_bare_cancel_through_the_router(app, clock):
    s = setup_community()
    me, other = resident(s.community), resident(s.community, name="李四")
    say(other.identities[0].value, "想预约代办尊老金")
    code = CODE.search(say(other.identities[0].value, "1")).group(1)
    text = say(me.identities[0].value, f"取消预约 {code}")
    assert f"没有找到您名下预约码为 {code} 的预约" in text
    assert bookings()[0].status == "confirmed"


def test_booking_through_the_wechat_simulator_then_reminded_via_the_wechat_api(app, client, clock, fake_wechat):
    s = setup_community()
    r = resident(s.community)
    openid = r.identities[0].value
    sim = WeChatSimulator(client, token=WECHAT_TOKEN, aes_key=WECHAT_AES_KEY, appid=CREDENTIALS["WECHAT_APPID"])

    result = sim.post(sim.text_xml(openid, "想预约代办尊老金"), aes=True)
    assert result.status == 200 and "请携带" in result.reply_content
    assert result.reply["ToUserName"] == openid
    result = sim.post(sim.text_xml(openid, "3"), aes=True)
    assert "预约成功" in result.reply_content
    code = CODE.search(result.reply_content).group(1)
    (booking,) = bookings()
    assert booking.code == code and booking.channel == "mp" and booking.recipient_id == openid

    clock.set(local(2026, 11, 17, 18, 0))
    run_due_jobs(app, clock, queues=ALL_QUEUES)
    sent = fake_wechat.sent("/cgi-bin/message/custom/send")
    assert len(sent) == 1
    body = sent[0].body
    assert body["touser"] == openid and body["msgtype"] == "text"
    assert "【代办预约提醒】" in body["text"]["content"] and code in body["text"]["content"]
