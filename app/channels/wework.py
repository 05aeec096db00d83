"""WeCom (企业微信) callbacks.

GET|POST /wechat/work — the self-built app's callback (always encrypted XML; the
receive id is the corp id). Members (staff) talk to the app; the core's answer
is a passive encrypted text reply, or a WeCom app message when it is too long.

GET|POST /wechat/work/aibot — the intelligent robot (智能机器人) in API mode:
@-mentions in groups and 1:1 chats, JSON encrypted with the robot's own Token
and EncodingAESKey (receive id ""). Per WeCom's documentation (智能机器人:
回调和回复的加解密方案, 接收消息, 被动回复消息, 主动回复消息):
- a user message is answered with a *stream* message, which we finish at once
  ({"msgtype": "stream", "stream": {"id", "finish": true, "content"}});
- a stream refresh callback (msgtype "stream") gets the finished content again;
- the enter_chat event may be answered with a text welcome;
- every other answer is an empty body;
- the message's response_url (one use, valid 1 hour) is kept so a later answer
  from a worker can still reach the chat (senders.AibotResponse).
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, jsonify, request
from wechatpy.enterprise.crypto import PrpCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import to_text

from app.channels.common import (
    content_of,
    crypto_for,
    dedupe_key,
    event_of,
    msg_type_of,
    parse_json,
    read_body,
    require_signature,
    sent_at,
    sha1_signature,
    text_response,
    wechat_message,
    xml_response,
)
from app.channels.intake import drain_spool_if_pending, queue_reply, take_or_spool
from app.channels.security import (
    BadPayload,
    NotConfigured,
    check_timestamp,
    clean_id,
    clean_text,
    guard_replay,
    parse_xml,
)
from app.channels.senders import TEXT_MAX_BYTES, PassiveReply, remember_aibot_response_url
from app.clock import now
from app.extensions import db
from app.handlers.messaging.inbound import CHAT_GROUP, CHAT_PRIVATE, InboundMessage
from app.models import Message

bp = Blueprint("wework", __name__)

CONVERSATIONAL_EVENTS = frozenset({"enter_agent", "click"})
STREAM_PREFIX = "linli-"


def _app_config() -> tuple[str, str, str]:
    config = current_app.config
    token, aes_key, corp_id = config.get("WEWORK_TOKEN"), config.get("WEWORK_AES_KEY"), config.get("WEWORK_CORP_ID")
    if not (token and aes_key and corp_id):
        raise NotConfigured("the WeCom app callback is not configured "
                            "(LINLI_WEWORK_TOKEN, LINLI_WEWORK_AES_KEY, LINLI_WEWORK_CORP_ID)")
    return token, aes_key, corp_id


def _decrypt(crypto, encrypt: str, args) -> str:
    try:
        return crypto.decrypt_message({"Encrypt": encrypt}, args.get("msg_signature", ""),
                                      args.get("timestamp", ""), args.get("nonce", ""))
    except InvalidSignatureException:
        raise BadPayload("signature check failed") from None
    except Exception:  # noqa: BLE001 - bad base64, bad padding, wrong key
        raise BadPayload("message cannot be decrypted (wrong key or receive id)") from None


@bp.route("/wechat/work", methods=["GET", "POST"])
def app_callback() -> Response:
    token, aes_key, corp_id = _app_config()
    args = request.args
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    crypto = crypto_for("wework", token, aes_key, corp_id)

    if request.method == "GET":
        return _verify_url(crypto, token, timestamp, nonce)

    body = read_body()
    outer = parse_xml(body)
    encrypt = outer.get("Encrypt")
    if not isinstance(encrypt, str) or not encrypt:
        raise BadPayload("Encrypt is missing")
    require_signature(sha1_signature(token, timestamp, nonce, encrypt), args.get("msg_signature"))
    guard_replay("wework", timestamp, nonce, body)
    fields = parse_xml(_decrypt(crypto, encrypt, args))
    drain_spool_if_pending()

    message = wechat_message(fields, wework=True)
    sender = clean_id(message.source, "FromUserName")
    key, channel_msg_id = dedupe_key(fields, sender)
    msg_type, event = msg_type_of(fields), event_of(fields)
    text, media, info = content_of(fields)
    inbound = InboundMessage(
        channel="wework", dedupe_key=key, sender_id=sender, chat_type=CHAT_PRIVATE, msg_type=msg_type, text=text,
        media={**media, **info} or None, channel_msg_id=channel_msg_id, sent_at=sent_at(fields), event=event,
        extra={"agent_id": str(fields.get("AgentID") or "")[:20]})
    conversational = msg_type != "event" or event in CONVERSATIONAL_EVENTS
    taken = take_or_spool(inbound, staff_by="wework_userid", handle_it=conversational, wait=True,
                          reason=None if conversational else f"event {event or msg_type} is not answered")
    reply_text = taken.reply.text if taken.reply else None
    if not reply_text:
        return text_response("")
    if len(reply_text.encode("utf-8")) > TEXT_MAX_BYTES:
        if taken.created and taken.message is not None:
            queue_reply(taken.message, reply_text)
        return text_response("")
    passive = PassiveReply(to_user=sender, from_user=corp_id, crypto=crypto, nonce=nonce,
                           agent_id=str(fields.get("AgentID") or current_app.config.get("WEWORK_AGENT_ID") or 0))
    return xml_response(passive.send(None, reply_text).body)


# ---------------------------------------------------------------- intelligent robot

def _aibot_config() -> tuple[str, str]:
    config = current_app.config
    token, aes_key = config.get("WEWORK_AIBOT_TOKEN"), config.get("WEWORK_AIBOT_AES_KEY")
    if not (token and aes_key):
        raise NotConfigured("the WeCom intelligent robot is not configured "
                            "(LINLI_WEWORK_AIBOT_TOKEN, LINLI_WEWORK_AIBOT_AES_KEY)")
    return token, aes_key


def _aibot_reply(token: str, aes_key: str, nonce: str, payload: dict | None) -> Response:
    """Encrypted JSON answer {encrypt, msgsignature, timestamp, nonce}; None → empty body."""
    if payload is None:
        return text_response("")
    crypto = crypto_for("wework", token, aes_key, "")
    encrypt = to_text(PrpCrypto(crypto.key).encrypt(json.dumps(payload, ensure_ascii=False), ""))
    timestamp = str(int(now().timestamp()))
    return jsonify({"encrypt": encrypt, "msgsignature": sha1_signature(token, timestamp, nonce, encrypt),
                    "timestamp": timestamp, "nonce": nonce})


def _stream(message_id: int, content: str) -> dict:
    return {"msgtype": "stream", "stream": {"id": f"{STREAM_PREFIX}{message_id}", "finish": True,
                                             "content": content}}


@bp.route("/wechat/work/aibot", methods=["GET", "POST"])
def aibot_callback() -> Response:
    token, aes_key = _aibot_config()
    args = request.args
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    crypto = crypto_for("wework", token, aes_key, "")

    if request.method == "GET":
        return _verify_url(crypto, token, timestamp, nonce)

    body = read_body()
    outer = parse_json(body)
    encrypt = outer.get("encrypt")
    if not isinstance(encrypt, str) or not encrypt:
        raise BadPayload("encrypt is missing")
    require_signature(sha1_signature(token, timestamp, nonce, encrypt), args.get("msg_signature"))
    guard_replay("aibot", timestamp, nonce, body)
    data = parse_json(_decrypt(crypto, encrypt, args))

    msg_type = msg_type_of({"MsgType": data.get("msgtype")})
    if msg_type == "stream":
        return _aibot_reply(token, aes_key, nonce, _stream_refresh(data))

    sender = clean_id((data.get("from") or {}).get("userid") if isinstance(data.get("from"), dict) else None,
                      "from.userid")
    group = str(data.get("chattype") or "").lower() == "group"
    chat_id = clean_id(data.get("chatid"), "chatid", required=group) if group else None
    event = None
    if msg_type == "event":
        raw_event = data.get("event") if isinstance(data.get("event"), dict) else {}
        event = event_of({"Event": raw_event.get("eventtype")})
    msgid = clean_id(data.get("msgid"), "msgid", required=False)
    if msgid:
        key = f"aibot:{msgid}"
    else:
        key = f"aibot-evt:{sender}:{clean_id(data.get('create_time') or timestamp, 'create_time', 20)}:{event}"
    text, media, info = _aibot_content(data, msg_type)
    inbound = InboundMessage(
        channel="wework", dedupe_key=key, sender_id=sender, chat_id=chat_id,
        chat_type=CHAT_GROUP if group else CHAT_PRIVATE, msg_type=msg_type, text=text,
        media={**media, **info} or None, channel_msg_id=msgid, event=event,
        # in a group the robot only receives messages that @-mention it
        mentioned=group, extra={"aibot": True, "aibotid": str(data.get("aibotid") or "")[:64]})
    conversational = msg_type != "event" or event == "enter_chat"
    drain_spool_if_pending()
    taken = take_or_spool(inbound, staff_by="wework_userid", handle_it=conversational, wait=True,
                          reason=None if conversational else f"aibot event {event} is not answered")
    if taken.spooled:
        # The robot's answer is a stream bound to a stored message id: none exists yet. An empty
        # answer is still an answer (no 5xx); the reply is posted through response_url later.
        return _aibot_reply(token, aes_key, nonce, None)
    if taken.created and isinstance(data.get("response_url"), str) and msg_type != "event":
        remember_aibot_response_url(taken.message.id, data["response_url"])
    reply_text = taken.reply.text if taken.reply else None
    if not reply_text:
        return _aibot_reply(token, aes_key, nonce, None)
    if msg_type == "event":
        # WeCom accepts a passive text only as the enter_chat welcome.
        return _aibot_reply(token, aes_key, nonce, {"msgtype": "text", "text": {"content": reply_text}})
    return _aibot_reply(token, aes_key, nonce, _stream(taken.message.id, reply_text))


def _stream_refresh(data: dict) -> dict | None:
    """WeCom polls an unfinished stream; ours finish at once, so answer with the recorded content."""
    stream = data.get("stream") if isinstance(data.get("stream"), dict) else {}
    stream_id = str(stream.get("id") or "")
    if not stream_id.startswith(STREAM_PREFIX) or not stream_id[len(STREAM_PREFIX):].isdigit():
        return None
    message_id = int(stream_id[len(STREAM_PREFIX):])
    row = db.session.get(Message, message_id)
    content = ((row.handling or {}).get("reply_text") if row is not None and row.channel == "wework" else None)
    return _stream(message_id, content or "")


def _aibot_content(data: dict, msg_type: str) -> tuple[str | None, dict, dict]:
    def part(name: str) -> dict:
        value = data.get(name)
        return value if isinstance(value, dict) else {}

    text_source = None
    media: dict = {}
    if msg_type == "text":
        text_source = part("text").get("content") or ""
    elif msg_type == "voice":
        text_source = part("voice").get("content")  # WeCom transcribes voice for the robot
    elif msg_type in ("image", "file"):
        media = {"url": clean_text(part(msg_type).get("url"), 1000)[0]}
    elif msg_type == "mixed":
        texts, images = [], []
        items = part("mixed").get("msg_item")
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            if item.get("msgtype") == "text" and isinstance(item.get("text"), dict):
                texts.append(str(item["text"].get("content") or ""))
            elif item.get("msgtype") == "image" and isinstance(item.get("image"), dict):
                images.append(clean_text(item["image"].get("url"), 1000)[0])
        text_source = "\n".join(t for t in texts if t)
        media = {"images": [i for i in images if i][:20]}
    elif msg_type != "event":
        media = {"fields": sorted(str(k)[:40] for k in data)[:30]}
    if isinstance(data.get("quote"), dict):
        media["quote"] = True
    text, info = clean_text(text_source) if text_source is not None else (None, {})
    return text or None, {k: v for k, v in media.items() if v not in (None, [], {})}, info


def _verify_url(crypto, token: str, timestamp: str, nonce: str) -> Response:
    """The console's URL check (GET with echostr): answer the decrypted echostr."""
    args = request.args
    echostr = args.get("echostr", "")
    if not echostr or len(echostr) > 1024:
        raise BadPayload("echostr is missing")
    require_signature(sha1_signature(token, timestamp, nonce, echostr), args.get("msg_signature"))
    check_timestamp(timestamp)
    try:
        return text_response(crypto.check_signature(args["msg_signature"], timestamp, nonce, echostr))
    except Exception:  # noqa: BLE001 - bad base64, bad padding, wrong key
        raise BadPayload("echostr cannot be decrypted") from None
