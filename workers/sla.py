"""RQ jobs of the one-hour reply clock: the exact alert at each warning/deadline, and the sweep.

``fire_reply_alert`` is scheduled at the clock's warning time and deadline with
deterministic ids (``sla-warn-<id>``, ``sla-breach-<id>``). ``sweep_reply_clocks``
runs every ``SWEEP_INTERVAL`` seconds from ``rq cron workers.cron`` / ``linli cron``
as the backstop for jobs that were lost (Redis restarted without persistence,
a worker killed mid-job): it fires whatever is owed and finishes alerts whose
delivery was interrupted. Both paths go through the same exactly-once claim
(app.handlers.sla.alerting.fire_clock_alert), so running both, or either twice, never
alerts twice.
"""
from __future__ import annotations

from app.handlers.sla.alerting import fire_clock_alert, sweep
from app.handlers.sla.prepared import PreparedAlert, fire_prepared, prepare_clock_alert
from workers.jobs import job

SWEEP_INTERVAL = 30  # seconds; a backstop only — the scheduled jobs are the precise path


@job("sla.fire_alert")
def fire_reply_alert(clock_id: int, kind: str) -> str:
    """Warn (kind "warn") or alert the breach (kind "breach") of one clock, unless it was answered."""
    alert = fire_clock_alert(clock_id, kind)
    return f"raised {alert.key}" if alert is not None else "nothing owed"


def prepare_reply_alert(clock_id: int, kind: str) -> PreparedAlert | None:
    """The timer's first half of ``fire_reply_alert``, seconds before it is due (app/handlers/sla/prepared.py)."""
    return prepare_clock_alert(clock_id, kind)


def fire_prepared_alert(prepared: PreparedAlert) -> str:
    """The timer's second half, at the due time: one transaction, then the sends."""
    ids = fire_prepared(prepared)
    return f"raised {prepared.key}" if ids is not None else "nothing owed"


@job("sla.sweep")
def sweep_reply_clocks() -> dict:
    """Fire every alert owed by now and finish interrupted deliveries."""
    return sweep()
