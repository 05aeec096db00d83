"""Jobs for resident requests: the exact 督办 check at each deadline and the periodic backstop sweep.

``check_request_overdue`` is scheduled at ``due_at`` with a deterministic id
(``request-overdue-<id>``) when a request is created or its deadline changes;
``sweep_overdue_requests`` runs every minute (workers/cron.py) for jobs that
were lost. Both end in ``supervise_overdue``, whose alert key
``request:<id>:overdue`` is unique, so the alert goes out exactly once.
"""
from __future__ import annotations

import logging

from app.handlers.requests import close_unrated, supervise_overdue, sweep_overdue
from workers.jobs import job

log = logging.getLogger(__name__)


@job("requests.overdue")
def check_request_overdue(request_id: int) -> bool:
    """Raise the 督办 alert if the request is still open at its deadline. True if this call raised it."""
    return supervise_overdue(request_id) is not None


@job("requests.sweep")
def sweep_overdue_requests() -> dict:
    """Backstop: supervise overdue requests the exact jobs missed; close resolved ones never rated."""
    supervised = sweep_overdue()
    closed = close_unrated()
    if supervised or closed:
        log.info("requests sweep: %s supervised, %s closed without rating", supervised, closed)
    return {"supervised": supervised, "closed_unrated": closed}
