"""Dates and times relative to the message time: 明天上午, 后天, 下周二下午三点, 周六,
11月25号, 今晚7点半, 3天后. All in the community's time zone (Asia/Shanghai).

Malformed expressions ("明天下午八十点", "13月5号") never raise: they set the
``invalid_time`` slot (the phrase as written, e.g. "八十点") so the caller can answer with a clear error.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.bot.numerals import NUMERAL_CHARS, to_int

N = rf"(?:\d{{1,4}}|[{NUMERAL_CHARS}]{{1,5}})"

DAY_WORDS = {"今天": 0, "今日": 0, "今儿": 0, "今早": 0, "今晚": 0, "今夜": 0, "明天": 1, "明日": 1, "明儿": 1,
             "明早": 1, "明晚": 1, "后天": 2, "大后天": 3, "昨天": -1, "昨日": -1, "昨晚": -1, "前天": -2}
DAY_PERIOD = {"今早": "morning", "明早": "morning", "今晚": "evening", "明晚": "evening", "今夜": "evening",
              "昨晚": "evening"}
PERIODS = {"凌晨": "morning", "清早": "morning", "早晨": "morning", "早上": "morning", "上午": "morning",
           "早": "morning", "中午": "afternoon", "午后": "afternoon", "下午": "afternoon", "傍晚": "evening",
           "晚上": "evening", "晚间": "evening", "夜里": "evening", "夜间": "evening", "半夜": "evening",
           "晚": "evening"}
WEEKDAYS = {"一": 0, "1": 0, "二": 1, "2": 1, "三": 2, "3": 2, "四": 3, "4": 3, "五": 4, "5": 4, "六": 5,
            "6": 5, "日": 6, "天": 6, "七": 6, "7": 6, "末": 5}

RE_DAY = re.compile("|".join(sorted(DAY_WORDS, key=len, reverse=True)))
RE_WEEK = re.compile(r"(下下个?|下个?|这个?|本|上个?)?(?:周|星期|礼拜)([一二三四五六日天1-7末])")
RE_YMD = re.compile(r"(?<!\d)(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?")
RE_MD = re.compile(rf"(?:(下个?月|这个?月|本月)|({N})月)({N})[日号](?!楼|院|线|床|门|机)")
RE_MD_BARE = re.compile(rf"(?<![\d月])(\d{{1,2}}|[{NUMERAL_CHARS}]{{1,3}})月(\d{{1,2}}|[{NUMERAL_CHARS}]{{1,3}})(?![\d日号月{NUMERAL_CHARS}])")
RE_DAY_ONLY = re.compile(rf"(?<![\d月{NUMERAL_CHARS}])(\d{{1,2}}|[{NUMERAL_CHARS}]{{1,3}})[号日](?!楼|院|线|床|门|机|单元|栋)")
RE_AFTER = re.compile(rf"({N})(?:天|日)(?:以后|之后|后)")
# 早/晚 alone are periods ("明早", "今晚"), but not in 早一点 / 晚点儿 / 早点 (earlier, later).
RE_PERIOD = re.compile("|".join(p if len(p) > 1 else f"{p}(?![一点些])" for p in sorted(PERIODS, key=len, reverse=True)))
RE_CLOCK = re.compile(r"(?<!\d)([0-2]?\d)[:：]([0-5]\d)(?!\d)")
RE_CLOCK_BAD = re.compile(r"(?<!\d)(\d{1,3})[:：](\d{2,3})(?!\d)")
RE_HOUR = re.compile(rf"({N})(?:点钟|点|时)(半|一刻|三刻|过?({N})分?)?")
COMPARATIVES = set("早晚快慢多少大小好有差")
# A Chinese-numeral hour needs context: "一点" alone is usually "a bit" (快一点).
HOUR_CONTEXT_AFTER = re.compile(r"(?:钟|半|一刻|三刻|\d|[零一二三四五六七八九十]+分|左右|前|后|以前|以后|之前|之后|到|至|开始|结束|"
                                r"上班|下班|关门|开门|来|去|过来|集合|出发|可以|行|能|有空)")


# A message without any of these has no date or time: one search instead of all the regexes.
TIME_HINT = re.compile(rf"[今明昨]|后天|前天|周[一二三四五六日天末1-7]|星期|礼拜|\d|[{NUMERAL_CHARS}](?:点|号|日|月|天|时)|"
                       r"上午|下午|中午|晚上|早上|早晨|凌晨|傍晚|半夜|夜里|夜间|清早|午后|晚间")


def _valid_date(y: int, m: int, d: int) -> bool:
    return 1 <= m <= 12 and 1 <= d <= calendar.monthrange(y, m)[1]


def parse(text: str, now: datetime, tz: str = "Asia/Shanghai") -> dict:
    """Find a date and time in ``text``; returns slot entries (date, time, period, datetime, invalid_time)."""
    slots: dict = {}
    try:
        zone = ZoneInfo(tz)
    except Exception:  # noqa: BLE001 - an unknown zone falls back to the service's zone
        zone = ZoneInfo("Asia/Shanghai")
    local_now = now.astimezone(zone) if now.tzinfo else now.replace(tzinfo=zone)
    today = local_now.date()
    day: date | None = None
    invalid: str | None = None   # the phrase that is not a real date or time

    # Each search below runs only when the text has a character every match of it needs
    # (月 for a month, 号/日 for a day ...): most messages name no date, and the search would
    # find nothing.
    m = RE_YMD.search(text) if "年" in text or "-" in text or "/" in text or "." in text else None
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if _valid_date(y, mo, d):
            day = date(y, mo, d)
        else:
            invalid = m.group(0)
    if day is None and not invalid:
        m = (RE_MD.search(text) or RE_MD_BARE.search(text)) if "月" in text else None
        if m:
            if m.re is RE_MD and m.group(1):
                base_month = today.month + (1 if m.group(1).startswith("下") else 0)
                y, mo = today.year + (base_month - 1) // 12, (base_month - 1) % 12 + 1
                d = to_int(m.group(3))
            elif m.re is RE_MD:
                mo, d, y = to_int(m.group(2)), to_int(m.group(3)), today.year
            else:
                mo, d, y = to_int(m.group(1)), to_int(m.group(2)), today.year
            if mo is None or d is None or not _valid_date(y, mo, d):
                invalid = m.group(0)
            else:
                day = date(y, mo, d)
                if m.re is not RE_MD or not m.group(1):
                    if day < today - timedelta(days=31):   # "1月5号" said in November: next year
                        day = date(y + 1, mo, d) if _valid_date(y + 1, mo, d) else day
    if day is None and not invalid:
        m = RE_DAY.search(text)
        if m:
            day = today + timedelta(days=DAY_WORDS[m.group()])
            if m.group() in DAY_PERIOD:
                slots["period"] = DAY_PERIOD[m.group()]
    if day is None and not invalid:
        m = RE_WEEK.search(text) if "周" in text or "期" in text or "拜" in text else None
        if m:
            day = _weekday(today, m.group(1) or "", WEEKDAYS[m.group(2)])
    if day is None and not invalid:
        m = RE_AFTER.search(text) if "后" in text else None
        if m:
            n = to_int(m.group(1))
            if n is not None and n <= 366:
                day = today + timedelta(days=n)
    if day is None and not invalid:
        m = RE_DAY_ONLY.search(text) if "号" in text or "日" in text else None
        if m:
            d = to_int(m.group(1))
            if d is None or not 1 <= d <= 31:
                invalid = m.group(0)
            else:
                y, mo = today.year, today.month
                if d < today.day:       # "25号" after the 25th: next month
                    mo += 1
                    if mo > 12:
                        y, mo = y + 1, 1
                if _valid_date(y, mo, d):
                    day = date(y, mo, d)
                else:
                    invalid = m.group(0)

    period = slots.get("period")
    pm = RE_PERIOD.search(text)
    if pm:
        period = PERIODS[pm.group()]
        slots["period"] = period
    hour = minute = None
    said = ""   # the time as written, quoted back when it is impossible
    colon = ":" in text or "：" in text
    cm = RE_CLOCK.search(text) if colon else None
    bad_clock = None if cm or not colon else RE_CLOCK_BAD.search(text)
    if cm:
        hour, minute, said = int(cm.group(1)), int(cm.group(2)), cm.group(0)
    elif bad_clock and (day or period):
        invalid = bad_clock.group(0)
    elif "点" in text or "时" in text:
        for hm in RE_HOUR.finditer(text):
            raw = hm.group(1)
            if raw in ("几", "多少"):
                continue
            if not raw.isascii():
                # 早一点 / 晚一点 / 快一点: "a bit earlier/later/faster", never 1 o'clock.
                if raw in ("一", "两") and not hm.group(2) and text[hm.start() - 1:hm.start()] in COMPARATIVES:
                    continue
                before = text[max(0, hm.start() - 4):hm.start()]
                after = text[hm.end():hm.end() + 3]
                has_context = (pm is not None or day is not None or hm.group(2)
                               or HOUR_CONTEXT_AFTER.match(after) or RE_DAY.search(before))
                if not has_context and raw in ("一", "两", "二", "幺"):
                    continue
                if raw == "一" and not hm.group(2) and pm is None and day is None and after[:1] in ("儿", "点"):
                    continue
            value = to_int(raw)
            if value is None:
                continue
            hour, said = value, hm.group(0).strip()
            extra = hm.group(2) or ""
            if extra == "半":
                minute = 30
            elif extra == "一刻":
                minute = 15
            elif extra == "三刻":
                minute = 45
            elif hm.group(3):
                minute = to_int(hm.group(3))
            else:
                minute = 0
            break
    if hour is not None:
        if minute is None or minute >= 60 or hour > 24:
            invalid = said
        else:
            raw_period = pm.group() if pm else None
            if period in ("afternoon", "evening") and hour < 12 and raw_period != "凌晨":
                if not (raw_period == "中午" and hour >= 11):
                    hour += 12
            elif period == "evening" and hour == 12:
                hour = 24                      # 晚上12点 is midnight
            elif period == "morning" and hour > 12:
                invalid = said                 # 上午十五点
            elif period is None and 1 <= hour <= 6:
                hour += 12                     # a bare "三点" for an appointment means 15:00
            if hour == 24 and minute == 0:
                hour = 0
                day = (day or today) + timedelta(days=1)
            if hour >= 24:
                invalid = said
            elif not invalid:
                slots["time"] = f"{hour:02d}:{minute:02d}"
                if period is None:
                    slots["period"] = "morning" if hour < 12 else ("afternoon" if hour < 18 else "evening")
    if day is not None:
        slots["date"] = day.isoformat()
        if "time" in slots:
            hh, mm = (int(x) for x in slots["time"].split(":"))
            slots["datetime"] = datetime.combine(day, time(hh, mm), tzinfo=zone).isoformat()
    if invalid:
        slots["invalid_time"] = invalid
        slots.pop("datetime", None)
    return slots


def _weekday(today: date, prefix: str, weekday: int) -> date:
    monday = today - timedelta(days=today.weekday())
    if prefix.startswith("下下"):
        return monday + timedelta(days=14 + weekday)
    if prefix.startswith("下"):
        return monday + timedelta(days=7 + weekday)
    if prefix.startswith("上"):
        return monday + timedelta(days=weekday - 7)
    if prefix.startswith(("这", "本")):
        return monday + timedelta(days=weekday)
    # Bare "周六": the next such day, today included.
    delta = (weekday - today.weekday()) % 7
    return today + timedelta(days=delta)
