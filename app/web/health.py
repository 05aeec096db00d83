"""GET /healthz: the state of the database, Redis and the workers, and whether the calendar is loaded.

``calendar`` is information for the operator, not a health check: a missing
holiday notice never turns the answer into 503 (nothing is down; deadlines
are provisional until the notice is imported).
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.extensions import db, redis_ext
from app.handlers.calendar import readiness

bp = Blueprint("health", __name__)


def _check_database() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
        return {"status": "ok", "dialect": db.engine.dialect.name}
    except Exception as exc:  # noqa: BLE001 - any driver error means "down"
        db.session.rollback()
        return {"status": "down", "error": type(exc).__name__}


def _check_redis() -> tuple[dict, object]:
    try:
        client = redis_ext.client
        client.ping()
        return {"status": "ok", "embedded": bool(current_app.config.get("REDIS_EMBEDDED"))}, client
    except Exception as exc:  # noqa: BLE001 - any client error means "down"
        return {"status": "down", "error": type(exc).__name__}, None


def _check_workers(client) -> dict:
    if client is None:
        return {"status": "down", "error": "redis unavailable"}
    from rq import Worker

    from app.jobs import ALL_QUEUES

    try:
        workers = Worker.all(connection=client)
    except Exception as exc:  # noqa: BLE001 - any client error means "down"
        return {"status": "down", "error": type(exc).__name__}
    listening = {q for w in workers for q in w.queue_names()}
    missing = [q for q in ALL_QUEUES if q not in listening]
    state = "ok" if workers and not missing else "down"
    result = {"status": state, "count": len(workers)}
    if missing:
        result["queues_without_worker"] = missing
    return result


def _check_calendar() -> dict:
    try:
        return readiness.status()
    except Exception as exc:  # noqa: BLE001 - the database check above reports the cause
        db.session.rollback()
        return {"status": "unknown", "error": type(exc).__name__}


@bp.get("/healthz")
def healthz():
    database = _check_database()
    redis_state, client = _check_redis()
    workers = _check_workers(client)
    checks = {"database": database, "redis": redis_state, "workers": workers}
    ok = all(c["status"] == "ok" for c in checks.values())
    body = {"status": "ok" if ok else "down", **checks, "calendar": _check_calendar()}
    return jsonify(body), 200 if ok else 503
