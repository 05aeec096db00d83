"""Send attempts on an outbound row: claimed once, settled once, and resolved when interrupted.

A row moves ``queued → sending → sent | failed | rejected``, with ``unknown`` when a send was
interrupted where repeating it could deliver twice. The database decides, never a Redis lock:

* ``claim`` turns a queued row into ``sending`` with a fresh ``attempt_id`` and a lease
  (``check_at``) in one conditional update, so of any number of workers, timers and re-runs
  exactly one sends it;
* ``settle`` records the attempt's result only while that attempt still holds the row;
* ``take_over`` is what the reconciler (and a re-run that finds an expired lease) does with a
  row whose attempt vanished (worker killed -9 while WeChat's answer was pending): hand it to a
  new attempt when repeating is safe — WeCom's duplicate check still covers the first request,
  or the channel has no side effect to repeat — and otherwise mark it ``unknown`` for an operator.

Who may repeat is decided when the attempt starts and kept on the row (``handling``):
``repeat_window`` is the sender's answer ("always", seconds, or 0 for never) and
``attempt_since`` / ``uncertain_since`` date the first request whose fate is unknown.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import update

from app.clock import now
from app.extensions import db
from app.models import Message, OutboundStatus

QUEUED, SENDING, UNKNOWN = OutboundStatus.QUEUED.value, OutboundStatus.SENDING.value, OutboundStatus.UNKNOWN.value
ALWAYS = "always"
INTERRUPTED = "interrupted"
INTERRUPTED_TEXT = "发送中断，无法确认对方是否收到 (send interrupted; delivery unknown)"


def lease_seconds() -> int:
    return int(current_app.config["SEND_LEASE_SECONDS"])


def stuck_seconds() -> int:
    return int(current_app.config["OUTBOX_STUCK_SECONDS"])


def load(message_id: int) -> Message | None:
    return db.session.get(Message, message_id, populate_existing=True)


def claim(message: Message, *, route: str, repeat_window: int | str, at: datetime | None = None) -> str | None:
    """Make ``message`` (queued) ``sending`` for a new attempt; its id, or None when someone else has it."""
    at = at or now()
    attempt = uuid.uuid4().hex
    handling = {**(message.handling or {}), "route": route, "repeat_window": repeat_window,
                "attempt_since": at.isoformat()}
    claimed = db.session.execute(
        update(Message).where(Message.id == message.id, Message.status == QUEUED)
        .values(status=SENDING, attempt_id=attempt, check_at=at + timedelta(seconds=lease_seconds()),
                handling=handling, attempts=Message.attempts + 1)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return attempt if claimed == 1 else None


def renew(message_id: int, attempt: str, **handling: Any) -> bool:
    """Extend the lease before the next part (and record progress); False if the attempt lost the row."""
    message = load(message_id)
    if message is None or message.attempt_id != attempt or message.status != SENDING:
        db.session.rollback()
        return False
    values: dict[str, Any] = {"check_at": now() + timedelta(seconds=lease_seconds())}
    if handling:
        values["handling"] = {**(message.handling or {}), **handling}
    return _update(message_id, attempt, (SENDING,), values)


def settle(message_id: int, attempt: str, status: str, **values: Any) -> bool:
    """Record the attempt's result, if that attempt still holds the row (sending, or unknown after it)."""
    values["status"] = status
    if status != QUEUED:
        values.setdefault("check_at", None)
    return _update(message_id, attempt, (SENDING, UNKNOWN), values)


def _update(message_id: int, attempt: str, statuses: tuple[str, ...], values: dict[str, Any]) -> bool:
    done = db.session.execute(
        update(Message).where(Message.id == message_id, Message.attempt_id == attempt,
                              Message.status.in_(statuses))
        .values(**values).execution_options(synchronize_session=False)).rowcount == 1
    db.session.commit()
    return done


def await_pull(message_id: int, *, route: str) -> None:
    """A queued row the group bridge will pull (and ack): nothing for the reconciler to check."""
    message = load(message_id)
    db.session.execute(
        update(Message).where(Message.id == message_id, Message.status == QUEUED)
        .values(check_at=None, handling={**(message.handling or {}), "route": route})
        .execution_options(synchronize_session=False))
    db.session.commit()


def postpone(message_id: int, at: datetime) -> bool:
    """A queued row past its pick-up: move its check on, so one reconciler hands it over; False if gone."""
    moved = db.session.execute(
        update(Message).where(Message.id == message_id, Message.status == QUEUED, Message.check_at <= at)
        .values(check_at=at + timedelta(seconds=stuck_seconds()))
        .execution_options(synchronize_session=False)).rowcount == 1
    db.session.commit()
    return moved


def uncertain_since(handling: dict[str, Any]) -> str | None:
    return handling.get("uncertain_since") or handling.get("attempt_since")


def may_repeat(handling: dict[str, Any], at: datetime) -> bool:
    """Whether a new attempt can repeat the request without delivering it twice."""
    window = handling.get("repeat_window")
    if window == ALWAYS:
        return True
    since = uncertain_since(handling)
    if not window or not since:
        return False
    # The repeat must reach WeCom inside the interval counted from the first request.
    deadline = datetime.fromisoformat(since) + timedelta(seconds=int(window))
    return at + timedelta(seconds=lease_seconds()) < deadline


def take_over(message_id: int, at: datetime | None = None) -> str:
    """Resolve a ``sending`` row whose lease ran out: "requeued", "unknown", or "busy"/its status."""
    at = at or now()
    message = load(message_id)
    if message is None:
        return "missing"
    if message.status != SENDING:
        db.session.rollback()
        return str(message.status)
    if message.check_at is not None and message.check_at > at:
        db.session.rollback()
        return "busy"
    handling = {**(message.handling or {}), "uncertain_since": uncertain_since(message.handling or {})}
    if may_repeat(handling, at):
        values = {"status": QUEUED, "check_at": at + timedelta(seconds=stuck_seconds()), "handling": handling}
        outcome = "requeued"
    else:
        values = {"status": UNKNOWN, "check_at": None, "handling": handling, "error_code": INTERRUPTED,
                  "error": INTERRUPTED_TEXT}
        outcome = "unknown"
    if not _update(message_id, message.attempt_id or "", (SENDING,), values):
        return "busy"  # the attempt settled (or another reconciler won) meanwhile
    return outcome
