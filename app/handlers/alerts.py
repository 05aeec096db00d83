"""Alerts to staff, recorded once and delivered once.

Exactly-once works in two steps:

1. ``record_alert`` inserts the alert with ``INSERT ... ON CONFLICT (key) DO
   NOTHING`` together with one ``AlertRecipient`` row per recipient, in one
   transaction. Of any number of racing writers (the scheduled job, a duplicate
   of it, the sweep, a re-run after a crash) exactly one inserts the key; the
   others learn that it exists and stop.
2. ``dispatch_alert`` hands each recipient's message to the outbox with an
   idempotency key derived from the alert key and the recipient, then marks the
   alert dispatched. If a worker dies between 1 and 2 the alert stays
   undispatched and the sweep (``redispatch_pending``) finishes it; the outbox's
   own unique key turns a repeated hand-over into a no-op, so each recipient
   gets one message whatever happens.

Staff with a WeCom userid get a WeCom app message; the others are named in one
message to the community's duty group (值班群), so a group is not flooded with
one copy per person.
"""
from __future__ import annotations

import logging
from typing import Any, Iterable

from sqlalchemy import select

from app.clock import now
from app.database import insert_ignore
from app.extensions import db
from app.handlers.messaging.outbox import TO_GROUP, TO_STAFF, queue_message
from app.localtime import iso
from app.models import Channel, GroupKind, Message, ResidentGroup, Staff
from app.models.alerts import Alert, AlertRecipient, RecipientState

log = logging.getLogger(__name__)

TARGET_STAFF = "staff"
TARGET_GROUP = "group"
TARGET_NONE = "none"


def duty_group(community_id: int | None) -> ResidentGroup | None:
    """The community's staff duty group (值班群), where alerts for staff without WeCom go."""
    if community_id is None:
        return None
    return db.session.scalars(select(ResidentGroup).where(
        ResidentGroup.community_id == community_id, ResidentGroup.kind == GroupKind.DUTY.value,
        ResidentGroup.active.is_(True)).order_by(ResidentGroup.id).limit(1)).first()


def record_alert(*, key: str, kind: str, community_id: int | None, text: str, recipients: Iterable[Staff],
                 related: dict | None = None, clock_id: int | None = None,
                 roles: dict[int, str] | None = None) -> Alert | None:
    """Insert the alert and its recipients (not committed). None if the key exists already."""
    if not text or not text.strip():
        raise ValueError("alert text is empty")
    inserted = insert_ignore(db.session, Alert, {
        "key": key[:191], "kind": kind, "community_id": community_id, "clock_id": clock_id, "text": text,
        "related": related, "created_at": now()})
    if not inserted:
        return None
    alert = db.session.scalars(select(Alert).where(Alert.key == key[:191])).one()
    group = duty_group(community_id)
    seen: set[int] = set()
    for staff in recipients:
        if staff.id in seen:
            continue
        seen.add(staff.id)
        alert.recipients.append(AlertRecipient(**recipient_route(staff, (roles or {}).get(staff.id, "staff"), group),
                                               created_at=now()))
    if not seen and group is not None:
        # Nobody to name (no one on duty and no admin): the duty group still hears of it.
        alert.recipients.append(AlertRecipient(**recipient_route(None, "group", group), created_at=now()))
    db.session.flush()
    return alert


def recipient_route(staff: Staff | None, role: str, group: ResidentGroup | None) -> dict[str, Any]:
    """How one recipient is reached: WeCom to their userid, else named in the duty group, else nowhere."""
    if staff is not None and staff.wework_userid:
        return {"staff_id": staff.id, "role": role, "channel": Channel.WEWORK.value, "target": TARGET_STAFF,
                "group_id": None, "state": RecipientState.PENDING.value}
    if group is not None:
        return {"staff_id": staff.id if staff is not None else None, "role": role, "channel": group.channel,
                "target": TARGET_GROUP, "group_id": group.id, "state": RecipientState.PENDING.value}
    return {"staff_id": staff.id, "role": role, "channel": None, "target": TARGET_NONE, "group_id": None,
            "state": RecipientState.NO_CHANNEL.value}


def staff_message_key(alert_key: str, staff_id: int) -> str:
    return f"alert:{alert_key}:staff:{staff_id}"


def group_message_key(alert_key: str, group_id: int) -> str:
    return f"alert:{alert_key}:group:{group_id}"


def group_message(named: list[Staff | None], text: str) -> tuple[str, list[str]]:
    """The one duty-group message naming everyone it is for: its text and the phones to @-mention."""
    names = [s for s in named if s is not None]
    prefix = ("请 " + "、".join(f"@{s.name}" for s in names) + " 注意：\n") if names else ""
    return prefix + text, [s.phone for s in names if s.phone]


