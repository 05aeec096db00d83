"""The bot's events conversation: sign up ("周六义诊报个名"), ask ("四点半课堂还能报吗"),
join the waiting list, cancel ("取消报名") and "my progress" lines. Exports ``CHAT``.

A question or an ambiguous request opens the ``event_signup`` flow (choose / confirm /
waitlist / cancel_confirm); ``continue_flow`` reads the next answer, and three answers
it cannot read end the flow.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.events import capacity, matching
from app.handlers.events.audience import check_audience, membership
from app.handlers.events.errors import EventError
from app.handlers.events.matching import BOT_HORIZON, family
from app.handlers.events.notices import notice_target_for_chat
from app.handlers.events.signups import active_signups, cancel_signup, check_open, find_signup, signup_for
from app.handlers.events.text import format_deadline, format_when
from app.handlers.events.views import upcoming_events
from app.handlers.messaging.features import ChatFeature
from app.localtime import local_date
from app.models import Resident
from app.models.events import ACTIVE_SIGNUP, Event, EventStatus, Signup, SignupStatus

if TYPE_CHECKING:
    from app.handlers.conversation.context import ConversationContext

FLOW = "event_signup"


def _option_line(index: int, event: Event, action: str = "signup", mine: Signup | None = None) -> str:
    if action == "cancel":
        return f"{index}. {event.title} {format_when(event)}"
    if mine is not None and mine.status in ACTIVE_SIGNUP:
        state = "已报名" if mine.status == SignupStatus.CONFIRMED.value else f"候补第{capacity.waiting_rank(mine)}位"
        return f"{index}. {event.title} {format_when(event)}（您{state}）"
    counter = capacity.counter(event.id)
    left = "不限名额" if counter.places_left is None else (f"剩{counter.places_left}个名额" if counter.places_left
                                                        else "已满可候补")
    return f"{index}. {event.title} {format_when(event)}（{left}）"


def _eligible(event: Event, resident: Resident) -> bool:
    """Whether the resident is in the event's audience (lists offer only what they may join)."""
    try:
        check_audience(event, resident, membership(event.community_id, resident.id))
    except EventError:
        return False
    return True


def _options_reply(ctx: ConversationContext, events: list[Event], intro: str, action: str):
    mine: dict[int, Signup] = {}
    if action == "signup":
        events = (matching.one_per_family([e for e in events if _eligible(e, ctx.resident)])
                  or matching.one_per_family(events))
        mine = {s.event_id: s for s in active_signups(ctx.resident.id)}
    events = events[:6]
    lines = [intro] + [_option_line(i, e, action, mine.get(e.id)) for i, e in enumerate(events, 1)]
    lines.append("请回复序号" + ("报名" if action == "signup" else "取消") + "，回复“算了”退出。")
    ctx.start_flow(FLOW, step="choose", action=action, options=[e.id for e in events], tries=0)
    return ctx.reply("\n".join(lines), "events.choose", event_ids=[e.id for e in events])


def _open_for_signup(event: Event) -> bool:
    return event.status == EventStatus.PUBLISHED.value and clock_now() < event.deadline


def _began_on(event: Event, day: date) -> bool:
    """Whether an occurrence of the event's family on ``day`` has already started."""
    same_day = db.session.scalars(select(Event).where(
        Event.community_id == event.community_id, Event.status == EventStatus.PUBLISHED.value,
        Event.starts_at <= clock_now(), Event.starts_at > clock_now() - timedelta(days=2))).all()
    return any(family(e) == family(event) and local_date(e.starts_at) == day for e in same_day)


def _next_open_in_family(event: Event) -> Event | None:
    for candidate in upcoming_events(event.community_id, horizon=BOT_HORIZON):
        if candidate.id != event.id and family(candidate) == family(event) and _open_for_signup(candidate):
            return candidate
    return None


def _offer_next(ctx: ConversationContext, closed: Event, message: str):
    """The event no longer takes sign-ups: offer the next of its family, if there is one."""
    nxt = _next_open_in_family(closed)
    if nxt is None:
        return None
    ctx.start_flow(FLOW, step="confirm", event_id=nxt.id, tries=0)
    return ctx.reply(f"{message}。下一次是{format_when(nxt)}，要报名下一次吗？回复“好”报名。",
                     "events.closed", event_id=closed.id, next_event_id=nxt.id)


