"""What the events domain tells people: the group announcement and the notices to one sign-up.

Each notice goes through the outbox once per idempotency key. A sign-up remembers where
its notices go (``notify_*``): where the resident signed up in a private chat, else a
private channel we know for them, else the group they signed up in.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.audit import record
from app.handlers.events import capacity
from app.handlers.events.errors import refusal
from app.handlers.events.text import format_deadline, format_when, hours_text, recurrence_text
from app.handlers.messaging.outbox import TO_GROUP, TO_USER, queue_message
from app.localtime import day_label
from app.models import Resident, ResidentGroup, ResidentIdentity, Staff
from app.models.events import AUDIENCE_LABELS, Event, EventStatus, Signup
from app.models.groups import GroupKind
from app.models.masking import mask_name

log = logging.getLogger(__name__)

# Private channels on which a resident can be messaged (客服消息 / WeCom external contact).
PRIVATE_IDENTITIES = (("miniprogram", "openid"), ("mp", "openid"), ("wework", "external_userid"))


@dataclass
class NoticeTarget:
    channel: str
    kind: str          # "user" or "group"
    recipient: str
    group_id: int | None = None


def default_notice_target(resident_id: int | None) -> NoticeTarget | None:
    if resident_id is None:
        return None
    identities = db.session.scalars(select(ResidentIdentity).where(ResidentIdentity.resident_id == resident_id)).all()
    for channel, kind in PRIVATE_IDENTITIES:
        for identity in identities:
            if identity.channel == channel and identity.kind == kind:
                return NoticeTarget(channel=channel, kind="user", recipient=identity.value)
    return None


def notice_target_for_chat(ctx) -> NoticeTarget | None:
    """Private chats answer where the resident spoke; group sign-ups prefer a private channel, else the group."""
    inbound = ctx.inbound
    if getattr(inbound, "chat_type", "private") != "group":
        return NoticeTarget(channel=inbound.channel, kind="user", recipient=inbound.sender_id)
    private = default_notice_target(ctx.resident.id if ctx.resident else None)
    if private is not None:
        return private
    group = ctx.group
    if group is not None:
        return NoticeTarget(channel=group.channel, kind="group", recipient=group.chat_id, group_id=group.id)
    return None


def remember_target(signup: Signup, target: NoticeTarget) -> None:
    signup.notify_channel, signup.notify_kind = target.channel, target.kind
    signup.notify_recipient, signup.notify_group_id = target.recipient, target.group_id


def notify(signup: Signup, text: str, key: str):
    """Queue a notice to the person behind a sign-up through the outbox (once per key)."""
    if not signup.notify_channel or not signup.notify_recipient:
        target = default_notice_target(signup.resident_id)
        if target is None:
            log.info("signup %s has no channel for notices; %s not sent", signup.id, key)
            return None
        remember_target(signup, target)
    event = db.session.get(Event, signup.event_id)
    if signup.notify_kind == "group":
        resident = db.session.get(Resident, signup.resident_id) if signup.resident_id else None
        name = mask_name(resident.display_name) if resident else "居民"
        return queue_message(
            channel=signup.notify_channel, recipient_kind=TO_GROUP, recipient_id=signup.notify_recipient,
            text=f"@{name} {text}", idempotency_key=key, community_id=event.community_id,
            chat_id=signup.notify_recipient, group_id=signup.notify_group_id, resident_id=signup.resident_id,
            meta={"event_id": event.id, "signup_id": signup.id})
    return queue_message(
        channel=signup.notify_channel, recipient_kind=TO_USER, recipient_id=signup.notify_recipient, text=text,
        idempotency_key=key, community_id=event.community_id, resident_id=signup.resident_id,
        meta={"event_id": event.id, "signup_id": signup.id})


def notify_promoted(event: Event, promoted: list[Signup]) -> None:
    """Tell each promoted sign-up; the outbox commits with its first message (see signups.cancel_signup)."""
    for signup in promoted:
        text = (f"【候补转正】您候补的“{event.title}”有名额了，已为您转为正式报名。\n"
                f"时间：{format_when(event)}" + (f"\n地点：{event.place}" if event.place else "")
                + "\n如不能参加，请回复“取消报名”，把名额让给其他居民。")
        notify(signup, text, f"event:{event.id}:promoted:{signup.id}:{signup.promotions}")


def announcement_text(event: Event) -> str:
    counter = capacity.counter(event.id)
    lines = [f"【活动通知】{event.title}"]
    repeat = recurrence_text(event)
    if repeat:
        lines.append(f"时间：{repeat}（本次 {day_label(event.starts_at)}）")
    else:
        lines.append(f"时间：{format_when(event)}")
    if event.place:
        lines.append(f"地点：{event.place}")
    if event.capacity is not None:
        lines.append(f"名额：{event.capacity}人（剩余{counter.places_left}个）")
    lines.append(f"报名截止：{format_deadline(event)}")
    lines.append(f"参加对象：{AUDIENCE_LABELS.get(event.audience, event.audience)}")
    if event.volunteer_minutes:
        lines.append(f"志愿时长：{hours_text(event.volunteer_minutes)}")
    if event.description:
        lines.append(f"说明：{event.description.strip()}")
    keyword = (event.aliases or [event.title])[0]
    lines.append(f"报名方式：在群里或私信说“{keyword}报名”，或在小程序“社区活动”中报名。")
    return "\n".join(lines)


def announce_event(event: Event, staff: Staff | None) -> list:
    """Post the notice to every active resident group of the community (once per group)."""
    if event.status != EventStatus.PUBLISHED.value:
        raise refusal("请先发布活动再发通知" if event.status == EventStatus.DRAFT.value else "活动已取消，不能发通知",
                      "not_published")
    if clock_now() >= event.starts_at:
        raise refusal("活动已开始，不再发通知", "started")
    groups = db.session.scalars(select(ResidentGroup).where(
        ResidentGroup.community_id == event.community_id, ResidentGroup.kind == GroupKind.RESIDENT.value,
        ResidentGroup.active.is_(True)).order_by(ResidentGroup.id)).all()
    if not groups:
        raise refusal("本社区还没有登记居民群，无法发通知", "no_groups")
    text = announcement_text(event)
    event.announced_at = clock_now()
    record("staff" if staff else "system", staff.id if staff else None, "event.announce", event,
           community_id=event.community_id, detail={"groups": [g.id for g in groups]})
    db.session.commit()
    return [queue_message(
        channel=group.channel, recipient_kind=TO_GROUP, recipient_id=group.chat_id, text=text,
        idempotency_key=f"event:{event.id}:announce:{group.id}", community_id=event.community_id,
        chat_id=group.chat_id, group_id=group.id, staff_id=staff.id if staff else None,
        meta={"event_id": event.id, "purpose": "event_announce"}) for group in groups]
