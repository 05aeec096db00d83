"""Messages about a request: to the reporter (their group, else 1:1), to staff (WeCom), and the reply clock.

Everything goes through the outbox, which commits the session. A reply that
reaches the resident stops the request's reply clock (app.handlers.sla).
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import select

from app.extensions import db
from app.handlers import sla
from app.handlers.messaging.outbox import TO_GROUP, TO_STAFF, TO_USER, queue_message
from app.handlers.sla.roster import community_admins
from app.models import Channel, Message, ResidentGroup, ResidentIdentity, Staff
from app.models.requests import CATEGORY_LABELS, RequestEvent, ServiceRequest
from app.models.sla import ReplyClock

__all__ = ["community_admins", "notify_staff", "reporter_target", "send_to_reporter", "stop_reply_clocks",
           "summary_line"]


def reporter_target(request: ServiceRequest) -> tuple[str, str, str, ResidentGroup | None] | None:
    """(channel, recipient kind, recipient id, group) for talking to the reporter, or None."""
    if request.group_id:
        group = db.session.get(ResidentGroup, request.group_id)
        if group is not None and group.active:
            return group.channel, TO_GROUP, group.chat_id, group
    if request.reporter_channel_id:
        return request.channel, TO_USER, request.reporter_channel_id, None
    if request.resident_id:
        # A form submission (mini-program): reach the resident through an identity they have.
        identities = db.session.scalars(select(ResidentIdentity).where(
            ResidentIdentity.resident_id == request.resident_id)).all()
        preferred = sorted(identities, key=lambda i: (i.channel != request.channel,
                                                      i.kind not in ("openid", "external_userid"), i.id))
        for identity in preferred:
            if identity.kind in ("openid", "external_userid"):
                return identity.channel, TO_USER, identity.value, None
    return None


def send_to_reporter(request: ServiceRequest, text: str, key: str, *, staff_id: int | None = None) -> Message | None:
    """Queue a message to the reporter (their group, else 1:1). Commits the session (outbox)."""
    target = reporter_target(request)
    if target is None:
        return None
    channel, kind, recipient, group = target
    return queue_message(channel=channel, recipient_kind=kind, recipient_id=recipient, text=text,
                         idempotency_key=key, community_id=request.community_id,
                         chat_id=group.chat_id if group else None, group_id=group.id if group else None,
                         staff_id=staff_id, resident_id=request.resident_id,
                         meta={"request_id": request.id, "request_code": request.code})


def notify_staff(members: Iterable[Staff | None], text: str, key: str, request: ServiceRequest) -> list[Message]:
    """Tell staff through their WeCom app (those without a WeCom userid see it in the mini-program)."""
    sent: list[Message] = []
    seen: set[int] = set()
    for member in members:
        if member is None or member.id in seen or not member.active or not member.wework_userid:
            continue
        seen.add(member.id)
        sent.append(queue_message(channel=Channel.WEWORK.value, recipient_kind=TO_STAFF,
                                  recipient_id=member.wework_userid, text=text,
                                  idempotency_key=f"{key}:staff:{member.id}", community_id=request.community_id,
                                  staff_id=member.id, meta={"request_id": request.id, "request_code": request.code}))
    return sent


def stop_reply_clocks(request: ServiceRequest, staff: Staff | None, message: Message | None,
                      at: datetime) -> None:
    """Stop the reply clock of the request, and any clock a follow-up message of it started on its own."""
    sla.record_staff_reply(community_id=request.community_id, staff_id=staff.id if staff else None,
                           group_id=request.group_id, request_id=request.id,
                           message_id=message.id if message else None, at=at)
    follow_ups = [m for m in (
        (e.detail or {}).get("message_id") for e in db.session.scalars(select(RequestEvent).where(
            RequestEvent.request_id == request.id, RequestEvent.kind == "follow_up"))) if m]
    if not follow_ups or staff is None:  # only a person's reply stops a clock
        return
    for clock in db.session.scalars(select(ReplyClock).where(
            ReplyClock.message_id.in_(follow_ups), ReplyClock.stopped_at.is_(None))).all():
        sla.stop_clock(clock, staff_id=staff.id, at=at, stop_message_id=message.id if message else None)


def summary_line(request: ServiceRequest) -> str:
    where = f"{request.location}，" if request.location else ""
    return f"{where}{CATEGORY_LABELS.get(request.category, request.category)}：{request.title}"
