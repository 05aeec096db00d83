"""A minute's memory for report numbers that are read far more often than they change.

The board refreshes every 20 s on every screen and the dashboard's month of statistics is
the same for everybody looking at it in the same minute; both are recomputed at most once
per ``seconds`` per key, in Redis so every web process shares it. Without Redis the numbers
are simply computed each time.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable

import redis

from app.extensions import redis_ext

log = logging.getLogger(__name__)
PREFIX = "linli:report-cache:"


def cached(key: str, seconds: int, compute: Callable[[], Any]) -> Any:
    """``compute()`` (JSON-able) or its value from the last ``seconds``."""
    try:
        hit = redis_ext.client.get(PREFIX + key)
    except redis.RedisError:
        hit = None
    if hit:
        return json.loads(hit)
    value = compute()
    try:
        redis_ext.client.set(PREFIX + key, json.dumps(value, ensure_ascii=False), ex=seconds)
    except redis.RedisError:
        log.warning("redis unavailable: report numbers are computed on every request")
    return value
