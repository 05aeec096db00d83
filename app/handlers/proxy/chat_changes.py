"""Chat about the resident's existing bookings: move one, cancel one, and "my progress" lines."""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.handlers.proxy.bookings import booking_by_code, cancel_booking, code_from_text, upcoming
from app.handlers.proxy.cases import resident_cases
from app.handlers.proxy.chat_offers import (
    FLOW,
    do_reschedule,
    exact_slots,
    item_for,
    not_for_residents,
    offer,
)
from app.handlers.proxy.chat_times import merge_understanding
from app.handlers.proxy.common import day_label, slot_label
from app.handlers.proxy.errors import BookingError
from app.handlers.proxy.stations import stations_for
from app.handlers.proxy.views import progress_text
from app.localtime import local_date
from app.models.proxy import BOOKING_STATUS_LABELS, Booking, BookingStatus

RESCHEDULE_WORDS = re.compile(r"改到|改成|改在|改为|换到|换成|改约|改期|调到|推迟到|提前到|延后到|"
                              r"[改换][一下个]*(?:预约)?(?:的)?时间")
EVENT_WORDS = re.compile(r"活动|报名|义诊|讲座|课堂|志愿")


def target_bookings(ctx, now: datetime) -> tuple[list[Booking], str | None]:
    """The resident's bookings the message refers to: by code, else by item/date. (bookings, code)"""
    text = getattr(ctx.inbound, "text", None) or ""
    code = code_from_text(text)
    if code is not None:
        booking = booking_by_code(code)
        if booking is None or booking.resident_id != ctx.resident.id:
            return [], code
        return [booking], code
    bookings = upcoming(ctx.resident.id, now=now)
    if not bookings:
        return [], None
    community_id = bookings[0].community_id
    item = item_for(ctx, community_id)
    if item is not None:
        bookings = [b for b in bookings if b.service_item_id == item.id]
    return bookings, None


def handle_reschedule(ctx):
    """"改到周五下午" / "D7K3Q9 改到明天上午9点": move the resident's booking."""
    refused = not_for_residents(ctx)
    if refused is not None:
        return refused
    now = ctx.now
    bookings, code = target_bookings(ctx, now)
    if code is not None and not bookings:
        return ctx.reply(f"没有找到您名下预约码为 {code} 的预约，请核对后再试。", "bookings.not_found")
    bookings = [b for b in bookings if b.status == BookingStatus.CONFIRMED.value]
    if not bookings:
        return None
    if len(bookings) > 1:
        lines = ["您有多个代办预约，请说明改哪一个，例如“{} 改到周五下午”：".format(bookings[0].code)]
        lines += [f"· {b.code} {b.service_item.name} {slot_label(b.slot_start, None, local_date(now))}"
                  for b in bookings]
        return ctx.reply("\n".join(lines), "bookings.which")
    booking = bookings[0]
    stations = stations_for(booking.community_id)
    when = merge_understanding(ctx, now)
    intro = [f"您预约的“{booking.service_item.name}”原定{slot_label(booking.slot_start, None, local_date(now))}"
             f"（预约码 {booking.code}）。"]
    if when.invalid:
        intro.append(f"“{when.invalid}”不是有效的时间。")
        return offer(ctx, booking.service_item, stations, now, intro=intro, mode="reschedule", booking=booking,
                     handled_by="bookings.reschedule_offer")
    if when.day is not None and when.clock is not None:
        exact = exact_slots(stations, when, now)
        if exact:
            station = next(s for s in stations if s.id == exact[0].station_id)
            return do_reschedule(ctx, booking, station, exact[0].start, now, stations)
    if not when.given:
        intro.append("请问改到什么时候？")
    return offer(ctx, booking.service_item, stations, now, intro=intro, when=when, mode="reschedule",
                 booking=booking, handled_by="bookings.reschedule_offer")


