"""Stations and their free slots, computed from the weekly plan, closures and the working-day calendar.

Nothing is stored per slot except the load of slots that have bookings
(``SlotLoad``). A day's slots come from:

* the working-day calendar (app/workcal.py, chinese_calendar + operator overrides):
  - an ordinary working day (Mon–Fri) uses that weekday's plan;
  - a public holiday (法定节假日, including the weekend days inside a holiday
    period, and weekdays an operator declared a day off) is closed;
  - a make-up working day (调休上班, a Saturday or Sunday that is worked) uses the
    station's make-up plan (weekday 7) if it has one, otherwise the plan of its
    first weekday with hours (normally Monday). The State Council's notices do
    not say which weekday a make-up day "replaces", so one fixed, documented
    plan is the defensible choice;
  - an ordinary weekend day uses the plan for that weekday (most stations have
    none; some open on Saturday mornings);
* the station's closures (admin-blocked dates);
* the slot length and capacity (per interval, else per station) minus the load;
* the clock: never in the past, at least PROXY_BOOKING_LEAD_MINUTES ahead, at
  most PROXY_BOOKING_DAYS_AHEAD days ahead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import chinese_calendar
from flask import current_app
from sqlalchemy import select

from app.clock import now as clock_now
from app.extensions import db
from app.models.proxy import MAKEUP_WEEKDAY, SlotLoad, Station, StationClosure, StationHours
from app.workcal import WorkCalendar, load_calendar

UTC = timezone.utc
WEEKDAY_LABELS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日", "调休上班日"]
PERIODS = {"morning": (time(0, 0), time(12, 0)), "afternoon": (time(12, 0), time(18, 0)),
           "evening": (time(18, 0), time(23, 59, 59))}
PERIOD_LABELS = {"morning": "上午", "afternoon": "下午", "evening": "晚上"}
HOLIDAY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}

# Day kinds
WORKDAY, MAKEUP, WEEKEND, HOLIDAY = "workday", "makeup", "weekend", "holiday"


class SlotError(ValueError):
    """A slot that cannot be booked; ``message`` is the Chinese reason shown to residents and in the API."""

    def __init__(self, code: str, message: str, *, status: int = 400, field: str | None = "slot_start",
                 extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field
        self.extra = extra or {}


@dataclass(frozen=True)
class Interval:
    opens: time
    closes: time
    capacity: int


@dataclass
class DayPlan:
    station_id: int
    day: date
    kind: str
    intervals: list[Interval] = field(default_factory=list)
    closed_reason: str | None = None   # holiday | closure | no_hours
    message: str | None = None         # Chinese explanation when closed

    @property
    def open(self) -> bool:
        return bool(self.intervals) and self.closed_reason is None


@dataclass(frozen=True)
class Slot:
    station_id: int
    start: datetime   # aware UTC
    end: datetime
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.booked)

    def as_dict(self) -> dict[str, Any]:
        from app.localtime import iso
        return {"station_id": self.station_id, "start": iso(self.start), "end": iso(self.end),
                "capacity": self.capacity, "booked": min(self.booked, self.capacity), "free": self.free}


# ---- time helpers -----------------------------------------------------------------------------------

def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def local(moment: datetime) -> datetime:
    return moment.astimezone(zone())


def local_date(moment: datetime) -> date:
    return local(moment).date()


def at_local(day: date, clock_time: time) -> datetime:
    """The aware UTC instant of a local wall-clock time."""
    return datetime.combine(day, clock_time, tzinfo=zone()).astimezone(UTC)


def period_of(moment: datetime) -> str:
    t = local(moment).time()
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
    start_local = local(start)
    text = f"{day_label(start_local.date(), today)} {PERIOD_LABELS[period_of(start)]} {start_local:%H:%M}"
    if end is not None:
        text += f"–{local(end):%H:%M}"
    return text


def lead_time() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("PROXY_BOOKING_LEAD_MINUTES", 15)))


def days_ahead() -> int:
    return int(current_app.config.get("PROXY_BOOKING_DAYS_AHEAD", 14))


# ---- the calendar -----------------------------------------------------------------------------------

def day_kind(calendar: WorkCalendar, day: date) -> tuple[str, str | None]:
    """(kind, Chinese holiday name) of a date for the stations."""
    weekend = day.weekday() >= 5
    if day in calendar.overrides:
        if calendar.overrides[day]:
            return (MAKEUP if weekend else WORKDAY), None
        # An operator only declares a date a day off when it is a holiday.
        return HOLIDAY, None
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # a year the package does not know yet: plain weekends
        return (WEEKEND if weekend else WORKDAY), None
    if on_holiday:
        if name:
            return HOLIDAY, HOLIDAY_NAMES.get(name, name)
        return (WEEKEND, None) if weekend else (HOLIDAY, None)
    return (MAKEUP if weekend else WORKDAY), None


def _intervals(station: Station, weekday: int) -> list[Interval]:
    return [Interval(h.opens, h.closes, h.capacity or station.capacity)
            for h in sorted(station.hours, key=lambda h: h.opens) if h.weekday == weekday]


def makeup_intervals(station: Station) -> list[Interval]:
    """The plan for a make-up working day: the make-up plan, else the first weekday (Mon–Fri) with hours."""
    own = _intervals(station, MAKEUP_WEEKDAY)
    if own:
        return own
    for weekday in range(5):
        intervals = _intervals(station, weekday)
        if intervals:
            return intervals
    return []


def day_plan(station: Station, day: date, calendar: WorkCalendar,
             closures: dict[date, str | None] | None = None) -> DayPlan:
    kind, holiday_name = day_kind(calendar, day)
    plan = DayPlan(station.id, day, kind)
    when = f"{day.month}月{day.day}日（{WEEKDAY_LABELS[day.weekday()]}）"
    if not station.active:
        plan.closed_reason, plan.message = "inactive", f"{station.name}已停止预约服务"
        return plan
    if kind == HOLIDAY:
        plan.closed_reason = "holiday"
        plan.message = f"{when}是{holiday_name or '法定节假日'}假期，代办站不开放"
        return plan
    if closures and day in closures:
        plan.closed_reason = "closure"
        reason = closures[day]
        plan.message = f"{when}代办站暂停服务{f'（{reason}）' if reason else ''}"
        return plan
    plan.intervals = makeup_intervals(station) if kind == MAKEUP else _intervals(station, day.weekday())
    if not plan.intervals:
        plan.closed_reason = "no_hours"
        plan.message = f"{when}代办站不开放"
    return plan


def hours_text(intervals: Iterable[Interval]) -> str:
    return "、".join(f"{i.opens:%H:%M}–{i.closes:%H:%M}" for i in intervals)


# ---- slots ------------------------------------------------------------------------------------------

def _raw_slots(station: Station, plan: DayPlan) -> list[tuple[datetime, datetime, int]]:
    """(start, end, capacity) of every slot of an open day, aligned to each interval's opening time."""
    length = timedelta(minutes=station.slot_minutes)
    out = []
    for interval in plan.intervals:
        start = datetime.combine(plan.day, interval.opens)
        stop = datetime.combine(plan.day, interval.closes)
        while start + length <= stop:
            start_utc = at_local(plan.day, start.time())
            out.append((start_utc, start_utc + length, interval.capacity))
            start += length
    return out


