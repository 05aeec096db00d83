"""The weekly reminder to community admins while a year's holiday notice is not loaded.

Runs hourly (workers/cron.py); the alert key names the community and the ISO
week, so each community's admins hear of it once a week, whichever run (or
duplicate run) gets there first — ``record_alert``'s unique key decides.
Nothing is sent once the notice is imported or the holiday package knows the year.
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.handlers.alerts import raise_alert
from app.handlers.calendar import readiness
from app.handlers.sla.roster import community_admins
from app.localtime import local_date
from app.models import Community
from workers.jobs import job

log = logging.getLogger(__name__)


@job("calendar.notice_check")
def remind_missing_notice() -> dict:
    """Alert every community's admins (once per ISO week) while a holiday notice is missing."""
    today = local_date(now())
    missing = readiness.missing_years(today)
    if not missing:
        return {"missing_years": [], "alerted": 0}
    text = readiness.alert_text(missing)
    alerted = 0
    for community_id in db.session.scalars(select(Community.id).order_by(Community.id)).all():
        alert = raise_alert(key=readiness.alert_key(community_id, today, missing), kind=readiness.ALERT_KIND,
                            community_id=community_id, text=text, recipients=community_admins(community_id),
                            related={"missing_years": missing})
        alerted += alert is not None
    if alerted:
        log.info("holiday notice for %s missing: %s communities alerted", missing, alerted)
    return {"missing_years": missing, "alerted": alerted}
