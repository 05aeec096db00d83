"""The one-hour public reply clock (1小时内公开回复).

Rules (see docs/sla-and-roster.md):

* A clock starts when a resident's message needs a human answer, or when a
  request is created — once per message and once per request
  (``start_reply_clock`` is idempotent). Due ``LINLI_REPLY_SLA_SECONDS`` later,
  around the clock (24/7: the duty rotation covers nights and holidays).
* It stops at the first public reply by staff: from the mini-program (the inbox
  reply) or a staff message seen in the same group. The bot's own automatic
  acknowledgement never stops it.
* ``LINLI_REPLY_WARN_SECONDS`` before the deadline the person on duty is
  warned; at the deadline the person on duty, the duty lead and the community
  admins are alerted. A clock started while nobody is on duty alerts the
  community admins at once.
* Enforcement: an RQ job at the warning time and one at the deadline, with
  deterministic ids (re-scheduling replaces them, stopping cancels them), plus
  a periodic sweep as a backstop. Whoever comes first claims the alert with a
  conditional update of the clock and records it under the unique key
  ``"<clock id>:<kind>"`` in the same transaction, so it is delivered once.
"""
from __future__ import annotations

import importlib
import logging
import math
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from app.clock import now
from app.extensions import db
from app.handlers.alerts import dispatch_alert, insert_ignore, record_alert, redispatch_pending
from app.handlers.roster import community_admins, duty_lead, format_local, on_duty
from app.models import Direction, Message, Resident, ResidentGroup, Staff
from app.models.masking import mask_name
from app.models.sla import Alert, AlertKind, ReplyClock

log = logging.getLogger(__name__)

WARN = AlertKind.WARN.value
BREACH = AlertKind.BREACH.value
NO_DUTY = AlertKind.NO_DUTY.value
CLOCK_KINDS = (WARN, BREACH)
SWEEP_BATCH = 500


def sla_seconds() -> int:
    return int(current_app.config["REPLY_SLA_SECONDS"])


def warn_seconds() -> int:
    return int(current_app.config["REPLY_WARN_SECONDS"])


def alert_key(clock_id: int, kind: str) -> str:
    return f"{clock_id}:{kind}"


# ---- starting -----------------------------------------------------------------------------------

def _find_clock(message_id: int | None, request_id: int | None) -> ReplyClock | None:
    if message_id is not None:
        clock = db.session.scalars(select(ReplyClock).where(ReplyClock.message_id == message_id)).first()
        if clock is not None:
            return clock
    if request_id is not None:
        return db.session.scalars(select(ReplyClock).where(ReplyClock.request_id == request_id)).first()
    return None


def _attach(clock: ReplyClock, message_id: int | None, request_id: int | None, group_id: int | None,
            resident_id: int | None) -> None:
    """Fill in what a later call knows and the first did not (e.g. the request created after the message)."""
    if request_id is not None and clock.request_id is None and _find_clock(None, request_id) is None:
        clock.request_id = request_id
    if message_id is not None and clock.message_id is None and _find_clock(message_id, None) is None:
        clock.message_id = message_id
    if clock.group_id is None and group_id is not None:
        clock.group_id = group_id
    if clock.resident_id is None and resident_id is not None:
        clock.resident_id = resident_id


def start_reply_clock(*, community_id: int, message_id: int | None = None, request_id: int | None = None,
                      group_id: int | None = None, resident_id: int | None = None,
                      started_at: datetime | None = None) -> ReplyClock | None:
    """Start the reply clock for a message and/or request; idempotent.

    Returns the existing clock when one exists for ``message_id`` or
    ``request_id`` (attaching what it lacked), else the new one. None when
    there is no community to hold anyone to the clock. Commits.
    """
    if community_id is None:
        return None
    if message_id is None and request_id is None:
        raise ValueError("a reply clock needs a message_id or a request_id")
    if started_at is not None and started_at.tzinfo is None:
        raise ValueError("started_at must be an aware datetime")
    existing = _find_clock(message_id, request_id)
    if existing is not None:
        _attach(existing, message_id, request_id, group_id, resident_id)
        db.session.commit()
        return existing

    current = now()
    started = started_at or current
    due = started + timedelta(seconds=sla_seconds())
    warn = due - timedelta(seconds=warn_seconds()) if warn_seconds() > 0 else None
    inserted = insert_ignore(ReplyClock, {
        "community_id": community_id, "message_id": message_id, "request_id": request_id, "group_id": group_id,
        "resident_id": resident_id, "started_at": started, "warn_at": warn, "due_at": due,
        "next_alert_at": warn or due, "created_at": current})
    clock = _find_clock(message_id, request_id)
    if not inserted:
        # Another process started it a moment ago: same answer as the idempotent path.
        _attach(clock, message_id, request_id, group_id, resident_id)
        db.session.commit()
        return clock
    db.session.commit()
    schedule_alerts(clock)
    if not on_duty(community_id, current):
        raise_no_duty_alert(clock, current)
    return clock


def _ceil_second(moment: datetime) -> datetime:
    # RQ's scheduler keys jobs by whole seconds (truncated): rounding up makes a
    # job never run before its time, at the cost of < 1 s.
    whole = math.ceil(moment.timestamp())
    return datetime.fromtimestamp(whole, tz=timezone.utc)


def schedule_alerts(clock: ReplyClock) -> None:
    """Schedule (or re-schedule: same job ids) the warning and deadline jobs of an open clock."""
    from app.jobs import job_id
    from workers.sla import fire_reply_alert

    if clock.stopped_at is not None:
        return
    try:
        if clock.warn_at is not None and clock.warned_at is None and clock.breached_at is None:
            fire_reply_alert.enqueue_at(_ceil_second(clock.warn_at), clock.id, WARN,
                                        job_id=job_id("sla", WARN, clock.id))
        if clock.breached_at is None:
            fire_reply_alert.enqueue_at(_ceil_second(clock.due_at), clock.id, BREACH,
                                        job_id=job_id("sla", BREACH, clock.id))
    except Exception:  # noqa: BLE001 - Redis down: the sweep still fires the alerts from the database
        log.exception("could not schedule the alerts of reply clock %s; the sweep will fire them", clock.id)


