"""What every proxy-handling module shares: who may handle, direct channels, codes, and how a day
and a slot are written for residents."""
from __future__ import annotations

import secrets
from datetime import date, datetime, time

from app.localtime import to_local
from app.models import Channel, Role

# Roles that may handle cases and bookings at a community's station.
HANDLING_ROLES = (Role.DUTY.value, Role.COMMUNITY_ADMIN.value, Role.GRID_LEADER.value, Role.GRID_WORKER.value)
# Channels on which a resident has a 1:1 chat with us (a reminder can go there).
DIRECT_CHANNELS = (Channel.MINIPROGRAM.value, Channel.MP.value, Channel.WEWORK.value)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O/1/I: read aloud and typed on phones

WEEKDAY_LABELS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日", "调休上班日"]
PERIODS = {"morning": (time(0, 0), time(12, 0)), "afternoon": (time(12, 0), time(18, 0)),
           "evening": (time(18, 0), time(23, 59, 59))}
PERIOD_LABELS = {"morning": "上午", "afternoon": "下午", "evening": "晚上"}


def new_code() -> str:
    """Six characters with at least one letter and one digit ("D7K3Q9"): easy to spot in a message."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        if any(c.isdigit() for c in code) and any(c.isalpha() for c in code):
            return code


def period_of(moment: datetime) -> str:
    t = to_local(moment).time()
    for name, (start, end) in PERIODS.items():
        if start <= t < end:
            return name
    return "evening"


def day_label(day: date, today: date | None = None) -> str:
    """11月18日（周三）, prefixed with 今天/明天/后天 when close."""
    text = f"{day.month}月{day.day}日（{WEEKDAY_LABELS[day.weekday()]}）"
    if today is not None:
        relative = {0: "今天", 1: "明天", 2: "后天"}.get((day - today).days)
        if relative:
            text = f"{relative} {text}"
    return text


def slot_label(start: datetime, end: datetime | None = None, today: date | None = None) -> str:
    start_local = to_local(start)
    text = f"{day_label(start_local.date(), today)} {PERIOD_LABELS[period_of(start)]} {start_local:%H:%M}"
    if end is not None:
        text += f"–{to_local(end):%H:%M}"
    return text
