"""Outbound senders behind one interface: ``Sender.send(target, text) -> Outcome``.

| sender            | when                                             | how                                   |
|-------------------|--------------------------------------------------|---------------------------------------|
| PassiveReply      | answering a callback within its 5 s              | XML in the HTTP response (plain/AES)  |
| CustomerService   | mp / miniprogram user (or staff openid)          | POST /cgi-bin/message/custom/send     |
| WeComApp          | staff (WeCom userid), WeCom member               | POST /cgi-bin/message/send            |
| GroupWebhook      | a group with a robot webhook_url                 | webhook, at most N per minute         |
| AppChat           | internal WeCom group created by the app          | POST /cgi-bin/appchat/send            |
| AibotResponse     | answer to a WeCom intelligent-robot message      | its one-time response_url             |
| BridgeOutbox      | bridge groups (channel "group") without webhook  | the bridge pulls /ingest/outbox       |
| LocalDelivery     | development only: the channel has no credentials | kept in the local 发送记录 view         |

``choose(target)`` picks one; ``workers.sends.deliver_message`` runs it and
records the outcome on the Message row. Senders never raise for WeChat's
answers: every result is an ``Outcome`` (sent, rejected, retry, deferred,
awaiting_pull) so the job can record it.

``repeat_window()``: may a send interrupted before its answer be repeated without a
second delivery (WeCom app messages within the duplicate check; never for 客服消息,
group robots, appchat)?
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import current_app
from sqlalchemy import select
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto
from wechatpy.enterprise.replies import TextReply as WeComTextReply
from wechatpy.replies import TextReply

from app.channels import wechat_api
from app.channels.wechat_api import TransportError, WeChatError, duplicate_check_seconds
from app.clock import now
from app.extensions import db, redis_ext
from app.handlers.messaging.outbox import TO_GROUP, TO_STAFF, TO_USER
from app.models import Message, ResidentGroup

# Text limits in UTF-8 bytes: WeCom text messages and webhooks take at most 2048 bytes;
# customer-service text is kept to the same so a long answer arrives in readable parts.
TEXT_MAX_BYTES = 2048

# errcodes that mean "too fast, try again later" rather than "no": WeCom's API frequency
# limit (45009) and the group robot's "send too fast, exceed 20 times per minute" (130101).
RATE_LIMIT_CODES = frozenset({45009, 130101})

REASONS = {
    45015: "超出48小时回复时限 (customer-service window expired)",
    45047: "客服消息下发条数超过上限 (customer-service quota exceeded)",
    40003: "openid 无效 (invalid openid)",
    43004: "用户未关注公众号 (user has not followed the account)",
    40001: "access token 无效 (bad access token)",
    40014: "access token 无效 (bad access token)",
    42001: "access token 已过期 (expired access token)",
    48001: "接口未授权 (API not authorised for this account)",
    81013: "成员不在应用可见范围 (user outside the app's scope)",
    "invaliduser": "企业微信成员无效 (unknown WeCom userid)",
    "not_configured": "渠道未配置 (channel not configured)",
    "no_route": "没有可用的发送渠道 (no way to reach this recipient)",
    "webhook_url_not_allowed": "群机器人地址不是企业微信地址 (webhook URL not allowed)",
    "response_url_not_allowed": "回复地址不是企业微信地址 (response_url not allowed)",
}


@dataclass
class Outcome:
    status: str                       # sent | rejected | retry | deferred | awaiting_pull
    error_code: str | None = None
    reason: str | None = None
    retry_at: datetime | None = None
    body: str | None = None           # PassiveReply: the HTTP response body
    uncertain: bool = False           # retry: the request may have been carried out (answer timed out)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Target:
    channel: str
    kind: str                          # outbox TO_USER / TO_STAFF / TO_GROUP
    recipient_id: str | None
    chat_id: str | None = None
    group: ResidentGroup | None = None
    reply_to: Message | None = None    # the inbound message this answers, if any
    message_id: int | None = None      # the outbound row being delivered


ALWAYS = "always"


class Sender:
    name = "sender"
    max_bytes = TEXT_MAX_BYTES
    repeat: int | str = 0

    def send(self, target: Target, text: str) -> Outcome:  # pragma: no cover - interface
        raise NotImplementedError

    def repeat_window(self) -> int | str:
        """Seconds within which an interrupted send may be repeated safely; "always", or 0 for never."""
        return self.repeat

    def _call(self, fn, *args) -> Outcome:
        """Run one API call and turn WeChat's answer into an Outcome."""
        try:
            fn(*args)
        except TransportError as exc:
            return Outcome("retry", error_code="transport", reason=str(exc)[:500], uncertain=exc.uncertain)
        except WeChatError as exc:
            return outcome_for_error(exc)
        return Outcome("sent")


def outcome_for_error(exc: WeChatError) -> Outcome:
    if exc.code in RATE_LIMIT_CODES:
        return Outcome("deferred", error_code=str(exc.code), reason="rate limited",
                       retry_at=now() + timedelta(seconds=60))
    label = REASONS.get(exc.code)
    reason = f"{label}: {exc.message}" if label and exc.message else (label or exc.message or str(exc.code))
    return Outcome("rejected", error_code=str(exc.code), reason=reason[:500])