def _nothing_found(ctx: ConversationContext, found: matching.Resolution, text: str):
    community_id = ctx.community_id or ctx.resident.community_id
    upcoming = [e for e in upcoming_events(community_id, horizon=BOT_HORIZON)
                if _open_for_signup(e)] if community_id else []
    day = f"{found.date.month}月{found.date.day}日" if found.date else ""
    nearest = [e for e in found.named_events if _open_for_signup(e)]
    if found.date is not None and nearest:
        ctx.start_flow(FLOW, step="confirm", event_id=nearest[0].id, tries=0)
        state = "已经开始了" if _began_on(nearest[0], found.date) else "没有安排"
        return ctx.reply(f"{day}的“{nearest[0].title}”{state}。最近一次是{format_when(nearest[0])}，"
                         "要报名这一次吗？回复“好”报名。", "events.other_date", event_id=nearest[0].id)
    if found.date is not None and upcoming:
        return _options_reply(ctx, upcoming, f"{day}没有可报名的活动。近期活动：", "signup")
    if upcoming:
        intro = "没有找到您说的活动。近期可以报名的活动：" if matching.mentions_something(text) else "近期可以报名的活动："
        return _options_reply(ctx, upcoming, intro, "signup")
    return ctx.reply("近期没有可以报名的社区活动，有新活动会在群里通知大家。", "events.none")


def handle_signup(ctx: ConversationContext):
    """Intent event_signup: "周六义诊报个名", "四点半课堂还能报吗"."""
    if ctx.resident is None:
        return ctx.reply("工作人员请在小程序“活动管理”中为居民登记报名。", "events.staff")
    text = ctx.inbound.text or ""
    if not (ctx.community_id or ctx.resident.community_id):
        return ctx.reply("还不知道您住在哪个社区。请在小程序里选择所在社区后再报名，或者在本社区的居民群里说要报名的活动。",
                         "events.no_community")
    found = matching.resolve(ctx)
    if not found.events:
        return _nothing_found(ctx, found, text)
    families = {family(e) for e in found.events}
    open_events = [e for e in found.events if _open_for_signup(e)]
    if len(families) > 1 and len(found.events) > 1:
        return _options_reply(ctx, open_events or found.events, "您想报名哪一个活动？", "signup")
    if not open_events:
        closed = found.events[0]
        try:
            check_open(closed)
        except EventError as exc:
            return _offer_next(ctx, closed, exc.message) or ctx.reply(exc.message, "events.closed",
                                                                      event_id=closed.id)
    event = open_events[0]
    if matching.is_question(text):
        return _availability_reply(ctx, event)
    return _do_signup(ctx, event, waitlist=False)


def _availability_reply(ctx: ConversationContext, event: Event):
    counter = capacity.counter(event.id)
    mine = find_signup(event.id, ctx.resident.id, None)
    if mine is not None and mine.status in ACTIVE_SIGNUP:
        if mine.status == SignupStatus.WAITING.value:
            return ctx.reply(f"您已在“{event.title}”（{format_when(event)}）的候补名单上，"
                             f"目前第{capacity.waiting_rank(mine)}位。", "events.availability", event_id=event.id)
        return ctx.reply(f"您已报名“{event.title}”（{format_when(event)}），届时请准时参加。",
                         "events.availability", event_id=event.id)
    head = f"“{event.title}”（{format_when(event)}"
    head += f"，{event.place}）" if event.place else "）"
    if counter.places_left is None:
        state = "不限名额"
    elif counter.places_left > 0:
        state = f"还有{counter.places_left}个名额"
    else:
        waiting = capacity.waiting_count(event.id)
        state = f"名额已满，目前{waiting}人候补" if waiting else "名额已满，可以排队候补"
    ctx.start_flow(FLOW, step="confirm", event_id=event.id, tries=0)
    action = "回复“好”排队候补" if counter.places_left == 0 else "回复“好”即可报名"
    return ctx.reply(f"{head}{state}，报名截止{format_deadline(event)}。{action}。", "events.availability",
                     event_id=event.id, places_left=counter.places_left)


def _refused(ctx: ConversationContext, event: Event, exc: EventError):
    if exc.code == "full":
        ctx.start_flow(FLOW, step="waitlist", event_id=event.id, tries=0)
        waiting = exc.extra.get("waiting") or 0
        queue = f"目前已有{waiting}人候补，" if waiting else ""
        return ctx.reply(f"“{event.title}”（{format_when(event)}）名额已满，{queue}需要排队候补吗？"
                         "回复“候补”登记，有人取消时会自动为您转为正式报名并通知您。",
                         "events.full", event_id=event.id)
    if exc.code in ("deadline_passed", "started", "ended"):
        offer = _offer_next(ctx, event, exc.message)
        if offer is not None:
            return offer
    ctx.end_flow()
    return ctx.reply(exc.message, "events.refused", event_id=event.id, code=exc.code)


