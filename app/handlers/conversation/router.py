"""The conversation router: every stored inbound message goes through here.

``handle_message`` (installed with ``init_app`` as the core's conversation
handler, see app/handlers/messaging/inbound.py) finds out who wrote (resident
or staff), loads the dialogue state from Redis, asks the bot what the message
means and hands it to the handler of that intent, or to the handler of the
multi-turn flow in progress. Then it saves the state, starts the one-hour reply
clock when a person must answer, and decides whether the bot speaks at all (in
a group it speaks only when addressed or when the message is for the service).

The domains' handlers come from their ``CHAT`` features (registry.py).
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import current_app

from app.bot import Understanding, Vocabulary, get_bot
from app.clock import now as clock_now
from app.extensions import db
from app.handlers.conversation import registry
from app.handlers.conversation.context import ConversationContext
from app.handlers.conversation.identity import find_staff, group_of, resolve_sender
from app.handlers.conversation.own_intents import OWN_HANDLERS, human, replies
from app.handlers.conversation.staff_messages import staff_message
from app.handlers.conversation.state import load_state, save_state
from app.handlers.conversation.vocabulary import vocabulary_for
from app.handlers.messaging.inbound import InboundMessage, Reply
from app.handlers.requests import flag_possible_request
from app.handlers.sla import start_reply_clock
from app.models import Message

log = logging.getLogger("app.handlers.conversation")


def handle_message(message: Message, inbound: InboundMessage) -> Reply | None:
    """The core's conversation handler: one stored inbound message in, what to answer out."""
    now = clock_now()
    group = group_of(message, inbound)
    staff = find_staff(inbound)
    if staff is not None or inbound.is_staff:
        return staff_message(message, inbound, staff, group, now)

    resident, first_contact = resolve_sender(inbound, group)
    community_id = group.community_id if group is not None else (resident.community_id if resident else None)
    if resident is not None:
        message.resident_id = resident.id
    if message.community_id is None and community_id is not None:
        message.community_id = community_id

    state = load_state(inbound)
    vocabulary = None
    # A voice message WeChat transcribed (Recognition) is read like text.
    readable = inbound.msg_type == "text" or (inbound.msg_type == "voice" and bool((inbound.text or "").strip()))
    if not readable:
        understanding = Understanding(text=inbound.text or "", intent="none", confidence=1.0,
                                      mentioned=inbound.mentioned)
    else:
        vocabulary = vocabulary_for(community_id, inbound.vocabulary_version)
        understanding = understand(inbound, now, vocabulary, state)
    ctx = ConversationContext(message=message, inbound=inbound, understanding=understanding, resident=resident,
                              staff=None, group=group, community_id=community_id, now=now, state=dict(state),
                              vocabulary=vocabulary, first_contact=first_contact)
    reply, needs_reply = dispatch(ctx) if readable else (non_text(ctx), False)
    save_state(inbound, ctx.state, loaded=state)

    understanding = ctx.understanding
    if ctx.is_group and not understanding.should_reply and reply.text is not None:
        # The bot never answers chatter in a group, whatever a handler said.
        reply = Reply(text=None, handled_by=reply.handled_by, detail=reply.detail)
    if needs_reply and not reply.detail.get("deferred"):
        # Deferred: the worker starts the clock with the request, from the message's arrival.
        start_clock(ctx, clock_request_id(understanding, reply))
    reply.detail = {**reply.detail, **understanding_record(understanding, needs_reply)}
    if not needs_reply and reply.handled_by in SILENT_HANDLERS and getattr(understanding, "maybe_report", False):
        possible_id = keep_possible(ctx)
        if possible_id is not None:
            reply.detail["possible_request_id"] = possible_id
    return reply


# The router's own answers to chatter: a message a listener or a domain took is not "silent".
SILENT_HANDLERS = frozenset(("none", "chitchat"))


def keep_possible(ctx: ConversationContext) -> int | None:
    """When unsure, do not go silent on a possible report: the duty inbox gets it as 疑似诉求
    (staff convert or dismiss it); the group hears nothing from the bot (docs/bot.md §4)."""
    if not ctx.is_group or ctx.community_id is None:
        return None
    u = ctx.understanding
    # The bot read it as chatter, so it named no category: ask it as a form's text would be asked.
    guess = get_bot().classify_form(ctx.message.text or "")
    row = flag_possible_request(community_id=ctx.community_id, message=ctx.message, likelihood=u.report_likelihood,
                                category=guess.category if guess.category != "other" else None,
                                slots={**u.slots, **{k: v for k, v in (("building", guess.building), ("unit", guess.unit),
                                                                       ("room", guess.room)) if v}},
                                group=ctx.group, resident=ctx.resident)
    return row.id


