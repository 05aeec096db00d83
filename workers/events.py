"""Event jobs: the reminder before each event and the periodic events sweep."""
from __future__ import annotations

import logging

from app.handlers.events.reminders import close_ended_events, remind_due, send_reminders
from app.handlers.events.series import materialise_all
from workers.jobs import job

log = logging.getLogger(__name__)


@job("events.remind")
def send_event_reminder(event_id: int) -> int:
    """Scheduled at (start − LINLI_EVENT_REMINDER_MINUTES) with the id event-remind-<id>.

    Reminds each confirmed sign-up once: a cancelled sign-up is skipped, and a job that
    runs twice (retry, or the sweep beside it) sends nothing new — every reminder has a
    fixed outbox idempotency key and the sign-up records when it was reminded.
    """
    sent = send_reminders(event_id)
    log.info("event %s: %s reminders queued", event_id, sent)
    return sent


@job("events.sweep")
def events_sweep() -> dict:
    """Every few minutes: create weekly occurrences ahead, send reminders whose job was lost,
    and mark sign-ups of ended events that never checked in as absent."""
    result = {"materialised": materialise_all(), "reminded": remind_due(), "closed": close_ended_events()}
    log.info("events sweep: %s", result)
    return result
