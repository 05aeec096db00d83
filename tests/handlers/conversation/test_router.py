"""The conversation router end to end: real database, real Redis, the real bot and the real SLA clock.

The handlers other features register (requests, bookings, events, catalogue) are
replaced here by the small fake handlers at the bottom of this module: the tests
point the registries at them, so what is tested is the router's own work.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.bot import ServiceTerm
from app.extensions import db
from app.handlers import conversation
from app.handlers.conversation import registry
from app.handlers.messaging.features import ChatFeature
from app.handlers.messaging.inbound import InboundMessage, receive
from app.models import Message, ReplyClock, Resident, ResidentIdentity
from tests import factories

CALLS: list[tuple[str, object]] = []


@pytest.fixture
def app_overrides():
    return {"BOT_STATE_TTL_SECONDS": 120}


@pytest.fixture(autouse=True)
def fakes(app, monkeypatch):
    """Replace every domain's chat feature with the fakes below."""
    CALLS.clear()
    use_fakes(monkeypatch)
    PROGRESS["a"], PROGRESS["b"] = [], []
    CANCELLED.clear()
    RATED_REQUEST["id"] = None


def use_fakes(monkeypatch, **changes):
    """Two fake domains in the registry (progress and cancel are asked in their order)."""
    first = dict(intents={"report_issue": fake_report, "rate": fake_rate, "book_proxy": fake_book,
                          "event_signup": fake_signup},
                 flows={"book_proxy": fake_book_flow, "event_signup": fake_signup, "rate": fake_rate},
                 progress=fake_progress_a, cancel=fake_cancel_nothing, vocabulary={"services": fake_services},
                 info=fake_describe, media=fake_media, staff_group_hook=fake_staff_seen)
    first.update(changes)
    second = ChatFeature(progress=fake_progress_b, cancel=fake_cancel, vocabulary={"events": fake_events})
    monkeypatch.setitem(registry._loaded, "features", (ChatFeature(**first), second))


def real_features(monkeypatch):
    monkeypatch.setitem(registry._loaded, "features", registry.load())


@pytest.fixture
def place(app):
    community = factories.community()
    group = factories.group(community=community, chat_id="wrwG-1", channel="group")
    db.session.commit()
    return community, group


_seq = iter(range(1, 10_000))


def group_message(text, sender="member-1", group_chat="wrwG-1", **kw) -> InboundMessage:
    return InboundMessage(channel="group", dedupe_key=f"g-{next(_seq)}", sender_id=sender, chat_id=group_chat,
                          chat_type="group", sender_name=kw.pop("sender_name", "张阿姨"), text=text, **kw)


def private_message(text, sender="oPENID-1", channel="mp", **kw) -> InboundMessage:
    return InboundMessage(channel=channel, dedupe_key=f"p-{next(_seq)}", sender_id=sender, chat_type="private",
                          text=text, **kw)


def stored(inbound) -> Message:
    return db.session.scalars(select(Message).where(Message.dedupe_key == inbound.dedupe_key)).one()


def clock_for(message: Message) -> ReplyClock | None:
    return db.session.scalars(select(ReplyClock).where(ReplyClock.message_id == message.id)).first()


# --- who is writing ---------------------------------------------------------------------------

def test_a_new_group_member_becomes_a_resident_of_the_groups_community(place, clock):
    community, group = place
    inbound = group_message("今天菜市场的西红柿好便宜", sender="wm-abc", sender_name="李叔")
    reply, new = receive(inbound)
    assert new and reply.text is None                      # chatter: the bot stays silent
    identity = db.session.scalars(select(ResidentIdentity).where(ResidentIdentity.value == "wm-abc")).one()
    assert (identity.channel, identity.kind) == ("group", "group_member")
    assert identity.resident.community_id == community.id and identity.resident.nickname == "李叔"
    message = stored(inbound)
    assert message.resident_id == identity.resident_id
    assert message.handling["intent"] == "none" and message.handling["replied"] is False
    assert clock_for(message) is None
    # The same sender again: the same resident.
    receive(group_message("好的", sender="wm-abc"))
    assert db.session.scalars(select(ResidentIdentity).where(ResidentIdentity.value == "wm-abc")).all() == [identity]


def test_identity_kinds_follow_the_channel(app, clock):
    receive(private_message("你好", sender="o-mp", channel="mp"))
    receive(private_message("你好", sender="o-mini", channel="miniprogram"))
    receive(private_message("你好", sender="wmEXTERNAL", channel="wework"))
    kinds = {i.value: i.kind for i in db.session.scalars(select(ResidentIdentity))}
    assert kinds == {"o-mp": "openid", "o-mini": "openid", "wmEXTERNAL": "external_userid"}


