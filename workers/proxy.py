"""RQ jobs of proxy-handling (代办): booking reminders and the periodic sweep.

``send_booking_reminder`` is scheduled per booking with deterministic ids
(``proxy-remind-<booking>-day_before`` / ``-hour_before``) when it is booked or
rescheduled, and cancelled when it is cancelled. It reloads the booking and
sends nothing for a booking that was cancelled, moved (the slot timestamp in the
job's arguments no longer matches) or has started, and the outbox idempotency
key makes a repeated run queue nothing new.

``proxy_sweep`` runs every ``SWEEP_INTERVAL`` seconds from ``rq cron
workers.cron``: it raises the supervision alert for cases past their deadline
(once per case, by alert key) and sends reminders whose scheduled job was lost.
"""
from __future__ import annotations

import logging

from app.extensions import db
from app.handlers.proxy.cases import sweep_overdue
from app.handlers.proxy.reminders import due_reminders, send_reminder
from workers.jobs import job

log = logging.getLogger(__name__)

SWEEP_INTERVAL = 300  # seconds: case deadlines are whole working days; reminders have their own jobs


@job("proxy.remind")
def send_booking_reminder(booking_id: int, kind: str, slot_stamp: int | None = None) -> str:
    """Remind the resident of one booking (kind "day_before" or "hour_before")."""
    return send_reminder(booking_id, kind, slot_stamp)


@job("proxy.sweep")
def proxy_sweep() -> dict:
    """Overdue cases → supervision alerts (once each); reminders whose job was lost."""
    alerts = sweep_overdue()
    sent = 0
    for booking_id, kind, stamp in due_reminders():
        try:
            if send_reminder(booking_id, kind, stamp) == "sent":
                sent += 1
        except Exception:  # noqa: BLE001 - one bad booking must not stop the sweep
            log.exception("reminder backstop failed for booking %s", booking_id)
            db.session.rollback()
    return {"overdue_alerts": alerts, "reminders": sent}
