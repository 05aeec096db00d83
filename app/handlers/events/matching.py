"""Reading a resident's chat message about events: which event they mean, and their answers.

The bot's slots (event, date, period) come first; the text is the fallback, so
"周二义诊报个名", "下周二的义诊", "2" and "好" all find their way. An event "family"
is one weekly series (or same-titled one-offs), offered once, not once per week.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from app.bot import EventTerm
from app.clock import now as clock_now
from app.extensions import db
from app.handlers.events.views import upcoming_events
from app.localtime import local_date, to_local
from app.models.events import Event, EventKind, Recurrence

# The bot offers events starting within this many days.
BOT_HORIZON = timedelta(days=60)

KIND_WORDS = {
    EventKind.HEALTH_CHECK.value: ("义诊", "体检", "健康检查", "量血压", "测血压", "测血糖", "健康咨询"),
    EventKind.CLASS.value: ("课堂", "课程", "讲座", "培训", "辅导", "兴趣班"),
    EventKind.MEETING.value: ("议事", "议事会", "座谈", "协商"),
    EventKind.PARTY_DAY.value: ("主题党日", "党日"),
    EventKind.VOLUNTEER.value: ("志愿", "义务劳动", "清扫", "大扫除", "清洁", "环境整治"),
    EventKind.CULTURE_SPORTS.value: ("文艺", "演出", "比赛", "运动会", "广场舞", "文体"),
}
YES_WORDS = ("好", "是", "要", "行", "可以", "报名", "报", "确认", "候补", "排队", "嗯", "对", "ok", "OK", "yes")
NO_WORDS = ("不用", "不要", "不了", "算了", "取消", "不报", "不是", "不对", "别", "no", "No")


def event_key(event: Event) -> str:
    return f"event-{event.id}"


def event_from_key(key: Any) -> Event | None:
    match = re.fullmatch(r"event-(\d+)", str(key or ""))
    return db.session.get(Event, int(match.group(1))) if match else None


def bookable(community_id: int) -> list[Event]:
    """What the bot may offer: upcoming events within the horizon that have not started."""
    return [e for e in upcoming_events(community_id, horizon=BOT_HORIZON) if clock_now() < e.starts_at]


def event_terms(community_id: int | None) -> list[EventTerm]:
    """The bot's vocabulary: upcoming published events of the community with their names."""
    if community_id is None:
        return []
    return [EventTerm(event_key(e), e.names(), e.kind, e.starts_at) for e in bookable(community_id)]


def family(event: Event) -> tuple:
    """Occurrences of one series (or same-titled one-offs) are one "family" for the bot."""
    return ("series", event.series_id or event.id) if event.recurrence == Recurrence.WEEKLY.value else ("title", event.title)


def one_per_family(events: list[Event]) -> list[Event]:
    """The earliest of each family, so a weekly event is offered once, not once per week."""
    seen: set = set()
    kept = []
    for event in events:
        if family(event) not in seen:
            seen.add(family(event))
            kept.append(event)
    return kept


def text_matches(event: Event, text: str) -> int:
    """How strongly the text names the event: 3 title/alias, 1 kind word, 0 not at all."""
    for name in event.names():
        if len(name) >= 2 and name in text:
            return 3
    if any(word in text for word in KIND_WORDS.get(event.kind, ())):
        return 1
    return 0


_WEEKDAYS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7, "七": 7}


def _day_of_month(day: int, today: date) -> date | None:
    """The next ``day`` of this month or the next, from today on."""
    for months_ahead in range(0, 2):
        year, month = today.year, today.month + months_ahead
        if month > 12:
            year, month = year + 1, month - 12
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def date_hint(text: str, today: date) -> date | None:
    """A small fallback for dates the bot did not put in a slot: 今天/明天/后天/(下)周X/X月X日/X号."""
    for word, days in (("今天", 0), ("明天", 1), ("后天", 2)):
        if word in text:
            return today + timedelta(days=days)
    match = re.search(r"(\d{1,2})月(\d{1,2})[日号]", text)
    if match:
        try:
            candidate = date(today.year, int(match.group(1)), int(match.group(2)))
        except ValueError:
            return None
        return candidate if candidate >= today else date(today.year + 1, candidate.month, candidate.day)
    match = re.search(r"(下下|下|本|这)?(?:周|星期|礼拜)([一二三四五六日天])", text)
    if match:
        weekday = _WEEKDAYS[match.group(2)] - 1
        if match.group(1) in ("下", "下下"):
            # 下周二: the Tuesday of next calendar week (weeks start on Monday).
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1 if match.group(1) == "下" else 2)
            return monday + timedelta(days=weekday)
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    match = re.search(r"(\d{1,2})[号日]", text)
    return _day_of_month(int(match.group(1)), today) if match else None


