"""A message answered in the callback from the bot's understanding alone: two statements, then the reply.

The ordinary path (``intake.take`` → ``handle_message``) builds ORM rows for the
sender, the message and its handling record: about 11 statements and 10 ms of
CPU per new report (docs/benchmarks.md). For the commonest message on /wechat/mp
— a resident's new report, with nothing open it could join — the answer does not
depend on any of those rows, only on a few facts and on the bot. So, for a 1:1
text message with no dialogue in progress (Redis said so in the callback's one
round trip), ``answer_at_once``:

1. asks the facts in **one SELECT** (autocommit): is the sender staff, their
   resident and community, whether a report of theirs is still pending, and for
   each domain intent that can answer at once whether the resident has something
   the message could join (``Express.joinable``: an open request written to within
   the follow-up window);
2. understands the text with the pure bot and the community's cached vocabulary,
   exactly as the router would (same vocabulary, same empty state) — after the
   domains' listeners said, from the text alone, that none of them would take it;
3. lets the domain answer (``Express.answer``: a report takes its number from the
   Redis counter) and stores the message with that answer as its handling record,
   marked pending, in **one INSERT** — ON CONFLICT DO NOTHING on the delivery's
   unique key, and refused if the number is already a request's;
4. enqueues the worker that finishes it (``inbound.finish``: the resident row on
   first contact, the request with that number, its clock from the arrival).

Anything else — staff, a flow, a follow-up, a listener's phrase, a repeat, Redis
or the database down, a number already used — returns None before anything is
written or with nothing written, and the callback takes the ordinary path, which
gives the same answer the ordinary way (tests/handlers/conversation/test_express.py
compares the two records). Once the INSERT is committed the message is WeChat's
answer's: a failure after it is a repeat for the ordinary path, which answers
with the stored reply; the enqueue failing leaves it to the inbound sweep.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from app.clock import now as clock_now
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
# The message's columns the INSERT sets; the rest take their defaults.
COLUMNS = ("direction", "channel", "dedupe_key", "channel_msg_id", "sender_id", "is_staff", "msg_type", "text",
           "media", "sent_at", "received_at", "community_id", "resident_id", "handling", "pending_at")


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
    engine, facts_query, insert = _prepared(expresses, inbound.channel)
    kind = IDENTITY_KINDS[inbound.channel]
    with engine.connect() as connection:
        facts = connection.execute(facts_query, {
            "sender": inbound.sender_id, "channel": inbound.channel, "kind": kind, "value": inbound.sender_id[:128],
            **{f"since_{intent}": arrived - timedelta(seconds=max(0, express.window_seconds()))
               for intent, express in expresses.items()}}).mappings().one()
        if facts["staff_id"] is not None or facts["pending"]:
            return None
        resident_id = facts["resident_id"]
        community_id = facts["community_id"] if resident_id is not None else sole_community_id(
            inbound.vocabulary_version)
        if community_id is None:
            return None
        understanding = understand(inbound, arrived, vocabulary_for(community_id, inbound.vocabulary_version), {})
        express = expresses.get(understanding.intent)
        if express is None or (resident_id is not None and express.window_seconds() > 0
                               and facts[f"joinable_{understanding.intent}"]):
            return None
        answered = express.answer(understanding, arrived)
        if answered is None:
            return None
        reply_text, handled_by, detail = answered
        handling = {"handled_by": handled_by, "replied": True, "reply_text": reply_text, **detail,
                    **understanding_record(understanding, understanding.needs_reply)}
        inbound.received_at = arrived
        row = connection.execute(insert, {
            "direction": Direction.IN.value, "channel": inbound.channel, "dedupe_key": inbound.dedupe_key[:191],
            "channel_msg_id": inbound.channel_msg_id, "sender_id": inbound.sender_id, "is_staff": False,
            "msg_type": inbound.msg_type, "text": inbound.text, "media": inbound.media, "sent_at": inbound.sent_at,
            "received_at": arrived, "community_id": community_id, "resident_id": resident_id, "handling": handling,
            "pending_at": arrived, "code": detail.get("request_code") or ""}).first()
    if row is None:
        inbound.received_at = None
        return None   # a repeat, or the number is a request's already: the ordinary path decides
    request_finish(row[0])
    return reply_text


def _prepared(expresses: dict, channel: str):
    """(autocommit engine, facts SELECT, INSERT) of this app, built at its first message, then only executed."""
    app = current_app._get_current_object()
    kept = app.extensions.setdefault("linli.express", {})
    key = (tuple(sorted(expresses)), channel)
    if key not in kept:
        # Each statement is its own transaction: no BEGIN / COMMIT round trips.
        engine = db.engine.execution_options(isolation_level="AUTOCOMMIT")
        kept[key] = (engine, _facts_query(expresses, channel), _insert(engine.dialect.name))
    return kept[key]


def _facts_query(expresses: dict, channel: str):
    sender = bindparam("sender")
    resident_id = select(ResidentIdentity.resident_id).where(
        ResidentIdentity.channel == bindparam("channel"), ResidentIdentity.kind == bindparam("kind"),
        ResidentIdentity.value == bindparam("value")).scalar_subquery()
    columns = [
        select(Staff.id).where(Staff.active.is_(True), or_(Staff.openid == sender, Staff.wework_userid == sender))
        .limit(1).scalar_subquery().label("staff_id"),
        resident_id.label("resident_id"),
        select(Resident.community_id).where(Resident.id == resident_id).scalar_subquery().label("community_id"),
        exists().where(Message.pending_at.is_not(None), Message.channel == bindparam("channel"),
                       Message.sender_id == sender).label("pending"),
    ]
    for intent, express in sorted(expresses.items()):
        since = bindparam(f"since_{intent}", type_=Message.__table__.c.received_at.type)
        columns.append(express.joinable(resident_id, channel, since).label(f"joinable_{intent}"))
    return select(*columns)


def _insert(dialect: str):
    table = Message.__table__
    values = select(*[bindparam(name, type_=table.c[name].type) for name in COLUMNS]).where(
        ~exists().where(ServiceRequest.code == bindparam("code")))
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(table).from_select(list(COLUMNS), values).on_conflict_do_nothing().returning(table.c.id)
