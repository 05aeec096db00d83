"""The reply clock's alerts: who gets them, what they say, and firing each exactly once.

* ``LINLI_REPLY_WARN_SECONDS`` before the deadline the person on duty is
  warned; at the deadline the person on duty, the duty lead and the community
  admins are alerted; a clock started while nobody is on duty alerts the
  community admins at once.
* Enforcement: an RQ job at the warning time and one at the deadline
  (deadlines.py schedules them), plus a periodic sweep as a backstop. Whoever
  comes first claims the alert with a conditional update of the clock and
  records it under the unique key ``"<clock id>:<kind>"`` in the same
  transaction (app.handlers.alerts), so it is delivered once.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from app.clock import now
from app.extensions import db
from app.handlers.alerts import dispatch_alert, record_alert, redispatch_pending
from app.handlers.sla.deadlines import (
    BREACH,
    CLOCK_KINDS,
    NO_DUTY,
    WARN,
    alert_key,
    schedule_alerts,
    sla_seconds,
)
from app.handlers.sla.roster import community_admins, duty_lead, on_duty
from app.localtime import clock_text
from app.models import Message, Resident, ResidentGroup, Staff
from app.models.alerts import Alert
from app.models.masking import mask_name
from app.models.requests import ServiceRequest
from app.models.sla import ReplyClock

SWEEP_BATCH = 500


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds % 3600 == 0 and seconds >= 3600:
        return f"{seconds // 3600}小时"
    if seconds % 60 == 0 and seconds >= 60:
        return f"{seconds // 60}分钟"
    if seconds >= 60:
        return f"{seconds // 60}分{seconds % 60}秒"
    return f"{seconds}秒"


def request_summary(request_id: int | None) -> dict[str, Any] | None:
    """The request's short summary for alert texts and inbox entries."""
    if request_id is None:
        return None
    row = db.session.get(ServiceRequest, request_id)
    if row is None:
        return {"id": request_id}
    summary: dict[str, Any] = {"id": request_id}
    for name in ("number", "code", "category", "status", "title", "summary", "text"):
        value = getattr(row, name, None)
        if value is not None and not callable(value):
            summary[name] = value.value if hasattr(value, "value") else value
    if "text" in summary and isinstance(summary["text"], str) and len(summary["text"]) > 80:
        summary["text"] = summary["text"][:80] + "…"
    return summary


def _excerpt(text: str | None, limit: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit] + "…"


def describe_clock(clock: ReplyClock) -> dict[str, str]:
    """Pieces of alert text: where, who (masked), what, when."""
    group = db.session.get(ResidentGroup, clock.group_id) if clock.group_id else None
    message = db.session.get(Message, clock.message_id) if clock.message_id else None
    resident = db.session.get(Resident, clock.resident_id) if clock.resident_id else None
    text = message.text if message is not None else None
    if not text:
        summary = request_summary(clock.request_id) or {}
        text = summary.get("text") or summary.get("title") or ""
    name = (resident.name or resident.nickname) if resident is not None else (
        message.sender_name if message is not None else None)
    who = "居民" + (mask_name(name) if name else "")
    where = f"「{group.name}」" if group else "私聊"
    number = f"（诉求#{clock.request_id}）" if clock.request_id else ""
    return {"where": where, "who": who, "text": _excerpt(text), "number": number,
            "started": clock_text(clock.started_at), "due": clock_text(clock.due_at)}


def _names(staff: list[Staff]) -> str:
    return "、".join(s.name for s in staff) or "无"


def alert_text(clock: ReplyClock, kind: str, at: datetime, on_duty_staff: list[Staff]) -> str:
    d = describe_clock(clock)
    limit = format_duration(sla_seconds())
    if kind == WARN:
        left = format_duration(max(0, (clock.due_at - at).total_seconds()))
        return (f"【即将超时】{d['where']}{d['who']} {d['started']} 的诉求{d['number']}还有{left}就满{limit}未公开回复："
                f"“{d['text']}”。请在 {d['due']} 前到群内公开回复。")
    if kind == BREACH:
        return (f"【超时未回复】{d['where']}{d['who']} {d['started']} 的诉求{d['number']}已超过{limit}未公开回复："
                f"“{d['text']}”。当班人员：{_names(on_duty_staff)}。请立即回复并督促处理。")
    return (f"【无人值班】{d['where']}{d['who']} {d['started']} 的诉求{d['number']}需在 {d['due']} 前公开回复："
            f"“{d['text']}”，但值班表此刻无人值班。请安排人员回复，并补齐排班。")


