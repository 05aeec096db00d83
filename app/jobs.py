"""Background jobs by name. Handlers schedule work here; ``workers/`` holds the functions RQ runs.

A job is named by the dotted path RQ imports in the work horse, so scheduling
needs Redis only: nothing here imports ``workers/`` or ``app.handlers``. The
table below is the one place that says which queue a job runs on, how often it
is retried and how long it may take; ``workers.jobs.job`` refuses a function
whose registry entry names another path, so the two cannot drift apart.

Paths and job ids are contracts with the jobs already waiting in a production
Redis (RQ stores the dotted path): never rename them lightly.

Jobs marked ``precise`` (the reply clock's alerts) are also put on the timer's
list (``TIMER_DUE``: job id → due time to the millisecond): ``workers/timer.py``
sleeps until the earliest one and runs it on time, instead of RQ's scheduler
(whole seconds, polled once a second). The RQ job stays as the backstop, under
the same id; whichever runs first does the work, the other finds nothing owed.
"""
from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job

from app.extensions import queues, redis_ext

log = logging.getLogger(__name__)

QUEUE_SLA = "sla"          # reply-clock warnings and breaches: highest priority
QUEUE_SEND = "send"        # outbound messages to WeChat/WeCom
QUEUE_DEFAULT = "default"  # everything else (reminders, sweeps, slow handling)
ALL_QUEUES = (QUEUE_SLA, QUEUE_SEND, QUEUE_DEFAULT)


@dataclass(frozen=True)
class JobSpec:
    path: str                    # what RQ imports, e.g. "workers.sla.fire_reply_alert"
    queue: str = QUEUE_DEFAULT
    retry: Retry | None = None
    timeout: int | None = None
    precise: bool = False        # also on the timer's list: runs at its time to the millisecond

    def __post_init__(self) -> None:
        if self.queue not in ALL_QUEUES:
            raise ValueError(f"unknown queue {self.queue!r} for job {self.path}")


JOBS: dict[str, JobSpec] = {
    "sla.fire_alert": JobSpec("workers.sla.fire_reply_alert", QUEUE_SLA, Retry(max=3, interval=[2, 10, 30]), 60,
                              precise=True),
    "sla.sweep": JobSpec("workers.sla.sweep_reply_clocks", QUEUE_SLA, timeout=120),
    "requests.overdue": JobSpec("workers.requests.check_request_overdue",
                                retry=Retry(max=3, interval=[10, 60, 300])),
    "requests.sweep": JobSpec("workers.requests.sweep_overdue_requests", timeout=300),
    "proxy.remind": JobSpec("workers.proxy.send_booking_reminder", retry=Retry(max=3, interval=[10, 60, 300]),
                            timeout=60),
    "proxy.sweep": JobSpec("workers.proxy.proxy_sweep", timeout=300),
    "events.remind": JobSpec("workers.events.send_event_reminder", retry=Retry(max=3, interval=[30, 120, 600])),
    "events.sweep": JobSpec("workers.events.events_sweep"),
    "calendar.notice_check": JobSpec("workers.calendar.remind_missing_notice", timeout=300),
    "inbound.sweep": JobSpec("workers.inbound.sweep_inbound", timeout=120),
    # Reports answered in the callback: their requests and clocks, drained in batches
    # (app/handlers/messaging/to_finish.py, app/handlers/requests/deferred.py).
    "inbound.finish": JobSpec("workers.inbound.finish_message", retry=Retry(max=3, interval=[5, 30, 120]),
                              timeout=600),
    # The dashboard's rollup of closed days (app/handlers/reports/rollup.py); a city's new day takes a while.
    "reports.rollup": JobSpec("workers.reports.refresh_rollup", timeout=1800),
    # Backoff between attempts after transient errors: 10 s, 1 min, 5 min, 15 min, 1 h.
    "send.deliver": JobSpec("workers.sends.deliver_message", QUEUE_SEND,
                            Retry(max=5, interval=[10, 60, 300, 900, 3600]), 120),
    # Sends nobody settled (lease ran out, job lost): re-sent when safe, else "unknown" for an operator.
    "send.reconcile": JobSpec("workers.sends.reconcile_outbox", QUEUE_SEND, timeout=120),
}


def spec(name: str) -> JobSpec:
    try:
        return JOBS[name]
    except KeyError:
        raise KeyError(f"no job named {name!r} in app.jobs.JOBS") from None


def register(name: str, job_spec: JobSpec) -> JobSpec:
    """Add a job to the table (the service's jobs are listed above; tests add their own)."""
    existing = JOBS.get(name)
    if existing is not None and existing != job_spec:
        raise ValueError(f"job {name!r} is already registered as {existing.path}")
    JOBS[name] = job_spec
    return job_spec


def job_id(*parts: object) -> str:
    """A deterministic job id from parts, e.g. job_id("sla", "warn", 42) → "sla-warn-42".

    RQ accepts only letters, digits, "_" and "-" in ids.
    """
    text = "-".join(str(p) for p in parts)
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)


def ceil_second(moment: datetime) -> datetime:
    """RQ's scheduler keys jobs by whole seconds (truncated): rounding up means a job never runs early."""
    return datetime.fromtimestamp(math.ceil(moment.timestamp()), tz=timezone.utc)