def handle_cancel(ctx):
    """The feature's cancel: "明天的预约取消吧" / "取消预约 D7K3Q9". None when nothing of ours matches."""
    if ctx.resident is None:
        return None
    text = getattr(ctx.inbound, "text", None) or ""
    now = ctx.now
    code = code_from_text(text)
    if code is None and EVENT_WORDS.search(text) and not re.search(r"代办|预约", text):
        return None  # an event signup: the events handler's business
    if RESCHEDULE_WORDS.search(text):
        return handle_reschedule(ctx)
    bookings, code = target_bookings(ctx, now)
    if code is not None and not bookings:
        return ctx.reply(f"没有找到您名下预约码为 {code} 的预约，请核对后再试。", "bookings.not_found")
    if code is not None:
        booking = bookings[0]
        if booking.status != BookingStatus.CONFIRMED.value:
            return ctx.reply(f"预约 {booking.code}（{booking.service_item.name}）{BOOKING_STATUS_LABELS[booking.status]}，"
                             f"无需取消。", "bookings.cancel_noop")
    else:
        if not bookings:
            return None
        when = merge_understanding(ctx, now)
        item_named = item_for(ctx, bookings[0].community_id) is not None
        if not (re.search(r"代办|预约", text) or when.day is not None or item_named):
            # A bare "取消" could mean anything (the router ends flows on it): never cancel on a guess.
            lines = ["您要取消代办预约吗？请回复“取消预约 预约码”确认："]
            lines += [f"· {b.code} {b.service_item.name} {slot_label(b.slot_start, None, local_date(now))}"
                      for b in bookings]
            return ctx.reply("\n".join(lines), "bookings.cancel_confirm")
        if when.day is not None:
            on_day = [b for b in bookings if local_date(b.slot_start) == when.day]
            if not on_day:
                return ctx.reply(f"您{day_label(when.day, local_date(now))}没有代办预约。", "bookings.cancel_none")
            bookings = on_day
        if len(bookings) > 1:
            lines = ["您有多个代办预约，请回复“取消预约 预约码”："]
            lines += [f"· {b.code} {b.service_item.name} {slot_label(b.slot_start, None, local_date(now))}"
                      for b in bookings]
            return ctx.reply("\n".join(lines), "bookings.which")
        booking = bookings[0]
    try:
        cancel_booking(booking, by="resident", resident=ctx.resident, now=now)
    except BookingError as exc:
        return ctx.reply(exc.message, "bookings.cancel_refused", reason=exc.code)
    if (ctx.state or {}).get("flow") == FLOW:
        ctx.end_flow()
    return ctx.reply(f"已取消您{slot_label(booking.slot_start, None, local_date(now))}的“{booking.service_item.name}”"
                     f"代办预约（预约码 {booking.code}）。需要时可再说“预约代办{booking.service_item.name}”。",
                     "bookings.cancelled", booking_code=booking.code)


def progress_lines(ctx) -> list[str]:
    """The feature's progress: the resident's upcoming bookings and cases ("我的尊老金办到哪了")."""
    if ctx.resident is None:
        return []
    now = ctx.now
    today = local_date(now)
    item_id = None
    community_id = ctx.community_id or ctx.resident.community_id
    if community_id is not None:
        item = item_for(ctx, community_id)
        item_id = item.id if item is not None else None
    lines = []
    for b in upcoming(ctx.resident.id, now=now, item_id=item_id):
        lines.append(f"代办预约 {b.code}：{b.service_item.name}，{slot_label(b.slot_start, b.slot_end, today)}，"
                     f"{b.station.name}。")
    checked_in = db.session.scalars(select(Booking).where(
        Booking.resident_id == ctx.resident.id, Booking.status == BookingStatus.CHECKED_IN.value,
        *([Booking.service_item_id == item_id] if item_id else []))).all()
    for b in checked_in:
        lines.append(f"{b.service_item.name}（预约码 {b.code}）：已签到，工作人员正在受理材料。")
    for case in resident_cases(ctx.resident.id, item_id=item_id):
        lines.append(progress_text(case))
    return lines
