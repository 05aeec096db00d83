"""One Redis round trip per callback: the replay nonce, the resend key and the dialogue state together.

A callback used to ask Redis three to four times, one after the other: the
replay guard's SET NX (+ GET), the new-MsgId resend key's SET NX (+ GET) and
the router's dialogue-state GET. ``prefetch`` sends them in one pipeline (not a
MULTI transaction: the keys are independent, each SET NX is atomic on its own)
and hands the answers to those three places:

- the nonce verdict is given at once (``security.replay_verdict``: a nonce reused
  with another body raises ReplayRejected);
- ``first_key`` goes to ``intake.take`` (the earlier copy's dedupe key, if any);
- the dialogue state goes on ``inbound.dialogue_state`` for the router;
- the bot vocabulary's version token goes on ``inbound.vocabulary_version``: the
  router uses its per-process vocabulary only if it carries that token
  (app/handlers/conversation/vocabulary.py).

Redis unreachable: the nonce is not remembered (as ``guard_replay`` does), the
resend check falls back to the database, the router answers without state and
reads the vocabulary from the database.
"""
from __future__ import annotations

from typing import Any

import redis

from app.channels.intake import RESEND_WINDOW_SECONDS, Prefetched, resend_key_of
from app.channels.security import replay_check, replay_unguarded, replay_verdict
from app.extensions import redis_ext
from app.handlers.conversation import parse_state, state_key, vocabulary
from app.handlers.messaging.inbound import InboundMessage


def prefetch(inbound: InboundMessage, replay: tuple[str, Any, Any, bytes] | None) -> Prefetched:
    """Run the replay guard (``replay`` = channel, timestamp, nonce, body), the resend check and the state read."""
    nonce = replay_check(*replay) if replay is not None else None
    resend_key = resend_key_of(inbound)
    try:
        pipe = redis_ext.client.pipeline(transaction=False)
        if nonce is not None:
            key, digest, ttl = nonce
            pipe.set(key, digest, nx=True, ex=ttl)
            pipe.get(key)
        if resend_key is not None:
            pipe.set(resend_key, inbound.dedupe_key, nx=True, ex=RESEND_WINDOW_SECONDS)
            pipe.get(resend_key)
        pipe.get(state_key(inbound))
        pipe.get(vocabulary.VERSION_KEY)
        answers = list(pipe.execute())
    except (redis.RedisError, OSError):
        if replay is not None:
            replay_unguarded(replay[0])
        inbound.dialogue_state = {}
        inbound.vocabulary_version = vocabulary.UNAVAILABLE
        return Prefetched(redis_ok=False)
    if nonce is not None:
        fresh, seen = answers.pop(0), answers.pop(0)
        replay_verdict(bool(fresh), seen, nonce[1])
    first = None
    if resend_key is not None:
        fresh, seen = answers.pop(0), answers.pop(0)
        first = None if fresh or seen is None else seen.decode()
    inbound.dialogue_state = parse_state(answers.pop(0))
    inbound.vocabulary_version = vocabulary.version_from(answers.pop(0))
    return Prefetched(redis_ok=True, first_key=first if first and first != inbound.dedupe_key else None)
