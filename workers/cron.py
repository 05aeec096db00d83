"""Periodic jobs, loaded by `rq cron workers.cron` (production) or `linli cron`.

Each entry is registered with RQ's cron registry. Features add their sweeps
to ``PERIODIC`` as (job function, interval seconds).
"""
from __future__ import annotations

from rq import cron


def periodic_jobs() -> list[tuple[object, int]]:
    """(job, interval in seconds) for every periodic job of the service."""
    jobs: list[tuple[object, int]] = []
    return jobs


for _job, _interval in periodic_jobs():
    cron.register(_job, queue_name=_job.queue_name, interval=_interval, name=_job.path)
