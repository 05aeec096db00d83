"""The third round's structures: broken promises, rescheduling against cancelling, requests for
an action, nuisances at night, fees, abandoned cars, the local clinic, possible reports, emergencies
and requests filed through a form."""
from __future__ import annotations

import pytest

from app.bot import CATEGORIES, FormClassification

# --- a follow-up that complains a promised date passed --------------------------------------------

@pytest.mark.parametrize("text,chat_type", [
    ("物业说两天就来修 这都一个星期过去了 水管还在滴", "group"),
    ("上周五说周一前把门禁换好 今天都周四了", "group"),
    ("答应我们月底前清走的建筑垃圾 现在还堆在那", "group"),
    ("来电人称物业承诺三日内修复楼道灯，现已逾期仍未处理。", "private"),
])
def test_a_broken_promise_is_a_follow_up_that_needs_a_person(understand, text, chat_type):
    u = understand(text, chat_type=chat_type)
    assert u.intent == "query_progress" and u.needs_reply and u.should_reply


def test_a_plain_follow_up_is_answered_from_the_records(understand):
    u = understand("我上周报的楼道灯修了没有", chat_type="group")
    assert u.intent == "query_progress" and not u.needs_reply   # the router starts the clock if nothing is found


def test_hearing_about_a_plan_is_no_promise(understand):
    assert understand("听说明天下午来修电梯", chat_type="group").intent != "query_progress"


# --- moving a booking ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["那天我来不了了 能不能改到下周二", "预约的时间往后挪一天行吗", "周三的代办我去不成了 换个日子吧"])
def test_moving_a_booking_is_not_cancelling_it(understand, text):
    assert understand(text, chat_type="group").intent == "book_proxy"


def test_an_explicit_cancellation_still_cancels(understand):
    assert understand("本来想改时间的 算了 直接取消吧", chat_type="group").intent == "cancel"


# --- asking for an action ("能不能统一…一下"), things no failure word describes ---------------------

@pytest.mark.parametrize("text,category", [
    ("能不能统一喷一下药 楼道里的蟑螂太多了", "environment"),
    ("麻烦找人把地库那几辆破车拖走", "parking"),
    ("希望物业组织一次灭鼠 垃圾房那边老鼠乱窜", "environment"),
])
def test_a_request_for_an_action_is_a_report(understand, text, category):
    u = understand(text, chat_type="group")
    assert (u.intent, u.category) == ("report_issue", category) and u.needs_reply


def test_asking_someone_to_do_the_work_is_not_asking_for_a_person(understand):
    assert understand("能不能找人来修一下单元门", chat_type="group").intent == "report_issue"
    assert understand("找人工", chat_type="group").intent == "human"


@pytest.mark.parametrize("text", ["楼上每天半夜一点还在剁肉", "隔壁天天打麻将闹到凌晨", "楼下小饭馆的音箱从早放到晚"])
def test_a_nuisance_at_night_is_a_noise_report(understand, text):
    u = understand(text, chat_type="group")
    assert (u.intent, u.category) == ("report_issue", "noise")


@pytest.mark.parametrize("text", ["临时停车一小时收十五块 太黑了吧", "物业换个灯泡要收三十块上门费 凭啥"])
def test_a_charge_complained_about_is_a_property_report(understand, text):
    u = understand(text, chat_type="group")
    assert (u.intent, u.category) == ("report_issue", "property")


def test_an_abandoned_car_is_a_parking_report(understand):
    u = understand("南门那辆破车停了快一年了 轮胎都瘪了 能不能拖走", chat_type="group")
    assert (u.intent, u.category) == ("report_issue", "parking")


@pytest.mark.parametrize("text", ["谁知道附近哪里修冰箱靠谱", "谁家的钥匙落在电梯里了", "前面那条路在修 大家绕一下"])
def test_talk_between_neighbours_stays_silent(understand, text):
    u = understand(text, chat_type="group")
    assert u.intent in ("none", "chitchat") and not u.should_reply and not u.needs_reply


# --- the local clinic ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["社区医院的电话多少", "卫生服务站周六开门吗", "在哪打疫苗 社区卫生服务中心在哪"])
def test_the_clinic_is_answered_from_the_faq(understand, text):
    u = understand(text, chat_type="group")
    assert u.intent == "ask_info" and u.faq_key == "clinic" and not u.needs_reply


def test_the_office_phone_is_still_the_office(understand):
    assert understand("居委会电话多少", chat_type="group").faq_key == "office_phone"


# --- when unsure, do not go silent -----------------------------------------------------------------

@pytest.mark.parametrize("text", ["三号楼那边黑灯瞎火的", "停谁停了"])
def test_a_possible_report_is_marked_for_staff_not_answered(understand, text):
    # No cue word at all, but the characters read like a report (an idiom for no light; 停谁,
    # a slip of 停水): no answer in the group, a possible request for the duty inbox.
    u = understand(text, chat_type="group")
    assert u.intent == "none" and not u.should_reply and not u.needs_reply
    assert u.maybe_report and u.report_likelihood >= 0.4


def test_chatter_is_not_a_possible_report(understand):
    for text in ("今天超市鸡蛋打折", "谢谢大家", "早上好"):
        u = understand(text, chat_type="group")
        assert not u.maybe_report, text


def test_only_silent_group_messages_are_possible_reports(understand):
    private = understand("三号楼那边黑灯瞎火的", chat_type="private")
    assert private.intent == "human" and not private.maybe_report   # 1:1: a person answers anyway
    report = understand("3栋楼道灯坏了", chat_type="group")
    assert not report.maybe_report and report.report_likelihood == report.confidence


def test_unsure_between_two_service_intents_is_not_silence(understand):
    u = understand("社区有人吗？急事", chat_type="group")
    assert u.intent == "human" and u.needs_reply


# --- emergencies and forms --------------------------------------------------------------------------

def test_an_emergency_is_marked(understand):
    assert understand("5号楼电梯困人了 快来人", chat_type="group").emergency
    assert not understand("5号楼电梯按钮不灵", chat_type="group").emergency


@pytest.mark.parametrize("text,category,building,urgency", [
    ("7栋2单元楼道灯坏了一个星期", "repair", "7", None),
    ("12号楼地下室一股煤气味", "safety", "12", "emergency"),
    ("物业费涨了服务却越来越差", "property", None, None),
    ("楼上天天半夜蹦迪", "noise", None, None),
    ("希望社区管管小区门口的流动摊贩", "other", None, None),
])
def test_a_form_request_is_classified_like_a_chat_report(bot, text, category, building, urgency):
    form = bot.classify_form(text)
    assert isinstance(form, FormClassification)
    assert (form.category, form.building, form.urgency) == (category, building, urgency)
    assert 0.0 < form.confidence <= 1.0 and form.evidence


@pytest.mark.parametrize("text", ["你好", "谢谢", "今天天气不错", "3号楼", "你好，3号楼2单元", "嗯嗯"])
def test_a_form_that_names_no_problem_gets_no_category_reading(bot, text):
    # The n-grams alone once read "你好" as environment and "今天天气不错" as utilities.
    form = bot.classify_form(text)
    assert (form.category, form.confidence, form.evidence) == ("other", 0.0, False)


def test_the_place_is_read_even_without_a_problem(bot):
    form = bot.classify_form("3号楼2单元")
    assert (form.building, form.unit, form.evidence) == ("3", "2", False)


@pytest.mark.parametrize("text", [None, "", "   ", "👍", "x" * 5000, "\x00\ud800"])
def test_a_form_never_fails(bot, text):
    form = bot.classify_form(text)
    assert form.category in CATEGORIES
