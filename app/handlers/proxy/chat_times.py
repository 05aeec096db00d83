"""Reading times and choices in chat: "明天上午", "周五下午3点", "第2个"."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time

from app.bot.numerals import to_int
from app.bot.timeparse import parse
from app.handlers.proxy.common import PERIOD_LABELS
from app.localtime import zone_name


@dataclass
class When:
    """A time expression from a chat message, in local time."""

    day: date | None = None
    period: str | None = None
    clock: time | None = None
    invalid: str | None = None   # what was not understood, quoted back to the resident

    @property
    def given(self) -> bool:
        return bool(self.day or self.period or self.clock)


def parse_when(text: str, now: datetime) -> When:
    """Read 明天上午 / 周五下午 / 11月20日 9点半 / 15:00 relative to ``now``, with the bot's time parser.

    Impossible values ("八十点", "25:00", "2月30日") come back in ``invalid``
    instead of being guessed at.
    """
    return when_from_slots(parse(unicodedata.normalize("NFKC", text or ""), now, zone_name()))


def when_from_slots(slots: dict) -> When:
    when = When()
    try:
        if slots.get("date"):
            when.day = date.fromisoformat(str(slots["date"]))
        if slots.get("time"):
            hh, mm = str(slots["time"]).split(":")[:2]
            when.clock = time(int(hh), int(mm))
    except (ValueError, TypeError):
        when.invalid = str(slots.get("time") or slots.get("date"))
    period = slots.get("period")
    when.period = "afternoon" if period == "noon" else period if period in PERIOD_LABELS else None
    bad = slots.get("invalid_time")
    if bad:
        when.invalid = bad if isinstance(bad, str) else (when.invalid or "")
    if when.clock is not None and when.period is None:
        when.period = period_name(when.clock)
    return when


def period_name(clock: time) -> str:
    return "morning" if clock < time(12) else "afternoon" if clock < time(18) else "evening"


def merge_understanding(ctx, now: datetime) -> When:
    """The bot's slots when it found a time, our own reading of the raw text otherwise."""
    slots = getattr(ctx.understanding, "slots", None) or {}
    if any(slots.get(k) for k in ("date", "time", "period", "invalid_time")):
        when = when_from_slots(slots)
        if when.invalid == "":
            when.invalid = (getattr(ctx.inbound, "text", None) or "").strip()[:20]
        return when
    return parse_when(getattr(ctx.inbound, "text", None) or "", now)


_CHOICE = re.compile(r"^(?:第|选|选择|要)?\s*([1-9]|[一二三四五六七八九])\s*(?:个|号|项|吧|个吧)?[。.!！~]*$")


def parse_choice(text: str | None) -> int | None:
    text = unicodedata.normalize("NFKC", (text or "").strip())
    m = _CHOICE.match(text)
    if not m:
        return None
    raw = m.group(1)
    return int(raw) if raw.isdigit() else to_int(raw)
