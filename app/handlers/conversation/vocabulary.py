"""The bot's vocabulary per community (service items, upcoming events), kept per process between messages.

Reading it from the database cost two SELECTs and their ORM rows on every text
message, the largest part of the callback after the waits (docs/benchmarks.md). The
rows change when staff edit the catalogue or the events, a few times a day, so each
process keeps the terms it built, tagged with a **version token** kept in Redis:

- any commit that wrote a watched row (the models the chat features name in
  ``vocabulary_models``, and ``Community``, for ``sole_community_id``) sets the token
  to a fresh random value after the commit (``_after_commit``), and drops this
  process's cache at once;
- the callback reads the token in its one Redis round trip (app/channels/prefetch.py,
  ``inbound.vocabulary_version``); a cached entry is used only when its token is the
  current one, so an edit is seen by the next message in every process. The token is
  read *before* the rows, so rows read under an old token are never kept under a new one;
- a token, not a counter: a Redis that was flushed or replaced never hands back a
  value an old entry still carries. No token in Redis yet: one is set (SET NX) and used.
- Redis unreachable: nothing is cached or used, the rows are read as before. An edit
  committed while Redis was down cannot change the token; entries also expire after
  ``TTL_SECONDS``, which bounds that case and lets events enter the 60-day horizon.
- an event that has started meanwhile is left out when a cached entry is used, as
  ``events.matching.bookable`` leaves it out when it reads the rows.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

import redis
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.bot import Vocabulary
from app.clock import now as clock_now
from app.extensions import db, redis_ext
from app.handlers.conversation import registry
from app.models import Community

log = logging.getLogger("app.handlers.conversation")

VERSION_KEY = "linli:bot:vocabulary-version"
TTL_SECONDS = 60
MISSING = "?"       # Redis answered and has no token yet
UNAVAILABLE = ""    # Redis could not be asked: read the rows, keep nothing

# key -> (token, monotonic time, app clock time, features, value)
_cache: dict[Any, tuple[str, float, Any, Any, Any]] = {}
_lock = threading.Lock()
_SESSION_FLAG = "linli.vocabulary_written"


def version_from(raw: bytes | str | None) -> str:
    """The token as the callback's pipeline read it (GET ``VERSION_KEY``)."""
    if not raw:
        return MISSING
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _current_token(version: str | None) -> str:
    """The token to tag with: ``version`` as prefetched, else asked now; a missing one is set."""
    try:
        client = redis_ext.client
        if version is None:
            version = version_from(client.get(VERSION_KEY))
        if version == MISSING:
            pipe = client.pipeline(transaction=False)
            pipe.set(VERSION_KEY, uuid.uuid4().hex, nx=True)
            pipe.get(VERSION_KEY)
            version = version_from(pipe.execute()[1])
    except (redis.RedisError, OSError):
        return UNAVAILABLE
    return UNAVAILABLE if version == MISSING else version


def _cached(key: Any, version: str | None, build):
    token = _current_token(version) if version != UNAVAILABLE else UNAVAILABLE
    features = registry.features()
    moment = clock_now()
    if token:
        with _lock:
            entry = _cache.get(key)
        # The app's clock too: a clock moved on (tests travel in time) changes which events are upcoming.
        if (entry is not None and entry[0] == token and entry[3] is features
                and time.monotonic() - entry[1] < TTL_SECONDS
                and abs((moment - entry[2]).total_seconds()) < TTL_SECONDS):
            return entry[4]
    value = build()
    if token:
        with _lock:
            _cache[key] = (token, time.monotonic(), moment, features, value)
    return value


def vocabulary_for(community_id: int | None, version: str | None = None) -> Vocabulary:
    """The community's services and events for the bot; ``version``: the token the callback read."""
    cached = _cached(("vocabulary", community_id), version, lambda: read_vocabulary(community_id))
    moment = clock_now()
    events = [t for t in cached.events if t.starts_at is None or t.starts_at > moment]
    return cached if len(events) == len(cached.events) else Vocabulary(services=cached.services, events=events)


def read_vocabulary(community_id: int | None) -> Vocabulary:
    """The terms from the domains' vocabulary sources (the database), uncached."""
    lists: dict[str, list] = {"services": [], "events": []}
    for name, fn in registry.vocabulary_sources():
        try:
            lists.setdefault(name, []).extend(fn(community_id) or [])
        except Exception:  # noqa: BLE001 - a broken vocabulary must not silence the bot
            log.exception("conversation: vocabulary source %s failed", registry.name_of(fn))
            db.session.rollback()
    return Vocabulary(services=lists.get("services", []), events=lists.get("events", []))


def sole_community_id(version: str | None = None) -> int | None:
    """The community of a deployment that serves exactly one: a 1:1 chat needs no question then."""
    return _cached(("sole-community",), version, _read_sole_community)


def _read_sole_community() -> int | None:
    ids = db.session.scalars(select(Community.id).limit(2)).all()
    return ids[0] if len(ids) == 1 else None


# ---- invalidation -----------------------------------------------------------------------------------

_watched: dict[str, Any] = {"features": None, "models": (Community,)}


def watched_models() -> tuple[type, ...]:
    """``Community`` and the models the chat features name (worked out again when the features change)."""
    features = registry.features()
    if _watched["features"] is not features:
        _watched["models"] = (Community, *(m for f in features for m in f.vocabulary_models))
        _watched["features"] = features
    return _watched["models"]


def forget() -> None:
    """Drop this process's entries (the next message reads the rows)."""
    with _lock:
        _cache.clear()


def _after_flush(session: Session, _context) -> None:
    watched = watched_models()
    if any(isinstance(obj, watched) for rows in (session.new, session.dirty, session.deleted) for obj in rows):
        session.info[_SESSION_FLAG] = True


def _after_commit(session: Session) -> None:
    if not session.info.pop(_SESSION_FLAG, False):
        return
    forget()
    try:
        redis_ext.client.set(VERSION_KEY, uuid.uuid4().hex)
    except Exception:  # noqa: BLE001 - Redis down or no app: other processes' entries expire (TTL_SECONDS)
        log.warning("conversation: vocabulary version not renewed; other processes see the edit within %s s",
                    TTL_SECONDS, exc_info=True)


def _after_rollback(session: Session) -> None:
    # Rows flushed and rolled back may have been read into this process's cache meanwhile.
    if session.info.pop(_SESSION_FLAG, False):
        forget()


def install_invalidation() -> None:
    """Listen to every session's commits (API, console, CLI, workers, the callback): once per process."""
    for name, fn in (("after_flush", _after_flush), ("after_commit", _after_commit),
                     ("after_rollback", _after_rollback)):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)
