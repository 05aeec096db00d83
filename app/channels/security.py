"""What every channel adapter checks before it believes a delivery.

- ``clean_text``: control characters out, length bounded (a resident's text is
  shown to staff and fed to the bot; a NUL or a bidi override is never useful).
- ``parse_xml``: XML parsed with defusedxml, which refuses DTDs, so entity
  tricks (XXE, billion laughs) are rejected before anything is expanded.
- ``guard_replay``: timestamp within a window of ``app.clock.now()`` and a
  nonce remembered in Redis for the window. The nonce is bound to a digest of
  the body it first came with: WeChat's own retries of a delivery repeat it
  byte for byte (harmless: the message is stored once), while a captured
  (timestamp, nonce, signature) reused with another body is refused — in
  plaintext mode WeChat's signature does not cover the body. With Redis
  unreachable the nonce is not remembered and the delivery is accepted on its
  signature and timestamp alone: storage dedupes by MsgId in the database, so
  a replayed delivery is still stored once (docs/reliability.md, failure 1).
- ``verify_ingest_signature``: HMAC-SHA256 over timestamp + body for the bridge.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import redis
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from flask import current_app

from app.clock import now
from app.errors import ApiError, Forbidden, ValidationError
from app.extensions import redis_ext

log = logging.getLogger(__name__)

# C0 controls except \t \n \r, DEL, C1 controls, bidi embeddings/overrides/isolates,
# and the BOM / word joiners that only hide text. ZWJ (U+200D) stays: emoji need it.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff\ufffe\uffff]")
# Bytes XML 1.0 forbids; WeChat passes users' control characters through inside CDATA,
# which makes the document ill-formed. They are single bytes in UTF-8 (never inside a
# multi-byte sequence), so deleting them from the raw body is safe.
_XML_ILLEGAL_BYTES = bytes(b for b in range(0x20) if b not in (0x09, 0x0A, 0x0D))


class ReplayRejected(Forbidden):
    code = "replay"


class NotConfigured(ApiError):
    status = 503
    code = "not_configured"


def clean_text(value: Any, max_length: int | None = None) -> tuple[str | None, dict]:
    """Return (text without control characters, info). info has truncated/original_length if cut."""
    if value is None:
        return None, {}
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_RE.sub("", text).strip()
    info: dict = {}
    limit = max_length if max_length is not None else current_app.config["MESSAGE_MAX_TEXT_LENGTH"]
    if len(text) > limit:
        info = {"truncated": True, "original_length": len(text)}
        text = text[:limit]
    return text, info


def clean_id(value: Any, field: str, max_length: int = 128, required: bool = True) -> str | None:
    """An identifier from a delivery (openid, chat id, msg id): printable, bounded."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(f"{field} is missing", field=field)
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationError(f"{field} must be a string", field=field)
    text = _CONTROL_RE.sub("", str(value)).strip()
    if not text or len(text) > max_length:
        raise ValidationError(f"{field} must be 1-{max_length} characters", field=field)
    return text


def strip_illegal_xml_bytes(body: bytes) -> bytes:
    return body.translate(None, _XML_ILLEGAL_BYTES)


class BadPayload(ValidationError):
    code = "bad_payload"


# WeChat's deepest documents (a news reply's Articles/item/field) are 4 levels deep.
MAX_XML_DEPTH = 16


def parse_xml(body: bytes | str) -> dict[str, Any]:
    """Parse a WeChat-style XML document into a dict of its root's children.

    Leaves become strings (None when empty), nested elements dicts, repeated
    tags lists — the shape wechatpy's message classes expect.
    """
    if isinstance(body, str):
        body = body.encode("utf-8")
    body = strip_illegal_xml_bytes(body)
    if not body.strip():
        raise BadPayload("empty body")
    try:
        root = defused_fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise BadPayload("XML with a DTD or entities is not accepted") from None
    except (ParseError, ValueError, UnicodeError):
        raise BadPayload("malformed XML") from None
    if _depth(root) > MAX_XML_DEPTH:
        raise BadPayload(f"XML nested deeper than {MAX_XML_DEPTH} levels")
    result = _element_dict(root)
    if not isinstance(result, dict):
        raise BadPayload("XML has no fields")
    return result


