"""Proxy-handling in chat: "想预约代办尊老金" → materials and numbered free slots → a booking.

The conversation router (app/handlers/conversation) loads ``CHAT`` at start-up:
the booking intent and its multi-turn flow live here, moving and cancelling
bookings and the progress lines in chat_changes.py, the slot offers shared by
both in chat_offers.py. The bot's vocabulary of service items and the answers
to "办居住证要带什么材料" come from the catalogue.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.bot import ServiceTerm
from app.extensions import db
from app.handlers.messaging.features import ChatFeature
from app.handlers.proxy.bookings import upcoming
from app.handlers.proxy.catalogue import (
    catalogue_path,
    find_item,
    format_item,
    items_for,
    match_item,
    read_catalogue_file,
)
from app.handlers.proxy.chat_changes import RESCHEDULE_WORDS, handle_cancel, handle_reschedule, progress_lines
from app.handlers.proxy.chat_offers import (
    FLOW,
    do_book,
    do_reschedule,
    exact_slots,
    item_for,
    materials_lines,
    not_for_residents,
    offer,
    why_not,
    window_slots,
)
from app.handlers.proxy.chat_times import merge_understanding, parse_choice
from app.handlers.proxy.common import slot_label
from app.handlers.proxy.errors import CatalogueError
from app.handlers.proxy.stations import stations_for
from app.localtime import local_date
from app.models import Community
from app.models.proxy import Booking, ServiceItem, Station

MAX_TRIES = 3


def community_of(ctx) -> Community | None:
    if ctx.community_id is not None:
        return db.session.get(Community, ctx.community_id)
    # A 1:1 chat with a resident not yet linked to a community: a deployment serving a single
    # community with a station can still take the booking.
    ids = db.session.scalars(select(Station.community_id).where(Station.active.is_(True)).distinct()).all()
    return db.session.get(Community, ids[0]) if len(ids) == 1 else None


def list_items(ctx, community_id: int, intro: str):
    items = items_for(community_id)
    if not items:
        ctx.end_flow()
        return ctx.reply("本社区暂未开通代办预约服务，请直接联系社区居委会。", "bookings.no_catalogue")
    shown = items[:12]
    lines = [intro] + [f"{n}. {item.name}" for n, item in enumerate(shown, start=1)]
    lines.append("请回复序号或事项名称" + ("（其他事项直接说名称）" if len(items) > len(shown) else "") + "。")
    ctx.start_flow(FLOW, step="item", items=[i.key for i in shown], tries=0)
    return ctx.reply("\n".join(lines), "bookings.ask_item")


def handle_book(ctx):
    """Intent book_proxy: "想预约代办尊老金" → materials + numbered free slots (or straight to a
    booking when an exact free time was given); "改到周五" → reschedule."""
    refused = not_for_residents(ctx)
    if refused is not None:
        return refused
    text = getattr(ctx.inbound, "text", None) or ""
    if RESCHEDULE_WORDS.search(text):
        reply = handle_reschedule(ctx)
        if reply is not None:
            return reply
    community = community_of(ctx)
    if community is None:
        return ctx.reply("请在您所在社区的居民群里发起预约，或在小程序里绑定社区后预约。", "bookings.no_community")
    item = item_for(ctx, community.id)
    if item is None:
        return list_items(ctx, community.id, "请问您要预约代办哪一项？")
    return start_booking(ctx, community, item)


def start_booking(ctx, community: Community, item: ServiceItem):
    now = ctx.now
    stations = stations_for(community.id)
    if not stations:
        ctx.end_flow()
        phone = f"（电话 {community.phone}）" if community.phone else ""
        return ctx.reply(f"本社区暂未开通代办站预约，请直接联系社区居委会{phone}。", "bookings.no_station")
    existing = upcoming(ctx.resident.id, now=now, item_id=item.id)
    if existing:
        b = existing[0]
        ctx.end_flow()
        return ctx.reply(f"您已预约“{item.name}”：{slot_label(b.slot_start, b.slot_end, local_date(now))}，"
                         f"{b.station.name}，预约码 {b.code}。\n如需改时间，请说“改到周五下午”；"
                         f"取消请说“取消预约 {b.code}”。", "bookings.already", booking_code=b.code)
    when = merge_understanding(ctx, now)
    intro = [f"“{item.name}”可以由社区代办站全程代办。"] + materials_lines(item)
    if when.invalid:
        intro.append(f"“{when.invalid}”不是有效的时间，请从下面选择，或说“明天上午9点”这样的时间。")
        return offer(ctx, item, stations, now, intro=intro, handled_by="bookings.offer")
    if when.day is not None and when.clock is not None:
        exact = exact_slots(stations, when, now)
        if exact:
            station = next(s for s in stations if s.id == exact[0].station_id)
            return do_book(ctx, item, station, exact[0].start, now, stations)
    return offer(ctx, item, stations, now, intro=intro, when=when, handled_by="bookings.offer")


def continue_flow(ctx):
    """The next message inside the booking flow: an item (step "item") or a slot pick (step "slot")."""
    refused = not_for_residents(ctx)
    if refused is not None:
        ctx.end_flow()
        return refused
    state = ctx.state or {}
    community = community_of(ctx)
    if community is None:
        ctx.end_flow()
        return ctx.reply("请在您所在社区的居民群里发起预约，或在小程序里绑定社区后预约。", "bookings.no_community")
    text = getattr(ctx.inbound, "text", None) or ""
    if state.get("step") == "item":
        choice = parse_choice(text)
        keys = state.get("items") or []
        item = None
        if choice is not None and 1 <= choice <= len(keys):
            item = find_item(community.id, keys[choice - 1])
        item = item or item_for(ctx, community.id)
        if item is None or not item.active:
            return _retry(ctx, state, "没有找到这个事项。请回复上面列表中的序号，或说事项名称（如“尊老金”）。")
        return start_booking(ctx, community, item)
    if state.get("step") == "slot":
        return _pick_slot(ctx, state, community)
    ctx.end_flow()
    return handle_book(ctx)


def _retry(ctx, state: dict[str, Any], message: str):
    tries = int(state.get("tries", 0)) + 1
    if tries >= MAX_TRIES:
        ctx.end_flow()
        return ctx.reply("好的，先不预约了。需要时请再说“预约代办”加事项名称。", "bookings.gave_up")
    data = {k: v for k, v in state.items() if k != "flow"}
    data["tries"] = tries
    ctx.start_flow(FLOW, **data)
    return ctx.reply(message, "bookings.retry_prompt")


def _pick_slot(ctx, state: dict[str, Any], community: Community):
    now = ctx.now
    item = find_item(community.id, state.get("item") or "")
    stations = stations_for(community.id)
    if item is None or not item.active or not stations:
        ctx.end_flow()
        return ctx.reply("该事项暂不能预约，请稍后再试或联系社区。", "bookings.unavailable")
    booking = None
    if state.get("mode") == "reschedule":
        booking = db.session.get(Booking, state.get("booking_id") or 0)
        if booking is None or booking.resident_id != ctx.resident.id:
            ctx.end_flow()
            return ctx.reply("没有找到要改期的预约。", "bookings.not_found")
    offers = state.get("offers") or []
    text = getattr(ctx.inbound, "text", None) or ""
    choice = parse_choice(text)
    by_id = {s.id: s for s in stations}
    if choice is not None:
        if not 1 <= choice <= len(offers):
            return _retry(ctx, state, f"请回复1到{len(offers)}之间的序号，或直接说时间（如“周五下午”）。")
        ref = offers[choice - 1]
        station = by_id.get(ref["station_id"])
        start = datetime.fromisoformat(ref["start"])
        if station is None:
            return offer(ctx, item, stations, now, intro=["该代办站已停止预约。"], mode=state.get("mode", "book"),
                         booking=booking, handled_by="bookings.retry")
        if booking is not None:
            return do_reschedule(ctx, booking, station, start, now, stations)
        return do_book(ctx, item, station, start, now, stations)
    when = merge_understanding(ctx, now)
    if when.invalid:
        return _retry(ctx, state, f"“{when.invalid}”不是有效的时间。请回复序号，或说“明天上午9点”“周五下午”这样的时间。")
    if not when.given:
        return _retry(ctx, state, "没听明白您选的时间。请回复序号，或说“明天上午”“周五下午3点”这样的时间。")
    candidates = exact_slots(stations, when, now) if when.clock is not None else window_slots(stations, when, now)
    if not candidates:
        return offer(ctx, item, stations, now, intro=[f"{why_not(stations, when, now)}。"], when=None,
                     mode=state.get("mode", "book"), booking=booking, handled_by="bookings.retry")
    slot = candidates[0]
    if booking is not None:
        return do_reschedule(ctx, booking, by_id[slot.station_id], slot.start, now, stations)
    return do_book(ctx, item, by_id[slot.station_id], slot.start, now, stations)

# ---- what the bot knows of the catalogue ------------------------------------------------------------

def service_terms(community_id: int | None) -> list:
    """The bot's vocabulary of service items: the community's active items, or the default file's."""
    if community_id is not None:
        items = items_for(community_id)
        if items:
            return [ServiceTerm(item.key, item.names) for item in items]
    try:
        entries = _default_entries()
    except CatalogueError:
        return []
    return [ServiceTerm(e["key"], [e["name"], *[a for a in e["aliases"] if a != e["name"]]])
            for e in entries if e.get("active", True)]


