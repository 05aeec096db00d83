"""GET|POST /wechat/mp — official account (公众号) and mini-program customer-service (小程序客服) pushes.

GET answers WeChat's URL check (echostr) when ``signature`` is right. POST takes
XML (official account, mini-program) or JSON (mini-program "JSON" data format),
in plaintext or safe mode (``encrypt_type=aes`` + ``msg_signature``).

Answers, in the mode the request came in:
- official account: the core's reply as a passive text reply (encrypted in safe
  mode), "success" when it says nothing;
- mini-program: always "success" — mini-program customer service accepts no
  passive text reply — and the core's reply goes out as a customer-service
  message (客服消息) through the outbox.

Which account a message belongs to: safe mode tells (the decrypted AppID is
LINLI_WECHAT_APPID or LINLI_WECHAT_MINI_APPID); JSON bodies and mini-program-only
types (miniprogrampage, user_enter_tempsession) are mini-program; otherwise
LINLI_WECHAT_ACCOUNT says what the account is.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

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
from app.channels.prefetch import prefetch
from app.channels.security import BadPayload, NotConfigured, check_timestamp, clean_id, parse_xml
from app.channels.senders import TEXT_MAX_BYTES, PassiveReply
from app.handlers.conversation.express import answer_at_once
from app.handlers.messaging.inbound import CHAT_PRIVATE, InboundMessage

bp = Blueprint("wechat_mp", __name__)

# Events a person triggers on purpose; the rest (LOCATION reports every few seconds, VIEW,
# template/mass-send results, unsubscribe) are stored but never answered.
CONVERSATIONAL_EVENTS = frozenset({"subscribe", "subscribe_scan", "scan", "click", "user_enter_tempsession"})
MINIPROGRAM_ONLY = frozenset({"miniprogrampage"})
MINIPROGRAM_EVENTS = frozenset({"user_enter_tempsession"})


@bp.route("/wechat/mp", methods=["GET", "POST"])
def callback() -> Response:
    config = current_app.config
    token = config.get("WECHAT_TOKEN")
    if not token:
        raise NotConfigured("the official account / mini-program channel is not configured (LINLI_WECHAT_TOKEN)")
    args = request.args
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    if request.method == "GET":
        return _verify_url(token, timestamp, nonce)
    fields, channel, encrypted = _decode_delivery(token, timestamp, nonce)
    drain_spool_if_pending()
    inbound, conversational = _inbound(fields, channel)
    # The replay guard, the resend check and the dialogue state: one Redis round trip.
    prefetched = prefetch(inbound, ("mp", timestamp, nonce, read_body()))
    # A new report with nothing to join: answered and stored in one statement (conversation/express.py).
    reply_text = answer_at_once(inbound, prefetched) if conversational else None
    if reply_text is None:
        taken = take_or_spool(inbound, staff_by="openid", handle_it=conversational, wait=True, prefetched=prefetched,
                              reason=None if conversational else f"event {event_of(fields) or msg_type_of(fields)} "
                                                                 "is not answered")
        reply_text = taken.reply.text if taken.reply else None
    else:
        taken = None
    if not reply_text:
        return text_response("success")
    too_long = len(reply_text.encode("utf-8")) > TEXT_MAX_BYTES
    if channel == "miniprogram" or too_long:
        # Sent as 客服消息 by a worker (once: the idempotency key is the inbound row); a spooled
        # delivery's answer is sent when the spool is drained.
        if taken is not None and taken.created and taken.message is not None:
            queue_reply(taken.message, reply_text)
        return text_response("success")
    crypto = crypto_for("mp", token, config["WECHAT_AES_KEY"], _appid_for(channel)) if encrypted else None
    passive = PassiveReply(to_user=inbound.sender_id, from_user=str(fields.get("ToUserName") or ""),
                           crypto=crypto, nonce=nonce)
    return xml_response(passive.send(None, reply_text).body)


def _verify_url(token: str, timestamp: str, nonce: str) -> Response:
    """The GET WeChat sends when the callback URL is registered: echo echostr if the signature holds."""
    require_signature(sha1_signature(token, timestamp, nonce), request.args.get("signature"))
    check_timestamp(timestamp)
    echostr = request.args.get("echostr", "")
    if not echostr or len(echostr) > 256:
        raise BadPayload("echostr is missing")
    return text_response(echostr)


def _decode_delivery(token: str, timestamp: str, nonce: str) -> tuple[dict, str, bool]:
    """Verify, decrypt and parse a POSTed delivery: (fields, channel, encrypted)."""
    args = request.args
    body = read_body()
    encrypted = args.get("encrypt_type", "raw").lower() == "aes"
    if args.get("signature") or not encrypted:
        require_signature(sha1_signature(token, timestamp, nonce), args.get("signature"))
    is_json = body.lstrip()[:1] == b"{"
    outer = parse_json(body) if is_json else parse_xml(body)
    channel = None
    if encrypted:
        encrypt = outer.get("Encrypt")
        if not isinstance(encrypt, str) or not encrypt:
            raise BadPayload("Encrypt is missing")
        require_signature(sha1_signature(token, timestamp, nonce, encrypt), args.get("msg_signature"))
        check_timestamp(timestamp)   # before decrypting; the nonce is checked with the callback's other keys
        plaintext, channel = _decrypt(token, encrypt, timestamp, nonce)
        fields = parse_json(plaintext) if is_json else parse_xml(plaintext)
    else:
        check_timestamp(timestamp)
        fields = outer
    msg_type, event = msg_type_of(fields), event_of(fields)
    if is_json or msg_type in MINIPROGRAM_ONLY or event in MINIPROGRAM_EVENTS:
        # Only mini-programs push JSON or these types, whichever AppID decrypted it: such a
        # push must never get a passive XML reply (the mini-program ignores it; the answer
        # would be lost) but "success" and a 客服消息.
        channel = "miniprogram"
    elif channel is None:
        channel = current_app.config.get("WECHAT_ACCOUNT", "mp")
    return fields, channel, encrypted


def _appid_for(channel: str) -> str:
    config = current_app.config
    if channel == "miniprogram" and config.get("WECHAT_MINI_APPID"):
        return config["WECHAT_MINI_APPID"]
    return config.get("WECHAT_APPID", "")


def _decrypt(token: str, encrypt: str, timestamp: str, nonce: str) -> tuple[str, str]:
    """Decrypt with the main account's AppID, then the mini-program's; returns (plaintext, channel)."""
    config = current_app.config
    aes_key = config.get("WECHAT_AES_KEY")
    if not aes_key:
        raise NotConfigured("safe mode needs LINLI_WECHAT_AES_KEY")
    candidates = [(config.get("WECHAT_APPID", ""), config.get("WECHAT_ACCOUNT", "mp"))]
    if config.get("WECHAT_MINI_APPID"):
        candidates.append((config["WECHAT_MINI_APPID"], "miniprogram"))
    msg_signature = request.args.get("msg_signature", "")
    for appid, channel in candidates:
        if not appid:
            continue
        crypto = crypto_for("mp", token, aes_key, appid)
        try:
            return crypto.decrypt_message({"Encrypt": encrypt}, msg_signature, timestamp, nonce), channel
        except InvalidAppIdException:
            continue
        except InvalidSignatureException:
            raise BadPayload("signature check failed") from None
        except Exception:  # noqa: BLE001 - bad base64, bad padding, wrong key
            # bad base64, bad padding, wrong key: not something WeChat sent us
            raise BadPayload("message cannot be decrypted") from None
    raise BadPayload("message is for another AppID")


def _inbound(fields: dict, channel: str) -> tuple[InboundMessage, bool]:
    message = wechat_message(fields)  # wechatpy's message/event class for these fields
    sender = clean_id(message.source, "FromUserName")
    key, channel_msg_id = dedupe_key(fields, sender)
    msg_type, event = msg_type_of(fields), event_of(fields)
    text, media, info = content_of(fields)
    inbound = InboundMessage(
        channel=channel, dedupe_key=key, sender_id=sender, chat_type=CHAT_PRIVATE, msg_type=msg_type, text=text,
        media={**media, **info} or None, channel_msg_id=channel_msg_id, sent_at=sent_at(fields), event=event,
        extra={"to": str(message.target or "")[:64]})
    conversational = msg_type != "event" or event in CONVERSATIONAL_EVENTS
    # A new report may be answered at once and finished by a worker (docs/reliability.md §11).
    inbound.may_defer = bool(current_app.config.get("INBOUND_DEFER_REPORTS"))
    return inbound, conversational
