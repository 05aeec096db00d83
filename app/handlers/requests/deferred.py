"""A new report answered in the callback with its number; the request itself created by a worker.

WeChat waits for the passive reply while the callback runs. A new report used to
be turned into a request there: the request, its timeline, the 督办 job, the reply
clock with its alerts and the duty check, a dozen round trips. Now, for a 1:1
report on /wechat/mp (``inbound.may_defer``):

- ``defer_report`` (in the callback) takes the request number from the Redis
  counter, marks the message pending (``message.pending_at``, committed with the
  handling record) and answers "已收到您的反映（编号…）" at once; the channel
  enqueues ``inbound.finish`` after that commit (app/handlers/messaging/inbound.py);
- ``finish_deferred`` (the worker, workers/inbound.py) claims the message
  (``claimed_at``, a conditional update: of two finishers one works, the other
  returns), creates exactly that request with that number, its deadline and its
  one-hour clock running from the message's arrival, and clears the mark;
- ``finish_pending`` (the inbound sweep, every 30 s) finishes messages still
  pending after ``SETTLE_SECONDS``: Redis was down at enqueue time, or the worker
  died. A claim older than ``LEASE_SECONDS`` is a dead finisher's and is taken over.

Finishing twice creates one request: ``create_request`` is idempotent per source
message. Anything whose answer depends on the database (a follow-up joining an open
request, a rating, progress, a flow) stays inline; so does every report when Redis
cannot give a number (the counter is what remembers a number given out before its
request exists). A resident's next message first finishes their pending report
inline (``finish_pending_of``), so it can join it as a follow-up, as before.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from app.clock import now as clock_now
from app.errors import DomainError
from app.extensions import db
from app.handlers.org.residents import resident_for_sender
from app.handlers.requests.intake import code_taken, create_request, next_code
from app.handlers.requests.rules import reply_sla_text
from app.models import Message, Resident
from app.models.requests import ServiceRequest

log = logging.getLogger(__name__)

KIND = "requests.report"
# A pending message younger than this is its job's (normally done in well under a second).
SETTLE_SECONDS = 30
# A claim older than this belongs to a finisher that died (finishing one message takes well under a second).
LEASE_SECONDS = 120
BATCH = 200


def report_reply_text(code: str) -> str:
    return f"已收到您的反映（编号{code}），值班人员会在{reply_sla_text()}内答复。"


def defer_report(ctx, *, category: str | None, slots: dict, emergency: bool):
    """In the callback: number the report and answer; None when it must be handled inline."""
    inbound, message = ctx.inbound, ctx.message
    if not (inbound.may_defer and current_app.config.get("INBOUND_DEFER_REPORTS")):
        return None
    if ctx.is_group or ctx.group is not None or inbound.chat_id or ctx.resident is None or ctx.community_id is None:
        return None
    if message.msg_type != "text" or not (message.text or "").strip():
        return None
    arrived = inbound.received_at or message.received_at
    code = next_code(arrived, redis_only=True)
    if code is None:
        return None   # Redis down: the number could be given twice; the request is created here
    message.pending_at = clock_now()
    return ctx.reply(report_reply_text(code), KIND, **deferred_detail(code, category, slots, emergency))


def deferred_detail(code: str, category: str | None, slots: dict, emergency: bool) -> dict:
    """The handling record of a report answered with its number: what ``finish_deferred`` creates."""
    report = {"category": category, "emergency": bool(emergency),
              **{k: slots.get(k) for k in ("building", "unit", "room") if slots.get(k)}}
    return {"request_code": code, "deferred": KIND, "report": report}


# ---- finishing --------------------------------------------------------------------------------

def _claim(message_id: int) -> bool:
    current = clock_now()
    claimed = db.session.execute(
        update(Message).where(Message.id == message_id, Message.pending_at.is_not(None),
                              or_(Message.claimed_at.is_(None),
                                  Message.claimed_at < current - timedelta(seconds=LEASE_SECONDS)))
        .values(claimed_at=current).execution_options(synchronize_session=False))
    db.session.commit()
    return claimed.rowcount == 1


def _settle(message_id: int, handling: dict) -> None:
    db.session.execute(update(Message).where(Message.id == message_id)
                       .values(pending_at=None, claimed_at=None, handling=handling)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def _release(message_id: int) -> None:
    try:
        db.session.execute(update(Message).where(Message.id == message_id).values(claimed_at=None)
                           .execution_options(synchronize_session=False))
        db.session.commit()
    except Exception:  # noqa: BLE001 - the database is gone: the lease runs out instead
        db.session.rollback()


def _create(message: Message, handling: dict) -> ServiceRequest:
    report = handling.get("report") or {}
    code = handling.get("request_code")
    detail: dict = {"deferred": True}
    mine = db.session.scalar(select(ServiceRequest.id).where(ServiceRequest.message_id == message.id))
    if mine is None and code and code_taken(code):
        # Only if the Redis counter was flushed between the answer and now: a fresh number, and the
        # one the resident was told is kept on the timeline.
        log.error("deferred report %s: number %s is taken meanwhile; numbering it anew", message.id, code)
        detail["announced_code"], code = code, None
    if message.resident_id is not None:
        resident = db.session.get(Resident, message.resident_id)
    else:
        # Answered at once before the sender was a resident (their first message): made one now.
        resident = resident_for_sender(message.channel, message.sender_id, community_id=message.community_id,
                                       nickname=message.sender_name)
        if resident is not None:
            message.resident_id = resident.id
    return create_request(
        community_id=message.community_id, text=(message.text or "").strip(), category=report.get("category"),
        resident=resident, building=report.get("building"), unit=report.get("unit"), room=report.get("room"),
        message=message, channel=message.channel, reporter_channel_id=message.sender_id, source="chat",
        urgency="emergency" if report.get("emergency") else None, code=code, reported_at=message.received_at,
        detail=detail)


def finish_deferred(message_id: int, *, by: str = "worker") -> ServiceRequest | None:
    """Create the request a pending message was promised; None when it is not pending or someone else has it."""
    if not _claim(message_id):
        return None
    message = db.session.scalars(select(Message).where(Message.id == message_id)
                                 .execution_options(populate_existing=True)).first()
    handling = dict(message.handling or {})
    try:
        request = _create(message, handling)
    except DomainError as exc:
        # It would fail again (the community is gone, the text is refused): recorded, not retried.
        db.session.rollback()
        log.warning("deferred report %s cannot become a request: %s", message_id, exc)
        _settle(message_id, {**handling, "deferred_error": str(exc)[:300]})
        return None
    except Exception:
        db.session.rollback()
        _release(message_id)   # the job's retry (or the sweep) takes it again
        raise
    _settle(message_id, {**handling, "request_id": request.id, "request_code": request.code, "finished_by": by})
    return request


def finish_pending(limit: int = BATCH) -> int:
    """The sweep: finish messages still pending after SETTLE_SECONDS whose claim (if any) ran out."""
    current = clock_now()
    ids = list(db.session.scalars(select(Message.id).where(
        Message.pending_at.is_not(None), Message.pending_at < current - timedelta(seconds=SETTLE_SECONDS),
        or_(Message.claimed_at.is_(None), Message.claimed_at < current - timedelta(seconds=LEASE_SECONDS)))
        .order_by(Message.pending_at).limit(limit)))
    db.session.rollback()
    done = 0
    for message_id in ids:
        try:
            done += finish_deferred(message_id, by="sweep") is not None
        except Exception:  # noqa: BLE001 - one broken message must not stop the sweep
            log.exception("inbound sweep: deferred message %s could not be finished", message_id)
            db.session.rollback()
    return done


def finish_pending_of_sender(channel: str, sender_id: str) -> int:
    """Before a new sender's next message is handled: their report answered at once becomes a request
    (and they a resident) now, so the message can join it."""
    if not sender_id:
        return 0
    ids = list(db.session.scalars(select(Message.id).where(
        Message.pending_at.is_not(None), Message.channel == channel, Message.sender_id == sender_id,
        Message.resident_id.is_(None)).order_by(Message.id)))
    return sum(finish_deferred(message_id, by="next_message") is not None for message_id in ids)


def finish_pending_of(resident_id: int, *, except_id: int | None = None) -> int:
    """Before a resident's next message is handled: their pending reports become requests now."""
    ids = list(db.session.scalars(select(Message.id).where(
        Message.pending_at.is_not(None), Message.resident_id == resident_id,
        *(() if except_id is None else (Message.id != except_id,))).order_by(Message.id)))
    done = 0
    for message_id in ids:
        done += finish_deferred(message_id, by="next_message") is not None
    return done