_DEFAULT_CACHE: dict[str, Any] = {"stamp": None, "entries": []}


def _default_entries() -> list[dict[str, Any]]:
    """The default catalogue file, parsed again only when it changes on disk.

    The bot asks for the vocabulary on every message; parsing the YAML each
    time cost ~50 ms per message (see docs/benchmarks.md).
    """
    path = catalogue_path()
    try:
        stat = path.stat()
    except OSError:
        return read_catalogue_file(path)  # raises the clear CatalogueError
    stamp = (str(path), stat.st_mtime_ns, stat.st_size)
    if _DEFAULT_CACHE["stamp"] != stamp:
        _DEFAULT_CACHE["entries"] = read_catalogue_file(path)
        _DEFAULT_CACHE["stamp"] = stamp
    return _DEFAULT_CACHE["entries"]


def describe_item(ctx) -> str | None:
    """The feature's info: answers "办居住证要带什么材料" when the message names a catalogue item."""
    slots = getattr(ctx.understanding, "slots", None) or {}
    community_id = ctx.community_id
    item = None
    if community_id is not None and slots.get("service"):
        item = find_item(community_id, slots["service"])
        if item is not None and not item.active:
            item = None
    if item is None and community_id is not None:
        item = match_item(community_id, getattr(ctx.inbound, "text", None) or "")
    if item is None:
        return None
    return format_item(item)

CHAT = ChatFeature(
    intents={"book_proxy": handle_book},
    flows={"book_proxy": continue_flow},
    progress=progress_lines,
    cancel=handle_cancel,
    vocabulary={"services": service_terms}, vocabulary_models=(ServiceItem,),
    info=describe_item,
)
