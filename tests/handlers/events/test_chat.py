"""Signing up, asking and cancelling by chat (the bot's handlers), with the real bot's slots."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.handlers.events.matching import event_terms
from app.localtime import to_local
from app.models.events import Event, Signup
from app.models.volunteers import PartyMember
from tests import factories
from tests.handlers.events.support import Chat, local, make_event, outbound


@pytest.fixture
def world(app, clock):
    community = factories.community(name="富强新村社区")
    db.session.commit()
    health = make_event(community, capacity=30, recurrence="weekly", aliases=["义诊", "免费义诊"],
                        place="社区卫生服务站", signup_deadline=local(2026, 11, 23, 18, 0))
    klass = make_event(community, title="四点半课堂", kind="class", capacity=1, starts_at=local(2026, 11, 18, 16, 30),
                       duration=timedelta(minutes=90), aliases=["430课堂"])
    cleanup = make_event(community, title="楼道环境整治志愿服务", kind="volunteer", audience="volunteers",
                         capacity=10, starts_at=local(2026, 11, 21, 9, 0), duration=timedelta(hours=3),
                         aliases=["大扫除"], volunteer_minutes=180)
    return {"community": community, "health": health, "class": klass, "cleanup": cleanup}


def _chat(world, n: int, **kw) -> Chat:
    resident = factories.resident(community_id=world["community"].id, name=kw.pop("name", f"居民{n}"),
                                  identities=kw.pop("identities", [("mp", "openid", f"openid-{n}")]))
    db.session.commit()
    return Chat(resident, community=world["community"], sender=f"openid-{n}", **kw)


def _signups(resident) -> list[Signup]:
    return list(db.session.scalars(select(Signup).where(Signup.resident_id == resident.id).order_by(Signup.id)))


def test_event_terms_are_the_bots_type_with_names_and_kind(world):
    from app.bot import EventTerm
    terms = event_terms(world["community"].id)
    assert all(isinstance(t, EventTerm) for t in terms)
    by_key = {t.key: t for t in terms}
    health = by_key[f"event-{world['health'].id}"]
    assert health.names == ("每周二上午义诊", "义诊", "免费义诊") and health.kind == "health_check"
    assert health.starts_at == local(2026, 11, 24, 8, 30)
    # The weekly occurrences are terms too, each with its own date.
    assert sum(1 for t in terms if t.kind == "health_check") == 4
    assert event_terms(None) == []


def test_sign_up_for_next_tuesdays_health_check(world):
    chat = _chat(world, 1)
    reply = chat.say("下周二义诊报个名")
    assert reply.handled_by == "events.signup"
    assert reply.text.startswith("报名成功！每周二上午义诊")
    assert "11月24日（周二）08:30–11:00" in reply.text and "社区卫生服务站" in reply.text
    (signup,) = _signups(chat.resident)
    assert signup.event_id == world["health"].id and signup.status == "confirmed" and signup.source == "chat"
    assert (signup.notify_channel, signup.notify_kind, signup.notify_recipient) == ("mp", "user", "openid-1")
    assert chat.state == {}
    again = chat.say("下周二义诊报个名")
    assert "无需重复报名" in again.text
    assert len(_signups(chat.resident)) == 1


def test_a_date_picks_the_occurrence_and_no_date_the_next_open_one(world):
    chat = _chat(world, 1)
    assert "12月1日（周二）" in chat.say("12月1日的义诊报名").text
    other = _chat(world, 2)
    assert "11月24日（周二）" in other.say("义诊报名").text
    dates = sorted(to_local(db.session.get(Event, s.event_id).starts_at).strftime("%m-%d")
                   for s in _signups(chat.resident) + _signups(other.resident))
    assert dates == ["11-24", "12-01"]


def test_a_day_without_the_event_offers_the_nearest_one(world):
    chat = _chat(world, 1)
    reply = chat.say("周六义诊报个名")
    assert "11月21日的“每周二上午义诊”没有安排" in reply.text and "11月24日（周二）" in reply.text
    assert chat.state["flow"] == "event_signup" and chat.state["step"] == "confirm"
    assert _signups(chat.resident) == []
    assert chat.say("好的").text.startswith("报名成功")
    assert _signups(chat.resident)[0].event_id == world["health"].id


def test_after_the_deadline_the_next_occurrence_is_offered(world, clock):
    clock.set(local(2026, 11, 23, 19, 0))
    chat = _chat(world, 1)
    reply = chat.say("义诊报名")
    assert "12月1日（周二）" in reply.text and reply.handled_by == "events.signup"
    clock.set(local(2026, 11, 23, 19, 0))
    late = _chat(world, 2)
    refused = late.say("11月24日义诊报名", slots={"event": f"event-{world['health'].id}", "date": "2026-11-24"})
    assert "报名已于11月23日（周一）18:00截止" in refused.text and "12月1日" in refused.text
    assert late.say("好").text.startswith("报名成功")


def test_asking_about_places_then_signing_up_and_the_waiting_list(world):
    first = _chat(world, 1)
    reply = first.say("四点半课堂还能报吗")
    assert reply.handled_by == "events.availability"
    assert "还有1个名额" in reply.text and "回复“好”即可报名" in reply.text
    assert _signups(first.resident) == []
    assert first.say("好").text.startswith("报名成功！四点半课堂")

    second = _chat(world, 2)
    full = second.say("四点半课堂还有名额吗")
    assert "名额已满" in full.text and "排队候补" in full.text
    waiting = second.say("好")
    assert waiting.handled_by == "events.waiting" and "排第1位" in waiting.text

    third = _chat(world, 3)
    offer = third.say("四点半课堂报名")
    assert offer.handled_by == "events.full" and "目前已有1人候补" in offer.text
    assert third.say("候补").text.count("排第2位") == 1
    assert third.progress() == ["活动：四点半课堂 11月18日（周三）16:30–18:00 — 候补第2位"]
    assert first.progress() == ["活动：四点半课堂 11月18日（周三）16:30–18:00 — 已报名"]


def test_cancelling_by_chat_promotes_the_first_waiting_who_is_told(world):
    first, second = _chat(world, 1), _chat(world, 2)
    first.say("四点半课堂报名")
    second.say("四点半课堂报名")
    second.say("候补")
    reply = first.say("取消报名", intent="cancel")
    assert reply.handled_by == "events.cancel"
    assert "已为您取消“四点半课堂”" in reply.text
    (promoted,) = _signups(second.resident)
    assert promoted.status == "confirmed"
    (notice,) = outbound(resident_id=second.resident.id)
    assert notice.recipient_id == "openid-2" and "候补转正" in notice.text and "四点半课堂" in notice.text
    assert second.progress() == ["活动：四点半课堂 11月18日（周三）16:30–18:00 — 已报名"]


def test_cancel_asks_which_when_there_are_several(world):
    chat = _chat(world, 1)
    chat.say("四点半课堂报名")
    chat.say("下周二义诊报名")
    reply = chat.say("取消报名", intent="cancel")
    assert reply.handled_by == "events.choose"
    assert reply.text.splitlines()[1].startswith("1. 四点半课堂") and reply.text.splitlines()[2].startswith("2. 每周二")
    assert chat.say("2").handled_by == "events.cancel"
    statuses = {db.session.get(Event, s.event_id).title: s.status for s in _signups(chat.resident)}
    assert statuses == {"四点半课堂": "confirmed", "每周二上午义诊": "cancelled"}
    named = chat.say("四点半课堂不去了，取消报名", intent="cancel")
    assert named.handled_by == "events.cancel"


def test_cancel_with_nothing_to_cancel(world):
    chat = _chat(world, 1)
    assert chat.say("取消", intent="cancel") is None  # not ours: the next cancel handler may answer
    assert "没有可以取消的活动报名" in chat.say("取消报名", intent="cancel").text


def test_a_bare_sign_up_lists_the_events_and_a_number_chooses(world):
    chat = _chat(world, 1)
    reply = chat.say("我想报名")
    lines = reply.text.splitlines()
    assert lines[0] == "近期可以报名的活动："
    assert lines[1].startswith("1. 四点半课堂") and "剩1个名额" in lines[1]
    # The cleanup is for registered volunteers only, so it is not offered; the weekly event once (its next date).
    assert lines[2].startswith("2. 每周二上午义诊 11月24日")
    assert len(lines) == 4
    confirm = chat.say("第2个")
    assert confirm.text.startswith("报名成功！每周二上午义诊")


def test_the_flow_re_asks_then_gives_up_and_can_be_left(world):
    chat = _chat(world, 1)
    chat.say("我想报名")
    assert chat.say("嗯嗯那个").handled_by == "events.retry"
    assert chat.say("9").handled_by == "events.retry"
    assert chat.say("呃").handled_by == "events.flow_exit" and chat.state == {}
    chat.say("我想报名")
    assert chat.say("算了").handled_by == "events.flow_exit"
    assert _signups(chat.resident) == []


def test_audience_refusal_is_explained(world):
    chat = _chat(world, 1)
    reply = chat.say("报名参加大扫除")
    assert reply.handled_by == "events.refused" and "仅限社区注册志愿者" in reply.text
    db.session.add(PartyMember(community_id=world["community"].id, resident_id=chat.resident.id, kind="volunteer",
                               name="志愿者"))
    db.session.commit()
    assert chat.say("报名参加大扫除").text.startswith("报名成功")


def test_group_sign_up_without_a_private_channel_is_told_in_the_group(world):
    group = factories.group(community=world["community"], channel="group", chat_id="fuqiang-1")
    db.session.commit()
    first = _chat(world, 1, group=group, identities=[("group", "group_member", "m-1")], name="陈桂芳")
    second = _chat(world, 2, group=group, identities=[("group", "group_member", "m-2")], name="刘德福")
    first.say("四点半课堂报名")
    second.say("四点半课堂报名")
    second.say("候补")
    (waiting,) = _signups(second.resident)
    assert (waiting.notify_kind, waiting.notify_recipient, waiting.notify_group_id) == ("group", "fuqiang-1", group.id)
    first.say("取消报名", intent="cancel")
    (notice,) = outbound(resident_id=second.resident.id)
    assert notice.handling["recipient_kind"] == "group" and notice.chat_id == "fuqiang-1"
    assert notice.text.startswith("@刘*福 ") and "刘德福" not in notice.text


def test_group_sign_up_prefers_a_private_channel_when_known(world):
    group = factories.group(community=world["community"], channel="group", chat_id="fuqiang-2")
    db.session.commit()
    chat = _chat(world, 1, group=group, identities=[("group", "group_member", "m-9"),
                                                    ("miniprogram", "openid", "mini-openid-9")])
    chat.say("四点半课堂报名")
    (signup,) = _signups(chat.resident)
    assert (signup.notify_channel, signup.notify_kind, signup.notify_recipient) == ("miniprogram", "user",
                                                                                    "mini-openid-9")


def test_staff_are_pointed_to_the_mini_program(world):
    chat = _chat(world, 1)
    chat.resident = None
    assert "工作人员" in chat.say("四点半课堂报名", slots={}).text


def test_no_events_at_all(app, clock):
    community = factories.community()
    resident = factories.resident(community_id=community.id)
    db.session.commit()
    chat = Chat(resident, community=community)
    assert chat.say("义诊报名").handled_by == "events.none"


def test_a_resident_without_a_community_is_asked_to_choose_one(world):
    resident = factories.resident(community_id=None)
    db.session.commit()
    chat = Chat(resident, community=world["community"])
    chat.community = type("NoCommunity", (), {"id": None})()
    chat.community_id = None
    reply = chat.say("义诊报名", slots={})
    assert reply.handled_by == "events.no_community" and "选择所在社区" in reply.text


def test_a_bare_cancel_is_confirmed_before_the_place_is_given_away(world):
    chat = _chat(world, 1)
    chat.say("下周二义诊报名")
    ask = chat.say("不用了", intent="cancel")
    assert ask.handled_by == "events.cancel_confirm" and "是要取消“每周二上午义诊”" in ask.text
    kept = chat.say("不取消")
    assert kept.text == "好的，您的报名保留不变。"
    assert _signups(chat.resident)[0].status == "confirmed"
    chat.say("不用了", intent="cancel")
    assert chat.say("是的").handled_by == "events.cancel"
    assert _signups(chat.resident)[0].status == "cancelled"


def test_lists_offer_only_events_one_may_join_and_mark_ones_own(world):
    chat = _chat(world, 1)
    chat.say("下周二义诊报名")
    lines = chat.say("我想报名").text.splitlines()
    assert not any("楼道环境整治" in line for line in lines)  # volunteers only
    assert lines[2].startswith("2. 每周二上午义诊") and lines[2].endswith("（您已报名）")


def test_in_a_resident_group_through_the_router(world):
    """The real router (app.handlers.messaging.inbound.receive): group members found or created by their sender id."""
    import itertools

    from app.handlers.messaging.inbound import InboundMessage, receive

    factories.group(community=world["community"], channel="group", chat_id="fq-g1")
    db.session.commit()
    seq = itertools.count(1)

    def say(sender: str, name: str, text: str):
        reply, _ = receive(InboundMessage(channel="group", chat_type="group", chat_id="fq-g1", sender_id=sender,
                                          sender_name=name, dedupe_key=f"g-{next(seq)}", text=text))
        return reply

    assert say("m-1", "陈桂芳", "四点半课堂报名").text.startswith("报名成功！四点半课堂")
    assert say("m-2", "刘德福", "四点半课堂还能报吗").handled_by == "events.availability"
    assert "排第1位" in say("m-2", "刘德福", "好").text
    assert say("m-3", "周晓燕", "今天天气不错").text is None  # chatter: the bot stays quiet
    assert say("m-1", "陈桂芳", "取消报名").handled_by == "events.cancel"
    promoted = db.session.scalars(select(Signup).where(Signup.status == "confirmed")).all()
    assert len(promoted) == 1
    (notice,) = outbound(resident_id=promoted[0].resident_id)
    assert notice.chat_id == "fq-g1" and notice.text.startswith("@刘") and "候补转正" in notice.text


@pytest.mark.parametrize("question", ["四点半课堂取消了吗", "下周的活动是不是取消了", "四点半课堂会不会取消啊"])
def test_asking_whether_an_event_was_called_off_never_cancels_the_sign_up(world, question):
    """Through the real router: the place is kept whatever the bot made of the question (a question
    the router's cancel sees goes to a person: test_cancel_questions.py)."""
    import itertools

    from app.handlers.messaging.inbound import InboundMessage, receive

    factories.group(community=world["community"], channel="group", chat_id="fq-g2")
    db.session.commit()
    seq = itertools.count(1)

    def say(text: str):
        return receive(InboundMessage(channel="group", chat_type="group", chat_id="fq-g2", sender_id="m-9",
                                      sender_name="王秀兰", dedupe_key=f"q-{next(seq)}", text=text))

    assert say("四点半课堂报名")[0].text.startswith("报名成功！四点半课堂")
    reply, _ = say(question)
    assert "已为您取消" not in (reply.text or "")
    assert not reply.handled_by.startswith("events.")
    signups = db.session.scalars(select(Signup)).all()
    assert [s.status for s in signups] == ["confirmed"]
    # A request to cancel still cancels.
    assert say("四点半课堂取消报名")[0].handled_by == "events.cancel"
    assert db.session.scalars(select(Signup)).one().status == "cancelled"