# ---------------------------------------------------------------- passive replies

def _cdata_safe(text: str) -> str:
    # wechatpy writes text into <![CDATA[...]]>; a "]]>" inside would end it early.
    return text.replace("]]>", "]]]]><![CDATA[>")


class PassiveReply(Sender):
    """The answer inside the callback's HTTP response, in the mode the request came in.

    ``crypto`` is a wechatpy WeChatCrypto (mp) or enterprise WeChatCrypto (WeCom)
    for safe mode, None for plaintext. ``to_user``/``from_user`` swap the
    inbound's FromUserName/ToUserName.
    """

    name = "passive"

    def __init__(self, *, to_user: str, from_user: str, crypto: WeChatCrypto | WeComCrypto | None = None,
                 nonce: str | None = None, agent_id: str | None = None):
        self.to_user, self.from_user, self.crypto, self.nonce, self.agent_id = to_user, from_user, crypto, nonce, agent_id

    def send(self, target: Target | None, text: str) -> Outcome:
        created = int(now().timestamp())
        if self.agent_id is not None:
            reply = WeComTextReply(target=self.to_user, source=self.from_user, content=_cdata_safe(text),
                                   time=created, agent=self.agent_id)
        else:
            reply = TextReply(target=self.to_user, source=self.from_user, content=_cdata_safe(text), time=created)
        xml = reply.render()
        if self.crypto is not None:
            xml = self.crypto.encrypt_message(xml, self.nonce or uuid.uuid4().hex[:10], str(created))
        return Outcome("sent", body=xml)


# ---------------------------------------------------------------- API senders

class CustomerService(Sender):
    name = "custom_send"

    def __init__(self, channel: str):
        self.channel = channel

    def send(self, target: Target, text: str) -> Outcome:
        return self._call(wechat_api.custom_send, self.channel, target.recipient_id, text)


class WeComApp(Sender):
    name = "wework_app"

    def send(self, target: Target, text: str) -> Outcome:
        return self._call(wechat_api.wework_message_send, target.recipient_id, text)

    def repeat_window(self) -> int | str:
        # The same request body within WeCom's duplicate-check interval is delivered once.
        return duplicate_check_seconds()


class AppChat(Sender):
    name = "appchat"

    def send(self, target: Target, text: str) -> Outcome:
        return self._call(wechat_api.appchat_send, target.chat_id or target.recipient_id, text)


class AibotResponse(Sender):
    """One-time response_url of an intelligent-robot message (kept in Redis for its hour)."""

    name = "aibot_response"
    max_bytes = 20480  # markdown answers may be long; the URL works once, so one part only

    def __init__(self, key: str, url: str):
        self.key, self.url = key, url

    repeat = ALWAYS  # the response_url works once: WeCom itself refuses a second delivery

    def send(self, target: Target, text: str) -> Outcome:
        outcome = self._call(wechat_api.aibot_respond, self.url, text)
        if outcome.status in ("sent", "rejected"):
            redis_ext.client.delete(self.key)  # used (or refused): never again
        return outcome