def _do_signup(ctx: ConversationContext, event: Event, *, waitlist: bool):
    try:
        result = signup_for(event.id, resident=ctx.resident, idempotency_key=f"chat:{ctx.message.id}",
                            waitlist=waitlist, source="chat", notify_target=notice_target_for_chat(ctx))
    except EventError as exc:
        return _refused(ctx, event, exc)
    ctx.end_flow()
    signup, event = result.signup, result.event
    if signup.status == SignupStatus.WAITING.value:
        return ctx.reply(f"已为您登记“{event.title}”（{format_when(event)}）的候补，目前排第{result.rank}位。"
                         "有人取消时会自动为您转为正式报名并通知您。", "events.waiting",
                         event_id=event.id, signup_id=signup.id, position=result.rank)
    lines = [f"报名成功！{event.title}", f"时间：{format_when(event)}"]
    if event.place:
        lines.append(f"地点：{event.place}")
    lines.append("请准时参加，签到时在小程序“我的活动”出示签到码。如需取消，回复“取消报名”。")
    return ctx.reply("\n".join(lines), "events.signup", event_id=event.id, signup_id=signup.id)


def _retry(ctx: ConversationContext, state: dict, prompt: str):
    tries = int(state.get("tries") or 0) + 1
    if tries >= 3:
        ctx.end_flow()
        return ctx.reply("没能看懂您的回复，已退出报名。需要时请再说一次活动名称。", "events.flow_exit")
    data = {k: v for k, v in state.items() if k not in ("flow", "tries")}
    ctx.start_flow(FLOW, tries=tries, **data)
    return ctx.reply(prompt, "events.retry")


def _chosen(state: dict, text: str) -> Event | None:
    """The option picked by number, or by a name or date that fits exactly one option."""
    options = list(state.get("options", []))
    number = matching.choice_number(text)
    if number is not None and 1 <= number <= len(options):
        return db.session.get(Event, options[number - 1])
    events = [e for e in (db.session.get(Event, i) for i in options) if e is not None]
    hint = matching.date_hint(text, local_date(clock_now()))
    named = [e for e in events if matching.text_matches(e, text) == 3 or
             (hint is not None and local_date(e.starts_at) == hint)]
    return named[0] if len(named) == 1 else None


def _choose_step(ctx: ConversationContext, state: dict, text: str):
    chosen = _chosen(state, text)
    if chosen is None:
        return _retry(ctx, state, f"请回复序号（1–{len(state.get('options', []))}），或回复“算了”退出。")
    if state.get("action") == "cancel":
        signup = find_signup(chosen.id, ctx.resident.id, None)
        ctx.end_flow()
        if signup is None:
            return ctx.reply("没有找到这条报名。", "events.cancel_missing")
        return _do_cancel(ctx, signup)
    return _do_signup(ctx, chosen, waitlist=False)


def _cancel_confirm_step(ctx: ConversationContext, state: dict, text: str):
    signup = db.session.get(Signup, state.get("signup_id") or 0)
    if signup is None or signup.resident_id != ctx.resident.id:
        ctx.end_flow()
        return ctx.reply("没有找到这条报名。", "events.cancel_missing")
    if matching.is_yes(text) or re.search(r"(确认|确定|取消)", text):
        ctx.end_flow()
        return _do_cancel(ctx, signup)
    return _retry(ctx, state, "确认取消请回复“是”，不取消请回复“算了”。")


def _confirm_step(ctx: ConversationContext, state: dict, text: str, step: str):
    event = db.session.get(Event, state.get("event_id") or 0)
    if event is None:
        ctx.end_flow()
        return ctx.reply("这个活动已经不存在了。", "events.flow_exit")
    if matching.is_yes(text):
        return _do_signup(ctx, event, waitlist=step == "waitlist" or capacity.places_left(event) == 0)
    return _retry(ctx, state, "要报名请回复“好”，不需要请回复“算了”。" if step == "confirm"
                  else "要排队候补请回复“候补”，不需要请回复“算了”。")


def _declines(text: str, step: str | None) -> bool:
    """"算了", "不用了" end the flow; "取消" while confirming a cancellation is a yes."""
    confirming = step == "cancel_confirm" and "取消" in text and not re.search(r"(不|别|算了)", text)
    return matching.is_no(text) and matching.choice_number(text) is None and not confirming