def _options(job_spec: JobSpec, job_id: str | None) -> dict:
    options = {"job_id": job_id, "retry": job_spec.retry, "job_timeout": job_spec.timeout}
    return {k: v for k, v in options.items() if v is not None}


def _queue(job_spec: JobSpec):
    return queues.queue(job_spec.queue, current_app._get_current_object())


def enqueue(name: str, *args, job_id: str | None = None, **kwargs) -> Job:
    """Run as soon as a worker is free. Raises when Redis is unreachable (callers decide).

    One round trip: RQ given a pipeline queues the queue's registration, the job and the push
    on it (one MULTI/EXEC) instead of sending two pipelines one after the other.
    """
    job_spec = spec(name)
    queue = _queue(job_spec)
    with queue.connection.pipeline() as pipe:
        job = queue.enqueue(job_spec.path, args=args, kwargs=kwargs, pipeline=pipe, **_options(job_spec, job_id))
        pipe.execute()
    return job


def enqueue_at(name: str, when: datetime, *args, job_id: str | None = None, **kwargs) -> Job:
    """Run at ``when`` (rounded up to the second). The same ``job_id`` replaces the waiting job."""
    job_spec = spec(name)
    queue = _queue(job_spec)
    if job_id:
        cancel(job_id, queue.connection)
    job = queue.enqueue_at(ceil_second(when), job_spec.path, args=args, kwargs=kwargs,
                           **_options(job_spec, job_id))
    if job_spec.precise and job_id:
        timer_add(queue.connection, job_id, name, when, args, kwargs)
    return job


def schedule(name: str, when: datetime, *args, job_id: str, **kwargs) -> bool:
    """``enqueue_at`` with the one Redis-down policy: log and return False.

    Every scheduled job has a periodic sweep beside it that finds the same work
    in the database, so a job that could not be scheduled is late, never lost.
    """
    try:
        enqueue_at(name, when, *args, job_id=job_id, **kwargs)
        return True
    except Exception:  # noqa: BLE001 - Redis unreachable: the sweep does the work from the database
        log.warning("could not schedule job %s (%s); its sweep will do the work", job_id, name, exc_info=True)
        return False


def cancel(job_id: str, connection) -> bool:
    """Cancel and delete a scheduled or queued job; True if there was one."""
    timer_remove(connection, job_id)
    try:
        existing = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return False
    existing.delete(remove_from_queue=True)
    return True


def unschedule(job_id: str) -> bool:
    """Cancel a job by id with the same Redis-down policy: a job left behind finds nothing to do."""
    try:
        return cancel(job_id, redis_ext.client)
    except Exception:  # noqa: BLE001 - a stale job reloads its row, finds it settled and does nothing
        log.warning("could not cancel job %s", job_id, exc_info=True)
        return False


# ---- the timer's list (workers/timer.py runs it) ----------------------------------------------------

TIMER_DUE = "linli:timer:due"     # sorted set: job id → due time (unix seconds, with milliseconds)
TIMER_JOBS = "linli:timer:jobs"   # hash: job id → {"name", "args", "kwargs"} as JSON
TIMER_WAKE = "linli:timer:wake"   # pub/sub: a new entry; timers recompute how long to sleep

# Take the due entries atomically: of several timers, each entry goes to exactly one.
_TIMER_TAKE_LUA = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local taken = {}
for _, id in ipairs(due) do
  if redis.call('ZREM', KEYS[1], id) == 1 then
    local entry = redis.call('HGET', KEYS[2], id)
    redis.call('HDEL', KEYS[2], id)
    if entry then
      table.insert(taken, id)
      table.insert(taken, entry)
    end
  end
end
return taken
"""


def timer_add(connection, job_id: str, name: str, when: datetime, args: tuple, kwargs: dict) -> None:
    # "at": the timer takes entries early to prepare them (workers/timer.py) and fires them at this time.
    entry = json.dumps({"name": name, "args": list(args), "kwargs": kwargs, "at": when.timestamp()})
    with connection.pipeline(transaction=True) as pipe:
        pipe.hset(TIMER_JOBS, job_id, entry)
        pipe.zadd(TIMER_DUE, {job_id: when.timestamp()})
        pipe.publish(TIMER_WAKE, job_id)
        pipe.execute()


def timer_remove(connection, job_id: str) -> None:
    with connection.pipeline(transaction=True) as pipe:
        pipe.zrem(TIMER_DUE, job_id)
        pipe.hdel(TIMER_JOBS, job_id)
        pipe.execute()


def timer_take(connection, until: float, limit: int = 100) -> list[tuple[str, dict]]:
    """Remove and return the entries due by ``until`` (unix seconds): (job id, entry)."""
    flat = connection.eval(_TIMER_TAKE_LUA, 2, TIMER_DUE, TIMER_JOBS, until, limit)
    return [(flat[i].decode(), json.loads(flat[i + 1])) for i in range(0, len(flat), 2)]


def timer_next(connection) -> float | None:
    """When the earliest entry is due (unix seconds), or None."""
    first = connection.zrange(TIMER_DUE, 0, 0, withscores=True)
    return float(first[0][1]) if first else None
