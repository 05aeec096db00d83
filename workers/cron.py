"""Periodic jobs, loaded by `rq cron workers.cron` (production) or `linli cron`.

Each entry is registered with RQ's cron registry.
"""
from __future__ import annotations

from rq import cron


# ("module:job", interval seconds); each feature adds its own sweeps.
PERIODIC: list[tuple[str, int]] = [
    ("workers.sla:sweep_reply_clocks", 30),  # reply-clock backstop (workers.sla.SWEEP_INTERVAL)
    ("workers.requests:sweep_overdue_requests", 60),  # 督办 backstop for lost overdue jobs; closes unrated
    ("workers.events:events_sweep", 300),  # weekly occurrences ahead, lost reminders, absentees
    ("workers.proxy:proxy_sweep", 300),  # overdue 代办 cases → supervision alerts; lost booking reminders
]


def periodic_jobs() -> list[tuple[object, int]]:
    """(job, interval in seconds) for every periodic job of the service."""
    import importlib

    jobs: list[tuple[object, int]] = []
    for spec, interval in PERIODIC:
        module, attr = spec.split(":")
        jobs.append((getattr(importlib.import_module(module), attr), interval))
    return jobs


for _job, _interval in periodic_jobs():
    # Register the plain function, not the JobFunction wrapper: RQ records a callable instance
    # as "__call__" (jobs logged as "__call__()"), a function by its dotted path. The worker
    # imports that path, which is the wrapper, so the job still runs in an app context.
    cron.register(_job.fn, queue_name=_job.queue_name, interval=_interval, name=_job.path)
