"""Building the rollup on PostgreSQL: per run of days, three ``INSERT … SELECT … GROUP BY`` statements
run by the server, so a city's year is not two million rows through Python.

The definitions are those of ``requests.classified`` / ``_kind`` (a request's kind) and of
``tallies.clock_counts`` with ``settled`` (a clock neither stopped nor due counts as unanswered; its day
settles at its deadline), written in SQL. The local day is ``created_at AT TIME ZONE`` the deployment's
zone, which is what ``tallies.Days`` computes by bisecting local midnights. On SQLite the rollup is
built with the Python tallies (``rollup.pair_counts``); tests/handlers/reports/test_rollup.py compares
the dashboard from either build with the direct computation, on SQLite and on a private PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text

from app.extensions import db
from app.handlers import requests as requests_flow
from app.localtime import at_local, zone_name
from app.models.requests import DONE_STATUSES, LEVELS, OPEN_STATUSES, RATINGS, RequestStatus


def _quoted(values) -> str:
    return ", ".join(f"'{value}'" for value in values)


# The pairs of a statement, as a relation: two parallel arrays.
PAIRS = "unnest(CAST(:pair_communities AS bigint[]), CAST(:pair_days AS date[])) AS p(community_id, day)"

_REQUEST_COLUMNS = ", ".join(("total", "merged", "rejected", "responded", "resolved", "on_time", "escalated",
                              "open", *RATINGS, *(f"level_{level}" for level in LEVELS)))
_REQUESTS = f"""
INSERT INTO request_day (community_id, day, grid_id, category, {_REQUEST_COLUMNS})
SELECT r.community_id, r.day, r.grid_id, r.category,
    count(*) FILTER (WHERE NOT r.merged),
    count(*) FILTER (WHERE r.merged),
    count(*) FILTER (WHERE r.rejected),
    count(*) FILTER (WHERE NOT r.merged AND r.responded),
    count(*) FILTER (WHERE r.done),
    count(*) FILTER (WHERE r.done AND r.by_due),
    count(*) FILTER (WHERE NOT r.merged AND NOT r.rejected AND r.escalated),
    count(*) FILTER (WHERE r.is_open),
    {", ".join(f"count(*) FILTER (WHERE NOT r.merged AND r.rating = '{rating}')" for rating in RATINGS)},
    {", ".join(f"count(*) FILTER (WHERE r.done AND r.resolved_level = '{level}')" for level in LEVELS)}
FROM (SELECT sr.community_id, CAST(sr.created_at AT TIME ZONE :zone AS date) AS day, sr.grid_id, sr.category,
             sr.status = '{RequestStatus.MERGED.value}' AS merged,
             sr.status = '{RequestStatus.REJECTED.value}' AS rejected,
             sr.status IN ({_quoted(DONE_STATUSES)}) AS done,
             sr.status IN ({_quoted(OPEN_STATUSES)}) AS is_open,
             sr.first_reply_at IS NOT NULL AND sr.first_reply_at - sr.created_at <= :sla AS responded,
             sr.resolved_at IS NOT NULL AND sr.resolved_at <= sr.due_at AS by_due,
             sr.rating, sr.resolved_level,
             EXISTS (SELECT 1 FROM request_event e WHERE e.request_id = sr.id AND e.kind = 'escalated') AS escalated
      FROM service_request sr
      WHERE sr.community_id = ANY(CAST(:communities AS bigint[])) AND sr.created_at >= :start
        AND sr.created_at < :end) r
JOIN {PAIRS} ON p.community_id = r.community_id AND p.day = r.day
GROUP BY r.community_id, r.day, r.grid_id, r.category
"""

_CLOCKS = f"""
INSERT INTO clock_day (community_id, day, grid_id, staff_id, clocks, replied, within, unanswered, reply_seconds)
SELECT c.community_id, c.day, c.grid_id, c.staff_id, count(*), count(c.stopped_at),
    count(*) FILTER (WHERE c.stopped_at <= c.due_at), count(*) FILTER (WHERE c.stopped_at IS NULL),
    coalesce(json_agg(EXTRACT(EPOCH FROM c.stopped_at - c.started_at)) FILTER (WHERE c.stopped_at IS NOT NULL),
             CAST('[]' AS json))
FROM (SELECT rc.community_id, CAST(rc.started_at AT TIME ZONE :zone AS date) AS day, sr.grid_id,
             CASE WHEN rc.stopped_at IS NOT NULL THEN rc.stopped_by_staff_id END AS staff_id,
             rc.started_at, rc.due_at, rc.stopped_at
      FROM reply_clock rc LEFT JOIN service_request sr ON sr.id = rc.request_id
      WHERE rc.community_id = ANY(CAST(:communities AS bigint[])) AND rc.started_at >= :start
        AND rc.started_at < :end) c
JOIN {PAIRS} ON p.community_id = c.community_id AND p.day = c.day
GROUP BY c.community_id, c.day, c.grid_id, c.staff_id
"""

_DAYS = f"""
INSERT INTO rollup_day (community_id, day, built_at, reply_sla_seconds, settles_at)
SELECT p.community_id, p.day, :at, :sla_seconds, s.settles_at
FROM {PAIRS}
LEFT JOIN (SELECT rc.community_id, CAST(rc.started_at AT TIME ZONE :zone AS date) AS day,
                  max(rc.due_at) AS settles_at
           FROM reply_clock rc
           WHERE rc.community_id = ANY(CAST(:communities AS bigint[])) AND rc.started_at >= :start
             AND rc.started_at < :end AND rc.stopped_at IS NULL AND rc.due_at > :at
           GROUP BY 1, 2) s ON s.community_id = p.community_id AND s.day = p.day
"""


def _delete(table: str) -> str:
    return (f"DELETE FROM {table} t USING {PAIRS} WHERE t.community_id = p.community_id AND t.day = p.day "
            f"AND t.community_id = ANY(CAST(:communities AS bigint[]))")


def build(runs: list, at: datetime) -> int:
    """Recompute the pairs of ``runs`` (``rollup.runs``: first day, last day, communities, pairs) in the
    current transaction; the number of request_day and clock_day rows written."""
    sla = requests_flow.reply_sla()
    written = 0
    for first, last, communities, pairs in runs:
        params = {"communities": communities, "pair_communities": [c for c, _ in pairs],
                  "pair_days": [d for _, d in pairs], "zone": zone_name(), "sla": sla,
                  "sla_seconds": int(sla.total_seconds()), "at": at, "start": at_local(first),
                  "end": at_local(last + timedelta(days=1))}
        for table in ("request_day", "clock_day", "rollup_day"):
            db.session.execute(text(_delete(table)), params)
        written += db.session.execute(text(_REQUESTS), params).rowcount
        written += db.session.execute(text(_CLOCKS), params).rowcount
        db.session.execute(text(_DAYS), params)
    return written
