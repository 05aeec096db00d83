"""Intents, the group speaking policy, needs_reply, flows and bad input."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.bot import CATEGORIES, INTENTS, EventTerm, ServiceTerm, Vocabulary


@pytest.mark.parametrize("text,intent,category", [
    ("3栋楼道灯坏了好几天了", "report_issue", "repair"),
    ("楼下又有人飞线充电", "report_issue", "ebike"),
    ("隔壁装修天天早上七点就开始", "report_issue", "noise"),
    ("想预约代办尊老金", "book_proxy", None),
    ("低保申请能代办吗 明天上午可以吗", "book_proxy", None),
    ("周六义诊我报个名", "event_signup", None),
    ("四点半课堂还能报吗", "event_signup", None),
    ("我上周报的漏水修了没有", "query_progress", None),
    ("明天的预约取消吧", "cancel", None),
    ("办居住证要带什么材料", "ask_info", None),
    ("服务中心几点下班", "ask_info", None),
    ("满意", "rate", None),
    ("修得不行，不满意", "rate", None),
    ("转人工", "human", None),
    ("找网格员", "human", None),
    ("谢谢", "chitchat", None),
    ("早上好", "chitchat", None),
    ("今天菜市场的西红柿好便宜", "none", None),
    ("谁家的快递放错了", "none", None),
])
def test_the_issue_examples(understand, text, intent, category):
    u = understand(text, chat_type="group")
    assert (u.intent, u.category) == (intent, category)
    assert 0.0 <= u.confidence <= 1.0


def test_traditional_characters_and_typos_are_understood(understand):
    assert understand("電梯壞了三天了").intent == "report_issue"
    u = understand("楼到灯坏拉")
    assert (u.intent, u.category) == ("report_issue", "repair")
    assert understand("遵老金怎么预约代办").slots.get("service") == "zunlaojin"


class TestGroupPolicy:
    def test_chatter_in_a_group_gets_no_answer(self, understand):
        for text in ("今天菜市场的西红柿好便宜", "谢谢", "早上好", "哈哈哈", "👍"):
            u = understand(text, chat_type="group")
            assert not u.should_reply and not u.needs_reply, text

    def test_reports_and_questions_for_the_service_are_answered_in_a_group(self, understand):
        for text in ("3栋楼道灯坏了", "服务中心几点下班", "想预约代办尊老金", "转人工"):
            assert understand(text, chat_type="group").should_reply, text

    def test_mentioning_the_bot_addresses_it(self, understand):
        u = understand("@小邻 今天天气不错", chat_type="group")
        assert u.mentioned and u.should_reply and u.intent == "none"
        assert understand("今天天气不错", chat_type="group", mentioned=True).should_reply

    def test_a_one_to_one_chat_always_gets_an_answer(self, understand):
        for text in ("今天菜市场的西红柿好便宜", "谢谢", "", "🙂"):
            assert understand(text, chat_type="private").should_reply, text

    def test_unclear_message_goes_to_a_person_only_when_addressed(self, understand):
        private = understand("我想问个事", chat_type="private")
        group = understand("我想问个事", chat_type="group")
        assert (private.intent, private.needs_reply) == ("human", True)
        assert (group.intent, group.needs_reply, group.should_reply) == ("none", False, False)


class TestNeedsReply:
    def test_reports_and_human_always(self, understand):
        assert understand("电梯坏了").needs_reply
        assert understand("转人工").needs_reply

    def test_questions_only_when_the_bot_has_no_answer(self, understand):
        answered = understand("服务中心几点下班")
        assert answered.intent == "ask_info" and answered.answer and not answered.needs_reply
        unanswered = understand("小区什么时候加装电梯")
        assert unanswered.intent == "ask_info" and unanswered.answer is None and unanswered.needs_reply

    def test_ratings_only_when_unsatisfied(self, understand):
        assert not understand("非常满意").needs_reply
        u = understand("不满意，根本没修好")
        assert u.slots["rating"] == "unsatisfied" and u.needs_reply

    def test_never_for_what_the_bot_completes(self, understand):
        for text in ("想预约代办尊老金", "周六义诊我报个名", "取消预约", "谢谢", "今天好冷啊"):
            assert not understand(text).needs_reply, text


class TestFlows:
    def test_a_short_answer_continues_the_booking_flow(self, understand):
        u = understand("尊老金", state={"flow": "book_proxy", "step": "item"})
        assert (u.intent, u.flow_continues, u.slots.get("service")) == ("book_proxy", True, "zunlaojin")
        u = understand("明天上午", state={"flow": "book_proxy"})
        assert u.flow_continues and u.slots["date"] == "2026-11-18" and u.slots["period"] == "morning"

    def test_never_mind_leaves_any_flow(self, understand):
        for text in ("算了", "取消", "不办了"):
            u = understand(text, state={"flow": "book_proxy"})
            assert u.intent == "cancel" and not u.flow_continues, text

    def test_a_new_report_interrupts_a_flow(self, understand):
        u = understand("电梯坏了，困人了", state={"flow": "book_proxy"})
        assert u.intent == "report_issue" and not u.flow_continues and u.needs_reply

    def test_the_rating_flow_takes_short_answers(self, understand):
        assert understand("还行", state={"flow": "rate"}).slots["rating"] == "basically"
        u = understand("不行，还在漏", state={"flow": "rate"})
        assert u.slots["rating"] == "unsatisfied" and u.needs_reply

    def test_a_flow_the_bot_does_not_know_still_continues(self, understand):
        u = understand("第二个", state={"flow": "somebody_elses_flow"})
        assert u.flow_continues


class TestBadInput:
    @pytest.mark.parametrize("text", ["", None, "   ", "\x00\x01\x02", "\u200b\u200b", "😀😀😀", "[微笑][强]",
                                      "x" * 5000, "电梯坏了" * 1250, "Hello 电梯 broken 壊れた エレベーター",
                                      "\ud800", "?？!!。。", "12345678901234567890"])
    def test_always_a_valid_answer(self, understand, text):
        for chat_type in ("group", "private"):
            u = understand(text, chat_type=chat_type)
            assert u.intent in INTENTS and 0 <= u.confidence <= 1
            assert u.category is None or u.category in CATEGORIES
            d = u.to_dict()
            assert set(d) == {"text", "intent", "confidence", "category", "needs_reply", "slots"}

    def test_empty_and_emoji_only(self, understand):
        assert understand("").intent == "none"
        assert understand("👍👍").intent == "chitchat"
        assert understand("[强][强]").intent == "chitchat"

    def test_control_characters_are_ignored(self, understand):
        u = understand("\x00电梯\u200b坏了\x07", chat_type="group")
        assert u.intent == "report_issue"

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(text=st.text(max_size=300), private=st.booleans(), flow=st.sampled_from([None, "book_proxy", "rate"]))
    def test_fuzz(self, bot, text, private, flow):
        u = bot.understand(text, chat_type="private" if private else "group",
                           state={"flow": flow} if flow else None)
        assert u.intent in INTENTS
        assert isinstance(u.to_dict()["slots"], dict)


def test_caller_vocabulary_names_services_and_events(understand):
    from datetime import datetime, timezone
    vocab = Vocabulary(
        services=[ServiceTerm("svc-1", ["高龄津贴申领", "尊老金"])],
        events=[EventTerm("event-7", ["义诊"], "activity", datetime(2026, 11, 21, 1, 0, tzinfo=timezone.utc)),
                EventTerm("event-8", ["义诊"], "activity", datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc))])
    assert understand("想预约代办尊老金", vocab=vocab).slots["service"] == "svc-1"
    assert understand("尊老经怎么预约代办", vocab=vocab).slots["service"] == "svc-1"   # one wrong character
    assert understand("11月28号义诊报个名", vocab=vocab).slots["event"] == "event-8"  # the one on that day
    assert understand("周六义诊报个名", vocab=vocab).slots["event"] == "event-7"


def test_a_booking_code_is_not_read_as_words():
    """Codes such as TVXZ47 or WWWE6T once looked like ads ("vx", "www") and went to a person."""
    from datetime import datetime, timezone

    from app.bot import get_bot
    now = datetime(2026, 11, 17, 1, 30, tzinfo=timezone.utc)
    for code in ("TVXZ47", "WWWE6T", "TWVXCV", "d7k3q9"):
        assert get_bot().understand(f"取消预约 {code}", now=now, chat_type="private").intent == "cancel", code