def slot_date(slots: dict, text: str) -> date | None:
    """The date the resident asked for: the bot's date slot, else a hint in the text."""
    if slots.get("date"):
        try:
            return date.fromisoformat(str(slots["date"])[:10])
        except ValueError:
            pass
    return date_hint(text, local_date(clock_now()))


def period_of(event: Event) -> str:
    hour = to_local(event.starts_at).hour
    return "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"


def period_hint(text: str) -> str | None:
    if any(w in text for w in ("上午", "早上", "早晨")):
        return "morning"
    if "下午" in text:
        return "afternoon"
    if any(w in text for w in ("晚上", "傍晚", "夜里")):
        return "evening"
    return None


_QUESTION = re.compile(r"(吗|么|[?？]|有没有|能不能|可不可以|还能|还有|多少|几个|剩)")


def is_question(text: str) -> bool:
    return bool(_QUESTION.search(text)) and not re.search(r"(报个?名吧|帮我报|给我报|我要报|我报)", text)


def mentions_something(text: str) -> bool:
    stripped = re.sub(r"(我|想|要|报个?名|参加|活动|一下|帮|给|吧|呢|啊|了|[，。！!,.\s])", "", text)
    return len(stripped) >= 2


_NUMBER = re.compile(r"^\s*(?:第)?([0-9]{1,2}|[一二三四五六七八九十①②③④⑤⑥])(?:个|号|项)?\s*[。.!！]?\s*$")
_CIRCLED = "①②③④⑤⑥"
_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def choice_number(text: str) -> int | None:
    """"2", "第二个", "②": the option the resident picked."""
    match = _NUMBER.match(text or "")
    if not match:
        return None
    token = match.group(1)
    if token.isdigit():
        return int(token)
    if token in _CIRCLED:
        return _CIRCLED.index(token) + 1
    return _NUMERALS[token]


def is_yes(text: str) -> bool:
    text = (text or "").strip()
    if any(word in text for word in NO_WORDS):
        return False
    return any(word in text for word in YES_WORDS) or text in ("1", "１")


def is_no(text: str) -> bool:
    return any(word in (text or "") for word in NO_WORDS)


@dataclass
class Resolution:
    events: list[Event]         # candidates, earliest first
    date: date | None = None    # the date the resident asked for
    named: bool = False         # the resident named an event (not just "报名")
    named_events: list[Event] = field(default_factory=list)  # what the name matched, before the date filter


def _named(pool: list[Event], slots: dict, text: str, community_id: int) -> tuple[list[Event], bool]:
    """The events of the pool the slot or the text names (all of them when none is named)."""
    chosen = event_from_key(slots.get("event"))
    if chosen is not None and chosen.community_id == community_id:
        return [e for e in pool if family(e) == family(chosen)], True
    scored = [(e, text_matches(e, text)) for e in pool]
    best = max((score for _, score in scored), default=0)
    return [e for e, score in scored if score and score == best], best > 0


def resolve(ctx) -> Resolution:
    """Which event the resident means, from the bot's event/date/period slots and the text."""
    text = ctx.inbound.text or ""
    slots = dict(getattr(ctx.understanding, "slots", None) or {})
    community_id = ctx.community_id or (ctx.resident.community_id if ctx.resident else None)
    if community_id is None:
        return Resolution([])
    pool = bookable(community_id)
    matches, named = _named(pool, slots, text, community_id)
    wanted_date = slot_date(slots, text)
    named_events = sorted(matches, key=lambda e: (e.starts_at, e.id)) if named else []
    if wanted_date is not None:
        matches = [e for e in (matches if named else pool) if local_date(e.starts_at) == wanted_date]
    period = slots.get("period") or period_hint(text)
    if period and len(matches) > 1:
        narrowed = [e for e in matches if period_of(e) == period]
        matches = narrowed or matches
    return Resolution(sorted(matches, key=lambda e: (e.starts_at, e.id)), wanted_date, named, named_events)
