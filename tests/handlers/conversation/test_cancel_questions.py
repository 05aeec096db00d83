"""Telling a question about a cancellation from a request to cancel (the router's own cancel)."""
from __future__ import annotations

import pytest

from app.handlers.conversation.own_intents import asks_whether_cancelled


@pytest.mark.parametrize("text", ["下周的活动取消了吗", "明天的讲座是不是取消了", "我的预约取消了没有", "义诊会不会取消",
                                  "我的预约怎么被取消了", "周六的活动是否取消", "到底取消不取消"])
def test_questions_whether_something_was_cancelled(text):
    assert asks_whether_cancelled(text)


@pytest.mark.parametrize("text", ["取消报名", "帮我把周三的预约取消了吧", "能帮我取消了吗", "麻烦取消一下我的预约吗",
                                  "周五那个代办预约取消掉", "我不去了 取消吧", "取消预约 D7K3Q9"])
def test_requests_to_cancel(text):
    assert not asks_whether_cancelled(text)


def test_the_router_sends_the_question_to_a_person(app, clock):
    """Even when the bot reads it as a cancel, the question is answered by the duty staff (the clock starts)."""
    from app.extensions import db
    from app.handlers.conversation.own_intents import cancel
    from app.handlers.events.chat import CHAT
    from tests import factories
    from tests.support.chat import ChatDriver

    community = factories.community()
    resident = factories.resident(community_id=community.id, identities=[("mp", "openid", "openid-q")])
    db.session.commit()
    driver = ChatDriver(CHAT, resident=resident, community_id=community.id, now=clock, sender="openid-q")
    reply, needs_reply = cancel(driver.ctx("下周的活动取消了吗", intent="cancel"), False)
    assert reply.handled_by == "cancel_question" and needs_reply
    assert "值班人员" in reply.text
    reply, needs_reply = cancel(driver.ctx("取消报名", intent="cancel"), False)
    assert reply.handled_by != "cancel_question" and not needs_reply
