"""Extensions, created unbound here and attached to an app with ``init_app``."""
from __future__ import annotations

import threading

import redis
from flask import Flask, current_app
from rq import Queue

from app import embedded_redis
from app.database import Database

db = Database()


class RedisExtension:
    """One Redis client per app; starts the embedded server on first use."""

    _key = "linli.redis"

    def init_app(self, app: Flask) -> None:
        app.extensions[self._key] = {"client": None, "lock": threading.Lock()}

    def client_for(self, app: Flask) -> redis.Redis:
        state = app.extensions[self._key]
        if state["client"] is None:
            with state["lock"]:
                if state["client"] is None:
                    if app.config.get("REDIS_EMBEDDED"):
                        embedded_redis.ensure_daemon(app.instance_path)
                    state["client"] = redis.Redis.from_url(
                        app.config["REDIS_URL"], socket_connect_timeout=3, socket_timeout=10,
                        health_check_interval=30)
        return state["client"]

    @property
    def client(self) -> redis.Redis:
        return self.client_for(current_app._get_current_object())


class QueueExtension:
    """RQ queues by name, bound to the app's Redis connection."""

    def queue(self, name: str, app: Flask | None = None) -> Queue:
        app = app or current_app._get_current_object()
        return Queue(name, connection=redis_ext.client_for(app), default_timeout=300)


redis_ext = RedisExtension()
queues = QueueExtension()
