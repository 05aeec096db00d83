"""What staff and operators read of the reply clock: inbox entries and reply-time statistics."""
from __future__ import annotations

import math
import statistics
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.handlers.sla.alerting import request_summary
from app.handlers.sla.deadlines import sla_seconds
from app.localtime import iso
from app.models import Community, Message, Resident, ResidentGroup, Staff
from app.models.masking import mask_name
from app.models.sla import ReplyClock


def clock_view(clock: ReplyClock, at: datetime | None = None) -> dict[str, Any]:
    """An inbox entry: what was asked, where, by whom (masked), and the seconds left."""
    at = at or now()
    message = db.session.get(Message, clock.message_id) if clock.message_id else None
    group = db.session.get(ResidentGroup, clock.group_id) if clock.group_id else None
    resident = db.session.get(Resident, clock.resident_id) if clock.resident_id else None
    return {
        "id": clock.id,
        "community_id": clock.community_id,
        "started_at": iso(clock.started_at),
        "warn_at": iso(clock.warn_at),
        "due_at": iso(clock.due_at),
        "seconds_left": int((clock.due_at - at).total_seconds()),
        "overdue": at >= clock.due_at,
        "stopped_at": iso(clock.stopped_at),
        "stopped_by_staff_id": clock.stopped_by_staff_id,
        "message": ({"id": message.id, "text": message.text, "msg_type": message.msg_type,
                     "channel": message.channel, "received_at": iso(message.received_at)}
                    if message is not None else None),
        "group": {"id": group.id, "name": group.name, "channel": group.channel} if group is not None else None,
        "resident": resident.public_view() if resident is not None else (
            {"id": None, "name": mask_name(message.sender_name), "phone": None}
            if message is not None and message.sender_name else None),
        "request": request_summary(clock.request_id),
    }


# ---- statistics ---------------------------------------------------------------------------------

def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (p90 of 10 values is the 9th smallest); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarise(clocks: list[ReplyClock], at: datetime) -> dict[str, Any]:
    replied = [c for c in clocks if c.stopped_at is not None]
    within = [c for c in replied if c.stopped_at <= c.due_at]
    unanswered = [c for c in clocks if c.stopped_at is None and at >= c.due_at]
    still_open = [c for c in clocks if c.stopped_at is None and at < c.due_at]
    decided = len(clocks) - len(still_open)
    times = [c.reply_seconds() for c in replied]
    return {
        "clocks": len(clocks),
        "replied": len(replied),
        "within": len(within),
        "late": len(replied) - len(within),
        "unanswered": len(unanswered),
        "open": len(still_open),
        # Clocks still inside their hour are not decided yet and not counted either way.
        "rate": (len(within) / decided) if decided else None,
        "median_seconds": statistics.median(times) if times else None,
        "p90_seconds": percentile(times, 0.9),
    }


def sla_stats(*, community_ids: list[int] | None, since: datetime, until: datetime | None,
              at: datetime | None = None) -> dict[str, Any]:
    """Reply-within-the-SLA rate and first-reply times of clocks started in [since, until).

    ``until`` None: up to now, including clocks started this very moment.

    Per community over all its clocks; per staff member over the clocks they
    answered first (the rate is then: answered within the hour / answered).
    """
    at = at or now()
    statement = select(ReplyClock).where(ReplyClock.started_at >= since)
    if until is not None:
        statement = statement.where(ReplyClock.started_at < until)
    if community_ids is not None:
        statement = statement.where(ReplyClock.community_id.in_(community_ids))
    clocks = list(db.session.scalars(statement))
    by_community: dict[int, list[ReplyClock]] = {}
    by_staff: dict[int, list[ReplyClock]] = {}
    for clock in clocks:
        by_community.setdefault(clock.community_id, []).append(clock)
        if clock.stopped_at is not None and clock.stopped_by_staff_id is not None:
            by_staff.setdefault(clock.stopped_by_staff_id, []).append(clock)
    communities = []
    for community_id, rows in sorted(by_community.items()):
        community = db.session.get(Community, community_id)
        communities.append({"community_id": community_id, "name": community.name if community else str(community_id),
                            **summarise(rows, at)})
    staff_rows = []
    for staff_id, rows in by_staff.items():
        staff = db.session.get(Staff, staff_id)
        staff_rows.append({"staff_id": staff_id, "name": staff.name if staff else str(staff_id),
                           "community_id": staff.community_id if staff else None, **summarise(rows, at)})
    staff_rows.sort(key=lambda r: (-r["replied"], r["name"]))
    return {"since": since, "until": until, "sla_seconds": sla_seconds(), "communities": communities,
            "staff": staff_rows}
