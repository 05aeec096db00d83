"""Slots: where (building/unit/room), when (relative to the message time), phone, rating."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.bot.numerals import to_int
from app.bot.slots import location, phone
from app.bot.timeparse import parse

NOW = datetime(2026, 11, 17, 1, 30, tzinfo=timezone.utc)   # Tuesday 09:30 in Shanghai


@pytest.mark.parametrize("text,expected", [
    ("3栋2单元501", {"building": "3", "unit": "2", "room": "501"}),
    ("三号楼", {"building": "3"}),
    ("12幢", {"building": "12"}),
    ("3号楼2单元", {"building": "3", "unit": "2"}),
    ("5-2-301", {"building": "5", "unit": "2", "room": "301"}),
    ("第十二栋楼下", {"building": "12"}),
    ("3号楼五零一的水管", {"building": "3", "room": "501"}),
    ("二单元的门禁", {"unit": "2"}),
    ("501室漏水", {"room": "501"}),
    ("3楼的灯不亮", {"floor": "3"}),
    ("B座电梯", {"building": "B"}),
    ("2026-11-25", {}),
])
def test_location(text, expected):
    assert location(text.lower()) == expected


@pytest.mark.parametrize("text,expected", [
    ("明天上午", {"date": "2026-11-18", "period": "morning"}),
    ("后天", {"date": "2026-11-19"}),
    ("下周二下午三点", {"date": "2026-11-24", "time": "15:00", "period": "afternoon",
                    "datetime": "2026-11-24T15:00:00+08:00"}),
    ("周六", {"date": "2026-11-21"}),
    ("11月25号", {"date": "2026-11-25"}),
    ("今晚7点半", {"date": "2026-11-17", "time": "19:30", "period": "evening",
                "datetime": "2026-11-17T19:30:00+08:00"}),
    ("三天后", {"date": "2026-11-20"}),
    ("1月5号", {"date": "2027-01-05"}),
    ("25号", {"date": "2026-11-25"}),
    ("这周一", {"date": "2026-11-16"}),
    ("今天下午两点一刻", {"date": "2026-11-17", "time": "14:15", "period": "afternoon",
                     "datetime": "2026-11-17T14:15:00+08:00"}),
    ("晚上12点", {"date": "2026-11-18", "time": "00:00", "period": "evening",
                "datetime": "2026-11-18T00:00:00+08:00"}),
    ("快一点", {}),
    ("有一点臭", {}),
    ("3号楼", {}),
    ("几点下班", {}),
])
def test_dates_and_times(text, expected):
    assert parse(text, NOW) == expected


@pytest.mark.parametrize("text", ["明天下午八十点", "13月5号", "11月31号", "25点", "上午十五点", "下午3:75"])
def test_malformed_times_are_flagged_not_raised(text):
    slots = parse(text, NOW)
    assert slots.get("invalid_time")
    assert "datetime" not in slots


def test_times_follow_the_time_zone():
    late = datetime(2026, 11, 17, 17, 0, tzinfo=timezone.utc)   # already the 18th in Shanghai
    assert parse("明天", late)["date"] == "2026-11-19"
    assert parse("明天", late, tz="UTC")["date"] == "2026-11-18"
    assert parse("明天", late, tz="Not/AZone")["date"] == "2026-11-19"


def test_phone_numbers():
    assert phone("电话13812345678") == "13812345678"
    assert phone("打138-1234-5678找我") == "13812345678"
    assert phone("座机0519-88001234") == "051988001234"
    assert phone("3栋2单元501") is None


def test_chinese_numerals():
    assert [to_int(t) for t in ("十二", "一百零一", "五零一", "两", "二十三", "abc")] == [12, 101, 501, 2, 23, None]


def test_slots_in_understanding(understand):
    u = understand("5-2-301电话13912345678，明天下午八十点来办尊老金")
    assert u.slots["building"] == "5" and u.slots["room"] == "301" and u.slots["phone"] == "13912345678"
    assert u.slots["invalid_time"] and u.slots["service"] == "zunlaojin"


@pytest.mark.parametrize("text,rating", [("满意", "satisfied"), ("基本满意吧", "basically"),
                                         ("不满意，根本没修好", "unsatisfied"), ("五星好评", "satisfied"),
                                         ("差评", "unsatisfied")])
def test_ratings(understand, text, rating):
    u = understand(text)
    assert u.intent == "rate" and u.slots["rating"] == rating


def test_a_bit_earlier_is_not_one_oclock():
    from datetime import datetime, timezone

    from app.bot.timeparse import parse
    now = datetime(2026, 11, 17, 1, 30, tzinfo=timezone.utc)
    for text in ("能早一点吗", "晚一点再说", "快一点好吗"):
        assert "time" not in parse(text, now), text
    assert parse("明天下午一点", now)["time"] == "13:00"