def test_a_private_chat_in_a_one_community_deployment_belongs_to_that_community(place, clock):
    community, _ = place
    receive(private_message("你好", sender="o-only"))
    resident = db.session.scalars(select(ResidentIdentity).where(ResidentIdentity.value == "o-only")).one().resident
    assert resident.community_id == community.id


def test_a_private_chat_with_several_communities_does_not_guess(place, clock):
    factories.community()
    db.session.commit()
    receive(private_message("你好", sender="o-many"))
    resident = db.session.scalars(select(ResidentIdentity).where(ResidentIdentity.value == "o-many")).one().resident
    assert resident.community_id is None


def test_a_transcribed_voice_message_is_understood_like_text(place, clock):
    reply, _ = receive(private_message("转人工", msg_type="voice", media={"media_id": "v1"}))
    assert reply.handled_by == "human"
    untranscribed, _ = receive(private_message("", msg_type="voice", media={"media_id": "v2"}))
    assert untranscribed.handled_by != "human"


# --- what the router answers itself -----------------------------------------------------------

def test_chitchat_in_a_private_chat_gets_a_friendly_answer(app, clock):
    reply, _ = receive(private_message("谢谢"))
    assert reply.text and "不客气" in reply.text and reply.handled_by == "chitchat"


def test_chatter_addressed_to_the_bot_gets_the_help_text(place, clock):
    reply, _ = receive(group_message("@小邻 今天天气不错"))
    assert reply.text and "您可以这样说" in reply.text


def test_human_notifies_and_starts_the_clock(place, clock):
    community, group = place
    inbound = group_message("转人工")
    reply, _ = receive(inbound)
    assert "值班人员" in reply.text and reply.handled_by == "human"
    started = clock_for(stored(inbound))
    assert started is not None and started.community_id == community.id and started.group_id == group.id
    assert started.due_at - started.started_at == timedelta(seconds=app_config("REPLY_SLA_SECONDS"))


def app_config(key):
    from flask import current_app
    return current_app.config[key]


def test_ask_info_answers_from_the_faq_without_a_clock(place, clock):
    inbound = group_message("服务中心几点下班")
    reply, _ = receive(inbound)
    assert "办公时间" in reply.text and reply.detail["faq"] == "office_hours"
    assert clock_for(stored(inbound)) is None


def test_ask_info_prefers_the_catalogue_description(place, clock):
    reply, _ = receive(group_message("办居住证要带什么材料"))
    assert reply.text == "【居住证】身份证、照片" and ("describe", "svc-permit") in CALLS


def test_ask_info_without_an_answer_goes_to_staff(place, clock):
    inbound = group_message("小区什么时候加装电梯")
    reply, _ = receive(inbound)
    assert "值班人员" in reply.text and reply.detail["unanswered"] is True
    assert clock_for(stored(inbound)) is not None


def test_query_progress_lists_every_source(place, clock):
    PROGRESS["a"] = ["诉求R-1「漏水」：处理中"]
    PROGRESS["b"] = ["预约B-2：11月20日上午"]
    inbound = group_message("我上周报的漏水修了没有")
    reply, _ = receive(inbound)
    assert reply.text.splitlines() == ["您的办理进度：", "诉求R-1「漏水」：处理中", "预约B-2：11月20日上午"]
    assert clock_for(stored(inbound)) is None


def test_query_progress_with_nothing_found_asks_staff(place, clock):
    inbound = group_message("查询进度")
    reply, _ = receive(inbound)
    assert "没有查到" in reply.text and clock_for(stored(inbound)) is not None


def test_cancel_outside_a_flow_asks_the_cancel_handlers_in_order(place, clock):
    reply, _ = receive(group_message("明天的预约取消吧"))
    assert reply.text == "已取消您的预约B-2" and CANCELLED == ["nothing", "booking"]


# --- other features' handlers, flows and dialogue state ---------------------------------------

def test_a_report_goes_to_its_handler_and_starts_the_clock(place, clock):
    community, group = place
    inbound = group_message("3栋2单元楼道灯坏了好几天了")
    reply, _ = receive(inbound)
    assert reply.text == "已收到您的反映" and reply.handled_by == "fake.report"
    ctx = dict(CALLS)["report"]
    assert ctx.understanding.category == "repair" and ctx.understanding.slots["building"] == "3"
    assert ctx.community_id == community.id and ctx.group.id == group.id and ctx.resident is not None
    message = stored(inbound)
    assert message.handling["intent"] == "report_issue" and message.handling["needs_reply"] is True
    assert clock_for(message).resident_id == ctx.resident.id


