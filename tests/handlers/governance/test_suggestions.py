"""百姓说事: a suggestion said in the group or 1:1 is collected once, answered publicly where it was said,
and can become a topic for 议事."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from app.errors import DomainError
from app.extensions import db
from app.handlers.governance import suggestions
from app.handlers.messaging.inbound import InboundMessage, receive
from app.models import Message, ReplyClock, ServiceRequest, Suggestion
from tests.handlers.governance.support import world

_seq = itertools.count(1)


def say(text, *, group=True, sender="member-1"):
    inbound = InboundMessage(channel="group" if group else "mp", dedupe_key=f"sug-{next(_seq)}", sender_id=sender,
                             chat_id="wrwG-gov" if group else None, chat_type="group" if group else "private",
                             text=text)
    reply, _ = receive(inbound)
    return reply, db.session.scalars(select(Message).where(Message.dedupe_key == inbound.dedupe_key)).one()


@pytest.fixture
def w(app, clock):
    return world()


def test_a_suggestion_in_the_group_is_answered_in_the_group_and_becomes_a_topic(w):
    reply, message = say("百姓说事：建议在小区北门装一个快递柜，老人取快递方便")
    row = db.session.scalars(select(Suggestion)).one()
    assert reply.text == f"已收到您的建议（编号{row.code}），社区会在群里公开答复。谢谢您参与“百姓说事”！"
    assert row.text == "建议在小区北门装一个快递柜，老人取快递方便" and row.resident_id == w.residents[0].id
    assert (row.reply_kind, row.reply_to, row.group_id) == ("group", "wrwG-gov", w.group.id)
    # Not a complaint: no request, no one-hour clock.
    assert db.session.scalars(select(ServiceRequest)).all() == []
    assert db.session.scalars(select(ReplyClock).where(ReplyClock.message_id == message.id)).first() is None

    sent = suggestions.answer(row, "已联系快递公司，下月在北门安装。", w.duty)
    assert sent.group_id == w.group.id and sent.recipient_id == "wrwG-gov"
    assert sent.text.startswith(f"【百姓说事·{row.code}】答复：已联系快递公司")
    topic = suggestions.promote(row, {}, w.admin)
    assert topic.source == "suggestion" and topic.title.startswith("建议在小区北门装一个快递柜")
    assert row.status == "promoted" and row.topic_id == topic.id
    with pytest.raises(DomainError, match="已经转为议题"):
        suggestions.promote(row, {}, w.admin)
    public = suggestions.suggestion_view(row)
    assert public["resident"] == "陈*芳" and public["topic"]["number"] == topic.number

    progress, _ = say("我的建议进展怎么样了", group=False, sender="oGOV1")
    assert f"百姓说事{row.code}：已转议题：已联系快递公司" in progress.text


def test_a_private_suggestion_is_answered_privately_and_short_ones_are_asked_again(w):
    reply, _ = say("我有个建议", group=False, sender="oGOV2")
    assert "请直接说出您的建议" in reply.text
    say("我有个建议：小区广场晚上的灯可以晚点关", group=False, sender="oGOV2")
    row = db.session.scalars(select(Suggestion)).one()
    assert (row.reply_kind, row.reply_to, row.reply_channel) == ("user", "oGOV2", "mp")
    sent = suggestions.answer(row, "已调整为22:00关灯。", w.duty)
    assert sent.handling["recipient_kind"] == "user" and sent.recipient_id == "oGOV2"
    with pytest.raises(DomainError) as caught:
        suggestions.answer(row, "  ", w.duty)
    assert caught.value.field == "answer"
    suggestions.close(row, "已落实", w.duty)
    assert row.status == "closed"
