"""The conversation router: every stored inbound message goes through here.

``handle_message`` (installed with ``init_app`` as the core's conversation
handler, see app/handlers/inbound.py) finds out who wrote (resident or staff),
loads the dialogue state from Redis, asks the bot what the message means and
hands it to the handler of that intent, or to the handler of the multi-turn
flow in progress. Then it saves the state, starts the one-hour reply clock when
a person must answer, and decides whether the bot speaks at all (in a group it
speaks only when addressed or when the message is for the service).

The handlers of other features are named in the registries below as
"module:function" and imported when first needed, so a feature that is not
installed (or not written yet) is skipped with a log line instead of breaking
the router.
"""
from __future__ import annotations

import importlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import redis
from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.bot import Understanding, Vocabulary, get_bot
from app.bot import configure as configure_bot
from app.clock import now as clock_now
from app.extensions import db, redis_ext
from app.handlers.messaging.inbound import CHAT_GROUP, InboundMessage, Reply, set_conversation_handler
from app.models import Channel, Community, IdentityKind, Message, Resident, ResidentGroup, ResidentIdentity, Staff

log = logging.getLogger(__name__)

# intent -> "module:function(ctx) -> Reply"
INTENT_HANDLERS: dict[str, str] = {
    "report_issue": "app.handlers.requests:handle_report",
    "rate": "app.handlers.requests:handle_rate",
    "book_proxy": "app.handlers.bookings:handle_book",
    "event_signup": "app.handlers.events:handle_signup",
}
# state["flow"] -> "module:function(ctx) -> Reply" (the next message of a multi-turn dialogue)
FLOW_HANDLERS: dict[str, str] = {
    "book_proxy": "app.handlers.bookings:continue_flow",
    "event_signup": "app.handlers.events:continue_flow",
    "rate": "app.handlers.requests:continue_rating",
}
# "module:function(ctx) -> list[str]": lines about the resident's own items
PROGRESS_SOURCES: list[str] = [
    "app.handlers.requests:progress_lines",
    "app.handlers.bookings:progress_lines",
    "app.handlers.events:progress_lines",
]
# "module:function(ctx) -> Reply | None", asked in order until one cancels something
CANCEL_HANDLERS: list[str] = [
    "app.handlers.bookings:handle_cancel",
    "app.handlers.events:handle_cancel",
]
# "module:function(community_id) -> list[ServiceTerm | EventTerm]"
VOCABULARY_SOURCES: dict[str, str] = {
    "services": "app.handlers.catalogue:service_terms",
    "events": "app.handlers.events:event_terms",
}
# "module:function(ctx) -> str | None": answers for ask_info before the FAQ file
INFO_SOURCES: list[str] = [
    "app.handlers.catalogue:describe_item",
]
# Media sent right after a report joins that report (H4), else gets a "text only" answer.
MEDIA_HANDLERS: list[str] = [
    "app.handlers.requests:join_follow_up",
]
# Called for a staff message seen in a resident group, after the SLA clocks were stopped.
STAFF_GROUP_HOOKS: list[str] = [
    "app.handlers.requests:acknowledge_by_staff_message",
]
SLA_START = "app.handlers.sla:start_reply_clock"
SLA_STAFF_REPLY = "app.handlers.sla:record_staff_reply"

STATE_PREFIX = "linli:bot:state:"
OWN_INTENTS = ("query_progress", "cancel", "ask_info", "human", "chitchat", "none")
# The identity kind a sender id has on each channel.
IDENTITY_KINDS = {
    Channel.MP.value: IdentityKind.OPENID.value,
    Channel.MINIPROGRAM.value: IdentityKind.OPENID.value,
    Channel.WEWORK.value: IdentityKind.EXTERNAL_USERID.value,
    Channel.GROUP.value: IdentityKind.GROUP_MEMBER.value,
}

_missing_logged: set[str] = set()


