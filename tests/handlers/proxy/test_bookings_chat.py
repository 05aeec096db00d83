"""The booking dialogue, turn by turn, on the chat handlers (the router is exercised in test_bookings_e2e.py)."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from app.extensions import db
from app.handlers.proxy import bookings as b
from app.handlers.proxy import chat as proxy_chat
from app.handlers.proxy import desk
from app.handlers.proxy.cases import transition
from app.models.proxy import BookingStatus
from tests.handlers.proxy.support import Chat, bookings, load, local, resident, setup_community

UTC = timezone.utc
CODE = re.compile(r"预约码：?\s*([A-Z0-9]{6})")


def test_book_by_chat_materials_numbered_slots_then_a_code(app, clock):
    s = setup_community()
    chat = Chat(resident(s.community), clock)
    reply = chat.say("想预约代办尊老金", {"service": "zunlaojin"})
    assert reply.handled_by == "bookings.offer"
    text = reply.text
    assert "尊老金申领" in text and "请携带：" in text and "· 老人身份证原件及复印件" in text
    assert "家属可代为携带材料" in text
    # One slot per half-day; at 09:30 with 15 minutes' lead time the first is 10:00.
    assert "1）今天 11月17日（周二） 上午 10:00–10:30" in text
    assert "2）今天 11月17日（周二） 下午 14:00–14:30" in text
    assert "3）明天 11月18日（周三） 上午 08:30–09:00" in text
    assert chat.state["flow"] == "book_proxy" and chat.state["step"] == "slot" and len(chat.state["offers"]) == 3

    reply = chat.say("3")
    assert reply.handled_by == "bookings.confirmed"
    code = CODE.search(reply.text).group(1)
    assert "预约成功" in reply.text and "富强新村党群服务中心一楼" in reply.text
    assert "前一天晚上和开始前60分钟提醒您" in reply.text and f"取消预约 {code}" in reply.text
    assert chat.state == {}
    (booking,) = bookings()
    assert booking.code == code and booking.slot_start == local(2026, 11, 18, 8, 30).astimezone(UTC)
    assert booking.source == "chat" and booking.channel == "mp" and booking.recipient_id == chat.openid
    assert booking.idempotency_key.endswith(f"chat:{reply_message_id(booking)}")


def reply_message_id(booking) -> int:
    return int(booking.idempotency_key.rsplit(":", 1)[1])


def test_without_an_item_the_bot_asks_which_then_a_window_picks_the_first_free_slot(app, clock):
    s = setup_community()
    chat = Chat(resident(s.community), clock)
    reply = chat.say("想预约代办")
    assert reply.handled_by == "bookings.ask_item" and "1. 尊老金申领" in reply.text and "2. 最低生活保障申请" in reply.text
    reply = chat.say("高龄津贴")  # an alias
    assert reply.handled_by == "bookings.offer" and "尊老金申领" in reply.text
    reply = chat.say("周五下午", {"date": "2026-11-20", "period": "afternoon"})
    assert reply.handled_by == "bookings.confirmed"
    assert bookings()[0].slot_start == local(2026, 11, 20, 14, 0).astimezone(UTC)


def test_the_item_can_be_picked_by_number(app, clock):
    s = setup_community()
    chat = Chat(resident(s.community), clock)
    chat.say("我要预约代办")
    reply = chat.say("2")
    assert reply.handled_by == "bookings.offer" and "最低生活保障申请" in reply.text and "需本人到场办理" in reply.text


def test_an_exact_free_time_in_the_first_message_books_at_once(app, clock):
    s = setup_community()
    chat = Chat(resident(s.community), clock)
    reply = chat.say("低保申请能代办吗 明天上午9点可以吗",
                     {"service": "dibao", "date": "2026-11-18", "period": "morning", "time": "09:00"})
    assert reply.handled_by == "bookings.confirmed" and "请携带" in reply.text
    assert bookings()[0].slot_start == local(2026, 11, 18, 9, 0).astimezone(UTC)


def test_a_day_and_period_in_the_first_message_narrow_the_offer(app, clock):
    s = setup_community()
    chat = Chat(resident(s.community), clock)
    reply = chat.say("低保申请能代办吗 明天上午可以吗", {"service": "dibao", "date": "2026-11-18", "period": "morning"})
    assert reply.handled_by == "bookings.offer"
    assert "1）明天 11月18日（周三） 上午 08:30" in reply.text and "3）明天 11月18日（周三） 上午 09:30" in reply.text


def test_malformed_times_get_a_clear_answer_and_the_flow_goes_on(app, clock):
    s = setup_community()
    chat = Chat(resident(s.community), clock)
    chat.say("想预约代办尊老金", {"service": "zunlaojin"})
    reply = chat.say("明天下午八十点", {"date": "2026-11-18", "period": "afternoon", "invalid_time": "八十点"})
    assert "“八十点”不是有效的时间" in reply.text
    assert chat.state["flow"] == "book_proxy" and bookings() == []
    reply = chat.say("明天下午3点")  # no slots from the bot: our own reading
    assert reply.handled_by == "bookings.confirmed"
    assert bookings()[0].slot_start == local(2026, 11, 18, 15, 0).astimezone(UTC)


def test_past_dates_and_closed_days_are_explained_with_new_offers(app, clock):
    s = setup_community()
    chat = Chat(resident(s.community), clock)
    chat.say("想预约代办尊老金", {"service": "zunlaojin"})
    reply = chat.say("11月10日上午")
    assert "11月10日（周二）已经过去了" in reply.text and "1）" in reply.text
    reply = chat.say("周日")
    assert "11月22日（周日）代办站不开放" in reply.text
    reply = chat.say("明天中午12点")
    assert "12:00不在办公时间内" in reply.text and "08:30–11:30" in reply.text
    assert bookings() == [] and chat.state["flow"] == "book_proxy"


def test_holidays_are_explained(app, clock):
    s = setup_community()
    clock.set(local(2026, 9, 28, 9, 0))
    chat = Chat(resident(s.community), clock)
    chat.say("想预约代办尊老金", {"service": "zunlaojin"})
    reply = chat.say("10月2日上午")
    assert "国庆节假期，代办站不开放" in reply.text


def test_a_slot_that_just_filled_up_gets_new_offers(app, clock):
    s = setup_community(capacity=1)
    chat = Chat(resident(s.community), clock)
    chat.say("想预约代办尊老金", {"service": "zunlaojin"})
    first_offer = chat.state["offers"][0]
    rival = resident(s.community, name="李四")
    taken = datetime.fromisoformat(first_offer["start"])
    b.book(resident=rival, item=s.item(), station=s.station, slot_start=taken, idempotency_key="rival")
    reply = chat.say("1")
    assert reply.handled_by == "bookings.retry" and "刚刚被约满了" in reply.text
    assert chat.state["offers"][0] != first_offer
    reply = chat.say("1")
    assert reply.handled_by == "bookings.confirmed"
    assert load(s.station.id, taken) == 1 and len(bookings()) == 2


def test_nonsense_in_the_flow_is_asked_again_then_given_up(app, clock):
    s = setup_community()
    chat = Chat(resident(s.community), clock)
    chat.say("想预约代办尊老金", {"service": "zunlaojin"})
    assert "没听明白" in chat.say("随便吧").text
    assert "请回复1到3之间的序号" in chat.say("7").text
    reply = chat.say("嗯嗯")
    assert reply.handled_by == "bookings.gave_up" and chat.state == {}


def test_an_existing_booking_is_pointed_out_instead_of_a_second_one(app, clock):
    s = setup_community()
    chat = Chat(resident(s.community), clock)
    chat.say("想预约代办尊老金", {"service": "zunlaojin"})
    chat.say("1")
    reply = chat.say("我想预约尊老金代办", {"service": "zunlaojin"})
    assert reply.handled_by == "bookings.already" and "改到周五下午" in reply.text
    assert len(bookings()) == 1


def test_cancel_by_date_by_code_and_only_ones_own(app, clock):
    s = setup_community()
    me = resident(s.community)
    chat = Chat(me, clock)
    mine = b.book(resident=me, item=s.item(), station=s.station, slot_start=local(2026, 11, 18, 9, 0),
                  idempotency_key="a").booking
    other = resident(s.community, name="李四")
    theirs = b.book(resident=other, item=s.item(), station=s.station, slot_start=local(2026, 11, 18, 9, 0),
                    idempotency_key="b").booking
    reply = chat.say(f"取消预约 {theirs.code}", intent="cancel")
    assert reply.handled_by == "bookings.not_found" and theirs.code in reply.text
    db.session.refresh(theirs)
    assert theirs.status == "confirmed"
    reply = chat.say("后天的预约取消吧", {"date": "2026-11-19"}, intent="cancel")
    assert "您后天 11月19日（周四）没有代办预约" in reply.text
    reply = chat.say("取消", intent="cancel")
    assert reply.handled_by == "bookings.cancel_confirm" and mine.code in reply.text
    db.session.refresh(mine)
    assert mine.status == "confirmed"
    reply = chat.say("明天的预约取消吧", {"date": "2026-11-18"}, intent="cancel")
    assert reply.handled_by == "bookings.cancelled" and mine.code in reply.text
    db.session.refresh(mine)
    assert mine.status == BookingStatus.CANCELLED.value and load(s.station.id, mine.slot_start) == 1
    reply = chat.say(f"取消预约 {mine.code.lower()}", intent="cancel")
    assert reply.handled_by == "bookings.cancel_noop" and "已取消" in reply.text


def test_cancel_returns_none_when_nothing_of_ours_matches(app, clock):
    s = setup_community()
    chat = Chat(resident(s.community), clock)
    assert chat.say("明天的预约取消吧", {"date": "2026-11-18"}, intent="cancel") is None
    b.book(resident=chat.resident, item=s.item(), station=s.station, slot_start=local(2026, 11, 18, 9, 0),
           idempotency_key="a")
    assert chat.say("周六义诊的报名取消", intent="cancel") is None  # the events handler's


def test_reschedule_to_friday_offers_friday_then_moves_keeping_the_code(app, clock):
    s = setup_community()
    me = resident(s.community)
    chat = Chat(me, clock)
    booking = b.book(resident=me, item=s.item(), station=s.station, slot_start=local(2026, 11, 18, 9, 0),
                     idempotency_key="a").booking
    reply = chat.say("预约改到周五", {"date": "2026-11-20"})
    assert reply.handled_by == "bookings.reschedule_offer"
    assert "原定明天 11月18日（周三） 上午 09:00" in reply.text and "1）11月20日（周五） 上午 08:30" in reply.text
    reply = chat.say("2")
    assert reply.handled_by == "bookings.rescheduled" and "改约成功" in reply.text and booking.code in reply.text
    db.session.refresh(booking)
    assert booking.slot_start == local(2026, 11, 20, 9, 0).astimezone(UTC) and booking.reschedule_count == 1
    assert load(s.station.id, local(2026, 11, 18, 9, 0)) == 0
    # An exact time moves it at once.
    reply = chat.say(f"{booking.code} 改到下周一下午3点", intent="cancel")
    assert reply.handled_by == "bookings.rescheduled"
    db.session.refresh(booking)
    assert booking.slot_start == local(2026, 11, 23, 15, 0).astimezone(UTC)


def test_progress_lines_show_bookings_and_cases(app, clock):
    s = setup_community()
    me = resident(s.community)
    chat = Chat(me, clock)
    booking = b.book(resident=me, item=s.item(), station=s.station, slot_start=local(2026, 11, 17, 10, 0),
                     idempotency_key="a").booking
    b.book(resident=me, item=s.item("dibao"), station=s.station, slot_start=local(2026, 11, 19, 9, 0),
           idempotency_key="b")
    from app.handlers.proxy.chat_changes import progress_lines
    lines = progress_lines(chat.ctx("我的预约", intent="query_progress"))
    assert len(lines) == 2 and booking.code in lines[0] and "尊老金申领" in lines[0]
    case = desk.complete(booking, staff=s.duty)
    transition(case, "forwarded", staff=s.duty, note="已报区民政局")
    lines = progress_lines(chat.ctx("我的尊老金办到哪了", {"service": "zunlaojin"}, intent="query_progress"))
    assert lines == [f"尊老金申领（编号{case.code}）：已转交区民政局（街道社会事务办初审）审批；负责人：李建国，"
                     f"限12月1日前办结。"]
    assert progress_lines(chat.ctx("我的事办到哪了", intent="query_progress"))[0].startswith("代办预约")


def test_staff_and_unlinked_residents_get_a_clear_answer(app, clock):
    s = setup_community()
    chat = Chat(resident(s.community), clock)
    ctx = chat.ctx("想预约代办尊老金", {"service": "zunlaojin"})
    ctx.resident, ctx.staff = None, s.duty
    assert proxy_chat.handle_book(ctx).handled_by == "bookings.staff"
    setup_community(name="第二个社区")  # now two communities have stations
    lonely = Chat(resident(s.community), clock, community_id=None)
    lonely.resident.community_id = None
    db.session.commit()
    ctx = lonely.ctx("想预约代办尊老金", {"service": "zunlaojin"})
    ctx.community_id = None
    assert proxy_chat.handle_book(ctx).handled_by == "bookings.no_community"