def _closures(station_ids: list[int], first: date, last: date) -> dict[int, dict[date, str | None]]:
    out: dict[int, dict[date, str | None]] = {sid: {} for sid in station_ids}
    if not station_ids:
        return out
    rows = db.session.execute(select(StationClosure.station_id, StationClosure.day, StationClosure.reason).where(
        StationClosure.station_id.in_(station_ids), StationClosure.day >= first, StationClosure.day <= last))
    for station_id, day, reason in rows:
        out[station_id][day] = reason
    return out


def _loads(station_ids: list[int], start: datetime, end: datetime) -> dict[tuple[int, datetime], int]:
    if not station_ids:
        return {}
    rows = db.session.execute(select(SlotLoad.station_id, SlotLoad.slot_start, SlotLoad.booked).where(
        SlotLoad.station_id.in_(station_ids), SlotLoad.slot_start >= start, SlotLoad.slot_start < end))
    return {(sid, when): booked for sid, when, booked in rows}


def bookable_from(now: datetime) -> datetime:
    return now + lead_time()


def last_bookable_day(now: datetime) -> date:
    return local_date(now) + timedelta(days=days_ahead())


def day_slots(station: Station, day: date, *, now: datetime | None = None,
              calendar: WorkCalendar | None = None, bookable_only: bool = True) -> tuple[DayPlan, list[Slot]]:
    """The plan and the slots of one station on one local date (with their load)."""
    now = now or clock_now()
    calendar = calendar or load_calendar()
    plan = day_plan(station, day, calendar, _closures([station.id], day, day)[station.id])
    raw = _raw_slots(station, plan) if plan.open else []
    if not raw:
        return plan, []
    loads = _loads([station.id], raw[0][0], raw[-1][1])
    earliest = bookable_from(now)
    slots = [Slot(station.id, start, end, cap, loads.get((station.id, start), 0)) for start, end, cap in raw
             if not bookable_only or start >= earliest]
    if bookable_only and day > last_bookable_day(now):
        slots = []
    return plan, slots