def test_multi_turn_booking_keeps_state_in_redis_and_leaves_on_never_mind(app, clock, redis_client):
    first = private_message("想预约代办")
    reply, _ = receive(first)
    assert reply.text == "请问办哪一项？"
    key = conversation.STATE_PREFIX + first.conversation_key
    assert json.loads(redis_client.get(key)) == {"flow": "book_proxy", "step": "item"}
    assert 0 < redis_client.ttl(key) <= 120                     # LINLI_BOT_STATE_TTL_SECONDS

    reply, _ = receive(private_message("尊老金"))
    assert reply.text == "尊老金，什么时候来？"
    assert json.loads(redis_client.get(key))["service"] == "svc-zlj"   # from the caller's vocabulary

    reply, _ = receive(private_message("明天上午"))
    assert reply.text == "已预约 svc-zlj 2026-11-18 morning"
    assert redis_client.get(key) is None                        # the flow ended

    receive(private_message("我想预约代办"))
    assert redis_client.get(key) is not None
    reply, _ = receive(private_message("算了"))
    assert reply.handled_by == "cancel" and reply.detail["left_flow"] == "book_proxy"
    assert redis_client.get(key) is None


@pytest.mark.parametrize("text,date,time", [
    ("改到周五", "2026-11-20", None),
    ("D7K3Q9 改到明天上午9点", "2026-11-18", "09:00"),
    ("能换个时间吗", None, None),
])
def test_rescheduling_goes_to_the_booking_handler(place, clock, text, date, time):
    """The booking handler moves a booking inside handle_book: "改到…" must reach it, with the new time."""
    inbound = group_message(text)
    reply, _ = receive(inbound)
    assert reply.handled_by == "fake.book"
    ctx = dict(CALLS)["book"]
    assert ctx.understanding.slots.get("date") == date and ctx.understanding.slots.get("time") == time
    message = stored(inbound)
    assert message.handling["intent"] == "book_proxy" and clock_for(message) is None


def test_a_report_in_the_middle_of_a_flow_ends_the_flow(app, clock, redis_client):
    first = private_message("想预约代办")
    receive(first)
    reply, _ = receive(private_message("电梯坏了，把人困住了"))
    assert reply.handled_by == "fake.report"
    assert redis_client.get(conversation.STATE_PREFIX + first.conversation_key) is None


def test_the_state_expires(app, clock, redis_client):
    first = private_message("想预约代办")
    receive(first)
    redis_client.delete(conversation.STATE_PREFIX + first.conversation_key)   # what the TTL does
    CALLS.clear()
    reply, _ = receive(private_message("尊老金"))
    assert reply.handled_by == "ask_info" and "尊老金" in reply.text   # a question on its own, not the flow
    assert not [name for name, _ in CALLS if name == "book_flow"]


def test_an_unknown_flow_owner_is_dropped_and_the_message_handled_alone(app, clock, redis_client, monkeypatch):
    first = private_message("想预约代办")
    receive(first)
    use_fakes(monkeypatch, flows={"event_signup": fake_signup, "rate": fake_rate})   # nobody owns book_proxy now
    reply, _ = receive(private_message("谢谢"))
    assert reply.handled_by == "chitchat"
    assert redis_client.get(conversation.STATE_PREFIX + first.conversation_key) is None


def test_an_intent_no_domain_handles_is_answered_by_a_person(place, clock, monkeypatch):
    use_fakes(monkeypatch, intents={"rate": fake_rate})   # nobody handles report_issue
    inbound = group_message("楼下又有人飞线充电")
    reply, _ = receive(inbound)
    assert reply.handled_by == "human" and clock_for(stored(inbound)) is not None


def test_a_missing_chat_module_stops_start_up_instead_of_being_skipped():
    with pytest.raises(ModuleNotFoundError):
        registry.load(["tests.handlers.not_written_yet"])
    with pytest.raises(RuntimeError, match="exports no CHAT"):
        registry.load(["tests.factories"])


def test_a_failing_handler_is_answered_by_a_person(place, clock, monkeypatch):
    use_fakes(monkeypatch, intents={"report_issue": fake_broken})
    inbound = group_message("电梯坏了")
    reply, _ = receive(inbound)
    assert reply.handled_by == "human" and clock_for(stored(inbound)) is not None


