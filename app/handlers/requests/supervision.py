"""督办: the deadline of every open request is watched, exactly once per request.

An exact job (``requests.overdue``, id ``request-overdue-<id>``) runs at
``due_at``; the periodic sweep (``requests.sweep``) is the backstop for jobs
that were lost. Both end in ``supervise_overdue``, whose alert key
``request:<id>:overdue`` is unique. The sweep also closes resolved requests
whose 回访 went unanswered.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app import jobs
from app.clock import now as clock_now
from app.extensions import db
from app.handlers.alerts import raise_alert
from app.handlers.requests.notify import community_admins, summary_line
from app.handlers.requests.rules import describe_limit
from app.handlers.requests.timeline import record_event, transition
from app.localtime import format_local
from app.models import Staff
from app.models.requests import (
    OPEN_STATUSES,
    STATUS_LABELS,
    URGENCY_LABELS,
    Level,
    RequestStatus,
    ServiceRequest,
)

log = logging.getLogger(__name__)


# ---- the exact job ---------------------------------------------------------------------------

def overdue_job_id(request_id: int) -> str:
    return jobs.job_id("request", "overdue", request_id)


def schedule_overdue_check(request: ServiceRequest) -> None:
    """An exact job at the deadline (the periodic sweep is the backstop). Same id → re-scheduling replaces it."""
    jobs.schedule("requests.overdue", request.due_at, request.id, job_id=overdue_job_id(request.id))


def cancel_overdue_check(request: ServiceRequest) -> None:
    jobs.unschedule(overdue_job_id(request.id))


# ---- the 督办 alert --------------------------------------------------------------------------

def _supervisors(request: ServiceRequest, assignee: Staff | None) -> list[Staff]:
    """Community admins and the assignee; with nobody assigned at a department, that department's staff."""
    recipients: list[Staff] = []
    for member in [*community_admins(request.community_id), assignee]:
        if member is not None and member.active and member.id not in {r.id for r in recipients}:
            recipients.append(member)
    if assignee is None and request.escalation_level == Level.DEPARTMENT.value and request.department_id:
        recipients += [m for m in db.session.scalars(select(Staff).where(
            Staff.department_id == request.department_id, Staff.active.is_(True)))
            if m.id not in {r.id for r in recipients}]
    return recipients


def _overdue_text(request: ServiceRequest, assignee: Staff | None) -> str:
    return (f"【督办】诉求{request.code}（{summary_line(request)}）已超过办理时限"
            f"（{URGENCY_LABELS.get(request.urgency, request.urgency)}，{describe_limit(request.urgency)}，"
            f"应于{format_local(request.due_at)}前办结），当前状态：{STATUS_LABELS[request.status]}，"
            f"承办人：{assignee.name if assignee else '未派单'}。请尽快办理并回复居民。")


def supervise_overdue(request_id: int):
    """Raise the 督办 alert for an overdue open request, exactly once (the alert key is unique).

    Called by the exact job at ``due_at`` and by the periodic sweep; whichever
    comes second finds the alert already recorded and does nothing more.
    """
    request = db.session.get(ServiceRequest, request_id)
    at = clock_now()
    if request is None or not request.is_overdue(at):
        return None
    assignee = db.session.get(Staff, request.assignee_id) if request.assignee_id else None
    recipients = _supervisors(request, assignee)
    overdue_for = at - request.due_at
    alert = raise_alert(key=f"request:{request.id}:overdue", kind="overdue", community_id=request.community_id,
                        text=_overdue_text(request, assignee), recipients=recipients,
                        related={"request_id": request.id, "code": request.code,
                                 "overdue_seconds": int(overdue_for.total_seconds())})
    request = db.session.get(ServiceRequest, request_id)
    if alert is not None:
        record_event(request, None, "supervised",
                     detail={"alert_id": alert.id, "recipients": [r.id for r in recipients]})
    if request.supervised_at is None:
        request.supervised_at = at
    db.session.commit()
    return alert


# ---- the sweep -------------------------------------------------------------------------------

def sweep_overdue(*, limit: int = 500) -> int:
    """Backstop for lost jobs: supervise open requests past due that were not supervised yet."""
    at = clock_now()
    ids = db.session.scalars(select(ServiceRequest.id).where(
        ServiceRequest.status.in_(OPEN_STATUSES), ServiceRequest.due_at <= at,
        ServiceRequest.supervised_at.is_(None)).order_by(ServiceRequest.due_at).limit(limit)).all()
    raised = 0
    for request_id in ids:
        try:
            if supervise_overdue(request_id) is not None:
                raised += 1
        except Exception:  # noqa: BLE001 - one bad row must not stop the sweep for the others
            db.session.rollback()
            log.exception("supervising request %s failed", request_id)
    return raised


def close_unrated(*, limit: int = 500) -> int:
    """Close resolved requests whose 回访 went unanswered for LINLI_REQUEST_RATING_WAIT_DAYS days."""
    days = int(current_app.config.get("REQUEST_RATING_WAIT_DAYS") or 0)
    if days <= 0:
        return 0
    at = clock_now()
    rows = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.status == RequestStatus.RESOLVED.value,
        ServiceRequest.resolved_at <= at - timedelta(days=days)).order_by(ServiceRequest.resolved_at)
        .limit(limit)).all()
    for request in rows:
        transition(request, None, "close", "closed", RequestStatus.CLOSED.value, (RequestStatus.RESOLVED.value,),
                   detail={"reason": "no_rating", "waited_days": days})
        request.closed_at = at
    db.session.commit()
    return len(rows)
