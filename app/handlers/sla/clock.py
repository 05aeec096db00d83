"""Starting and stopping the one-hour public reply clock (1小时内公开回复).

Rules (see docs/sla-and-roster.md):

* A clock starts when a resident's message needs a human answer, or when a
  request is created — once per message and once per request
  (``start_reply_clock`` is idempotent). Due ``LINLI_REPLY_SLA_SECONDS`` later,
  around the clock (24/7: the duty rotation covers nights and holidays).
* It stops at the first public reply by staff: from the mini-program (the inbox
  reply) or a staff message seen in the same group. The bot's own automatic
  acknowledgement never stops it.
* A clock started while nobody is on duty alerts the community admins at once;
  the warning and the deadline alerts are alerting.py's.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.clock import now
from app.database import insert_ignore
from app.extensions import db
from app.handlers.sla.alerting import raise_no_duty_alert
from app.handlers.sla.deadlines import cancel_alerts, schedule_alerts, sla_seconds, warn_seconds
from app.handlers.sla.roster import on_duty
from app.models import Direction, Message, Staff
from app.models.sla import ReplyClock

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
    inserted = insert_ignore(db.session, ReplyClock, {
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