def test_a_handler_cannot_make_the_bot_answer_chatter_in_a_group(place, clock, monkeypatch):
    monkeypatch.setitem(conversation.OWN_HANDLERS, "chitchat",
                        lambda ctx, nr: (ctx.reply("早上好！", "chatty"), False))
    reply, _ = receive(group_message("早上好"))
    assert reply.text is None


# --- staff --------------------------------------------------------------------------------------

def test_a_staff_message_in_the_group_stops_the_clock_and_gets_no_answer(place, clock):
    community, group = place
    staff = factories.staff(community=community, wework_userid="zhang-duty")
    db.session.commit()
    report = group_message("3栋电梯坏了")
    receive(report)
    started = clock_for(stored(report))
    assert started.stopped_at is None
    clock.advance(minutes=10)
    answer = group_message("收到，马上安排师傅", sender="zhang-duty")
    reply, _ = receive(answer)
    assert reply.text is None and reply.handled_by == "staff"
    message = stored(answer)
    assert message.is_staff and message.staff_id == staff.id and message.resident_id is None
    db.session.refresh(started)
    assert started.stopped_at is not None and started.stopped_by_staff_id == staff.id
    assert ("staff_seen", group.id) in CALLS
    assert db.session.scalars(select(Resident)).all() == [dict(CALLS)["report"].resident]


def test_a_sender_marked_staff_by_the_channel_is_silent(place, clock):
    reply, _ = receive(group_message("大家注意，明天停水", sender="unknown-staff", is_staff=True))
    assert reply.text is None and reply.handled_by == "staff"


def test_staff_in_a_private_chat_are_pointed_to_the_mini_program(app, clock):
    factories.staff(openid="o-staff")
    db.session.commit()
    reply, _ = receive(private_message("电梯坏了", sender="o-staff"))
    assert "小程序" in reply.text and reply.handled_by == "staff"


# --- not text -----------------------------------------------------------------------------------

def test_media_and_events(app, clock):
    photo = private_message(None, msg_type="image", media={"media_id": "m1"})
    reply, _ = receive(photo)
    assert "文字" in reply.text and ("media", photo.dedupe_key) in CALLS
    welcome, _ = receive(private_message(None, msg_type="event", event="subscribe"))
    assert "欢迎" in welcome.text


def test_media_in_a_group(place, clock):
    silent, _ = receive(group_message(None, msg_type="image", media={"media_id": "m2"}))
    assert silent.text is None
    joined, _ = receive(group_message(None, msg_type="image", media={"media_id": "m3", "after_report": True}))
    assert joined.text == "已将图片记入诉求"


def test_a_repeat_delivery_is_handled_once(place, clock):
    inbound = group_message("转人工")
    first, new = receive(inbound)
    again, new_again = receive(inbound)
    assert new and not new_again and again.text == first.text
    assert db.session.scalars(select(ReplyClock)).all() == [clock_for(stored(inbound))]


# --- the real registry --------------------------------------------------------------------------

def test_every_chat_module_exports_a_feature_and_the_intents_are_covered():
    features = registry.load()
    assert len(features) == len(registry.CHAT_MODULES)
    intents = {name for f in features for name in f.intents}
    assert {"report_issue", "rate", "book_proxy", "event_signup"} <= intents
    assert {name for f in features for name in f.vocabulary} == {"services", "events"}
    assert registry.progress_sources() and registry.cancel_handlers() and registry.info_sources()


def test_a_report_through_the_real_registry(place, clock, monkeypatch):
    """With the real handlers of the requests feature: the report becomes a request with the
    bot's category and location, and its reply clock runs."""
    real_features(monkeypatch)
    community, group = place
    inbound = group_message("5号楼2单元的楼道灯坏了好几天了")
    reply, _ = receive(inbound)
    message = stored(inbound)
    assert reply.text and reply.handled_by.startswith("requests.")
    assert message.handling["intent"] == "report_issue" and message.handling["category"] == "repair"
    started = clock_for(message)
    assert started is not None and started.request_id is not None and started.community_id == community.id


def test_a_follow_up_that_joins_a_request_runs_on_that_requests_clock(place, clock, monkeypatch):
    """The second report of the same problem joins the open request (H4's follow-up); the router
    passes the request's id, so the follow-up does not start a second one-hour clock."""
    real_features(monkeypatch)
    first = group_message("3栋2单元电梯坏了，按钮没反应")
    receive(first)
    started = clock_for(stored(first))
    assert started is not None and started.request_id is not None
    clock.advance(minutes=3)
    second = group_message("电梯里还关着人，快来人")
    reply, _ = receive(second)
    message = stored(second)
    assert reply.detail.get("follow_up") is True and reply.detail["request_id"] == started.request_id
    assert message.handling["intent"] == "report_issue" and message.handling["needs_reply"] is True
    assert db.session.scalars(select(ReplyClock)).all() == [started]   # one clock: the request's
    assert clock_for(message) is None


