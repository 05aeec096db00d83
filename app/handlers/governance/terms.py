"""The chat vocabulary of co-governance, from the bot's data folder (app/bot/data/governance.yaml).

Operators edit it like the bot's own files (``LINLI_BOT_DATA_DIR``); the file is
re-read when it changes (checked at most every 2 seconds), and a broken edit is
logged while the last good version stays in use. A data folder copied before
this file existed falls back to the default one.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from flask import current_app, has_app_context

from app.bot.data import DEFAULT_DATA_DIR

log = logging.getLogger(__name__)
FILE_NAME = "governance.yaml"
CHECK_SECONDS = 2.0
LEADING = re.compile(r"^(?:\s|@\S+\s*|[，,。.！!：:、~～\-—])+")


class TermsError(ValueError):
    """governance.yaml is malformed."""


@dataclass(frozen=True)
class Terms:
    services: dict[str, str]                # key -> name shown to people
    service_words: tuple[tuple[str, str], ...]   # (word, key), longest first
    where: tuple[str, ...]
    votes: tuple[tuple[str, str], ...]       # (word, choice), longest first
    review: tuple[tuple[str, str], ...]
    comment_prefixes: tuple[str, ...]
    suggestion_prefixes: tuple[str, ...]
    topic_ref: re.Pattern

    def service_in(self, text: str) -> str | None:
        return next((key for word, key in self.service_words if word in text), None)

    def asks_where(self, text: str) -> bool:
        return any(phrase in text for phrase in self.where)


def _word_table(mapping: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(mapping, dict):
        raise TermsError(f"{FILE_NAME} {where}: expected a mapping of key: [words]")
    pairs = []
    for key, words in mapping.items():
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise TermsError(f"{FILE_NAME} {where}.{key}: expected a list of words")
        pairs.extend((normalise(w), str(key)) for w in words)
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


def parse(raw: Any) -> Terms:
    if not isinstance(raw, dict):
        raise TermsError(f"{FILE_NAME}: expected a mapping at the top")
    services = raw.get("services") or {}
    if not isinstance(services, dict) or not all(isinstance(v, dict) and v.get("name") for v in services.values()):
        raise TermsError(f"{FILE_NAME} services: each service needs a name and words")
    lists = {}
    for name in ("where", "comment_prefixes", "suggestion_prefixes"):
        value = raw.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise TermsError(f"{FILE_NAME} {name}: expected a list of phrases")
        lists[name] = tuple(sorted((normalise(v) for v in value), key=len, reverse=True))
    try:
        topic_ref = re.compile(str(raw.get("topic_ref") or r"议题\s*(\d+)"))
    except re.error as exc:
        raise TermsError(f"{FILE_NAME} topic_ref: bad regex: {exc}") from exc
    return Terms(services={str(k): str(v["name"]) for k, v in services.items()},
                 service_words=_word_table({k: v.get("words") or [v["name"]] for k, v in services.items()},
                                           "services"),
                 where=lists["where"], votes=_word_table(raw.get("votes") or {}, "votes"),
                 review=_word_table(raw.get("review") or {}, "review"),
                 comment_prefixes=lists["comment_prefixes"], suggestion_prefixes=lists["suggestion_prefixes"],
                 topic_ref=topic_ref)


def normalise(text: str) -> str:
    """Full-width to half-width (ＮＦＫＣ), lower case; what the matching compares."""
    return unicodedata.normalize("NFKC", text or "").strip().lower()


def strip_leading(text: str) -> str:
    """Drop @-mentions, spaces and punctuation at the start ("@小邻 支持" → "支持")."""
    return LEADING.sub("", text)


class _Cache:
    def __init__(self):
        self.lock = threading.Lock()
        self.path: Path | None = None
        self.mtime: int | None = None
        self.checked = 0.0
        self.terms: Terms | None = None


_cache = _Cache()


def _path() -> Path:
    configured = current_app.config.get("BOT_DATA_DIR") if has_app_context() else None
    if configured and (Path(configured) / FILE_NAME).exists():
        return Path(configured) / FILE_NAME
    return DEFAULT_DATA_DIR / FILE_NAME


def terms() -> Terms:
    """The current vocabulary (reloaded when the file changes)."""
    path, moment = _path(), time.monotonic()
    with _cache.lock:
        if _cache.terms is not None and path == _cache.path and moment - _cache.checked < CHECK_SECONDS:
            return _cache.terms
        _cache.checked = moment
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            mtime = None
        if _cache.terms is not None and path == _cache.path and mtime == _cache.mtime:
            return _cache.terms
        try:
            with path.open(encoding="utf-8") as handle:
                loaded = parse(yaml.safe_load(handle))
        except (OSError, yaml.YAMLError, TermsError) as exc:
            if _cache.terms is None:
                raise
            log.error("governance chat terms not reloaded from %s: %s", path, exc)
            loaded = _cache.terms
        _cache.terms, _cache.path, _cache.mtime = loaded, path, mtime
        return loaded
