"""Where a proxy-handling message to a resident goes (reminders, cancellations, case results).

The booking's own 1:1 chat first, then the resident's identities (mini-program,
official account, WeCom), then the group the booking was made in, naming the
resident only by the masked name. Requests and events have their own orders.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.extensions import db
from app.handlers.messaging.outbox import TO_GROUP, TO_USER, queue_message
from app.handlers.proxy.common import DIRECT_CHANNELS
from app.models import Channel, Resident, ResidentGroup
from app.models.masking import mask_name
from app.models.proxy import Booking

PREFERENCE = [(Channel.MINIPROGRAM.value, "openid"), (Channel.MP.value, "openid"),
              (Channel.WEWORK.value, "external_userid")]


@dataclass
class Target:
    """Where a message to a resident goes: their 1:1 chat if we know one, else their group."""

    channel: str
    recipient_kind: str
    recipient_id: str
    resident_id: int | None = None
    chat_id: str | None = None
    group_id: int | None = None
    prefix: str = ""

    def send(self, text: str, *, idempotency_key: str, community_id: int | None):
        return queue_message(channel=self.channel, recipient_kind=self.recipient_kind,
                             recipient_id=self.recipient_id, text=self.prefix + text,
                             idempotency_key=idempotency_key, community_id=community_id, chat_id=self.chat_id,
                             group_id=self.group_id, resident_id=self.resident_id)


def message_target(resident: Resident | None, booking: Booking | None = None) -> Target | None:
    if resident is None:
        return None
    if booking is not None and booking.channel in DIRECT_CHANNELS and booking.recipient_id:
        return Target(booking.channel, TO_USER, booking.recipient_id, resident.id)
    for channel, kind in PREFERENCE:
        for identity in resident.identities:
            if identity.channel == channel and identity.kind == kind:
                return Target(channel, TO_USER, identity.value, resident.id)
    if booking is not None and booking.group_id is not None:
        group = db.session.get(ResidentGroup, booking.group_id)
        if group is not None and group.active:
            # No private channel: post in the group, naming the resident only by the masked name.
            return Target(group.channel, TO_GROUP, group.chat_id, resident.id, chat_id=group.chat_id,
                          group_id=group.id, prefix=f"@{mask_name(resident.display_name)} ")
    return None
