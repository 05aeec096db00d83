"""The public progress board (督办墙) of one community: what is open, who is on it, by when.

Everything here may be shown on a screen in the service hall: residents only as
``public_name`` (a surname and two stars), staff by name (the named person is the point
of the board), no phone numbers, no texts a resident typed (they may hold a phone number
or a neighbour's name), no room numbers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import bindparam, func, or_, select

from app.clock import now
from app.extensions import db
from app.handlers import requests as requests_flow
from app.handlers import sla
from app.handlers.proxy.views import due_provisional as case_due_provisional
from app.handlers.reports.cache import cached
from app.handlers.reports.masking import public_name
from app.handlers.requests.rules import EVENT_LABELS
from app.handlers.requests.views import due_provisional as request_due_provisional
from app.localtime import to_local, zone
from app.models import Building, Community, Resident, Staff
from app.models.proxy import CASE_STATUS_LABELS, Case, CaseEvent, CaseStatus, ServiceItem
from app.models.requests import (
    CATEGORY_LABELS,
    DONE_STATUSES,
    OPEN_STATUSES,
    STATUS_LABELS,
    RequestEvent,
    ServiceRequest,
)
from app.models.sla import ReplyClock

RECENT_DAYS = 3      # resolved items stay on the board this long
MAX_ITEMS = 40       # a TV screen's worth
STATS_DAYS = 30
RATES_CACHE_SECONDS = 60


@dataclass
class BoardItem:
    kind: str                 # 诉求 | 代办
    code: str
    category: str
    resident: str
    responsible: str
    place: str
    status: str
    due_at: datetime | None
    seconds_left: int | None  # None once done
    overdue: bool
    done: bool
    last_step: str
    last_at: datetime | None
    provisional: bool = False  # counted over a year whose holiday notice is not loaded: may still move


def communities() -> list[Community]:
    return list(db.session.scalars(select(Community).order_by(Community.id)))


def _names(ids: set[int], model, attr: str) -> dict[int, str]:
    if not ids:
        return {}
    return {row.id: getattr(row, attr) for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def _last_events(model, key, ids: list[int]) -> dict[int, object]:
    if not ids:
        return {}
    latest = (select(key, func.max(model.id).label("last_id")).where(key.in_(ids)).group_by(key).subquery())
    rows = db.session.scalars(select(model).join(latest, model.id == latest.c.last_id))
    return {getattr(row, key.key): row for row in rows}


def _literal_in(column, values):
    """``column IN ('a', 'b')`` with the values in the SQL text, so the planner matches the partial index
    ``ix_service_request_open_due`` (a bound parameter could be anything)."""
    return column.in_(bindparam(f"{column.key}_literal", list(values), expanding=True, literal_execute=True))


def request_items(community_id: int, at: datetime) -> list[BoardItem]:
    since = at - timedelta(days=RECENT_DAYS)
    # Two index range scans (open by deadline; resolved since) instead of one OR over all of a
    # community's requests: the first MAX_ITEMS of each part hold the first MAX_ITEMS of both.
    order = (ServiceRequest.due_at, ServiceRequest.id)
    open_rows = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.community_id == community_id, _literal_in(ServiceRequest.status, OPEN_STATUSES))
        .order_by(*order).limit(MAX_ITEMS))
    done_rows = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.community_id == community_id, ServiceRequest.resolved_at >= since,
        ServiceRequest.status.in_(DONE_STATUSES)).order_by(*order).limit(MAX_ITEMS))
    rows = sorted([*open_rows, *done_rows], key=lambda r: (r.due_at, r.id))[:MAX_ITEMS]
    residents = {r.id: r for r in db.session.scalars(select(Resident).where(
        Resident.id.in_({r.resident_id for r in rows if r.resident_id})))}
    staff = _names({r.assignee_id for r in rows if r.assignee_id}, Staff, "name")
    buildings = _names({r.building_id for r in rows if r.building_id}, Building, "name")
    events = _last_events(RequestEvent, RequestEvent.request_id, [r.id for r in rows])
    items = []
    for row in rows:
        resident = residents.get(row.resident_id)
        event = events.get(row.id)
        done = row.status in DONE_STATUSES
        items.append(BoardItem(
            kind="诉求", code=row.code, category=CATEGORY_LABELS.get(row.category, row.category),
            resident=public_name((resident.name or resident.nickname) if resident else None),
            responsible=staff.get(row.assignee_id) or "值班人员", place=buildings.get(row.building_id, ""),
            status=STATUS_LABELS.get(row.status, row.status), due_at=row.due_at,
            seconds_left=None if done else int((row.due_at - at).total_seconds()),
            overdue=row.is_overdue(at), done=done,
            last_step=EVENT_LABELS.get(event.kind, event.kind) if event else "已接收",
            last_at=event.at if event else row.created_at, provisional=not done and request_due_provisional(row)))
    return items


def case_items(community_id: int, at: datetime) -> list[BoardItem]:
    since = at - timedelta(days=RECENT_DAYS)
    rows = list(db.session.scalars(select(Case).where(
        Case.community_id == community_id,
        or_(Case.status != CaseStatus.DONE.value, Case.done_at >= since))
        .order_by(Case.due_at, Case.id).limit(MAX_ITEMS)))
    residents = {r.id: r for r in db.session.scalars(select(Resident).where(
        Resident.id.in_({c.resident_id for c in rows})))}
    staff = _names({c.responsible_staff_id for c in rows}, Staff, "name")
    services = _names({c.service_item_id for c in rows}, ServiceItem, "name")
    events = _last_events(CaseEvent, CaseEvent.case_id, [c.id for c in rows])
    items = []
    for case in rows:
        resident = residents.get(case.resident_id)
        event = events.get(case.id)
        done = case.status == CaseStatus.DONE.value
        label = CASE_STATUS_LABELS.get(case.status, case.status)
        step = CASE_STATUS_LABELS.get(event.to_status, label) if event is not None and event.to_status else label
        items.append(BoardItem(
            kind="代办", code=case.code, category=services.get(case.service_item_id, "代办事项"),
            resident=public_name((resident.name or resident.nickname) if resident else None),
            responsible=staff.get(case.responsible_staff_id, ""), place="", status=label, due_at=case.due_at,
            seconds_left=None if done else int((case.due_at - at).total_seconds()),
            overdue=not done and case.due_at < at, done=done, last_step=step,
            last_at=event.at if event is not None else case.created_at,
            provisional=not done and case_due_provisional(case)))
    return items


def thirty_day_rates(community_id: int, at: datetime) -> dict:
    """The 30-day rates, computed at most once a minute per community (the board asks every 20 s)."""
    return cached(f"board-rates:{community_id}", RATES_CACHE_SECONDS, lambda: compute_rates(community_id, at))


def compute_rates(community_id: int, at: datetime) -> dict:
    """One-hour reply rate and 三率 (响应率/解决率/满意率) of the requests of the last 30 days."""
    local_today = to_local(at).date()
    start = datetime.combine(local_today - timedelta(days=STATS_DAYS - 1), time(0), tzinfo=zone())
    clocks = list(db.session.scalars(select(ReplyClock).where(
        ReplyClock.community_id == community_id, ReplyClock.started_at >= start)))
    reply = sla.summarise(clocks, at)
    stats = requests_flow.request_stats(ServiceRequest.community_id == community_id, start=start,
                                        end=at + timedelta(seconds=1))
    return {"reply_rate": reply["rate"], "reply_decided": reply["clocks"] - reply["open"],
            "response_rate": stats["response_rate"], "resolution_rate": stats["resolution_rate"],
            "satisfaction_rate": stats["satisfaction_rate"], "total": stats["total"], "rated": stats["rated"],
            "resolved": stats["resolved"], "open": stats["open"], "overdue_open": stats["overdue_open"]}


def board(community_id: int, at: datetime | None = None) -> dict:
    """The whole board: items (overdue first, then by deadline, done last) and the 30-day rates."""
    at = at or now()
    items = request_items(community_id, at) + case_items(community_id, at)
    items.sort(key=lambda i: (i.done, not i.overdue, i.seconds_left if i.seconds_left is not None else 0,
                              -(i.last_at.timestamp() if i.last_at else 0)))
    open_items = [i for i in items if not i.done]
    return {"at": at, "items": items[:MAX_ITEMS], "open": len(open_items),
            "overdue": sum(1 for i in open_items if i.overdue), "rates": thirty_day_rates(community_id, at)}
