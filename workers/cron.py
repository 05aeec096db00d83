"""Periodic jobs, loaded by `linli cron` (workers.runner.LinliCron, which rides out Redis outages).

Each entry is registered with RQ's cron registry.
"""
from __future__ import annotations

import importlib

from rq import cron

from app import jobs
from workers.jobs import JobFunction

# (job name in app.jobs.JOBS, interval seconds); each feature adds its own sweeps.
PERIODIC: list[tuple[str, int]] = [
    ("sla.sweep", 30),  # reply-clock backstop (workers.sla.SWEEP_INTERVAL)
    ("send.reconcile", 15),  # outbox: expired send leases, queued rows whose job was lost
    ("requests.sweep", 60),  # 督办 backstop for lost overdue jobs; closes unrated
    ("inbound.sweep", 30),  # spool, unhandled messages, deferred reports nobody finished (app/channels/recovery.py)
    ("events.sweep", 300),  # weekly occurrences ahead, lost reminders, absentees
    ("proxy.sweep", 300),  # overdue 代办 cases → supervision alerts; lost booking reminders
    ("reports.rollup", 300),  # the dashboard's closed days (app/handlers/reports/rollup.py)
    ("calendar.notice_check", 3600),  # next year's holiday notice missing → admins, once per ISO week
]


def periodic_jobs() -> list[tuple[JobFunction, int]]:
    """(job, interval in seconds) for every periodic job of the service."""
    found: list[tuple[JobFunction, int]] = []
    for name, interval in PERIODIC:
        module, attr = jobs.spec(name).path.rsplit(".", 1)
        found.append((getattr(importlib.import_module(module), attr), interval))
    return found


for _job, _interval in periodic_jobs():
    # Register the plain function, not the JobFunction wrapper: RQ records a callable instance
    # as "__call__" (jobs logged as "__call__()"), a function by its dotted path. The worker
    # imports that path, which is the wrapper, so the job still runs in an app context.
    cron.register(_job.fn, queue_name=_job.queue_name, interval=_interval, name=_job.path)