def resolve(spec: str) -> Callable | None:
    """Import "module:function"; None (logged once) when the module or function does not exist."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only the module itself being absent is skipped; a broken import inside it is a bug.
        if exc.name is None or not (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise
        if spec not in _missing_logged:
            _missing_logged.add(spec)
            log.warning("conversation: %s is not installed; skipping it", spec)
        return None
    fn = getattr(module, attr, None)
    if fn is None and spec not in _missing_logged:
        _missing_logged.add(spec)
        log.warning("conversation: %s has no %s; skipping it", module_name, attr)
    return fn


@dataclass
class ConversationContext:
    """What a handler gets: the message, who sent it, what the bot understood, the dialogue state."""

    message: Message
    inbound: InboundMessage
    understanding: Understanding
    resident: Resident | None
    staff: Staff | None
    group: ResidentGroup | None
    community_id: int | None
    now: datetime
    state: dict = field(default_factory=dict)
    vocabulary: Vocabulary | None = field(default=None, repr=False)

    def start_flow(self, name: str, **data) -> None:
        """Begin (or move on in) a multi-turn dialogue; the next message goes to FLOW_HANDLERS[name]."""
        self.state = {"flow": name, **data}

    def end_flow(self) -> None:
        self.state = {}

    def reply(self, text: str | None, handled_by: str, **detail) -> Reply:
        return Reply(text=text, handled_by=handled_by, detail=detail)

    @property
    def is_group(self) -> bool:
        return self.inbound.chat_type == CHAT_GROUP


# --- installation -------------------------------------------------------------------------------

def init_app(app) -> None:
    """STARTUP_HOOKS entry: install the router. Connects to nothing and creates no file."""
    cache_dir = app.config.get("BOT_CACHE_DIR") or str(Path(app.instance_path) / "cache")
    configure_bot(cache_dir=cache_dir, data_dir=app.config.get("BOT_DATA_DIR") or None)
    set_conversation_handler(handle_message)


# --- dialogue state in Redis --------------------------------------------------------------------

def state_key(inbound: InboundMessage) -> str:
    return STATE_PREFIX + inbound.conversation_key


def load_state(inbound: InboundMessage) -> dict:
    try:
        raw = redis_ext.client.get(state_key(inbound))
    except redis.RedisError as exc:
        log.warning("conversation: dialogue state unavailable (%s); answering without it", exc)
        return {}
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def save_state(inbound: InboundMessage, state: dict) -> None:
    key = state_key(inbound)
    try:
        if state and state.get("flow"):
            ttl = int(current_app.config.get("BOT_STATE_TTL_SECONDS") or 1800)
            redis_ext.client.set(key, json.dumps(state, ensure_ascii=False, default=str), ex=ttl)
        else:
            redis_ext.client.delete(key)
    except redis.RedisError as exc:
        log.warning("conversation: dialogue state not saved (%s)", exc)


# --- who is writing -----------------------------------------------------------------------------

def find_staff(inbound: InboundMessage) -> Staff | None:
    sender = inbound.sender_id
    if not sender:
        return None
    return db.session.scalars(select(Staff).where(
        Staff.active.is_(True), or_(Staff.openid == sender, Staff.wework_userid == sender))).first()


def resolve_resident(inbound: InboundMessage, group: ResidentGroup | None) -> Resident | None:
    """The resident behind the sender id on this channel, created on first contact."""
    kind = IDENTITY_KINDS.get(inbound.channel)
    if kind is None or not inbound.sender_id:
        return None
    value = inbound.sender_id[:128]
    query = select(ResidentIdentity).where(ResidentIdentity.channel == inbound.channel,
                                           ResidentIdentity.kind == kind, ResidentIdentity.value == value)
    identity = db.session.scalars(query).first()
    if identity is not None:
        resident = identity.resident
        changed = False
        if resident.community_id is None:
            # First seen in a group: that is their community; else the deployment's only one.
            resident.community_id = group.community_id if group is not None else _sole_community_id()
            changed = resident.community_id is not None
        if not resident.nickname and inbound.sender_name:
            resident.nickname = inbound.sender_name[:100]
            changed = True
        if changed:
            db.session.commit()
        return resident
    resident = Resident(community_id=group.community_id if group is not None else _sole_community_id(),
                        nickname=(inbound.sender_name or None) and inbound.sender_name[:100])
    resident.identities.append(ResidentIdentity(channel=inbound.channel, kind=kind, value=value))
    db.session.add(resident)
    try:
        db.session.commit()
    except IntegrityError:
        # The same sender's other message created them at the same moment.
        db.session.rollback()
        identity = db.session.scalars(query).first()
        return identity.resident if identity is not None else None
    return resident


def _sole_community_id() -> int | None:
    """The community of a deployment that serves exactly one: a 1:1 chat needs no question then."""
    ids = db.session.scalars(select(Community.id).limit(2)).all()
    return ids[0] if len(ids) == 1 else None


def _group(message: Message, inbound: InboundMessage) -> ResidentGroup | None:
    if message.group_id is not None:
        return db.session.get(ResidentGroup, message.group_id)
    if inbound.chat_type == CHAT_GROUP and inbound.chat_id:
        return db.session.scalars(select(ResidentGroup).where(
            ResidentGroup.channel == inbound.channel, ResidentGroup.chat_id == inbound.chat_id)).first()
    return None


# --- the router ---------------------------------------------------------------------------------

def handle_message(message: Message, inbound: InboundMessage) -> Reply | None:
    """The core's conversation handler: one stored inbound message in, what to answer out."""
    now = clock_now()
    group = _group(message, inbound)
    staff = find_staff(inbound)
    if staff is not None or inbound.is_staff:
        return _staff_message(message, inbound, staff, group, now)

    resident = resolve_resident(inbound, group)
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
        vocabulary = _vocabulary(community_id)
        understanding = _understand(inbound, now, vocabulary, state)
    ctx = ConversationContext(message=message, inbound=inbound, understanding=understanding, resident=resident,
                              staff=None, group=group, community_id=community_id, now=now, state=dict(state),
                              vocabulary=vocabulary)

    if not readable:
        reply, needs_reply = _non_text(ctx), False
    else:
        reply, needs_reply = _dispatch(ctx)
    save_state(inbound, ctx.state)

    understanding = ctx.understanding
    if ctx.is_group and not understanding.should_reply and reply.text is not None:
        # The bot never answers chatter in a group, whatever a handler said.
        reply = Reply(text=None, handled_by=reply.handled_by, detail=reply.detail)
    if needs_reply:
        _start_clock(ctx, _clock_request_id(understanding, reply))
    reply.detail = {**reply.detail, **_record(understanding, needs_reply)}
    return reply


