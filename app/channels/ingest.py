"""The signed JSON interface of a deployment's group bridge (see docs/channels.md).

POST /ingest/group-messages   messages seen in resident groups, in batches; the answer
                              lists, per message, whether it was stored and the bot's
                              reply to post in the group (if any).
POST /ingest/outbox           the bridge pulls group messages queued through the outbox
                              (channel "group", group without a robot webhook); each is
                              leased for OUTBOX_LEASE_SECONDS.
POST /ingest/outbox/ack       the bridge reports what it posted (sent / failed / retry).

Every request carries X-Linli-Timestamp (unix seconds) and
X-Linli-Signature: sha256=<hex HMAC-SHA256(LINLI_INGEST_SECRET, timestamp + raw body)>.
A request outside the replay window or with a bad signature is refused (403) and
nothing is stored. Resending a batch is harmless: each message is stored once.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select

from app.channels.common import parse_json
from app.channels.intake import take
from app.channels.security import clean_id, clean_text, verify_ingest_signature
from app.clock import now
from app.errors import ApiError, ValidationError
from app.extensions import db, redis_ext
from app.handlers.messaging.inbound import CHAT_GROUP, InboundMessage
from app.handlers.messaging.outbox import TO_GROUP
from app.models import Direction, Message, OutboundStatus, ResidentGroup

bp = Blueprint("ingest", __name__)

INGEST_CHANNELS = ("group", "wework")
MSG_TYPE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def _signed_json() -> dict[str, Any]:
    body = request.get_data(cache=True)  # MAX_CONTENT_LENGTH applies (413)
    verify_ingest_signature(request.headers.get("X-Linli-Timestamp"), request.headers.get("X-Linli-Signature"), body)
    if not body.strip():
        raise ValidationError("the body must be a JSON object", field="body")
    return parse_json(body)


# ---------------------------------------------------------------- messages in

@bp.post("/ingest/group-messages")
def group_messages():
    data = _signed_json()
    messages = data.get("messages")
    if not isinstance(messages, list):
        raise ValidationError("messages must be a list", field="messages")
    limit = current_app.config["INGEST_MAX_BATCH"]
    if len(messages) > limit:
        raise ValidationError(f"at most {limit} messages per request", field="messages")
    results = [_one(index, entry) for index, entry in enumerate(messages)]
    counts = {s: sum(1 for r in results if r["status"] == s) for s in ("stored", "duplicate", "invalid", "error")}
    return jsonify({"results": results, **counts})


def receive_entry(entry: dict) -> dict:
    """One group message exactly as the bridge sends it in a batch; answers what the bridge is told.

    The web simulator (/try) delivers its messages here, so they take the path real ones take.
    """
    return _one(0, entry)


def _one(index: int, entry: Any) -> dict:
    result: dict[str, Any] = {"index": index}
    if not isinstance(entry, dict):
        return {**result, "status": "invalid", "errors": [{"field": f"messages[{index}]",
                                                             "message": "must be an object"}]}
    result["msg_id"] = entry.get("msg_id") if isinstance(entry.get("msg_id"), (str, int)) else None
    try:
        inbound = _inbound(entry)
    except ValidationError as exc:
        return {**result, "status": "invalid", "errors": [{"field": exc.field, "message": exc.message}]}
    try:
        taken = take(inbound, handle_it=not entry.get("from_bot"), reason="posted by the bot itself")
    except Exception:
        current_app.logger.exception("ingest message %s failed", index)
        db.session.rollback()
        return {**result, "status": "error", "errors": [{"field": None, "message": "could not be stored"}]}
    reply = taken.reply.text if taken.reply else None
    return {**result, "status": "stored" if taken.created else "duplicate", "message_id": taken.message.id,
            "chat_id": inbound.chat_id, "reply": reply}


def _flag(entry: dict, name: str) -> bool:
    value = entry.get(name, False)
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be true or false", field=name)
    return value


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationError("sent_at must be unix seconds or an ISO 8601 time with offset", field="sent_at")
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise ValidationError("sent_at is out of range", field="sent_at") from None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(timezone.utc)
    raise ValidationError("sent_at must be unix seconds or an ISO 8601 time with offset", field="sent_at")


def _inbound(entry: dict) -> InboundMessage:
    channel = entry.get("channel", "group")
    if channel not in INGEST_CHANNELS:
        raise ValidationError(f"channel must be one of {', '.join(INGEST_CHANNELS)}", field="channel")
    chat_id = clean_id(entry.get("chat_id"), "chat_id")
    msg_id = clean_id(entry.get("msg_id"), "msg_id")
    sender_id = clean_id(entry.get("sender_id"), "sender_id")
    sender_name, _ = clean_text(entry.get("sender_name"), max_length=100) if entry.get("sender_name") is not None \
        else (None, {})
    msg_type = entry.get("msg_type", "text")
    if not isinstance(msg_type, str) or not msg_type or len(msg_type) > 30 or set(msg_type) - MSG_TYPE_CHARS:
        raise ValidationError("msg_type must be a short lowercase word", field="msg_type")
    raw_text = entry.get("text")
    if raw_text is not None and not isinstance(raw_text, str):
        raise ValidationError("text must be a string", field="text")
    text, info = clean_text(raw_text) if raw_text is not None else (None, {})
    if msg_type == "text" and not text:
        info = {**info, "empty": True}
    key = f"{chat_id}:{msg_id}"
    if len(key) > 191:
        key = "h:" + hashlib.sha256(key.encode()).hexdigest()
    return InboundMessage(
        channel=channel, dedupe_key=key, sender_id=sender_id, chat_id=chat_id, chat_type=CHAT_GROUP,
        sender_name=sender_name or None, is_staff=_flag(entry, "is_staff"), msg_type=msg_type, text=text or None,
        media=info or None, channel_msg_id=msg_id, sent_at=_time(entry.get("sent_at")),
        mentioned=_flag(entry, "mentioned"), extra={"from_bot": _flag(entry, "from_bot")})


# ---------------------------------------------------------------- messages out (pull + ack)

def _lease_key(message_id: int) -> str:
    return f"linli:outbox-lease:{message_id}"


def _pullable():
    """Queued group-channel messages for groups the bridge serves (no robot webhook)."""
    return (select(Message, ResidentGroup)
            .outerjoin(ResidentGroup, Message.group_id == ResidentGroup.id)
            .where(Message.direction == Direction.OUT.value, Message.channel == "group",
                   Message.status == OutboundStatus.QUEUED.value)
            .order_by(Message.id))


@bp.post("/ingest/outbox")
def outbox_pull():
    data = _signed_json()
    limit = data.get("limit", 20)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
        raise ValidationError("limit must be an integer from 1 to 100", field="limit")
    lease_seconds = current_app.config["OUTBOX_LEASE_SECONDS"]
    client = redis_ext.client
    offered: list[dict] = []
    lease_until = now() + timedelta(seconds=lease_seconds)
    # Candidates in id order; a Redis lease (SET NX) makes concurrent pullers take disjoint sets.
    for message, group in db.session.execute(_pullable().limit(limit * 5 + 50)):
        if len(offered) >= limit:
            break
        if (message.handling or {}).get("recipient_kind") != TO_GROUP:
            continue
        if group is not None and group.webhook_url:
            continue  # pushed by the webhook sender instead
        chat_id = message.chat_id or (group.chat_id if group else None)
        if not chat_id:
            continue
        if not client.set(_lease_key(message.id), "1", nx=True, ex=lease_seconds):
            continue
        message.handling = {**(message.handling or {}), "route": "bridge_outbox",
                            "pulled": int((message.handling or {}).get("pulled", 0)) + 1}
        offered.append({"id": message.id, "chat_id": chat_id, "text": message.text,
                        "in_reply_to": message.in_reply_to_id, "queued_at": _iso(message.received_at),
                        "lease_until": _iso(lease_until)})
    db.session.commit()
    return jsonify({"messages": offered})


@bp.post("/ingest/outbox/ack")
def outbox_ack():
    data = _signed_json()
    acks = data.get("acks")
    if not isinstance(acks, list) or not acks or len(acks) > 100:
        raise ValidationError("acks must be a list of 1 to 100 items", field="acks")
    results = []
    for index, ack in enumerate(acks):
        try:
            results.append(_ack(ack))
        except ApiError as exc:
            results.append({"index": index, "status": "invalid", "error": exc.message, "field": exc.field})
    return jsonify({"results": results})


def _ack(ack: Any) -> dict:
    if not isinstance(ack, dict):
        raise ValidationError("each ack must be an object", field="acks")
    message_id = ack.get("id")
    if isinstance(message_id, bool) or not isinstance(message_id, int) or not 1 <= message_id <= 2**63 - 1:
        raise ValidationError("id must be the message id from /ingest/outbox", field="id")
    status = ack.get("status")
    if status not in ("sent", "failed", "retry"):
        raise ValidationError("status must be sent, failed or retry", field="status")
    error, _ = clean_text(ack.get("error"), max_length=400) if ack.get("error") is not None else (None, {})
    row = db.session.get(Message, message_id, with_for_update=True)
    if row is None or row.direction != Direction.OUT.value or row.channel != "group":
        return {"id": message_id, "status": "unknown"}
    if row.status != OutboundStatus.QUEUED.value:
        db.session.rollback()
        return {"id": message_id, "status": "already_" + str(row.status)}
    if status == "retry":
        redis_ext.client.delete(_lease_key(message_id))
        row.error = error
        db.session.commit()
        return {"id": message_id, "status": "requeued"}
    row.attempts = (row.attempts or 0) + 1
    if status == "sent":
        row.status, row.delivered_at, row.error, row.error_code = OutboundStatus.SENT.value, now(), None, None
    else:
        row.status, row.error, row.error_code = OutboundStatus.FAILED.value, error or "bridge could not post", "bridge"
    db.session.commit()
    redis_ext.client.delete(_lease_key(message_id))
    return {"id": message_id, "status": row.status}


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value else None
