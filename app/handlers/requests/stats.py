"""响应率/解决率/满意率: the statistics of requests over a period, overall and per category.

- response rate: first public staff reply within LINLI_REPLY_SLA_SECONDS of creation, over all
  requests except merged duplicates;
- resolution rate: resolved (办结, rated or closed) over accepted requests (not rejected, not merged);
- on-time rate: resolved by the deadline, over resolved;
- satisfaction rate: latest rating 满意 or 基本满意, over rated requests;
- solved at grid level: resolved while still at grid level (never escalated) — 就地解决.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import select

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.requests.rules import CATEGORIES
from app.models.requests import (
    CATEGORY_LABELS,
    DONE_STATUSES,
    LEVELS,
    OPEN_STATUSES,
    RATINGS,
    Level,
    RequestEvent,
    RequestStatus,
    ServiceRequest,
)


def _ratio(part: int, whole: int):
    return round(part / whole, 4) if whole else None


class _Kind(NamedTuple):
    """What one request counts for; requests are tallied by kind, so a year of a street is a few hundred
    distinct kinds, however many rows."""

    merged: bool
    rejected: bool = False
    responded: bool = False     # first public reply within the SLA
    resolved: bool = False      # accepted and done
    on_time: bool = False       # resolved by the deadline
    rating: str | None = None
    level: str | None = None    # the level that resolved it
    escalated: bool = False
    open: bool = False
    overdue: bool = False


MERGED_KIND = _Kind(merged=True)


def _kind(row, *, sla: timedelta, at: datetime) -> _Kind:
    status = row.status
    if status == RequestStatus.MERGED.value:
        return MERGED_KIND
    rejected = status == RequestStatus.REJECTED.value
    resolved = not rejected and status in DONE_STATUSES
    is_open = not rejected and status in OPEN_STATUSES
    return _Kind(
        merged=False, rejected=rejected,
        responded=row.first_reply_at is not None and row.first_reply_at - row.created_at <= sla,
        resolved=resolved, on_time=resolved and row.resolved_at is not None and row.resolved_at <= row.due_at,
        rating=row.rating if row.rating in RATINGS else None, level=row.resolved_level if resolved else None,
        escalated=not rejected and bool(row.escalated), open=is_open, overdue=is_open and row.due_at <= at)


FLAGS = ("rejected", "responded", "resolved", "on_time", "escalated", "open", "overdue")
#: The additive counts the rates are made of (docs/scaling.md: the dashboard's rollup stores exactly these).
COUNTS = ("total", "merged", *FLAGS, *RATINGS, *(f"level_{level}" for level in LEVELS))


def add_kind(counts: Counter, kind: _Kind, count: int = 1) -> None:
    """Add ``count`` requests of ``kind`` to ``counts`` (keys of ``COUNTS``)."""
    if kind.merged:
        counts["merged"] += count
        return
    counts["total"] += count
    for flag in FLAGS:
        if getattr(kind, flag):
            counts[flag] += count
    if kind.rating is not None:
        counts[kind.rating] += count
    if kind.level in LEVELS:
        counts[f"level_{kind.level}"] += count


def summarise_counts(n) -> dict:
    """The rates of requests from their additive counts (``COUNTS``; absent keys are 0)."""
    n = Counter(n)
    ratings = {rating: n[rating] for rating in RATINGS}
    by_level = {level: n[f"level_{level}"] for level in LEVELS}
    total, resolved, rated = n["total"], n["resolved"], sum(ratings.values())
    accepted = total - n["rejected"]
    return {
        "total": total, "accepted": accepted, "rejected": n["rejected"], "merged": n["merged"],
        "responded_in_time": n["responded"], "response_rate": _ratio(n["responded"], total),
        "resolved": resolved, "resolution_rate": _ratio(resolved, accepted),
        "resolved_on_time": n["on_time"], "on_time_rate": _ratio(n["on_time"], resolved),
        "rated": rated, "satisfied": ratings["satisfied"], "basically": ratings["basically"],
        "unsatisfied": ratings["unsatisfied"],
        "satisfaction_rate": _ratio(ratings["satisfied"] + ratings["basically"], rated),
        "solved_at_grid_level": by_level[Level.GRID.value], "resolved_by_level": by_level,
        "escalated": n["escalated"], "open": n["open"], "overdue_open": n["overdue"],
    }


def _summarise(kinds: Counter) -> dict:
    """The rates of the requests tallied in ``kinds`` (kind → how many)."""
    counts: Counter = Counter()
    for kind, count in kinds.items():
        add_kind(counts, kind, count)
    return summarise_counts(counts)


COLUMNS = (ServiceRequest.id, ServiceRequest.community_id, ServiceRequest.grid_id, ServiceRequest.category,
           ServiceRequest.status, ServiceRequest.created_at, ServiceRequest.first_reply_at, ServiceRequest.resolved_at,
           ServiceRequest.due_at, ServiceRequest.rating, ServiceRequest.resolved_level)
GROUPS = ("community_id", "grid_id")


def empty_stats() -> dict:
    """The statistics of no requests (a grid or community without any in the period)."""
    return _summarise(Counter())


def reply_sla() -> timedelta:
    """The one-hour reply target the response rate counts against (LINLI_REPLY_SLA_SECONDS)."""
    return timedelta(seconds=int(current_app.config.get("REPLY_SLA_SECONDS") or 3600))


def classified(condition, *, start: datetime, end: datetime, at: datetime) -> tuple[list, list[_Kind]]:
    """The requests created in [start, end) matching ``condition`` (``COLUMNS`` and ``escalated``), and
    the kind each counts for at ``at``."""
    sla = reply_sla()
    in_period = (condition, ServiceRequest.created_at >= start, ServiceRequest.created_at < end)
    # OFFSET 0 keeps PostgreSQL from turning the EXISTS into a hash of every escalation ever made
    # (it grows with the years of history); this way it is one probe of ix_request_event_escalated per row.
    escalated = (select(RequestEvent.id).where(RequestEvent.request_id == ServiceRequest.id,
                                               RequestEvent.kind == "escalated").offset(0)
                 .exists().label("escalated"))
    rows = db.session.execute(select(*COLUMNS, escalated).where(*in_period)).all()
    return rows, [_kind(row, sla=sla, at=at) for row in rows]


def request_stats_by(condition, *, start: datetime, end: datetime, by: tuple[str, ...] = ()) -> dict:
    """The rates over requests created in [start, end) matching ``condition``, in one pass of the database.

    ``{"total": {...with per_category}, "<group>": {key: {...}}}`` for each group in ``by``
    (``community_id``, ``grid_id``): the dashboard's total, communities and grids from the same rows
    instead of one query per grid. A key without requests is absent. Grouped by grid, also
    ``"grid_of": {request id: grid id}``.
    """
    unknown = set(by) - set(GROUPS)
    if unknown:
        raise ValueError(f"cannot group request statistics by {sorted(unknown)}")
    rows, kinds = classified(condition, start=start, end=end, at=clock_now())
    total: Counter = Counter()
    per_category: dict[str, Counter] = defaultdict(Counter)
    groups: dict[str, dict[int, Counter]] = {group: defaultdict(Counter) for group in by}
    for row, kind in zip(rows, kinds, strict=True):
        total[kind] += 1
        per_category[row.category][kind] += 1
        for group, tallies in groups.items():
            key = getattr(row, group)
            if key is not None:
                tallies[key][kind] += 1
    result = {"total": {**_summarise(total), "per_category": [
        {"category": category, "label": CATEGORY_LABELS[category], **_summarise(per_category[category])}
        for category in CATEGORIES if category in per_category]}}
    for group, tallies in groups.items():
        result[group] = {key: _summarise(tally) for key, tally in tallies.items()}
    if "grid_id" in by:  # the grid of each request, for the reply clocks' per-grid rate
        result["grid_of"] = {row.id: row.grid_id for row in rows}
    return result


def request_stats(condition, *, start: datetime, end: datetime) -> dict:
    """The rates above over requests created in [start, end) matching ``condition``."""
    return request_stats_by(condition, start=start, end=end)["total"]