def _understand(inbound: InboundMessage, now: datetime, vocabulary: Vocabulary, state: dict | None) -> Understanding:
    return get_bot().understand(inbound.text, now=now, tz=current_app.config.get("TIMEZONE", "Asia/Shanghai"),
                                chat_type=inbound.chat_type, mentioned=inbound.mentioned, vocab=vocabulary,
                                state=state)


def _record(u: Understanding, needs_reply: bool) -> dict[str, Any]:
    return {"intent": u.intent, "confidence": u.confidence, "category": u.category, "slots": dict(u.slots),
            "needs_reply": needs_reply, "should_reply": u.should_reply}


def _vocabulary(community_id: int | None) -> Vocabulary:
    lists: dict[str, list] = {"services": [], "events": []}
    for name, spec in VOCABULARY_SOURCES.items():
        fn = resolve(spec)
        if fn is None:
            continue
        try:
            lists[name] = list(fn(community_id) or [])
        except Exception:  # noqa: BLE001 - a broken vocabulary must not silence the bot
            log.exception("conversation: vocabulary source %s failed", spec)
            db.session.rollback()
    return Vocabulary(services=lists.get("services", []), events=lists.get("events", []))


def _call(spec: str, ctx: ConversationContext, what: str):
    """Run another feature's handler; a failure is logged and answered by a person instead."""
    fn = resolve(spec)
    if fn is None:
        return None, False
    try:
        return fn(ctx), True
    except Exception:  # noqa: BLE001 - the resident still gets an answer and staff a clock
        log.exception("conversation: %s %s failed on message %s", what, spec, ctx.message.id)
        db.session.rollback()
        return None, False


