"""Dialogue state per (chat, sender) in Redis with a TTL: where a multi-turn flow stands.

Redis unreachable: the message is answered without state (a flow restarts), never refused.
"""
from __future__ import annotations

import json
import logging

import redis
from flask import current_app

from app.extensions import redis_ext
from app.handlers.messaging.inbound import InboundMessage

log = logging.getLogger("app.handlers.conversation")

STATE_PREFIX = "linli:bot:state:"


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
