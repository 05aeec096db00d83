"""Offering slots in chat and carrying out the resident's pick, shared by booking and rescheduling.

``offer`` answers with numbered free slots and remembers them in the dialogue
state (flow ``book_proxy``); ``do_book`` / ``do_reschedule`` act on the pick and
answer with the confirmation, or offer again when the slot was just taken.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app

from app.handlers.proxy.availability import Slot, closures_between, day_plan, free_slots, last_bookable_day, spread
from app.handlers.proxy.bookings import book, reschedule
from app.handlers.proxy.catalogue import find_item, match_item
from app.handlers.proxy.chat_times import When
from app.handlers.proxy.common import DIRECT_CHANNELS, PERIOD_LABELS, day_label, slot_label
from app.handlers.proxy.errors import BookingError
from app.handlers.proxy.reminders import DAY_BEFORE, HOUR_BEFORE, reminder_times
from app.localtime import local_date, to_local
from app.models.proxy import Booking, ServiceItem, Station
from app.workcal import load_calendar

FLOW = "book_proxy"


def not_for_residents(ctx):
    """Staff book for residents in the mini-program, not by chat; None for a resident."""
    if ctx.resident is None:
        return ctx.reply("工作人员请在小程序“代办预约”里为居民登记预约。", "bookings.staff")
    return None


def item_for(ctx, community_id: int) -> ServiceItem | None:
    """The catalogue item the message names: the bot's service slot, else a name or alias in the text."""
    slots = getattr(ctx.understanding, "slots", None) or {}
    if slots.get("service"):
        item = find_item(community_id, slots["service"])
        if item is not None and item.active:
            return item
    return match_item(community_id, getattr(ctx.inbound, "text", None) or "")


def slot_ref(slot: Slot) -> dict[str, Any]:
    return {"station_id": slot.station_id, "start": slot.start.isoformat()}


def offer_lines(slots: list[Slot], stations: dict[int, Station], today: date) -> list[str]:
    many = len({s.station_id for s in slots}) > 1 or len(stations) > 1
    return [f"{n}）{slot_label(s.start, s.end, today)}" + (f"  {stations[s.station_id].name}" if many else "")
            for n, s in enumerate(slots, start=1)]


def materials_lines(item: ServiceItem) -> list[str]:
    lines = []
    if item.materials:
        lines.append("请携带：")
        lines.extend(f"· {m}" for m in item.materials)
    lines.append("需本人到场办理。" if item.visit_required else "本人行动不便的，家属可代为携带材料办理。")
    return lines


def _covers(slot: Slot, clock) -> bool:
    return to_local(slot.start).time() <= clock < to_local(slot.end).time()


def window_slots(stations: list[Station], when: When, now: datetime) -> list[Slot]:
    """Free slots of the day/period asked for; with a clock time, the slot around it first, then later ones."""
    slots = free_slots(stations, now=now, first_day=when.day, last_day=when.day, period=when.period)
    if when.clock is not None:
        wanted = [s for s in slots if _covers(s, when.clock)]
        later = [s for s in slots if to_local(s.start).time() > when.clock]
        slots = wanted + later
    return slots


def exact_slots(stations: list[Station], when: When, now: datetime) -> list[Slot]:
    """The free slots that contain the clock time asked for."""
    return [s for s in window_slots(stations, when, now) if _covers(s, when.clock)]


def why_not(stations: list[Station], when: When, now: datetime) -> str:
    """Why a requested day/time has nothing free, in Chinese."""
    today = local_date(now)
    if when.day is not None:
        if when.day < today:
            return f"{day_label(when.day)}已经过去了"
        if when.day > last_bookable_day(now):
            return f"只能预约{current_app.config['PROXY_BOOKING_DAYS_AHEAD']}天以内的时间"
        calendar = load_calendar()
        closures = closures_between([s.id for s in stations], when.day, when.day)
        plans = [day_plan(s, when.day, calendar, closures[s.id]) for s in stations]
        if not any(p.open for p in plans):
            return plans[0].message or f"{day_label(when.day)}代办站不开放"
        if when.clock is not None:
            inside = any(i.opens <= when.clock < i.closes for p in plans if p.open for i in p.intervals)
            if not inside:
                hours = "；".join(f"{' '.join(f'{i.opens:%H:%M}–{i.closes:%H:%M}' for i in p.intervals)}"
                                 for p in plans if p.open)
                return f"{when.clock:%H:%M}不在办公时间内（{day_label(when.day, today)}：{hours}）"
    what = (day_label(when.day, today) if when.day else "") + (PERIOD_LABELS.get(when.period or "", "")) + \
        (f"{when.clock:%H:%M}" if when.clock else "")
    return f"{what or '所选时间'}已约满或已过可预约时间"