def _dispatch(ctx: ConversationContext) -> tuple[Reply, bool]:
    """Pick the handler; returns (reply, needs a staff reply within the hour)."""
    u = ctx.understanding
    flow = ctx.state.get("flow")
    needs_reply = u.needs_reply

    if flow and u.flow_continues:
        spec = FLOW_HANDLERS.get(flow)
        if spec is not None:
            reply, ran = _call(spec, ctx, "flow")
            if ran and isinstance(reply, Reply):
                return reply, needs_reply
            if ran:
                log.warning("conversation: flow handler %s returned %r", spec, reply)
        # The flow's owner is gone or failed: drop the flow and understand the message on its own.
        ctx.end_flow()
        ctx.understanding = _understand(ctx.inbound, ctx.now, ctx.vocabulary or Vocabulary(), None)
        return _own_or_registered(ctx, ctx.understanding.needs_reply)
    elif flow and u.intent != "cancel":
        ctx.end_flow()   # something else was asked: the old dialogue is over
    return _own_or_registered(ctx, needs_reply)


def _own_or_registered(ctx: ConversationContext, needs_reply: bool) -> tuple[Reply, bool]:
    intent = ctx.understanding.intent
    if intent in OWN_INTENTS:
        return OWN_HANDLERS[intent](ctx, needs_reply)
    spec = INTENT_HANDLERS.get(intent)
    if spec is not None:
        reply, ran = _call(spec, ctx, "intent")
        if ran and isinstance(reply, Reply):
            return reply, needs_reply
    # Nobody can handle it (not installed, failed): a person will.
    return _human(ctx, True)


# --- the intents the router answers itself ------------------------------------------------------

def _replies() -> dict:
    return get_bot().replies


def _chitchat(ctx: ConversationContext, needs_reply: bool) -> tuple[Reply, bool]:
    texts = _replies().get("chitchat") or {}
    kind = ctx.understanding.chitchat_kind
    text = texts.get(kind) or texts.get("default") or "好的。"
    return ctx.reply(text, "chitchat"), False


def _none(ctx: ConversationContext, needs_reply: bool) -> tuple[Reply, bool]:
    if ctx.is_group and not ctx.understanding.mentioned:
        return Reply.silent("none"), False
    return ctx.reply(_replies().get("none_addressed") or "抱歉，我没太明白。", "none"), False


def _human(ctx: ConversationContext, needs_reply: bool = True) -> tuple[Reply, bool]:
    replies = _replies()
    key = "human" if ctx.community_id is not None else "human_no_community"
    return ctx.reply(replies.get(key) or "已通知值班人员。", "human"), True


def _ask_info(ctx: ConversationContext, needs_reply: bool) -> tuple[Reply, bool]:
    for spec in INFO_SOURCES:
        answer, ran = _call(spec, ctx, "info source")
        if ran and isinstance(answer, str) and answer.strip():
            return ctx.reply(answer.strip(), "ask_info", source=spec), False
    u = ctx.understanding
    if u.answer:
        return ctx.reply(u.answer, "ask_info", faq=u.faq_key), False
    replies = _replies()
    key = "ask_info_unanswered" if ctx.community_id is not None else "ask_info_unanswered_no_community"
    return ctx.reply(replies.get(key) or "值班人员会尽快回复您。", "ask_info", unanswered=True), True


def _query_progress(ctx: ConversationContext, needs_reply: bool) -> tuple[Reply, bool]:
    lines: list[str] = []
    for spec in PROGRESS_SOURCES:
        found, ran = _call(spec, ctx, "progress source")
        if ran and found:
            lines.extend(str(line) for line in found if line)
    replies = _replies()
    if lines:
        header = replies.get("progress_header") or "您的办理进度："
        return ctx.reply("\n".join([header, *lines]), "query_progress", items=len(lines)), needs_reply
    # Nothing on record (reported by phone? another account?): a person checks.
    return ctx.reply(replies.get("progress_none_escalated") or replies.get("progress_none") or "没有查到。",
                     "query_progress", items=0), True


