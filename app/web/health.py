"""Health checks: ``/healthz`` (as before), ``/healthz/live``, ``/healthz/ready`` and ``/healthz/full``.

- ``/healthz/live``: 200 whenever this process serves requests (restart the web tier when it fails).
- ``/healthz/ready``: 200 when the database answers (take this web process out of the load balancer
  when it fails). Redis and the workers are not asked: the WeChat callbacks store deliveries in the
  database, and a worker that is down must not take the callbacks offline.
- ``/healthz/full`` (also ``/healthz?full=1``): every part, for operators and monitoring; 503 when
  any is down or an alert is late.
- ``/healthz``: the database, Redis and the workers (503 when one is down), as it always was.

``calendar`` is information for the operator, not a health check: a missing holiday notice never
turns an answer into 503 (nothing is down; deadlines are provisional until the notice is imported).
"""
from __future__ import annotations

import os
import socket

from flask import Blueprint, current_app, jsonify, request

from app import clock, status
from app.extensions import db, redis_ext
from app.handlers.calendar import readiness

bp = Blueprint("health", __name__)

REDIS_UNAVAILABLE = {"status": "down", "error": "redis unavailable"}


def _check_redis() -> tuple[dict, object]:
    try:
        client = redis_ext.client
        client.ping()
        return {"status": "ok", "embedded": bool(current_app.config.get("REDIS_EMBEDDED"))}, client
    except Exception as exc:  # noqa: BLE001 - any client error means "down"
        return {"status": "down", "error": type(exc).__name__}, None


def _from_redis(client, check) -> dict:
    if client is None:
        return dict(REDIS_UNAVAILABLE)
    try:
        return check(client)
    except Exception as exc:  # noqa: BLE001 - Redis went away between two checks
        return {"status": "down", "error": type(exc).__name__}


def _check_calendar() -> dict:
    try:
        return readiness.status()
    except Exception as exc:  # noqa: BLE001 - the database check above reports the cause
        db.session.rollback()
        return {"status": "unknown", "error": type(exc).__name__}


def _check_alerts(database: dict) -> dict:
    if database["status"] != "ok":
        return {"status": "down", "error": "database unavailable"}
    try:
        return status.alert_backlog(clock.now())
    except Exception as exc:  # noqa: BLE001 - reported as down, like the database check
        db.session.rollback()
        return {"status": "down", "error": type(exc).__name__}


def _answer(checks: dict, extra: dict):
    ok = all(c["status"] == "ok" for c in checks.values())
    return jsonify({"status": "ok" if ok else "down", **checks, **extra}), 200 if ok else 503


@bp.get("/healthz")
def healthz():
    if request.args.get("full") not in (None, "", "0"):
        return healthz_full()
    database = status.database_ok()
    redis_state, client = _check_redis()
    checks = {"database": database, "redis": redis_state, "workers": _from_redis(client, status.workers_state)}
    return _answer(checks, {"calendar": _check_calendar()})


@bp.get("/healthz/live")
def healthz_live():
    return jsonify({"status": "ok"})


@bp.get("/healthz/ready")
def healthz_ready():
    return _answer({"database": status.database_ok()}, {})


@bp.get("/healthz/full")
def healthz_full():
    database = status.database_ok()
    redis_state, client = _check_redis()
    checks = {
        "web": {"status": "ok", "host": socket.gethostname(), "pid": os.getpid()},
        "database": database,
        "redis": redis_state,
        "workers": _from_redis(client, status.workers_state),
        "scheduler": _from_redis(client, status.scheduler_state),
        "cron": _from_redis(client, status.cron_state),
        "alerts": _check_alerts(database),
    }
    queues = _from_redis(client, status.queue_depths)
    return _answer(checks, {"queues": queues, "calendar": _check_calendar()})