def offer(ctx, item: ServiceItem, stations: list[Station], now: datetime, *, intro: list[str],
          when: When | None = None, mode: str = "book", booking: Booking | None = None, handled_by: str):
    """Reply with numbered slots and remember them in the flow state."""
    count = int(current_app.config.get("PROXY_OFFER_SLOTS", 3))
    today = local_date(now)
    lines = list(intro)
    slots: list[Slot] = []
    if when is not None and when.given:
        slots = window_slots(stations, when, now)[:count]
        if not slots:
            lines.append(f"{why_not(stations, when, now)}。")
    if not slots:
        slots = spread(free_slots(stations, now=now), count)
        if slots and when is not None and when.given:
            lines.append("最近可预约的时间：")
        elif slots:
            lines.append("可预约的时间：")
    elif when is not None and when.given:
        lines.append("可预约的时间：")
    if not slots:
        lines.append(f"近{current_app.config['PROXY_BOOKING_DAYS_AHEAD']}天的预约都已约满，请过几天再试，"
                     f"或直接到代办站咨询。")
        ctx.end_flow()
        return ctx.reply("\n".join(lines), handled_by, item=item.key, offers=0)
    station_map = {s.id: s for s in stations}
    lines.extend(offer_lines(slots, station_map, today))
    lines.append("请回复序号，或直接说时间（如“周五下午”）。")
    data = {"step": "slot", "item": item.key, "mode": mode, "offers": [slot_ref(s) for s in slots], "tries": 0}
    if booking is not None:
        data["booking_id"] = booking.id
    ctx.start_flow(FLOW, **data)
    return ctx.reply("\n".join(lines), handled_by, item=item.key, offers=len(slots))


def confirmation(booking: Booking, now: datetime, *, rescheduled: bool = False) -> str:
    station, item = booking.station, booking.service_item
    lines = ["改约成功！" if rescheduled else "预约成功！",
             f"事项：{item.name}",
             f"时间：{slot_label(booking.slot_start, booking.slot_end, local_date(now))}",
             f"地点：{station.name}" + (f"（{station.address}）" if station.address else ""),
             f"预约码：{booking.code}"]
    if not rescheduled:
        lines.extend(materials_lines(item))
    hints = []
    labels = {DAY_BEFORE: "前一天晚上",
              HOUR_BEFORE: f"开始前{current_app.config.get('PROXY_REMINDER_MINUTES_BEFORE', 60)}分钟"}
    ahead = [labels[k] for k, due in reminder_times(booking).items() if now < due < booking.slot_start]
    if ahead:
        hints.append(f"我们会在{'和'.join(ahead)}提醒您。")
    hints.append(f"如需取消，回复“取消预约 {booking.code}”；改时间可说“改到周五下午”。")
    return "\n".join(lines + hints)


def chat_fields(ctx) -> dict[str, Any]:
    inbound = ctx.inbound
    direct = inbound.channel in DIRECT_CHANNELS and getattr(inbound, "chat_type", "private") != "group"
    return {"source": "chat", "channel": inbound.channel,
            "recipient_id": inbound.sender_id if direct else None,
            "chat_id": inbound.chat_id, "group_id": ctx.group.id if getattr(ctx, "group", None) else None}


def idempotency(ctx) -> str:
    message = getattr(ctx, "message", None)
    if message is not None and getattr(message, "id", None) is not None:
        return f"chat:{message.id}"
    return f"chat:{ctx.inbound.channel}:{ctx.inbound.dedupe_key}"


def refusal_in_chat(exc: BookingError) -> str:
    """The refusal with what to say next in chat; the error itself carries no chat instructions
    (the API answers it to app users, who have buttons, not a chat box)."""
    code = exc.extra.get("booking_code")
    if exc.code != "already_booked" or not code:
        return exc.message
    return f"{exc.message}如需改时间，请说“改到周五下午”；取消请说“取消预约 {code}”。"


def do_book(ctx, item: ServiceItem, station: Station, start: datetime, now: datetime, stations: list[Station]):
    try:
        result = book(resident=ctx.resident, item=item, station=station, slot_start=start,
                      idempotency_key=idempotency(ctx), now=now, **chat_fields(ctx))
    except BookingError as exc:
        if exc.code in ("already_booked", "too_many"):
            ctx.end_flow()
            return ctx.reply(refusal_in_chat(exc), "bookings.refused", reason=exc.code)
        intro = [("这个时间刚刚被约满了。" if exc.code == "slot_full" else exc.message)]
        return offer(ctx, item, stations, now, intro=intro, handled_by="bookings.retry")
    ctx.end_flow()
    return ctx.reply(confirmation(result.booking, now), "bookings.confirmed", booking_code=result.booking.code,
                     booking_id=result.booking.id)


def do_reschedule(ctx, booking: Booking, station: Station, start: datetime, now: datetime,
                  stations: list[Station]):
    try:
        reschedule(booking, slot_start=start, resident=ctx.resident, station=station, now=now)
    except BookingError as exc:
        if exc.code in ("bad_state", "started", "not_found"):
            ctx.end_flow()
            return ctx.reply(exc.message, "bookings.refused", reason=exc.code)
        intro = [("这个时间刚刚被约满了。" if exc.code == "slot_full" else exc.message)]
        return offer(ctx, booking.service_item, stations, now, intro=intro, mode="reschedule", booking=booking,
                     handled_by="bookings.retry")
    ctx.end_flow()
    return ctx.reply(confirmation(booking, now, rescheduled=True), "bookings.rescheduled",
                     booking_code=booking.code, booking_id=booking.id)