def understand(inbound: InboundMessage, now: datetime, vocabulary: Vocabulary, state: dict | None) -> Understanding:
    return get_bot().understand(inbound.text, now=now, tz=current_app.config.get("TIMEZONE", "Asia/Shanghai"),
                                chat_type=inbound.chat_type, mentioned=inbound.mentioned, vocab=vocabulary,
                                state=state)


def understanding_record(u: Understanding, needs_reply: bool) -> dict[str, Any]:
    return {"intent": u.intent, "confidence": u.confidence, "category": u.category, "slots": dict(u.slots),
            "needs_reply": needs_reply, "should_reply": u.should_reply}


def dispatch(ctx: ConversationContext) -> tuple[Reply, bool]:
    """Pick the handler; returns (reply, needs a staff reply within the hour)."""
    for listener in registry.listeners():
        reply, ran = registry.call(listener, ctx, "listener")
        if ran and isinstance(reply, Reply):
            return reply, False
    u = ctx.understanding
    flow = ctx.state.get("flow")
    needs_reply = u.needs_reply

    if flow and u.flow_continues:
        handler = registry.flow_handler(flow)
        if handler is not None:
            reply, ran = registry.call(handler, ctx, "flow")
            if ran and isinstance(reply, Reply):
                return reply, needs_reply
            if ran:
                log.warning("conversation: flow handler %s returned %r", registry.name_of(handler), reply)
        # The flow's owner is gone or failed: drop the flow and understand the message on its own.
        ctx.end_flow()
        ctx.understanding = understand(ctx.inbound, ctx.now, ctx.vocabulary or Vocabulary(), None)
        return own_or_registered(ctx, ctx.understanding.needs_reply)
    elif flow and u.intent != "cancel":
        ctx.end_flow()   # something else was asked: the old dialogue is over
    return own_or_registered(ctx, needs_reply)


def own_or_registered(ctx: ConversationContext, needs_reply: bool) -> tuple[Reply, bool]:
    intent = ctx.understanding.intent
    if intent in OWN_HANDLERS:
        return OWN_HANDLERS[intent](ctx, needs_reply)
    handler = registry.intent_handler(intent)
    if handler is not None:
        reply, ran = registry.call(handler, ctx, "intent")
        if ran and isinstance(reply, Reply):
            return reply, needs_reply
    # Nobody can handle it (no domain has the intent, or its handler failed): a person will.
    return human(ctx, True)


def non_text(ctx: ConversationContext) -> Reply:
    """Events and media: a welcome on subscribe; a photo may belong to a report just made."""
    inbound = ctx.inbound
    texts = replies()
    if inbound.msg_type == "event":
        if inbound.event == "subscribe" and not ctx.is_group:
            return ctx.reply(texts.get("welcome"), "welcome")
        return Reply.silent("event")
    for handler in registry.media_handlers():
        reply, ran = registry.call(handler, ctx, "media handler")
        if ran and isinstance(reply, Reply):
            ctx.understanding.should_reply = reply.text is not None   # a photo for a report: for the service
            return reply
    if ctx.is_group and not inbound.mentioned:
        return Reply.silent("media")
    return ctx.reply(texts.get("unsupported_media"), "media")


def clock_request_id(understanding: Understanding, reply: Reply) -> int | None:
    """The request whose reply clock this message belongs to, if a handler attached it to one.

    A report that joined an open request of the same resident ("补充：还是不亮") is answered
    within that request's clock, not a second one. A rating is not: "不满意" reopens a request
    whose clock has long stopped, and the dissatisfied resident's message gets its own.
    """
    if understanding.intent == "rate":
        return None
    request_id = (reply.detail or {}).get("request_id")
    return request_id if isinstance(request_id, int) and not isinstance(request_id, bool) else None


def start_clock(ctx: ConversationContext, request_id: int | None = None) -> None:
    if ctx.community_id is None:
        log.info("conversation: message %s needs a reply but has no community; no clock", ctx.message.id)
        return
    db.session.flush()
    # From the message's arrival: a delivery that waited in the spool or for a worker is not given extra time.
    start_reply_clock(community_id=ctx.community_id, message_id=ctx.message.id, request_id=request_id,
                      group_id=ctx.group.id if ctx.group is not None else None,
                      resident_id=ctx.resident.id if ctx.resident is not None else None,
                      started_at=ctx.inbound.received_at)