def cancel_alerts(clock_id: int) -> None:
    from app.extensions import redis_ext
    from app.jobs import cancel, job_id

    try:
        connection = redis_ext.client
        for kind in CLOCK_KINDS:
            cancel(job_id("sla", kind, clock_id), connection)
    except Exception:  # noqa: BLE001 - a job left behind finds the clock stopped and does nothing
        log.exception("could not cancel the alert jobs of reply clock %s", clock_id)


# ---- stopping -----------------------------------------------------------------------------------

def _is_staff_reply(staff_id: int | None, message_id: int | None) -> bool:
    """Only staff stop a clock: never the bot's own outbound acknowledgement."""
    if message_id is not None:
        message = db.session.get(Message, message_id)
        if message is None:
            return False
        if message.direction == Direction.OUT.value:
            # Our own sends: a staff reply posted from the mini-program carries the staff id;
            # the bot's acknowledgements do not.
            return message.staff_id is not None
        return bool(message.is_staff or message.staff_id is not None or staff_id is not None)
    return staff_id is not None


def stop_clock(clock: ReplyClock, *, staff_id: int | None, at: datetime,
               stop_message_id: int | None = None) -> bool:
    """Stop one open clock (conditional update: of racing stops, one wins). Commits; True if stopped."""
    stopped_at = max(at, clock.started_at)
    result = db.session.execute(
        update(ReplyClock).where(ReplyClock.id == clock.id, ReplyClock.stopped_at.is_(None))
        .values(stopped_at=stopped_at, stopped_by_staff_id=staff_id, stop_message_id=stop_message_id,
                next_alert_at=None)
        .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.refresh(clock)
    if result.rowcount != 1:
        return False
    cancel_alerts(clock.id)
    return True


def record_staff_reply(*, community_id: int, staff_id: int | None = None, group_id: int | None = None,
                       request_id: int | None = None, message_id: int | None = None,
                       at: datetime | None = None) -> list[ReplyClock]:
    """A public staff reply: stop the clocks it answers and cancel their jobs.

    With ``request_id``: that request's clock. Otherwise with ``group_id``: every
    open clock of that group started before ``at`` (a staff message in the
    group answers the questions asked before it). ``message_id`` is the staff
    reply itself; a bot message (outbound, without staff) stops nothing.
    """
    at = at or now()
    if not _is_staff_reply(staff_id, message_id):
        return []
    if staff_id is not None:
        staff = db.session.get(Staff, staff_id)
        if staff is None:
            return []
    if staff_id is None and message_id is not None:
        message = db.session.get(Message, message_id)
        staff_id = message.staff_id if message is not None else None
    statement = select(ReplyClock).where(ReplyClock.community_id == community_id, ReplyClock.stopped_at.is_(None))
    if request_id is not None:
        statement = statement.where(ReplyClock.request_id == request_id)
    elif group_id is not None:
        statement = statement.where(ReplyClock.group_id == group_id, ReplyClock.started_at <= at)
    else:
        return []
    stopped = []
    for clock in db.session.scalars(statement.order_by(ReplyClock.started_at)).all():
        if stop_clock(clock, staff_id=staff_id, at=at, stop_message_id=message_id):
            stopped.append(clock)
    return stopped


# ---- alerts -------------------------------------------------------------------------------------

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
    """The request's short summary, read from the requests module if it is installed."""
    if request_id is None:
        return None
    try:
        module = importlib.import_module("app.models.requests")
        model = module.ServiceRequest
    except (ImportError, AttributeError):
        return {"id": request_id}
    row = db.session.get(model, request_id)
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
            "started": format_local(clock.started_at, "%H:%M"), "due": format_local(clock.due_at, "%H:%M")}


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


def _recipients(clock: ReplyClock, kind: str, at: datetime) -> tuple[list[Staff], dict[int, str], list[Staff]]:
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


def _related(clock: ReplyClock) -> dict[str, Any]:
    return {"clock_id": clock.id, "message_id": clock.message_id, "request_id": clock.request_id,
            "group_id": clock.group_id, "started_at": clock.started_at.isoformat(),
            "due_at": clock.due_at.isoformat()}


def raise_no_duty_alert(clock: ReplyClock, at: datetime) -> Alert | None:
    recipients, roles, duty_staff = _recipients(clock, NO_DUTY, at)
    alert = record_alert(key=alert_key(clock.id, NO_DUTY), kind=NO_DUTY, community_id=clock.community_id,
                         text=alert_text(clock, NO_DUTY, at, duty_staff), recipients=recipients,
                         related=_related(clock), clock_id=clock.id, roles=roles)
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
    recipients, roles, duty_staff = _recipients(clock, kind, at)
    # "fired_by" shows operators whether the backstop had to step in (lost or late jobs).
    alert = record_alert(key=alert_key(clock.id, kind), kind=kind, community_id=clock.community_id,
                         text=alert_text(clock, kind, at, duty_staff), recipients=recipients,
                         related={**_related(clock), "fired_by": via}, clock_id=clock.id, roles=roles)
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


# ---- views --------------------------------------------------------------------------------------

def clock_view(clock: ReplyClock, at: datetime | None = None) -> dict[str, Any]:
    """An inbox entry: what was asked, where, by whom (masked), and the seconds left."""
    from app.localtime import iso

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
    import statistics

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
    from app.models import Community

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