# KEYS[1]: the webhook's window; ARGV: now (ms), window (ms), limit, member.
# Returns -1 when a slot was taken, else the time (ms) of the oldest send in the window.
_RATE_LIMIT_LUA = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return -1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2])
"""


def take_webhook_slot(url: str, *, limit: int | None = None, window_seconds: int = 60) -> datetime | None:
    """Reserve a send on this webhook; None if allowed now, else when the next slot frees up.

    A sliding window in Redis shared by all workers, timed by the app clock.
    """
    limit = limit or current_app.config["GROUP_WEBHOOK_RATE_PER_MINUTE"]
    key = "linli:webhook-rate:" + hashlib.sha256(url.encode()).hexdigest()[:24]
    at = now()
    now_ms = int(at.timestamp() * 1000)
    result = redis_ext.client.eval(_RATE_LIMIT_LUA, 1, key, now_ms, window_seconds * 1000, limit,
                                   f"{now_ms}-{uuid.uuid4().hex}")
    if int(result) == -1:
        return None
    free_ms = int(result) + window_seconds * 1000 + 1
    return datetime.fromtimestamp(free_ms / 1000, tz=timezone.utc)


class GroupWebhook(Sender):
    """WeCom group robot: at most GROUP_WEBHOOK_RATE_PER_MINUTE per webhook; the rest wait (deferred)."""

    name = "webhook"

    def __init__(self, url: str):
        self.url = url

    def send(self, target: Target, text: str) -> Outcome:
        if not wechat_api.webhook_allowed(self.url):
            return outcome_for_error(WeChatError("webhook_url_not_allowed"))
        free_at = take_webhook_slot(self.url)
        if free_at is not None:
            return Outcome("deferred", error_code="rate_limited", reason="webhook rate limit", retry_at=free_at)
        return self._call(wechat_api.webhook_send, self.url, text)


class BridgeOutbox(Sender):
    """Groups reached through the bridge: the message waits for POST /ingest/outbox."""

    name = "bridge_outbox"
    max_bytes = 1 << 20  # the bridge posts it as a whole

    repeat = ALWAYS  # no call made: the bridge acks what it posted

    def send(self, target: Target, text: str) -> Outcome:
        return Outcome("awaiting_pull")


class LocalDelivery(Sender):
    """The embedded default (LINLI_ENV=development) with nothing configured: nowhere to send to.

    The message counts as delivered into the local "sent messages" view (发送记录, in /try and
    the console), so a newcomer sees what would have gone out. Production and the test suite
    always use the real senders.
    """

    name = "local"
    max_bytes = 1 << 20

    def __init__(self, instead_of: str):
        self.instead_of = instead_of

    repeat = ALWAYS

    def send(self, target: Target, text: str) -> Outcome:
        return Outcome("sent", detail={"instead_of": self.instead_of})


class NoRoute(Sender):
    name = "no_route"

    def __init__(self, why: str):
        self.why = why

    repeat = ALWAYS

    def send(self, target: Target, text: str) -> Outcome:
        return Outcome("rejected", error_code="no_route", reason=f"{REASONS['no_route']}: {self.why}")


# ---------------------------------------------------------------- choosing

def aibot_response_key(inbound_message_id: int) -> str:
    return f"linli:aibot:response-url:{inbound_message_id}"


def remember_aibot_response_url(inbound_message_id: int, url: str) -> None:
    # WeCom: each response_url works once and for one hour.
    redis_ext.client.set(aibot_response_key(inbound_message_id), url, ex=3500)


def target_for(message: Message) -> Target:
    """Who an outbound row goes to, with its group and the inbound it answers."""
    handling = message.handling or {}
    kind = handling.get("recipient_kind", TO_USER)
    group = db.session.get(ResidentGroup, message.group_id) if message.group_id else None
    if group is None and kind == TO_GROUP and message.chat_id:
        group = db.session.scalars(select(ResidentGroup).where(
            ResidentGroup.channel == message.channel, ResidentGroup.chat_id == message.chat_id)).first()
    reply_to = db.session.get(Message, message.in_reply_to_id) if message.in_reply_to_id else None
    return Target(channel=message.channel, kind=kind, recipient_id=message.recipient_id,
                  chat_id=message.chat_id or (group.chat_id if group else None), group=group,
                  reply_to=reply_to, message_id=message.id)


def _aibot_sender(target: Target) -> AibotResponse | None:
    if target.reply_to is None:
        return None
    key = aibot_response_key(target.reply_to.id)
    url = redis_ext.client.get(key)
    return AibotResponse(key, url.decode()) if url else None


def choose(target: Target) -> Sender:
    sender = route(target)
    if current_app.config.get("ENV") == "development" and not configured(sender):
        return LocalDelivery(sender.name)
    return sender


def configured(sender: Sender) -> bool:
    """Whether the sender has what it needs to reach anyone (credentials, a bridge)."""
    try:
        if isinstance(sender, BridgeOutbox):
            return bool(current_app.config.get("INGEST_SECRET"))
        if isinstance(sender, CustomerService):
            wechat_api.wechat_account(sender.channel)
        elif isinstance(sender, (WeComApp, AppChat)):
            wechat_api.wework_account()
    except WeChatError:
        return False
    return True


def route(target: Target) -> Sender:
    channel, kind = target.channel, target.kind
    if kind == TO_GROUP:
        if target.group is not None and target.group.webhook_url:
            return GroupWebhook(target.group.webhook_url)
        if channel == "wework":
            return _aibot_sender(target) or (AppChat() if target.chat_id else NoRoute("group without chat id"))
        if channel == "group":
            return BridgeOutbox() if target.chat_id else NoRoute("group without chat id")
        return NoRoute(f"no group messages on channel {channel}")
    if not target.recipient_id:
        return NoRoute("no recipient id")
    if channel in ("mp", "miniprogram") and kind in (TO_USER, TO_STAFF):
        return CustomerService(channel)
    if channel == "wework" and kind in (TO_USER, TO_STAFF):
        return _aibot_sender(target) or WeComApp()
    return NoRoute(f"{kind} on channel {channel}")


def split_text(text: str, max_bytes: int) -> list[str]:
    """Cut text into parts of at most max_bytes UTF-8 bytes, at line ends where possible."""
    if len(text.encode("utf-8")) <= max_bytes:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if len((current + line).encode("utf-8")) <= max_bytes:
            current += line
            continue
        if current:
            parts.append(current)
            current = ""
        while len(line.encode("utf-8")) > max_bytes:
            cut = len(line)
            while len(line[:cut].encode("utf-8")) > max_bytes:
                cut = max(1, cut * max_bytes // len(line[:cut].encode("utf-8")) - 1)
            parts.append(line[:cut])
            line = line[cut:]
        current = line
    if current:
        parts.append(current)
    return [p.strip("\n") or p for p in parts if p.strip()]
