"""The state of every part of the service, read from where the parts leave it.

`linli cron` writes its last sweep to Redis (``CRON_KEY``); RQ keeps its workers
and its scheduler locks there. The web tier reads them here for the health
checks and ``/metrics``; nothing here changes anything but the cron key.
"""
from __future__ import annotations

import os
import socket
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, func, select, text

from app.extensions import db
from app.jobs import ALL_QUEUES
from app.models import Message, OutboundStatus
from app.models.alerts import Alert, AlertRecipient
from app.models.messages import UNSETTLED
from app.models.sla import ReplyClock

CRON_KEY = "linli:cron:last-sweep"
# cron wakes at least every 60 s (RQ caps its sleep there) and the reply-clock sweep is due
# every 30 s: two missed wake-ups mean it is gone.
CRON_STALE_AFTER = 120.0
# The sweep fires a due reply-clock alert within 30 s; past this an alert is late.
ALERT_LATE_AFTER = 120.0
SCHEDULER_LOCK = "rq:scheduler-lock:%s"


def record_cron_sweep(connection, name: str) -> None:
    """Called by `linli cron` after every pass over its periodic jobs."""
    connection.hset(CRON_KEY, mapping={"at": f"{time.time():.3f}", "name": name, "pid": os.getpid(),
                                       "host": socket.gethostname()})


def _decoded(raw: dict) -> dict[str, str]:
    return {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()}


def cron_state(connection) -> dict:
    raw = _decoded(connection.hgetall(CRON_KEY))
    if not raw.get("at"):
        return {"status": "down", "error": "no sweep recorded"}
    at = float(raw["at"])
    age = max(0.0, time.time() - at)
    state = {"status": "ok" if age <= CRON_STALE_AFTER else "down", "age_seconds": round(age, 1),
             "last_sweep": datetime.fromtimestamp(at, timezone.utc).isoformat(), "host": raw.get("host"),
             "pid": int(raw.get("pid") or 0)}
    if state["status"] != "ok":
        state["error"] = f"no sweep for {int(age)} s"
    return state


def workers_state(connection) -> dict:
    from rq import Worker

    workers = Worker.all(connection=connection)
    listening = {q for w in workers for q in w.queue_names()}
    missing = [q for q in ALL_QUEUES if q not in listening]
    result = {"status": "ok" if workers and not missing else "down", "count": len(workers)}
    if missing:
        result["queues_without_worker"] = missing
    return result


def scheduler_state(connection) -> dict:
    """RQ's scheduler holds one lock per queue while it runs; a queue without one gets no timed jobs."""
    with connection.pipeline() as pipeline:
        for queue in ALL_QUEUES:
            pipeline.exists(SCHEDULER_LOCK % queue)
        held = pipeline.execute()
    missing = [q for q, present in zip(ALL_QUEUES, held, strict=True) if not present]
    result = {"status": "ok" if not missing else "down"}
    if missing:
        result["queues_without_scheduler"] = missing
    return result


def queue_depths(connection) -> dict[str, dict[str, int]]:
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    with connection.pipeline() as pipeline:
        for queue in ALL_QUEUES:
            pipeline.llen(Queue(queue, connection=connection).key)
            pipeline.zcard(ScheduledJobRegistry(queue, connection=connection).key)
        counts = pipeline.execute()
    return {q: {"waiting": counts[2 * i], "scheduled": counts[2 * i + 1]} for i, q in enumerate(ALL_QUEUES)}


def database_ok() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
        return {"status": "ok", "dialect": db.engine.dialect.name}
    except Exception as exc:  # noqa: BLE001 - any driver error means "down"
        db.session.rollback()
        return {"status": "down", "error": type(exc).__name__}


def _backlog_sources(now: datetime):
    """(time it became due, query) for each place an alert can wait."""
    return [
        # Due reply-clock alerts the scheduled job or the sweep has not fired yet.
        (ReplyClock.next_alert_at, select().select_from(ReplyClock).where(
            ReplyClock.next_alert_at <= now, ReplyClock.stopped_at.is_(None))),
        # Alerts recorded but not yet handed to the outbox.
        (Alert.created_at, select().select_from(Alert).where(Alert.dispatched_at.is_(None))),
        # Alert messages the outbox has not settled (queued, sending, unknown: its small partial index).
        (Message.received_at, select().select_from(Message).join(AlertRecipient, AlertRecipient.message_id == Message.id)
         .where(Message.status.in_(UNSETTLED))),
    ]


def alert_backlog(now: datetime) -> dict:
    """Alerts whose time has come and that are not out yet, and how long the oldest has waited."""
    grace = now - timedelta(seconds=ALERT_LATE_AFTER)
    oldest: datetime | None = None
    due = late = 0
    for column, query in _backlog_sources(now):
        first, count, overdue = db.session.execute(query.add_columns(
            func.min(column), func.count(), func.coalesce(func.sum(case((column <= grace, 1), else_=0)), 0))).one()
        due, late = due + count, late + int(overdue)
        if first is not None:
            oldest = first if oldest is None else min(oldest, first)
    result = {"status": "late" if late else "ok", "due": due, "late": late,
              "oldest_due_seconds": round(max(0.0, (now - oldest).total_seconds()), 1) if oldest else 0.0}
    if oldest is not None:
        result["oldest_due_at"] = oldest.isoformat()
    return result


def reply_clocks_open() -> int:
    return db.session.execute(select(func.count()).select_from(ReplyClock)
                              .where(ReplyClock.stopped_at.is_(None))).scalar_one()


def outbound_counts() -> dict[str, int]:
    """Outbound messages not sent: unsettled ones and those given up on. Both sets are small and have
    partial indexes; the sent rows (millions) are never counted."""
    counted = (*UNSETTLED, OutboundStatus.FAILED.value, OutboundStatus.REJECTED.value)
    rows = db.session.execute(select(Message.status, func.count()).where(Message.status.in_(counted))
                              .group_by(Message.status)).all()
    return {state: 0 for state in counted} | {state: count for state, count in rows}