def alert_recipients(clock: ReplyClock, kind: str, at: datetime) -> tuple[list[Staff], dict[int, str], list[Staff]]:
    shifts = on_duty(clock.community_id, at)
    duty_staff = [s.staff for s in shifts]
    roles: dict[int, str] = {}
    ordered: list[Staff] = []

    def add(staff: Staff, role: str) -> None:
        if staff.id not in roles:
            ordered.append(staff)
            roles[staff.id] = role

    if kind == WARN:
        for shift in shifts:
            add(shift.staff, "lead" if shift.is_lead else "duty")
        if not ordered:
            # Nobody on duty to warn: the admins are the only ones who can still act in time.
            for admin in community_admins(clock.community_id):
                add(admin, "admin")
    elif kind == BREACH:
        for shift in shifts:
            add(shift.staff, "lead" if shift.is_lead else "duty")
        lead = duty_lead(clock.community_id, at)
        if lead is not None:
            add(lead, "lead")
        for admin in community_admins(clock.community_id):
            add(admin, "admin")
    else:
        for admin in community_admins(clock.community_id):
            add(admin, "admin")
    return ordered, roles, duty_staff


def related_of(clock: ReplyClock) -> dict[str, Any]:
    return {"clock_id": clock.id, "message_id": clock.message_id, "request_id": clock.request_id,
            "group_id": clock.group_id, "started_at": clock.started_at.isoformat(),
            "due_at": clock.due_at.isoformat()}


def raise_no_duty_alert(clock: ReplyClock, at: datetime) -> Alert | None:
    recipients, roles, duty_staff = alert_recipients(clock, NO_DUTY, at)
    alert = record_alert(key=alert_key(clock.id, NO_DUTY), kind=NO_DUTY, community_id=clock.community_id,
                         text=alert_text(clock, NO_DUTY, at, duty_staff), recipients=recipients,
                         related=related_of(clock), clock_id=clock.id, roles=roles)
    db.session.commit()
    if alert is not None:
        dispatch_alert(alert)
    return alert


def fire_clock_alert(clock_id: int, kind: str, *, at: datetime | None = None, via: str = "job") -> Alert | None:
    """Raise the warning or the breach alert of a clock if it is still owed; exactly once.

    Called by the scheduled job and by the sweep, possibly at the same time and
    possibly twice: the conditional update below lets one caller claim the
    alert (and fails for a stopped clock), the alert row goes in with the claim
    in one transaction, and the unique alert key stops anything else.
    """
    if kind not in CLOCK_KINDS:
        raise ValueError(f"unknown clock alert kind {kind!r}")
    at = at or now()
    clock = db.session.get(ReplyClock, clock_id)
    if clock is None or clock.stopped_at is not None:
        return None
    db.session.refresh(clock)
    if clock.stopped_at is not None:
        return None
    if kind == WARN:
        if clock.warn_at is None or clock.warned_at is not None or clock.breached_at is not None:
            return None
        if at < clock.warn_at:
            schedule_alerts(clock)  # early (another host's clock): put the job back at the right time
            return None
        if at >= clock.due_at:
            return None  # too late to warn: the deadline alert (to the same people and more) covers it
        claim = (update(ReplyClock).where(ReplyClock.id == clock.id, ReplyClock.stopped_at.is_(None),
                                          ReplyClock.warned_at.is_(None), ReplyClock.breached_at.is_(None))
                 .values(warned_at=at, next_alert_at=ReplyClock.due_at))
    else:
        if clock.breached_at is not None:
            return None
        if at < clock.due_at:
            schedule_alerts(clock)
            return None
        claim = (update(ReplyClock).where(ReplyClock.id == clock.id, ReplyClock.stopped_at.is_(None),
                                          ReplyClock.breached_at.is_(None))
                 .values(breached_at=at, next_alert_at=None))
    if db.session.execute(claim.execution_options(synchronize_session=False)).rowcount != 1:
        db.session.rollback()
        return None
    recipients, roles, duty_staff = alert_recipients(clock, kind, at)
    # "fired_by" shows operators whether the backstop had to step in (lost or late jobs).
    alert = record_alert(key=alert_key(clock.id, kind), kind=kind, community_id=clock.community_id,
                         text=alert_text(clock, kind, at, duty_staff), recipients=recipients,
                         related={**related_of(clock), "fired_by": via}, clock_id=clock.id, roles=roles)
    db.session.commit()
    db.session.refresh(clock)
    if alert is not None:
        dispatch_alert(alert)
    return alert


def due_clock_ids(at: datetime, limit: int = SWEEP_BATCH) -> list[int]:
    """Open clocks owing an alert by ``at`` — the sweep's (indexed) query."""
    return list(db.session.scalars(
        select(ReplyClock.id).where(ReplyClock.next_alert_at <= at)
        .order_by(ReplyClock.next_alert_at).limit(limit)))


def sweep(at: datetime | None = None, limit: int = SWEEP_BATCH) -> dict[str, int]:
    """Backstop for lost or late jobs: fire every owed alert and finish interrupted dispatches."""
    at = at or now()
    fired = {WARN: 0, BREACH: 0}
    for clock_id in due_clock_ids(at, limit):
        clock = db.session.get(ReplyClock, clock_id)
        if clock is None:
            continue
        kind = BREACH if at >= clock.due_at else WARN
        if fire_clock_alert(clock_id, kind, at=at, via="sweep") is not None:
            fired[kind] += 1
    redispatched = redispatch_pending()
    return {"warned": fired[WARN], "breached": fired[BREACH], "redispatched": redispatched}
