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
    if inbound.dialogue_state is not None:
        return inbound.dialogue_state   # the channel read it already (app/channels/prefetch.py)
    try:
        raw = redis_ext.client.get(state_key(inbound))
    except redis.RedisError as exc:
        log.warning("conversation: dialogue state unavailable (%s); answering without it", exc)
        return {}
    return parse_state(raw)


def parse_state(raw: bytes | str | None) -> dict:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def save_state(inbound: InboundMessage, state: dict, loaded: dict | None = None) -> None:
    """Keep the state of a flow in progress; forget it otherwise.

    ``loaded`` is the state the message was handled with: when it held no flow and none
    was started there is no key to delete, and the round trip is saved.
    """
    key = state_key(inbound)
    if loaded is not None and not loaded and not (state and state.get("flow")):
        return
    try:
        if state and state.get("flow"):
            ttl = int(current_app.config.get("BOT_STATE_TTL_SECONDS") or 1800)
            redis_ext.client.set(key, json.dumps(state, ensure_ascii=False, default=str), ex=ttl)
        else:
            redis_ext.client.delete(key)
    except redis.RedisError as exc:
        log.warning("conversation: dialogue state not saved (%s)", exc)