def continue_flow(ctx: ConversationContext):
    """The resident's answer to a question we asked (which event / sign up? / join the waiting list?)."""
    state = ctx.state or {}
    text = (ctx.inbound.text or "").strip()
    step = state.get("step")
    if ctx.resident is None:
        ctx.end_flow()
        return ctx.reply("工作人员请在小程序中操作。", "events.staff")
    if _declines(text, step):
        ctx.end_flow()
        if step == "cancel_confirm":
            return ctx.reply("好的，您的报名保留不变。", "events.flow_exit")
        return ctx.reply("好的，已取消。需要时随时找我。", "events.flow_exit")
    if step == "choose":
        return _choose_step(ctx, state, text)
    if step == "cancel_confirm":
        return _cancel_confirm_step(ctx, state, text)
    if step in ("confirm", "waitlist"):
        return _confirm_step(ctx, state, text, step)
    ctx.end_flow()
    return ctx.reply("好的。需要报名活动时，直接说活动名称就可以，比如“周二义诊报名”。", "events.flow_exit")


def _cancel_candidates(ctx: ConversationContext, signups: list[Signup], events: dict[int, Event], text: str):
    """The sign-ups the message is about: named by slot or text, narrowed by date. (signups, chosen event)"""
    slots = dict(getattr(ctx.understanding, "slots", None) or {})
    chosen_event = matching.event_from_key(slots.get("event"))
    matches = signups
    if chosen_event is not None:
        matches = [s for s in signups if family(events[s.event_id]) == family(chosen_event)] or signups
    else:
        named = [s for s in signups if matching.text_matches(events[s.event_id], text)]
        if named:
            matches = named
    hint = matching.slot_date(slots, text)
    if hint is not None:
        matches = [s for s in matches if local_date(events[s.event_id].starts_at) == hint] or matches
    return matches, chosen_event


def handle_cancel(ctx: ConversationContext):
    """"取消报名": cancel the resident's sign-up (asks which when there are several). None: nothing of mine."""
    if ctx.resident is None:
        return None
    text = ctx.inbound.text or ""
    signups = [s for s in active_signups(ctx.resident.id) if clock_now() < db.session.get(Event, s.event_id).starts_at]
    about_events = bool(re.search(r"(报名|活动|候补)", text))
    if not signups:
        if about_events:
            return ctx.reply("您目前没有可以取消的活动报名。", "events.cancel_none")
        return None
    events = {s.event_id: db.session.get(Event, s.event_id) for s in signups}
    matches, chosen_event = _cancel_candidates(ctx, signups, events, text)
    if len(matches) == 1:
        signup = matches[0]
        if about_events or chosen_event is not None or matching.text_matches(events[signup.event_id], text):
            return _do_cancel(ctx, signup)
        # A bare "不用了/取消" may not be about the sign-up at all: confirm before giving the place away.
        event = events[signup.event_id]
        ctx.start_flow(FLOW, step="cancel_confirm", signup_id=signup.id, tries=0)
        return ctx.reply(f"您是要取消“{event.title}”（{format_when(event)}）的报名吗？回复“是”确认取消。",
                         "events.cancel_confirm", event_id=event.id, signup_id=signup.id)
    return _options_reply(ctx, [events[s.event_id] for s in matches], "您报名了以下活动，要取消哪一个？", "cancel")


def _do_cancel(ctx: ConversationContext, signup: Signup):
    try:
        result = cancel_signup(signup.id, actor_type="resident", actor_id=ctx.resident.id)
    except EventError as exc:
        return ctx.reply(exc.message, "events.cancel_refused", code=exc.code)
    event = result.event
    was = "候补" if signup.status == SignupStatus.WAITING.value and not result.promoted else "报名"
    return ctx.reply(f"已为您取消“{event.title}”（{format_when(event)}）的{was}。欢迎下次参加！",
                     "events.cancel", event_id=event.id, signup_id=signup.id,
                     promoted=[p.id for p in result.promoted])


def progress_lines(ctx: ConversationContext) -> list[str]:
    """The resident's sign-ups and waiting positions, for "我报的活动怎么样了"."""
    if ctx.resident is None:
        return []
    lines = []
    for signup in active_signups(ctx.resident.id):
        event = db.session.get(Event, signup.event_id)
        state = f"候补第{capacity.waiting_rank(signup)}位" if signup.status == SignupStatus.WAITING.value else "已报名"
        lines.append(f"活动：{event.title} {format_when(event)} — {state}")
    return lines


CHAT = ChatFeature(
    intents={FLOW: handle_signup},
    flows={FLOW: continue_flow},
    progress=progress_lines,
    cancel=handle_cancel,
    vocabulary={"events": matching.event_terms}, vocabulary_models=(Event,),
)
