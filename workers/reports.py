"""The dashboard's rollup, kept current (app/handlers/reports/rollup.py; docs/scaling.md).

``reports.rollup`` runs every five minutes (workers/cron.py): it recomputes the built community-days
whose requests or clocks changed since its last run and builds the days closed since. Nothing is lost
when it is late or fails: the dashboard computes live whatever the rollup cannot vouch for.
"""
from __future__ import annotations

import logging

from app.handlers.reports import rollup
from workers.jobs import job

log = logging.getLogger(__name__)


@job("reports.rollup")
def refresh_rollup() -> dict:
    done = rollup.refresh()
    if done["pairs"]:
        log.info("dashboard rollup: %(pairs)s community-days recomputed (%(new_days)s new days), %(rows)s rows",
                 done)
    return done