def free_slots(stations: Iterable[Station], *, now: datetime | None = None, first_day: date | None = None,
               last_day: date | None = None, period: str | None = None, calendar: WorkCalendar | None = None,
               limit: int | None = None) -> list[Slot]:
    """Bookable slots with a free place, in time order, over several stations and days."""
    now = now or clock_now()
    stations = [s for s in stations if s.active]
    calendar = calendar or load_calendar()
    today = local_date(now)
    first_day = max(first_day or today, today)
    last_day = min(last_day or last_bookable_day(now), last_bookable_day(now))
    if not stations or last_day < first_day:
        return []
    ids = [s.id for s in stations]
    closures = _closures(ids, first_day, last_day)
    loads = _loads(ids, at_local(first_day, time(0)), at_local(last_day + timedelta(days=1), time(0)))
    earliest = bookable_from(now)
    found: list[Slot] = []
    day = first_day
    while day <= last_day:
        day_found: list[Slot] = []
        for station in stations:
            plan = day_plan(station, day, calendar, closures[station.id])
            for start, end, cap in _raw_slots(station, plan) if plan.open else []:
                if start < earliest or (period and period_of(start) != period):
                    continue
                slot = Slot(station.id, start, end, cap, loads.get((station.id, start), 0))
                if slot.free > 0:
                    day_found.append(slot)
        day_found.sort(key=lambda s: (s.start, s.station_id))
        found.extend(day_found)
        if limit is not None and len(found) >= limit:
            break
        day += timedelta(days=1)
    return found if limit is None else found[:limit]


def spread(slots: list[Slot], count: int) -> list[Slot]:
    """Pick ``count`` slots, preferring one per half-day so residents get a real choice."""
    chosen: list[Slot] = []
    seen: set[tuple[date, str]] = set()
    for slot in slots:
        bucket = (local_date(slot.start), period_of(slot.start))
        if bucket not in seen:
            seen.add(bucket)
            chosen.append(slot)
        if len(chosen) == count:
            return chosen
    for slot in slots:
        if slot not in chosen:
            chosen.append(slot)
        if len(chosen) == count:
            break
    return sorted(chosen, key=lambda s: s.start)


def check_slot(station: Station, start: datetime, *, now: datetime | None = None,
               calendar: WorkCalendar | None = None) -> Slot:
    """The bookable slot starting at ``start`` or SlotError with the Chinese reason.

    Capacity is only reported here; it is enforced when booking (SlotLoad).
    """
    now = now or clock_now()
    if start.tzinfo is None:
        raise SlotError("invalid", "时间必须带时区 (slot_start needs a time zone)")
    start = start.astimezone(UTC)
    day = local_date(start)
    today = local_date(now)
    if start < now:
        raise SlotError("past", "该时间已经过去，请选择之后的时间")
    if day > last_bookable_day(now):
        raise SlotError("beyond_horizon", f"只能预约{days_ahead()}天以内的时间"
                                          f"（最晚到{last_bookable_day(now).month}月{last_bookable_day(now).day}日）")
    plan, slots = day_slots(station, day, now=now, calendar=calendar, bookable_only=False)
    if not plan.open:
        raise SlotError(plan.closed_reason or "closed", plan.message or "代办站当天不开放")
    for slot in slots:
        if slot.start == start:
            if start < bookable_from(now):
                raise SlotError("too_soon", f"距开始已不足{int(lead_time().total_seconds() // 60)}分钟，"
                                            f"不能再预约，请选择更晚的时间")
            return slot
    local_start = local(start)
    inside = any(i.opens <= local_start.time() < i.closes for i in plan.intervals)
    if inside:
        raise SlotError("not_aligned", f"{local_start:%H:%M} 不是预约时段的开始时间，每{station.slot_minutes}分钟一个时段"
                                       f"（{day_label(day, today)}：{hours_text(plan.intervals)}）")
    raise SlotError("outside_hours", f"{local_start:%H:%M} 不在代办站的办公时间内"
                                     f"（{day_label(day, today)}：{hours_text(plan.intervals)}）")