def raise_alert(*, key: str, kind: str, community_id: int, text: str, recipients: list[Staff],
                related: dict | None = None, clock_id: int | None = None,
                roles: dict[int, str] | None = None) -> Alert | None:
    """Record and deliver an alert exactly once per ``key``; None if it already existed.

    Commits the session (the caller's pending changes with it).
    """
    alert = record_alert(key=key, kind=kind, community_id=community_id, text=text, recipients=recipients,
                         related=related, clock_id=clock_id, roles=roles)
    db.session.commit()
    if alert is not None:
        dispatch_alert(alert)
    return alert


def dispatch_alert(alert: Alert) -> int:
    """Hand every pending recipient's message to the outbox; returns how many were handed over.

    Safe to call any number of times, from any process: the outbox dedupes on
    the idempotency key.
    """
    pending = [r for r in alert.recipients if r.state == RecipientState.PENDING.value]
    handed = 0
    by_group: dict[int, list[AlertRecipient]] = {}
    for recipient in pending:
        if recipient.target == TARGET_STAFF:
            staff = db.session.get(Staff, recipient.staff_id)
            if staff is None or not staff.wework_userid:
                recipient.state = RecipientState.NO_CHANNEL.value
                continue
            message = queue_message(
                channel=Channel.WEWORK.value, recipient_kind=TO_STAFF, recipient_id=staff.wework_userid,
                text=alert.text, idempotency_key=staff_message_key(alert.key, staff.id), community_id=alert.community_id,
                staff_id=staff.id, meta={"alert_key": alert.key, "alert_kind": alert.kind})
            recipient.message_id, recipient.state = message.id, RecipientState.QUEUED.value
            # Committed per recipient: the outbox rolls the session back when a concurrent
            # dispatcher queued the same message first, which must not undo earlier recipients.
            db.session.commit()
            handed += 1
        elif recipient.target == TARGET_GROUP and recipient.group_id is not None:
            by_group.setdefault(recipient.group_id, []).append(recipient)
    for group_id, members in by_group.items():
        group = db.session.get(ResidentGroup, group_id)
        if group is None:
            for recipient in members:
                recipient.state = RecipientState.NO_CHANNEL.value
            continue
        # All recipients of this alert that go to this group, including ones already
        # queued by an earlier (interrupted) dispatch, are named in the one message.
        everyone = [r for r in alert.recipients if r.target == TARGET_GROUP and r.group_id == group_id]
        text, phones = group_message([db.session.get(Staff, r.staff_id) for r in everyone if r.staff_id is not None],
                                     alert.text)
        message = queue_message(
            channel=group.channel, recipient_kind=TO_GROUP, recipient_id=group.chat_id, text=text,
            idempotency_key=group_message_key(alert.key, group.id), community_id=alert.community_id, chat_id=group.chat_id,
            group_id=group.id, meta={"alert_key": alert.key, "alert_kind": alert.kind,
                                     "mentioned_mobile_list": phones})
        for recipient in members:
            recipient.message_id, recipient.state = message.id, RecipientState.QUEUED.value
            handed += 1
        db.session.commit()
    alert.dispatched_at = now()
    db.session.commit()
    return handed


def redispatch_pending(limit: int = 200) -> int:
    """Finish alerts whose dispatch was interrupted (sweep backstop); returns alerts finished."""
    alerts = list(db.session.scalars(select(Alert).where(Alert.dispatched_at.is_(None))
                                     .order_by(Alert.created_at).limit(limit)))
    for alert in alerts:
        dispatch_alert(alert)
    return len(alerts)


# ---- views --------------------------------------------------------------------------------------

def recipient_view(recipient: AlertRecipient) -> dict[str, Any]:
    """A recipient with the delivery state of its message (queued → sent/failed/rejected)."""
    staff = db.session.get(Staff, recipient.staff_id) if recipient.staff_id else None
    message = db.session.get(Message, recipient.message_id) if recipient.message_id else None
    group = db.session.get(ResidentGroup, recipient.group_id) if recipient.group_id else None
    delivery = recipient.state
    if message is not None:
        delivery = message.status or delivery
    return {
        "staff": staff.public_view() if staff else None,
        "role": recipient.role,
        "target": recipient.target,
        "channel": recipient.channel,
        "group": {"id": group.id, "name": group.name} if group else None,
        "message_id": recipient.message_id,
        "delivery": delivery,
        "attempts": message.attempts if message else 0,
        "error": message.error if message else None,
        "delivered_at": message.delivered_at if message else None,
    }


def alert_view(alert: Alert) -> dict[str, Any]:
    recipients = []
    for recipient in alert.recipients:
        view = recipient_view(recipient)
        view["delivered_at"] = iso(view["delivered_at"])
        recipients.append(view)
    return {"id": alert.id, "key": alert.key, "kind": alert.kind, "community_id": alert.community_id,
            "clock_id": alert.clock_id, "text": alert.text, "related": alert.related,
            "created_at": iso(alert.created_at), "dispatched_at": iso(alert.dispatched_at),
            "recipients": recipients}
