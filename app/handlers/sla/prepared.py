"""The timer's reply-clock alerts: prepared before they are due, fired with one short transaction.

Firing through ``fire_clock_alert`` does all its work at the due time: who is on duty, the alert's
text, the alert and its recipients flushed through the ORM, then one committed outbox row per
recipient — 0.4–0.7 s of CPU on the loaded development machine, which is most of what separated the
timer from "every recipient within 1 s". The timer (workers/timer.py) therefore takes an entry a few
seconds early and calls ``prepare_clock_alert``: every read and every row to insert is worked out
then, in memory. Nothing is written, so a timer killed at this point leaves nothing behind: the RQ
twin of the job and the sweep fire the alert as if the timer had never existed.

At the due time ``fire_prepared`` runs one transaction: the claim — the same conditional update as
``fire_clock_alert``, which is also the cheap re-check: a clock stopped (answered) in between, or an
alert someone else fired, matches nothing and nothing is written or sent — then the alert under its
unique key, the outbox rows and the recipient rows, one INSERT each, already linked and the alert
marked dispatched; one commit; then every message goes to the send threads (``outbox.hand_over``),
which move each row queued → sending → sent like any other (docs/reliability.md). The exactly-once
guards are the ones of the ordinary path: the claim, the unique alert key, the unique outbox key.

Who is on duty is read at preparation for the due time itself, so a roster change in the seconds
between preparation and the due time is not seen; the alternative is reading it at the due time,
which is the cost this module exists to avoid.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from app.clock import now
from app.database import begin_write_transaction
from app.extensions import db
from app.handlers.alerts import (
    TARGET_GROUP,
    TARGET_STAFF,
    duty_group,
    group_message,
    group_message_key,
    recipient_route,
    staff_message_key,
)
from app.handlers.messaging.outbox import TO_GROUP, TO_STAFF, hand_over, outbound_values
from app.handlers.sla.alerting import alert_recipients, alert_text, related_of
from app.handlers.sla.deadlines import CLOCK_KINDS, WARN, alert_key
from app.models import Channel, Message
from app.models.alerts import Alert, AlertRecipient, RecipientState
from app.models.sla import ReplyClock


@dataclass
class PreparedAlert:
    clock_id: int
    kind: str
    due: datetime
    key: str
    community_id: int | None
    text: str
    related: dict[str, Any]
    prepared_at: datetime
    recipients: list[dict[str, Any]] = field(default_factory=list)   # alert_recipient values
    messages: list[dict[str, Any]] = field(default_factory=list)     # outbox row values
    links: list[int | None] = field(default_factory=list)            # recipient → index in messages


def prepare_clock_alert(clock_id: int, kind: str) -> PreparedAlert | None:
    """Everything the alert will write, computed for its due time; None when nothing is owed. Writes nothing."""
    if kind not in CLOCK_KINDS:
        raise ValueError(f"unknown clock alert kind {kind!r}")
    try:
        return _prepare(clock_id, kind)
    finally:
        db.session.rollback()  # no transaction (and on SQLite no read snapshot) held until the due time


def _prepare(clock_id: int, kind: str) -> PreparedAlert | None:
    clock = db.session.get(ReplyClock, clock_id, populate_existing=True)
    if clock is None or clock.stopped_at is not None or clock.breached_at is not None:
        return None
    if kind == WARN and (clock.warn_at is None or clock.warned_at is not None):
        return None
    due = clock.warn_at if kind == WARN else clock.due_at
    staff, roles, duty_staff = alert_recipients(clock, kind, due)
    text = alert_text(clock, kind, due, duty_staff)
    key = alert_key(clock.id, kind)
    prepared = PreparedAlert(clock_id=clock.id, kind=kind, due=due, key=key, community_id=clock.community_id,
                             text=text, related={**related_of(clock), "fired_by": "timer"}, prepared_at=now())
    group = duty_group(clock.community_id)
    by_id = {s.id: s for s in staff}
    prepared.recipients = [recipient_route(s, roles.get(s.id, "staff"), group) for s in by_id.values()]
    if not by_id and group is not None:
        prepared.recipients.append(recipient_route(None, "group", group))  # as record_alert: the group still hears
    meta = {"alert_key": key, "alert_kind": kind}
    group_index = None
    for row in prepared.recipients:
        if row["target"] == TARGET_STAFF:
            person = by_id[row["staff_id"]]
            prepared.links.append(len(prepared.messages))
            prepared.messages.append(outbound_values(
                channel=Channel.WEWORK.value, recipient_kind=TO_STAFF, recipient_id=person.wework_userid, text=text,
                idempotency_key=staff_message_key(key, person.id), community_id=clock.community_id,
                staff_id=person.id, meta=meta))
        elif row["target"] == TARGET_GROUP:
            if group_index is None:  # one message to the duty group naming everyone it is for
                named = [by_id[r["staff_id"]] for r in prepared.recipients
                         if r["target"] == TARGET_GROUP and r["staff_id"] is not None]
                group_text, phones = group_message(named, text)
                group_index = len(prepared.messages)
                prepared.messages.append(outbound_values(
                    channel=group.channel, recipient_kind=TO_GROUP, recipient_id=group.chat_id, text=group_text,
                    idempotency_key=group_message_key(key, group.id), community_id=clock.community_id,
                    chat_id=group.chat_id, group_id=group.id, meta={**meta, "mentioned_mobile_list": phones}))
            prepared.links.append(group_index)
        else:
            prepared.links.append(None)
    return prepared


def fire_prepared(prepared: PreparedAlert, *, at: datetime | None = None) -> list[int] | None:
    """At (or after) the due time: claim, write and hand over in one transaction; the message ids, or None
    when the alert is no longer owed (clock stopped, fired by the job or the sweep)."""
    at = at or now()
    if at < prepared.due:
        raise ValueError("a prepared alert fired before its due time")
    begin_write_transaction(db.session)
    clock = ReplyClock.__table__.c
    conditions = [clock.id == prepared.clock_id, clock.stopped_at.is_(None), clock.breached_at.is_(None)]
    if prepared.kind == WARN:
        # Too late to warn once the deadline passed: the breach alert (to the same people and more) covers it.
        claim = update(ReplyClock).where(*conditions, clock.warned_at.is_(None), clock.due_at > at).values(
            warned_at=at, next_alert_at=clock.due_at)
    else:
        claim = update(ReplyClock).where(*conditions).values(breached_at=at, next_alert_at=None)
    if db.session.execute(claim.execution_options(synchronize_session=False)).rowcount != 1:
        db.session.rollback()
        return None
    try:
        alert_id = db.session.execute(insert(Alert).values(
            key=prepared.key, kind=prepared.kind, community_id=prepared.community_id, clock_id=prepared.clock_id,
            text=prepared.text, related=prepared.related, created_at=at, dispatched_at=at)
            .returning(Alert.id)).scalar_one()
    except IntegrityError:  # the key exists: recorded by another path (cannot happen after a won claim)
        db.session.rollback()
        return None
    shift = at - prepared.prepared_at  # the rows are written now, not when they were prepared
    messages = [{**m, "received_at": m["received_at"] + shift, "check_at": m["check_at"] + shift}
                for m in prepared.messages]
    ids = list(db.session.scalars(insert(Message).returning(Message.id, sort_by_parameter_order=True),
                                  messages)) if messages else []
    if prepared.recipients:
        db.session.execute(insert(AlertRecipient), [
            {**row, "alert_id": alert_id, "created_at": at,
             "message_id": ids[link] if link is not None else None,
             "state": RecipientState.QUEUED.value if link is not None else row["state"]}
            for row, link in zip(prepared.recipients, prepared.links, strict=True)])
    db.session.commit()
    for message_id in ids:
        hand_over(message_id)
    return ids
