"""Pieces shared by the WeChat and WeCom callback adapters."""
from __future__ import annotations

import hmac
import json
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from flask import Response, current_app, request
from wechatpy import events as mp_events
from wechatpy import messages as mp_messages
from wechatpy.enterprise import events as wework_events
from wechatpy.enterprise import messages as wework_messages
from wechatpy.messages import BaseMessage, UnknownMessage
from wechatpy.utils import WeChatSigner
from werkzeug.exceptions import RequestEntityTooLarge

from app.channels.security import BadPayload, NotConfigured, clean_id, clean_text
from app.errors import Forbidden

_TYPE_RE = re.compile(r"[^a-z0-9_]")


def read_body() -> bytes:
    """The request body, refused with 413 above CALLBACK_MAX_BODY_BYTES (also for chunked bodies)."""
    limit = current_app.config["CALLBACK_MAX_BODY_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    request.max_content_length = limit
    return request.get_data(cache=True)


# WeChat's and WeCom's JSON pushes are at most 3 levels deep (the aibot's mixed message).
MAX_JSON_DEPTH = 16


def parse_json(body: bytes | str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except RecursionError:
        raise BadPayload(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise BadPayload("malformed JSON") from None
    if not isinstance(value, dict):
        raise BadPayload("JSON body must be an object")
    if _json_depth(value) > MAX_JSON_DEPTH:
        raise BadPayload(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _json_depth(value: Any) -> int:
    """How deep the value goes, without recursion (the structure is untrusted); stops past the limit."""
    deepest, level = 0, [value]
    while level:
        deepest += 1
        if deepest > MAX_JSON_DEPTH:
            return deepest
        level = [child for item in level if isinstance(item, (dict, list))
                 for child in (item.values() if isinstance(item, dict) else item)
                 if isinstance(child, (dict, list))]
    return deepest


def sha1_signature(*parts: str) -> str:
    """WeChat's signature: sha1 of the sorted, concatenated parts (wechatpy's signer)."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def require_signature(expected: str, given: str | None) -> None:
    if not given or not given.isascii() or not hmac.compare_digest(expected, given.strip().lower()):
        raise Forbidden("signature check failed", code="bad_signature")


@lru_cache(maxsize=16)
def crypto_for(kind: str, token: str, aes_key: str, receive_id: str):
    """A cached wechatpy crypto object; a malformed key is an operator error (503), never a 500."""
    try:
        if kind == "wework":
            from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto
            return WeComCrypto(token, aes_key, receive_id)
        from wechatpy.crypto import WeChatCrypto
        return WeChatCrypto(token, aes_key, receive_id)
    except Exception:  # noqa: BLE001 - wechatpy raises assorted errors for a malformed key
        raise NotConfigured("the EncodingAESKey setting is not a valid 43-character key") from None


def wechat_message(fields: dict[str, Any], *, wework: bool = False) -> BaseMessage:
    """The wechatpy message/event object for parsed fields (wechatpy's own class choice)."""
    msg_type = str(fields.get("MsgType") or "").lower()
    if not msg_type:
        raise BadPayload("MsgType is missing")
    message_types = wework_messages.MESSAGE_TYPES if wework else mp_messages.MESSAGE_TYPES
    event_types = wework_events.EVENT_TYPES if wework else mp_events.EVENT_TYPES
    if msg_type == "event":
        event = str(fields.get("Event") or "").lower()
        key = fields.get("EventKey")
        if event == "subscribe" and isinstance(key, str) and key.startswith("qrscene_"):
            event = "subscribe_scan"
            fields = {**fields, "Event": event, "EventKey": key[len("qrscene_"):]}
        return event_types.get(event, UnknownMessage)(fields)
    return message_types.get(msg_type, UnknownMessage)(fields)


def msg_type_of(fields: dict[str, Any]) -> str:
    return _TYPE_RE.sub("", str(fields.get("MsgType") or "unknown").lower())[:30] or "unknown"


def event_of(fields: dict[str, Any]) -> str | None:
    event = fields.get("Event")
    return _TYPE_RE.sub("", str(event).lower())[:40] or None if event else None


def sent_at(fields: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(fields.get("CreateTime")).strip()), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def short(value: Any, limit: int = 500) -> str | None:
    if value is None:
        return None
    text, _ = clean_text(value, max_length=limit)
    return text or None


def content_of(fields: dict[str, Any]) -> tuple[str | None, dict, dict]:
    """(text, media, extra) of a WeChat/WeCom message, by type. Text is cleaned and bounded."""
    msg_type = msg_type_of(fields)
    media: dict[str, Any] = {}
    text_source: Any = None
    if msg_type == "text":
        text_source = fields.get("Content") or ""
    elif msg_type == "image":
        media = {"pic_url": short(fields.get("PicUrl")), "media_id": short(fields.get("MediaId"))}
    elif msg_type == "voice":
        media = {"media_id": short(fields.get("MediaId")), "format": short(fields.get("Format"))}
        text_source = fields.get("Recognition")  # speech recognition, when enabled
    elif msg_type in ("video", "shortvideo"):
        media = {"media_id": short(fields.get("MediaId")), "thumb_media_id": short(fields.get("ThumbMediaId"))}
    elif msg_type == "location":
        media = {"x": short(fields.get("Location_X")), "y": short(fields.get("Location_Y")),
                 "scale": short(fields.get("Scale")), "label": short(fields.get("Label"))}
        text_source = fields.get("Label")
    elif msg_type == "link":
        media = {"title": short(fields.get("Title")), "description": short(fields.get("Description")),
                 "url": short(fields.get("Url"), 1000)}
        text_source = fields.get("Title")
    elif msg_type == "miniprogrampage":
        media = {"title": short(fields.get("Title")), "appid": short(fields.get("AppId")),
                 "pagepath": short(fields.get("PagePath"), 1000), "thumb_media_id": short(fields.get("ThumbMediaId"))}
        text_source = fields.get("Title")
    elif msg_type == "event":
        key = fields.get("EventKey")
        if isinstance(key, (str, int)):
            media = {"event_key": short(key)}
    else:
        # Unknown type: keep which fields came, not their (unvetted) content.
        media = {"fields": sorted(str(k)[:40] for k in fields)[:30]}
    text, info = clean_text(text_source) if text_source is not None else (None, {})
    media = {k: v for k, v in media.items() if v is not None}
    return text or None, media, info


def dedupe_key(fields: dict[str, Any], sender: str) -> tuple[str, str | None]:
    """(dedupe key, channel msg id): MsgId; events by FromUserName + CreateTime + event (WeChat's advice)."""
    msg_id = fields.get("MsgId") or fields.get("MsgID")
    if msg_id and msg_type_of(fields) != "event":
        msg_id = clean_id(msg_id, "MsgId")
        return f"msg:{msg_id}", msg_id
    create_time = clean_id(fields.get("CreateTime"), "CreateTime", max_length=20)
    kind = event_of(fields) if msg_type_of(fields) == "event" else msg_type_of(fields)
    return f"evt:{sender}:{create_time}:{kind or '-'}", (clean_id(msg_id, "MsgId", required=False) if msg_id else None)


def text_response(body: str = "success", status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


def xml_response(body: str) -> Response:
    return Response(body, mimetype="application/xml")
