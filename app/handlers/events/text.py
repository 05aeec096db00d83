"""How an event's times read to people: 11月24日（周二）08:30–11:00, 每周二上午 08:30–11:00."""
from __future__ import annotations

from app.extensions import db
from app.localtime import WEEKDAY_NAMES, clock_text, day_label, to_local
from app.models.events import Event, Recurrence


def format_when(event: Event) -> str:
    """11月24日（周二）08:30–11:00, or both days when it spans midnight."""
    start, end = to_local(event.starts_at), to_local(event.ends_at)
    if start.date() == end.date():
        return f"{day_label(event.starts_at)}{clock_text(event.starts_at)}–{clock_text(event.ends_at)}"
    return f"{day_label(event.starts_at)}{clock_text(event.starts_at)} 至 {day_label(event.ends_at)}{clock_text(event.ends_at)}"


def format_deadline(event: Event) -> str:
    return f"{day_label(event.deadline)}{clock_text(event.deadline)}"


def recurrence_text(event: Event) -> str | None:
    head = event if event.series_id is None else db.session.get(Event, event.series_id)
    if head is None or head.recurrence != Recurrence.WEEKLY.value:
        return None
    start = to_local(head.starts_at)
    period = "上午" if start.hour < 12 else "下午" if start.hour < 18 else "晚上"
    return f"每周{WEEKDAY_NAMES[start.weekday()]}{period} {clock_text(head.starts_at)}–{clock_text(head.ends_at)}"


def hours_text(minutes: int) -> str:
    return f"{minutes / 60:g}小时"
