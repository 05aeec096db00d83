"""A reply clock's deadlines: the settings that place them and the two jobs that fire at them.

Kept apart from clock.py (start, stop) and alerting.py (firing) because both
need it: a clock schedules its jobs when it starts, and a job that runs early
puts itself back at the right time.
"""
from __future__ import annotations

from flask import current_app

from app import jobs
from app.models.alerts import AlertKind
from app.models.sla import ReplyClock

WARN = AlertKind.WARN.value
BREACH = AlertKind.BREACH.value
NO_DUTY = AlertKind.NO_DUTY.value
CLOCK_KINDS = (WARN, BREACH)


def sla_seconds() -> int:
    return int(current_app.config["REPLY_SLA_SECONDS"])


def warn_seconds() -> int:
    return int(current_app.config["REPLY_WARN_SECONDS"])


def alert_key(clock_id: int, kind: str) -> str:
    return f"{clock_id}:{kind}"


def alert_job_id(clock_id: int, kind: str) -> str:
    return jobs.job_id("sla", kind, clock_id)


def schedule_alerts(clock: ReplyClock) -> None:
    """Schedule (or re-schedule: same job ids) the warning and deadline jobs of an open clock.

    Redis down: app.jobs logs it and the sweep still fires the alerts from the database.
    """
    if clock.stopped_at is not None:
        return
    if clock.warn_at is not None and clock.warned_at is None and clock.breached_at is None:
        if not jobs.schedule("sla.fire_alert", clock.warn_at, clock.id, WARN, job_id=alert_job_id(clock.id, WARN)):
            return
    if clock.breached_at is None:
        jobs.schedule("sla.fire_alert", clock.due_at, clock.id, BREACH, job_id=alert_job_id(clock.id, BREACH))


def cancel_alerts(clock_id: int) -> None:
    """Cancel both jobs; a job left behind (Redis down) finds the clock stopped and does nothing."""
    for kind in CLOCK_KINDS:
        jobs.unschedule(alert_job_id(clock_id, kind))
