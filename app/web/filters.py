"""Jinja filters of the web pages: local times, durations and rates in Chinese."""
from __future__ import annotations

import re
from datetime import datetime

from flask import Flask

from app.localtime import iso, to_local

ENGLISH_TAIL = re.compile(r"\s*\([^()]*[A-Za-z][^()]*\)\s*$")
# A sender's reason: "没有可用的发送渠道 (no way to reach this recipient): no group messages…" —
# the Chinese label, its English gloss, then the channel's own (English) words.
LABELLED_REASON = re.compile(r"^([^()]*[\u4e00-\u9fff][^()]*?)\s*\([^()]*[A-Za-z][^()]*\)")


def local(moment: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    return to_local(moment).strftime(fmt) if moment else ""


def iso_local(value: str | None, fmt: str = "%m-%d %H:%M") -> str:
    """An ISO time from a handler's view (clock_view) in local time."""
    if not value:
        return ""
    try:
        return local(datetime.fromisoformat(value), fmt)
    except ValueError:
        return ""


def duration(seconds: float | int | None) -> str:
    """3725 → 1小时2分, 75 → 1分15秒; negative values are the same length (the caller says 超时)."""
    if seconds is None:
        return ""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{minutes}分" if minutes else f"{hours}小时"
    if minutes:
        return f"{minutes}分{secs}秒" if secs and minutes < 10 else f"{minutes}分钟"
    return f"{secs}秒"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%".replace(".0%", "%")


def people_message(message: str) -> str:
    """A handler's message without its English tail: "没有这条诉求 (no such clock)" → "没有这条诉求"."""
    return ENGLISH_TAIL.sub("", message or "").strip() or "操作未完成"


def send_reason(reason: str | None) -> str:
    """Why a send failed, for staff: the Chinese label of a known reason; an unknown one as it came
    (it is all there is). Operators read the whole text in the log and the API."""
    found = LABELLED_REASON.match(reason or "")
    return found.group(1).strip() if found else (reason or "")


def register(app: Flask) -> None:
    app.add_template_filter(local, "local")
    app.add_template_filter(duration, "duration")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(iso, "iso")
    app.add_template_filter(iso_local, "isolocal")
    app.add_template_filter(people_message, "people")
    app.add_template_filter(send_reason, "send_reason")
