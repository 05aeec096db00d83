"""Free slots of the stations, computed from the weekly plan, closures and the working-day calendar.

Nothing is stored per slot except the load of slots that have bookings
(``SlotLoad``). A day's slots come from:

* the working-day calendar (app/workcal.py: operator overrides, chinese_calendar, else the statutory
  holidays computed from the law):
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

Creating stations, their plans and closures is app/handlers/proxy/stations.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable

import chinese_calendar
from flask import current_app
from sqlalchemy import select

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.proxy.common import WEEKDAY_LABELS, day_label, period_of
from app.handlers.proxy.errors import SlotError
from app.localtime import at_local, iso, local_date, to_local
from app.models.proxy import MAKEUP_WEEKDAY, SlotLoad, Station, StationClosure
from app.workcal import WorkCalendar, load_calendar

UTC = timezone.utc
HOLIDAY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}

# Day kinds
WORKDAY, MAKEUP, WEEKEND, HOLIDAY = "workday", "makeup", "weekend", "holiday"

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
        return {"station_id": self.station_id, "start": iso(self.start), "end": iso(self.end),
                "capacity": self.capacity, "booked": min(self.booked, self.capacity), "free": self.free}


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
    if day.year not in calendar.package_years:
        # A year the package does not know: the statutory holidays computed from the law, else the weekday.
        names = calendar.statutory_names(day)
        if names:
            return HOLIDAY, "、".join(names)
        return (WEEKEND if weekend else WORKDAY), None
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # a gap in the package's data: plain weekends
        return (WEEKEND if weekend else WORKDAY), None
    if on_holiday:
        if name:
            return HOLIDAY, HOLIDAY_NAMES.get(name, name)
        return (WEEKEND, None) if weekend else (HOLIDAY, None)
    return (MAKEUP if weekend else WORKDAY), None


def intervals_for(station: Station, weekday: int) -> list[Interval]:
    return [Interval(h.opens, h.closes, h.capacity or station.capacity)
            for h in sorted(station.hours, key=lambda h: h.opens) if h.weekday == weekday]


def makeup_intervals(station: Station) -> list[Interval]:
    """The plan for a make-up working day: the make-up plan, else the first weekday (Mon–Fri) with hours."""
    own = intervals_for(station, MAKEUP_WEEKDAY)
    if own:
        return own
    for weekday in range(5):
        intervals = intervals_for(station, weekday)
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
    plan.intervals = makeup_intervals(station) if kind == MAKEUP else intervals_for(station, day.weekday())
    if not plan.intervals:
        plan.closed_reason = "no_hours"
        plan.message = f"{when}代办站不开放"
    return plan


def hours_text(intervals: Iterable[Interval]) -> str:
    return "、".join(f"{i.opens:%H:%M}–{i.closes:%H:%M}" for i in intervals)


# ---- slots ------------------------------------------------------------------------------------------

def raw_slots(station: Station, plan: DayPlan) -> list[tuple[datetime, datetime, int]]:
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


def closures_between(station_ids: list[int], first: date, last: date) -> dict[int, dict[date, str | None]]:
    out: dict[int, dict[date, str | None]] = {sid: {} for sid in station_ids}
    if not station_ids:
        return out
    rows = db.session.execute(select(StationClosure.station_id, StationClosure.day, StationClosure.reason).where(
        StationClosure.station_id.in_(station_ids), StationClosure.day >= first, StationClosure.day <= last))
    for station_id, day, reason in rows:
        out[station_id][day] = reason
    return out


def loads_between(station_ids: list[int], start: datetime, end: datetime) -> dict[tuple[int, datetime], int]:
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
    plan = day_plan(station, day, calendar, closures_between([station.id], day, day)[station.id])
    raw = raw_slots(station, plan) if plan.open else []
    if not raw:
        return plan, []
    loads = loads_between([station.id], raw[0][0], raw[-1][1])
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
    closures = closures_between(ids, first_day, last_day)
    loads = loads_between(ids, at_local(first_day), at_local(last_day + timedelta(days=1)))
    earliest = bookable_from(now)
    found: list[Slot] = []
    day = first_day
    while day <= last_day:
        day_found: list[Slot] = []
        for station in stations:
            plan = day_plan(station, day, calendar, closures[station.id])
            for start, end, cap in raw_slots(station, plan) if plan.open else []:
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
    local_start = to_local(start)
    inside = any(i.opens <= local_start.time() < i.closes for i in plan.intervals)
    if inside:
        raise SlotError("not_aligned", f"{local_start:%H:%M} 不是预约时段的开始时间，每{station.slot_minutes}分钟一个时段"
                                       f"（{day_label(day, today)}：{hours_text(plan.intervals)}）")
    raise SlotError("outside_hours", f"{local_start:%H:%M} 不在代办站的办公时间内"
                                     f"（{day_label(day, today)}：{hours_text(plan.intervals)}）")