def _depth(root: Element) -> int:
    """How deep the tree goes, measured without recursion (the tree is untrusted input)."""
    deepest, level = 0, [root]
    while level:
        deepest += 1
        if deepest > MAX_XML_DEPTH:
            return deepest
        level = [child for element in level for child in element]
    return deepest


def _element_dict(element: Element) -> Any:
    children = list(element)
    if not children:
        return element.text if element.text not in (None, "") else None
    result: dict[str, Any] = {}
    for child in children:
        value = _element_dict(child)
        if child.tag in result:
            existing = result[child.tag]
            result[child.tag] = existing + [value] if isinstance(existing, list) else [existing, value]
        else:
            result[child.tag] = value
    return result


def check_timestamp(timestamp: Any) -> int:
    """The callback's timestamp must be an integer within the replay window of now."""
    try:
        value = int(str(timestamp).strip())
    except (TypeError, ValueError):
        raise ReplayRejected("missing or invalid timestamp") from None
    window = current_app.config["CALLBACK_REPLAY_WINDOW_SECONDS"]
    if abs(now().timestamp() - value) > window:
        raise ReplayRejected("timestamp outside the accepted window")
    return value


def guard_replay(channel: str, timestamp: Any, nonce: Any, body: bytes) -> None:
    """Reject stale timestamps and nonces reused with a different body (see module doc)."""
    key, digest, ttl = replay_check(channel, timestamp, nonce, body)
    client = redis_ext.client
    try:
        if client.set(key, digest, nx=True, ex=ttl):
            return
        seen = client.get(key)
    except (redis.RedisError, OSError):
        replay_unguarded(channel)
        return
    replay_verdict(False, seen, digest)


def replay_check(channel: str, timestamp: Any, nonce: Any, body: bytes) -> tuple[str, str, int]:
    """The checks that need no Redis; returns (nonce key, body digest, seconds to remember it).

    Split from ``guard_replay`` so a callback can send the nonce's SET NX / GET in one
    Redis pipeline with its other keys (app/channels/intake.py ``prefetch``).
    """
    check_timestamp(timestamp)
    if not nonce or len(str(nonce)) > 128:
        raise ReplayRejected("missing or invalid nonce")
    window = current_app.config["CALLBACK_REPLAY_WINDOW_SECONDS"]
    # A nonce must be remembered as long as its timestamp can still pass: 2 windows.
    return f"linli:nonce:{channel}:{timestamp}:{nonce}", hashlib.sha256(body).hexdigest(), 2 * window + 5


def replay_unguarded(channel: str) -> None:
    # Refusing would lose the delivery (WeChat does not resend an answered one); the
    # database's unique MsgId key keeps the storage exactly-once without Redis.
    log.warning("replay guard: Redis unreachable, %s nonce not remembered", channel)


def replay_verdict(fresh: bool, seen: bytes | None, digest: str) -> None:
    """After SET NX (``fresh``) and GET (``seen``) of the nonce key: accept, or raise ReplayRejected."""
    if fresh:
        return
    if seen is not None and hmac.compare_digest(seen.decode(), digest):
        return  # the same delivery again (WeChat retry): exactly-once storage answers it
    raise ReplayRejected("nonce already used")


def ingest_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Linli-Signature value for a bridge request: sha256=<hex HMAC of timestamp + body>."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_ingest_signature(timestamp: str | None, signature: str | None, body: bytes) -> None:
    secret = current_app.config.get("INGEST_SECRET")
    if not secret:
        raise NotConfigured("group ingest is not configured (LINLI_INGEST_SECRET)")
    if not timestamp or not signature:
        raise Forbidden("missing X-Linli-Timestamp or X-Linli-Signature", code="bad_signature")
    if not timestamp.isascii() or not timestamp.strip().isdigit():
        raise Forbidden("invalid X-Linli-Timestamp", code="bad_signature")
    expected = ingest_signature(secret, timestamp.strip(), body)
    if not signature.isascii() or not hmac.compare_digest(expected, signature.strip()):
        raise Forbidden("bad signature", code="bad_signature")
    check_timestamp(timestamp)