def test_an_unsatisfied_rating_gets_its_own_clock_even_when_it_names_a_request(place, clock, monkeypatch):
    """"不满意" reopens a request whose clock stopped long ago: the rating message needs its own."""
    community, _group = place
    from app.handlers.requests.chat import CHAT as requests_chat
    use_fakes(monkeypatch, intents={"report_issue": requests_chat.intents["report_issue"], "rate": fake_rate})
    report = group_message("5号楼楼道灯坏了好几天了")
    receive(report)
    old = clock_for(stored(report))
    staff = factories.staff(community=community, wework_userid="duty-li")
    db.session.commit()
    clock.advance(minutes=5)
    receive(group_message("收到，下午来修", sender="duty-li"))
    db.session.refresh(old)
    assert old.stopped_at is not None and old.stopped_by_staff_id == staff.id
    RATED_REQUEST["id"] = old.request_id
    clock.advance(days=2)
    rating = group_message("不满意，灯还是不亮")
    reply, _ = receive(rating)
    assert reply.handled_by == "fake.rate" and reply.detail["request_id"] == old.request_id
    fresh = clock_for(stored(rating))
    assert fresh is not None and fresh.id != old.id and fresh.stopped_at is None


def test_the_router_is_installed_by_the_app(app):
    from app.handlers.messaging import inbound
    assert inbound._handler["fn"] is conversation.handle_message


# --- the fakes the registries point at in these tests -------------------------------------------

PROGRESS: dict[str, list[str]] = {"a": [], "b": []}
CANCELLED: list[str] = []


def fake_report(ctx):
    CALLS.append(("report", ctx))
    return ctx.reply("已收到您的反映", "fake.report")


RATED_REQUEST: dict[str, int | None] = {"id": None}


def fake_rate(ctx):
    CALLS.append(("rate", ctx))
    ctx.end_flow()
    if RATED_REQUEST["id"] is not None:
        return ctx.reply("谢谢评价", "fake.rate", request_id=RATED_REQUEST["id"])
    return ctx.reply("谢谢评价", "fake.rate")


def fake_book(ctx):
    CALLS.append(("book", ctx))
    service = ctx.understanding.slots.get("service")
    if service is None:
        ctx.start_flow("book_proxy", step="item")
        return ctx.reply("请问办哪一项？", "fake.book")
    ctx.start_flow("book_proxy", step="when", service=service)
    return ctx.reply(f"{service}，什么时候来？", "fake.book")


def fake_book_flow(ctx):
    CALLS.append(("book_flow", ctx))
    slots = ctx.understanding.slots
    if ctx.state.get("step") == "item":
        ctx.start_flow("book_proxy", step="when", service=slots.get("service"))
        return ctx.reply("尊老金，什么时候来？", "fake.book_flow")
    service = ctx.state["service"]
    ctx.end_flow()
    return ctx.reply(f"已预约 {service} {slots.get('date')} {slots.get('period')}", "fake.book_flow")


def fake_signup(ctx):
    CALLS.append(("signup", ctx))
    return ctx.reply("已报名", "fake.signup")


def fake_progress_a(ctx):
    return list(PROGRESS["a"])


def fake_progress_b(ctx):
    return list(PROGRESS["b"])


def fake_cancel_nothing(ctx):
    CANCELLED.append("nothing")
    return None


def fake_cancel(ctx):
    CANCELLED.append("booking")
    return ctx.reply("已取消您的预约B-2", "fake.cancel")


def fake_services(community_id):
    return [ServiceTerm("svc-zlj", ["尊老金", "高龄津贴"]), ServiceTerm("svc-permit", ["居住证"])]


def fake_events(community_id):
    return []


def fake_describe(ctx):
    service = ctx.understanding.slots.get("service")
    if service == "svc-permit":
        CALLS.append(("describe", service))
        return "【居住证】身份证、照片"
    return None


def fake_media(ctx):
    CALLS.append(("media", ctx.inbound.dedupe_key))
    if ctx.inbound.media and ctx.inbound.media.get("after_report"):
        return ctx.reply("已将图片记入诉求", "fake.follow_up")
    return None


def fake_staff_seen(*, group_id, staff_id, at, message_id):
    CALLS.append(("staff_seen", group_id))


def fake_broken(ctx):
    raise RuntimeError("a bug in another feature")
