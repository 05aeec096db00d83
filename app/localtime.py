"""Local time of the deployment (``LINLI_TIMEZONE``): one place for every zone conversion.

Rows store aware UTC; people read local wall-clock time. Outside an app
context (the pure bot, scripts) the default zone, Asia/Shanghai, applies.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

UTC = timezone.utc
DEFAULT_TIMEZONE = "Asia/Shanghai"
WEEKDAY_NAMES = "一二三四五六日"
# The years a date or year that people give may name (forms, API, CLI): beyond them it is a typo.
FIRST_YEAR, LAST_YEAR = 2000, 2100


@lru_cache(maxsize=8)
def _zone_named(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_name() -> str:
    if has_app_context():
        return current_app.config.get("TIMEZONE") or DEFAULT_TIMEZONE
    return DEFAULT_TIMEZONE


def zone() -> ZoneInfo:
    """The deployment's time zone."""
    return _zone_named(zone_name())


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(zone())


def local_date(moment: datetime) -> date:
    return to_local(moment).date()


def at_local(day: date, clock_time: time = time(0)) -> datetime:
    """The aware UTC instant of a local wall-clock time on ``day``."""
    return datetime.combine(day, clock_time, tzinfo=zone()).astimezone(UTC)


def local_midnight(day: date) -> datetime:
    """Local midnight at the start of ``day`` (aware, in the local zone)."""
    return datetime.combine(day, time(0), tzinfo=zone())


def iso(value: datetime | None) -> str | None:
    """Times in API responses: ISO 8601 in the local time zone."""
    if value is None:
        return None
    return value.astimezone(zone()).isoformat()


def day_label(moment: datetime) -> str:
    """11月24日（周二）"""
    local = to_local(moment)
    return f"{local.month}月{local.day}日（周{WEEKDAY_NAMES[local.weekday()]}）"


def clock_text(moment: datetime) -> str:
    """08:30"""
    return to_local(moment).strftime("%H:%M")


def format_local(moment: datetime | None) -> str:
    """11月24日08:30, or "" for none."""
    if moment is None:
        return ""
    local = to_local(moment)
    return f"{local.month}月{local.day}日{local:%H:%M}"
