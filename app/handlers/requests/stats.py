"""响应率/解决率/满意率: the statistics of requests over a period, overall and per category.

- response rate: first public staff reply within LINLI_REPLY_SLA_SECONDS of creation, over all
  requests except merged duplicates;
- resolution rate: resolved (办结, rated or closed) over accepted requests (not rejected, not merged);
- on-time rate: resolved by the deadline, over resolved;
- satisfaction rate: latest rating 满意 or 基本满意, over rated requests;
- solved at grid level: resolved while still at grid level (never escalated) — 就地解决.
"""
from __future__ import annotations

from datetime import datetime, timedelta

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


def _ratio(part, whole):
    return round(len(part) / len(whole), 4) if whole else None


def _summarise(items, *, sla: timedelta, at: datetime, escalated_ids: set[int]) -> dict:
    total = [r for r in items if r.status != RequestStatus.MERGED.value]
    accepted = [r for r in total if r.status != RequestStatus.REJECTED.value]
    responded = [r for r in total if r.first_reply_at is not None and r.first_reply_at - r.created_at <= sla]
    resolved = [r for r in accepted if r.status in DONE_STATUSES]
    on_time = [r for r in resolved if r.resolved_at is not None and r.resolved_at <= r.due_at]
    rated = [r for r in total if r.rating in RATINGS]
    satisfied = [r for r in rated if r.rating in ("satisfied", "basically")]
    by_level = {level: sum(1 for r in resolved if r.resolved_level == level) for level in LEVELS}
    return {
        "total": len(total), "accepted": len(accepted), "rejected": len(total) - len(accepted),
        "merged": len(items) - len(total),
        "responded_in_time": len(responded), "response_rate": _ratio(responded, total),
        "resolved": len(resolved), "resolution_rate": _ratio(resolved, accepted),
        "resolved_on_time": len(on_time), "on_time_rate": _ratio(on_time, resolved),
        "rated": len(rated), "satisfied": sum(1 for r in rated if r.rating == "satisfied"),
        "basically": sum(1 for r in rated if r.rating == "basically"),
        "unsatisfied": sum(1 for r in rated if r.rating == "unsatisfied"),
        "satisfaction_rate": _ratio(satisfied, rated),
        "solved_at_grid_level": by_level[Level.GRID.value], "resolved_by_level": by_level,
        "escalated": sum(1 for r in accepted if r.id in escalated_ids),
        "open": sum(1 for r in accepted if r.status in OPEN_STATUSES),
        "overdue_open": sum(1 for r in accepted if r.status in OPEN_STATUSES and r.due_at <= at),
    }


def request_stats(condition, *, start: datetime, end: datetime) -> dict:
    """The rates above over requests created in [start, end) matching ``condition``."""
    sla = timedelta(seconds=int(current_app.config.get("REPLY_SLA_SECONDS") or 3600))
    in_period = (condition, ServiceRequest.created_at >= start, ServiceRequest.created_at < end)
    rows = db.session.execute(select(
        ServiceRequest.id, ServiceRequest.category, ServiceRequest.status, ServiceRequest.created_at,
        ServiceRequest.first_reply_at,
        ServiceRequest.resolved_at, ServiceRequest.due_at, ServiceRequest.rating, ServiceRequest.resolved_level,
        ServiceRequest.escalation_level,
    ).where(*in_period)).all()
    at = clock_now()
    escalated_ids = set(db.session.scalars(select(RequestEvent.request_id).join(
        ServiceRequest, ServiceRequest.id == RequestEvent.request_id).where(
        RequestEvent.kind == "escalated", *in_period).distinct()))
    result = _summarise(rows, sla=sla, at=at, escalated_ids=escalated_ids)
    result["per_category"] = [
        {"category": category, "label": CATEGORY_LABELS[category],
         **_summarise([r for r in rows if r.category == category], sla=sla, at=at, escalated_ids=escalated_ids)}
        for category in CATEGORIES if any(r.category == category for r in rows)]
    return result
