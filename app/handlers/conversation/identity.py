"""Who is writing: a staff member, or the resident behind a sender id (created on first contact)."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.handlers.messaging.inbound import CHAT_GROUP, InboundMessage
from app.models import Channel, Community, IdentityKind, Message, Resident, ResidentGroup, ResidentIdentity, Staff

# The identity kind a sender id has on each channel.
IDENTITY_KINDS = {
    Channel.MP.value: IdentityKind.OPENID.value,
    Channel.MINIPROGRAM.value: IdentityKind.OPENID.value,
    Channel.WEWORK.value: IdentityKind.EXTERNAL_USERID.value,
    Channel.GROUP.value: IdentityKind.GROUP_MEMBER.value,
}


def find_staff(inbound: InboundMessage) -> Staff | None:
    """The active staff member writing, by openid or WeCom userid.

    A channel that looked it up already (``inbound.staff_checked``) is believed: the row
    it found is in this session, so ``Session.get`` answers without a query.
    """
    if inbound.staff_checked:
        return db.session.get(Staff, inbound.staff_id) if inbound.staff_id is not None else None
    sender = inbound.sender_id
    if not sender:
        return None
    return db.session.scalars(select(Staff).where(
        Staff.active.is_(True), or_(Staff.openid == sender, Staff.wework_userid == sender))).first()


def _update_known(resident: Resident, inbound: InboundMessage, group: ResidentGroup | None) -> None:
    changed = False
    if resident.community_id is None:
        # First seen in a group: that is their community; else the deployment's only one.
        resident.community_id = group.community_id if group is not None else sole_community_id()
        changed = resident.community_id is not None
    if not resident.nickname and inbound.sender_name:
        resident.nickname = inbound.sender_name[:100]
        changed = True
    if changed:
        db.session.commit()


def resolve_resident(inbound: InboundMessage, group: ResidentGroup | None) -> Resident | None:
    """The resident behind the sender id on this channel, created on first contact."""
    kind = IDENTITY_KINDS.get(inbound.channel)
    if kind is None or not inbound.sender_id:
        return None
    value = inbound.sender_id[:128]
    # The resident comes with the identity in one query (joinedload), not a second SELECT.
    query = select(ResidentIdentity).options(joinedload(ResidentIdentity.resident)).where(
        ResidentIdentity.channel == inbound.channel, ResidentIdentity.kind == kind, ResidentIdentity.value == value)
    identity = db.session.scalars(query).first()
    if identity is not None:
        _update_known(identity.resident, inbound, group)
        return identity.resident
    resident = Resident(community_id=group.community_id if group is not None else sole_community_id(),
                        nickname=(inbound.sender_name or None) and inbound.sender_name[:100])
    resident.identities.append(ResidentIdentity(channel=inbound.channel, kind=kind, value=value))
    db.session.add(resident)
    try:
        db.session.commit()
    except IntegrityError:
        # The same sender's other message created them at the same moment.
        db.session.rollback()
        identity = db.session.scalars(query).first()
        return identity.resident if identity is not None else None
    return resident


def sole_community_id() -> int | None:
    """The community of a deployment that serves exactly one: a 1:1 chat needs no question then."""
    ids = db.session.scalars(select(Community.id).limit(2)).all()
    return ids[0] if len(ids) == 1 else None


def group_of(message: Message, inbound: InboundMessage) -> ResidentGroup | None:
    if message.group_id is not None:
        return db.session.get(ResidentGroup, message.group_id)
    if inbound.chat_type == CHAT_GROUP and inbound.chat_id:
        return db.session.scalars(select(ResidentGroup).where(
            ResidentGroup.channel == inbound.channel, ResidentGroup.chat_id == inbound.chat_id)).first()
    return None
