"""A staff member's message: never answered by the bot in a group; what they say there is a public reply.

A staff message seen in a resident group stops the open reply clocks of that
group (app.handlers.sla.record_staff_reply) and is offered to the domains'
staff hooks (the requests domain acknowledges the reports it answers).
"""
from __future__ import annotations

from datetime import datetime

from app.extensions import db
from app.handlers.conversation import registry
from app.handlers.conversation.own_intents import replies
from app.handlers.messaging.inbound import CHAT_GROUP, InboundMessage, Reply
from app.handlers.sla import record_staff_reply
from app.models import Message, ResidentGroup, Staff


def staff_message(message: Message, inbound: InboundMessage, staff: Staff | None, group: ResidentGroup | None,
                  now: datetime) -> Reply:
    message.is_staff = True
    staff_id = staff.id if staff is not None else None
    if staff is not None:
        message.staff_id = staff.id
    if group is None:
        if inbound.chat_type == CHAT_GROUP:
            return Reply.silent("staff", staff_id=staff_id)
        return Reply(text=replies().get("staff_private"), handled_by="staff", detail={"staff_id": staff_id})
    if message.community_id is None:
        message.community_id = group.community_id
    db.session.flush()
    at = inbound.sent_at or now
    stopped = record_staff_reply(community_id=group.community_id, group_id=group.id, staff_id=staff_id,
                                 message_id=message.id, at=at) or []
    for hook in registry.staff_group_hooks():
        hook(group_id=group.id, staff_id=staff_id, at=at, message_id=message.id)
    return Reply.silent("staff", staff_id=staff_id, clocks_stopped=len(stopped))