def _cancel(ctx: ConversationContext, needs_reply: bool) -> tuple[Reply, bool]:
    replies = _replies()
    if ctx.state.get("flow"):
        flow = ctx.state["flow"]
        ctx.end_flow()
        return ctx.reply(replies.get("cancel_flow") or "好的，已取消。", "cancel", left_flow=flow), False
    for spec in CANCEL_HANDLERS:
        reply, ran = _call(spec, ctx, "cancel handler")
        if ran and isinstance(reply, Reply):
            return reply, False
    return ctx.reply(replies.get("cancel_nothing") or "没有找到可以取消的预约或报名。", "cancel", nothing=True), False


OWN_HANDLERS: dict[str, Callable[[ConversationContext, bool], tuple[Reply, bool]]] = {
    "chitchat": _chitchat,
    "none": _none,
    "human": _human,
    "ask_info": _ask_info,
    "query_progress": _query_progress,
    "cancel": _cancel,
}


# --- messages that are not text -----------------------------------------------------------------

def _non_text(ctx: ConversationContext) -> Reply:
    inbound = ctx.inbound
    replies = _replies()
    if inbound.msg_type == "event":
        if inbound.event == "subscribe" and not ctx.is_group:
            return ctx.reply(replies.get("welcome"), "welcome")
        return Reply.silent("event")
    for spec in MEDIA_HANDLERS:
        reply, ran = _call(spec, ctx, "media handler")
        if ran and isinstance(reply, Reply):
            ctx.understanding.should_reply = reply.text is not None   # a photo for a report: for the service
            return reply
    if ctx.is_group and not inbound.mentioned:
        return Reply.silent("media")
    return ctx.reply(replies.get("unsupported_media"), "media")


# --- staff messages and the reply clock ---------------------------------------------------------

def _staff_message(message: Message, inbound: InboundMessage, staff: Staff | None, group: ResidentGroup | None,
                   now: datetime) -> Reply:
    """Staff never get a bot answer in a group; what they say there is a public reply (stops clocks)."""
    message.is_staff = True
    if staff is not None:
        message.staff_id = staff.id
    if group is None:
        if inbound.chat_type == CHAT_GROUP:
            return Reply.silent("staff", staff_id=staff.id if staff else None)
        return Reply(text=_replies().get("staff_private"), handled_by="staff",
                     detail={"staff_id": staff.id if staff else None})
    if message.community_id is None:
        message.community_id = group.community_id
    db.session.flush()
    at = inbound.sent_at or now
    stopped = []
    record = resolve(SLA_STAFF_REPLY)
    if record is not None:
        stopped = record(community_id=group.community_id, group_id=group.id,
                         staff_id=staff.id if staff else None, message_id=message.id, at=at) or []
    for spec in STAFF_GROUP_HOOKS:
        fn = resolve(spec)
        if fn is not None:
            fn(group_id=group.id, staff_id=staff.id if staff else None, at=at, message_id=message.id)
    return Reply.silent("staff", staff_id=staff.id if staff else None, clocks_stopped=len(stopped))


def _clock_request_id(understanding: Understanding, reply: Reply) -> int | None:
    """The request whose reply clock this message belongs to, if a handler attached it to one.

    A report that joined an open request of the same resident ("补充：还是不亮") is answered
    within that request's clock, not a second one. A rating is not: "不满意" reopens a request
    whose clock has long stopped, and the dissatisfied resident's message gets its own.
    """
    if understanding.intent == "rate":
        return None
    request_id = (reply.detail or {}).get("request_id")
    return request_id if isinstance(request_id, int) and not isinstance(request_id, bool) else None


def _start_clock(ctx: ConversationContext, request_id: int | None = None) -> None:
    if ctx.community_id is None:
        log.info("conversation: message %s needs a reply but has no community; no clock", ctx.message.id)
        return
    start = resolve(SLA_START)
    if start is None:
        return
    db.session.flush()
    start(community_id=ctx.community_id, message_id=ctx.message.id, request_id=request_id,
          group_id=ctx.group.id if ctx.group is not None else None,
          resident_id=ctx.resident.id if ctx.resident is not None else None)