# ---- stations: create, plan, closures ---------------------------------------------------------------

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


def confirmed_bookings_on(station: Station, day: date) -> list:
    from app.models.proxy import Booking, BookingStatus
    return list(db.session.scalars(select(Booking).where(
        Booking.station_id == station.id, Booking.status == BookingStatus.CONFIRMED.value,
        Booking.slot_start >= at_local(day, time(0)),
        Booking.slot_start < at_local(day + timedelta(days=1), time(0))).order_by(Booking.slot_start)))


def add_closure(station: Station, day: date, reason: str | None, *, staff=None,
                cancel_bookings: bool = False) -> tuple[StationClosure, list]:
    """Block a date. Confirmed bookings that day make this fail (409) unless ``cancel_bookings``:
    then they are cancelled and each resident is told why. Commits."""
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
    cancelled = []
    if affected:
        from app.handlers.bookings import cancel_booking
        why = f"代办站{day_label(day)}暂停服务{f'（{reason}）' if reason else ''}"
        for booking in affected:
            cancelled.append(cancel_booking(booking, by="staff", staff=staff, reason=why, notify=True))
    return closure, cancelled


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


def station_view(station: Station, *, closures: bool = True) -> dict[str, Any]:
    view = {
        "id": station.id, "community_id": station.community_id, "name": station.name,
        "address": station.address, "phone": station.phone, "slot_minutes": station.slot_minutes,
        "capacity": station.capacity, "active": station.active,
        "hours": [{"weekday": h.weekday, "weekday_label": WEEKDAY_LABELS[h.weekday],
                   "opens": f"{h.opens:%H:%M}", "closes": f"{h.closes:%H:%M}", "capacity": h.capacity}
                  for h in station.hours],
    }
    if closures:
        view["closures"] = [{"date": c.day.isoformat(), "reason": c.reason} for c in upcoming_closures(station)]
    return view


def stations_for(community_id: int, *, active_only: bool = True) -> list[Station]:
    statement = select(Station).where(Station.community_id == community_id)
    if active_only:
        statement = statement.where(Station.active.is_(True))
    return list(db.session.scalars(statement.order_by(Station.id)))


DEMO_HOURS = ["mon-fri 08:30-11:30,14:00-17:30", "sat 09:00-11:30x1"]


def hours_summary(station: Station) -> str:
    """周一至周五 08:30–11:30、14:00–17:30；周六 09:00–11:30 — for summaries and the bot."""
    by_plan: dict[str, list[int]] = {}
    for weekday in range(MAKEUP_WEEKDAY + 1):
        intervals = _intervals(station, weekday)
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


def seed_demo_station(community, *, commit: bool = True) -> Station:
    """The demo community's station: weekdays with a lunch break, Saturday mornings with one person."""
    existing = db.session.scalars(select(Station).where(Station.community_id == community.id)).first()
    if existing is not None:
        return existing
    rows = [row for spec in DEMO_HOURS for row in parse_hours_spec(spec)]
    station = create_station(community.id, {
        "name": "政务代办站", "address": f"{community.address or community.name}党群服务中心一楼便民服务大厅",
        "slot_minutes": 30, "capacity": 2, "hours": rows})
    if commit:
        db.session.commit()
    return station
