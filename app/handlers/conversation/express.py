"""A message answered in the callback from the bot's understanding alone: one statement, then the reply.

The ordinary path (``intake.take`` → ``handle_message``) builds ORM rows for the
sender, the message and its handling record: about 11 statements and 10 ms of
CPU per new report (docs/benchmarks.md). For the commonest message on /wechat/mp
— a resident's new report, with nothing open it could join — the answer does not
depend on any of those rows, only on a few facts and on the bot. So, for a 1:1
text message with no dialogue in progress (Redis said so in the callback's one
round trip), ``answer_at_once``:

1. understands the text with the pure bot and the community's cached vocabulary,
   exactly as the router would (same vocabulary, same empty state) — after the
   domains' listeners said, from the text alone, that none of them would take it.
   The community is the deployment's only one; with several, it is the sender's
   resident's, asked first in one SELECT (a sender nobody knows yet is asked which
   community by the ordinary path);
2. lets the domain answer (``Express.answer``: a report takes its number from the
   Redis counter);
3. stores the message with that answer as its handling record, marked pending, in
   **one INSERT … SELECT** whose WHERE holds every fact the answer assumed: the
   sender is not staff, has no report still pending, is not a resident of another
   community, and has nothing the message could join (``Express.joinable``: an open
   request written to within the follow-up window); the number is no request's yet;
   ON CONFLICT DO NOTHING on the delivery's unique key. The resident (if any) is
   looked up inside the same statement;
4. hands the stored message to the worker that finishes it (``inbound.finish``:
   the resident row on first contact, the request with that number, its clock
   from the arrival).

Anything else — staff, a flow, a follow-up, a listener's phrase, a repeat, Redis
or the database down, a number already used — returns None with nothing written,
and the callback takes the ordinary path, which gives the same answer the ordinary
way (tests/handlers/conversation/test_express.py compares the two records). A
report the INSERT refused has used up its number: request numbers are unique and
ascending within a day, not gapless. Once the INSERT is committed the message is
WeChat's answer's: a failure after it is a repeat for the ordinary path, which
answers with the stored reply; the hand-off failing leaves it to the inbound sweep.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.exc import SQLAlchemyError

from app.clock import now as clock_now
from app.database import conflict_insert
from app.driver_sql import DriverStatement
from app.extensions import db
from app.handlers.conversation import registry
from app.handlers.conversation.own_intents import OWN_HANDLERS
from app.handlers.conversation.router import understand, understanding_record
from app.handlers.conversation.vocabulary import UNAVAILABLE, sole_community_id, vocabulary_for
from app.handlers.messaging.inbound import CHAT_PRIVATE, InboundMessage
from app.handlers.messaging.to_finish import request_finish
from app.handlers.org.residents import IDENTITY_KINDS
from app.models import Direction, Message, Resident, ResidentIdentity, ServiceRequest, Staff

log = logging.getLogger("app.handlers.conversation")

CHANNELS = ("mp",)   # passive replies only: the mini-program's answer goes out as a message anyway
# The message's columns the INSERT sets from bound values (the resident it looks up); the rest take their defaults.
COLUMNS = ("direction", "channel", "dedupe_key", "channel_msg_id", "sender_id", "is_staff", "msg_type", "text",
           "media", "sent_at", "received_at", "community_id", "handling", "pending_at")
# ``since`` when the feature joins nothing (a window of 0): no request was written to after it.
NEVER = datetime(9999, 1, 1, tzinfo=timezone.utc)


def answer_at_once(inbound: InboundMessage, prefetched) -> str | None:
    """The reply for a message answered and stored here, or None: take the ordinary path."""
    if not _eligible(inbound, prefetched):
        return None
    try:
        return _answer(inbound)
    except SQLAlchemyError:
        # Unreachable, or a statement refused: the ordinary path handles it (and, with the database
        # down, keeps the delivery in the spool). Nothing was committed unless the INSERT was, and
        # then the ordinary path finds the stored row and answers with its reply.
        log.info("express answer for %s/%s not possible; handled the ordinary way", inbound.channel,
                 inbound.dedupe_key, exc_info=True)
        return None


def _eligible(inbound: InboundMessage, prefetched) -> bool:
    return bool(
        current_app.config.get("INBOUND_EXPRESS") and inbound.may_defer
        and current_app.config.get("INBOUND_DEFER_REPORTS")
        and inbound.channel in CHANNELS and inbound.chat_type == CHAT_PRIVATE and not inbound.chat_id
        and inbound.msg_type == "text" and (inbound.text or "").strip() and inbound.sender_id
        and inbound.received_at is None   # not a delivery that waited in the spool
        and prefetched is not None and prefetched.redis_ok and prefetched.first_key is None
        and not inbound.dialogue_state and inbound.vocabulary_version not in (None, UNAVAILABLE))


def _express_features() -> dict:
    """intent -> Express, of the feature whose handler the router would call for the intent."""
    found = {}
    for feature in registry.features():
        for intent, express in feature.express.items():
            if registry.intent_handler(intent) is feature.intents.get(intent) and intent not in OWN_HANDLERS:
                found[intent] = express
    return found


def _answer(inbound: InboundMessage) -> str | None:
    text = inbound.text or ""
    # A listener without a text cue might take any message: then nothing is answered here.
    for feature in registry.features():
        if feature.listen is not None and (feature.listen_cue is None or feature.listen_cue(text)):
            return None
    expresses = _express_features()
    if not expresses:
        return None
    arrived = clock_now()
    community_query, inserts = _prepared(expresses, inbound.channel)
    sender = {"sender": inbound.sender_id, "channel": inbound.channel, "kind": IDENTITY_KINDS[inbound.channel],
              "value": inbound.sender_id[:128]}
    community_id = sole_community_id(inbound.vocabulary_version)
    if community_id is None:
        # Several communities: the resident's own, whose vocabulary the router would use.
        found = community_query.run(sender)
        community_id = found[0] if found else None
        if community_id is None:
            return None
    understanding = understand(inbound, arrived, vocabulary_for(community_id, inbound.vocabulary_version), {})
    express = expresses.get(understanding.intent)
    if express is None:
        return None
    answered = express.answer(understanding, arrived)
    if answered is None:
        return None
    reply_text, handled_by, detail = answered
    handling = {"handled_by": handled_by, "replied": True, "reply_text": reply_text, **detail,
                **understanding_record(understanding, understanding.needs_reply)}
    window = max(0, express.window_seconds())
    inbound.received_at = arrived
    row = inserts[understanding.intent].run({
        **sender, "sender_id": inbound.sender_id, "direction": Direction.IN.value,
        "dedupe_key": inbound.dedupe_key[:191], "channel_msg_id": inbound.channel_msg_id, "is_staff": False,
        "msg_type": inbound.msg_type, "text": inbound.text, "media": inbound.media, "sent_at": inbound.sent_at,
        "received_at": arrived, "community_id": community_id, "handling": handling, "pending_at": arrived,
        "code": detail.get("request_code") or "",
        "since": arrived - timedelta(seconds=window) if window else NEVER})
    if row is None:
        inbound.received_at = None
        return None   # a fact the answer assumed does not hold, or a repeat: the ordinary path decides
    request_finish(row[0])
    return reply_text


def _prepared(expresses: dict, channel: str):
    """(community SELECT, intent -> INSERT) of this app, compiled at its first message, then only run
    (app/driver_sql.py: each its own transaction, on the driver's cursor)."""
    app = current_app._get_current_object()
    kept = app.extensions.setdefault("linli.express", {})
    key = (tuple(sorted(expresses)), channel)
    if key not in kept:
        engine = db.engine
        kept[key] = (DriverStatement(engine, select(Resident.community_id).where(Resident.id == _resident_id())),
                     {intent: DriverStatement(engine, _insert(engine.dialect.name, express, channel))
                      for intent, express in expresses.items()})
    return kept[key]


def _resident_id():
    return select(ResidentIdentity.resident_id).where(
        ResidentIdentity.channel == bindparam("channel"), ResidentIdentity.kind == bindparam("kind"),
        ResidentIdentity.value == bindparam("value")).scalar_subquery()


def _insert(dialect: str, express, channel: str):
    """INSERT the message with its answer … SELECT the values WHERE the answer's facts hold."""
    table = Message.__table__
    binds = {name: bindparam(name, type_=table.c[name].type) for name in COLUMNS}
    sender, community_id = bindparam("sender"), binds["community_id"]
    resident_id = _resident_id()
    since = bindparam("since", type_=table.c.received_at.type)
    values = select(*binds.values(), resident_id).where(
        ~exists().where(Staff.active.is_(True), or_(Staff.openid == sender, Staff.wework_userid == sender)),
        ~exists().where(Message.pending_at.is_not(None), Message.channel == bindparam("channel"),
                        Message.sender_id == sender),
        or_(resident_id.is_(None),
            select(Resident.community_id).where(Resident.id == resident_id).scalar_subquery() == community_id),
        ~express.joinable(resident_id, channel, since),
        ~exists().where(ServiceRequest.code == bindparam("code")))
    insert = conflict_insert(dialect)(table).from_select([*COLUMNS, "resident_id"], values)
    return insert.on_conflict_do_nothing().returning(table.c.id)
