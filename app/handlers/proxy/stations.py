"""Proxy-handling stations (代办站): create and edit them, their weekly plan, and closed dates.

Only records here; what is free when is app/handlers/proxy/availability.py, and
closing a day that has bookings (they are cancelled and the residents told) is
``bookings.close_day``.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable

from sqlalchemy import select

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.proxy.availability import hours_text, intervals_for
from app.handlers.proxy.common import WEEKDAY_LABELS, day_label
from app.handlers.proxy.errors import SlotError
from app.localtime import at_local, local_date
from app.models.proxy import MAKEUP_WEEKDAY, Booking, BookingStatus, Station, StationClosure, StationHours

_WEEKDAY_TOKENS = {
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6, "makeup": MAKEUP_WEEKDAY,
    "周一": 0, "周二": 1, "周三": 2, "周四": 3, "周五": 4, "周六": 5, "周日": 6, "周天": 6, "调休": MAKEUP_WEEKDAY,
    "星期一": 0, "星期二": 1, "星期三": 2, "星期四": 3, "星期五": 4, "星期六": 5, "星期日": 6, "星期天": 6,
}
_INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–~～至]\s*(\d{1,2}):(\d{2})(?:\s*[x×*]\s*(\d+))?$")


def _parse_clock(hour: str, minute: str, what: str) -> time:
    h, m = int(hour), int(minute)
    if h == 24 and m == 0:
        return time(23, 59)
    if h > 23 or m > 59:
        raise SlotError("invalid_hours", f"{what}时间 {hour}:{minute} 无效 (invalid time)", field="hours")
    return time(h, m)


def parse_hours_spec(spec: str) -> list[dict[str, Any]]:
    """"mon-fri 08:30-11:30,14:00-17:30" or "周六 09:00-11:30x1" → hours rows (x1: capacity 1).

    Days: mon..sun, makeup (调休上班日), ranges with "-" or "至", lists with "/".
    """
    text = spec.strip()
    match = re.match(r"^(\S+)\s+(.+)$", text)
    if not match:
        raise SlotError("invalid_hours", f"无法识别的办公时间“{spec}”，格式如 mon-fri 08:30-11:30,14:00-17:30",
                        field="hours")
    days_part, times_part = match.groups()
    weekdays: list[int] = []
    for piece in re.split(r"[/,，、]", days_part.lower()):
        bounds = re.split(r"[-–~至]", piece)
        try:
            values = [_WEEKDAY_TOKENS[b.strip()] for b in bounds]
        except KeyError:
            raise SlotError("invalid_hours", f"无法识别的星期“{piece}”（用 mon..sun 或 周一..周日、makeup/调休）",
                            field="hours") from None
        if len(values) == 1:
            weekdays.append(values[0])
        elif len(values) == 2 and values[0] <= values[1] <= 6:
            weekdays.extend(range(values[0], values[1] + 1))
        else:
            raise SlotError("invalid_hours", f"无法识别的星期范围“{piece}”", field="hours")
    rows = []
    for chunk in re.split(r"[,，;；]", times_part):
        chunk = chunk.strip()
        found = _INTERVAL.match(chunk)
        if not found:
            raise SlotError("invalid_hours", f"无法识别的时间段“{chunk}”，格式如 08:30-11:30", field="hours")
        opens = _parse_clock(found.group(1), found.group(2), "开始")
        closes = _parse_clock(found.group(3), found.group(4), "结束")
        capacity = int(found.group(5)) if found.group(5) else None
        for weekday in weekdays:
            rows.append({"weekday": weekday, "opens": opens, "closes": closes, "capacity": capacity})
    return rows


def _as_time(value: Any, name: str) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        found = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)
        if found:
            return _parse_clock(found.group(1), found.group(2), "开始" if name == "opens" else "结束")
    raise SlotError("invalid_hours", f"{name} 必须是 HH:MM 格式的时间", field="hours")


def validate_hours(rows: Iterable[dict[str, Any]], slot_minutes: int) -> list[dict[str, Any]]:
    """Normalise and check a weekly plan: no overlaps, each interval fits at least one slot."""
    clean: list[dict[str, Any]] = []
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise SlotError("invalid_hours", f"第{index}个时间段格式错误", field="hours")
        weekday = row.get("weekday")
        if isinstance(weekday, str):
            weekday = _WEEKDAY_TOKENS.get(weekday.strip().lower())
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= MAKEUP_WEEKDAY:
            raise SlotError("invalid_hours", f"第{index}个时间段的 weekday 必须是 0（周一）到 6（周日），"
                                             f"7 表示调休上班日", field="hours")
        opens, closes = _as_time(row.get("opens"), "opens"), _as_time(row.get("closes"), "closes")
        if closes <= opens:
            raise SlotError("invalid_hours", f"第{index}个时间段结束时间必须晚于开始时间", field="hours")
        length = (datetime.combine(date.min, closes) - datetime.combine(date.min, opens)).total_seconds() / 60
        if length < slot_minutes:
            raise SlotError("invalid_hours", f"第{index}个时间段（{opens:%H:%M}–{closes:%H:%M}）短于一个时段"
                                             f"（{slot_minutes}分钟）", field="hours")
        capacity = row.get("capacity")
        if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1):
            raise SlotError("invalid_hours", f"第{index}个时间段的 capacity 必须是正整数", field="hours")
        clean.append({"weekday": weekday, "opens": opens, "closes": closes, "capacity": capacity})
    by_day: dict[int, list[dict[str, Any]]] = {}
    for row in clean:
        by_day.setdefault(row["weekday"], []).append(row)
    for weekday, day_rows in by_day.items():
        day_rows.sort(key=lambda r: r["opens"])
        for before, after in zip(day_rows, day_rows[1:], strict=False):
            if after["opens"] < before["closes"]:
                raise SlotError("invalid_hours", f"{WEEKDAY_LABELS[weekday]}的时间段 {before['opens']:%H:%M}–"
                                                 f"{before['closes']:%H:%M} 与 {after['opens']:%H:%M}–"
                                                 f"{after['closes']:%H:%M} 重叠", field="hours")
    return clean


def set_hours(station: Station, rows: Iterable[dict[str, Any]]) -> None:
    """Replace the station's weekly plan (the caller commits). Existing bookings keep their times."""
    clean = validate_hours(rows, station.slot_minutes)
    station.hours.clear()
    db.session.flush()
    for row in clean:
        station.hours.append(StationHours(**row))
    station.updated_at = clock_now()


def _station_fields(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not partial or "name" in data:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
            raise SlotError("invalid", "name 必须是1到100字的名称", field="name")
        out["name"] = name.strip()
    for key, limit in (("address", 200), ("phone", 30)):
        if key in data:
            value = data.get(key)
            if value is not None and (not isinstance(value, str) or len(value.strip()) > limit):
                raise SlotError("invalid", f"{key} 必须是不超过{limit}字的文字", field=key)
            out[key] = value.strip() if isinstance(value, str) and value.strip() else None
    for key, low, high in (("slot_minutes", 5, 240), ("capacity", 1, 100)):
        if key in data:
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise SlotError("invalid", f"{key} 必须是{low}到{high}之间的整数", field=key)
            out[key] = value
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise SlotError("invalid", "active 必须是 true 或 false", field="active")
        out["active"] = data["active"]
    return out


def create_station(community_id: int, data: dict[str, Any]) -> Station:
    """Create a station (with its weekly plan when ``hours`` is given). The caller commits."""
    fields = _station_fields(data, partial=False)
    fields.setdefault("slot_minutes", 30)
    fields.setdefault("capacity", 2)
    if db.session.scalars(select(Station.id).where(Station.community_id == community_id,
                                                   Station.name == fields["name"])).first():
        raise SlotError("exists", f"已有名为“{fields['name']}”的代办站", status=409, field="name")
    station = Station(community_id=community_id, **fields)
    db.session.add(station)
    db.session.flush()
    if data.get("hours") is not None:
        if not isinstance(data["hours"], list):
            raise SlotError("invalid_hours", "hours 必须是时间段列表", field="hours")
        set_hours(station, data["hours"])
    return station


def update_station(station: Station, data: dict[str, Any]) -> Station:
    fields = _station_fields(data, partial=True)
    if "name" in fields and fields["name"] != station.name and db.session.scalars(select(Station.id).where(
            Station.community_id == station.community_id, Station.name == fields["name"])).first():
        raise SlotError("exists", f"已有名为“{fields['name']}”的代办站", status=409, field="name")
    if "slot_minutes" in fields and fields["slot_minutes"] != station.slot_minutes:
        validate_hours([{"weekday": h.weekday, "opens": h.opens, "closes": h.closes, "capacity": h.capacity}
                        for h in station.hours], fields["slot_minutes"])
    for key, value in fields.items():
        setattr(station, key, value)
    if "hours" in data:
        if not isinstance(data["hours"], list):
            raise SlotError("invalid_hours", "hours 必须是时间段列表", field="hours")
        set_hours(station, data["hours"])
    station.updated_at = clock_now()
    return station


def confirmed_bookings_on(station: Station, day: date) -> list[Booking]:
    return list(db.session.scalars(select(Booking).where(
        Booking.station_id == station.id, Booking.status == BookingStatus.CONFIRMED.value,
        Booking.slot_start >= at_local(day),
        Booking.slot_start < at_local(day + timedelta(days=1))).order_by(Booking.slot_start)))


def add_closure(station: Station, day: date, reason: str | None, *, staff=None,
                cancel_bookings: bool = False) -> tuple[StationClosure, list[Booking]]:
    """Block a date and commit; returns the closure and that day's confirmed bookings.

    Bookings that day make this fail (409) unless ``cancel_bookings``: the caller
    (``bookings.close_day``) then cancels them and tells each resident why.
    """
    if day < local_date(clock_now()):
        raise SlotError("past", "不能关闭已经过去的日期", field="date")
    if reason is not None and len(reason) > 200:
        raise SlotError("invalid", "reason 最多200字", field="reason")
    existing = db.session.scalars(select(StationClosure).where(
        StationClosure.station_id == station.id, StationClosure.day == day)).first()
    if existing is not None:
        raise SlotError("exists", f"{day_label(day)}已设为暂停服务", status=409, field="date")
    affected = confirmed_bookings_on(station, day)
    if affected and not cancel_bookings:
        raise SlotError("has_bookings", f"{day_label(day)}已有{len(affected)}个预约；如确定暂停服务，"
                                        f"请设置 cancel_bookings=true，系统将取消这些预约并通知居民",
                        status=409, field="date", extra={"bookings": len(affected)})
    closure = StationClosure(station_id=station.id, day=day, reason=reason,
                             created_by_staff_id=staff.id if staff is not None else None)
    db.session.add(closure)
    db.session.commit()
    return closure, affected


def remove_closure(station: Station, day: date) -> bool:
    closure = db.session.scalars(select(StationClosure).where(
        StationClosure.station_id == station.id, StationClosure.day == day)).first()
    if closure is None:
        return False
    db.session.delete(closure)
    db.session.commit()
    return True


def upcoming_closures(station: Station, *, now: datetime | None = None) -> list[StationClosure]:
    today = local_date(now or clock_now())
    return list(db.session.scalars(select(StationClosure).where(
        StationClosure.station_id == station.id, StationClosure.day >= today).order_by(StationClosure.day)))

def stations_for(community_id: int, *, active_only: bool = True) -> list[Station]:
    statement = select(Station).where(Station.community_id == community_id)
    if active_only:
        statement = statement.where(Station.active.is_(True))
    return list(db.session.scalars(statement.order_by(Station.id)))

def hours_summary(station: Station) -> str:
    """周一至周五 08:30–11:30、14:00–17:30；周六 09:00–11:30 — for summaries and the bot."""
    by_plan: dict[str, list[int]] = {}
    for weekday in range(MAKEUP_WEEKDAY + 1):
        intervals = intervals_for(station, weekday)
        if intervals:
            by_plan.setdefault(hours_text(intervals), []).append(weekday)
    parts = []
    for text, days in by_plan.items():
        runs: list[str] = []
        start = prev = days[0]
        for day in days[1:] + [None]:
            if day is not None and day == prev + 1 and day < MAKEUP_WEEKDAY:
                prev = day
                continue
            runs.append(WEEKDAY_LABELS[start] if start == prev else
                        f"{WEEKDAY_LABELS[start]}至{WEEKDAY_LABELS[prev]}")
            if day is not None:
                start = prev = day
        parts.append(f"{'、'.join(runs)} {text}")
    return "；".join(parts) or "暂无办公时间"
