"""Who is writing: a staff member, or the resident behind a sender id (created on first contact)."""
from __future__ import annotations

from sqlalchemy import and_, literal, or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.handlers.conversation.vocabulary import sole_community_id
from app.handlers.messaging.inbound import CHAT_GROUP, InboundMessage
from app.handlers.org.residents import IDENTITY_KINDS, create_resident_for, identity_query
from app.handlers.requests import finish_pending_of_sender
from app.models import Message, Resident, ResidentGroup, ResidentIdentity, Staff


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


_KEEP = "linli.identified"


def identify(inbound: InboundMessage) -> Staff | None:
    """The active staff member writing and, on a channel with resident identities, the sender's identity
    with its resident: one query where ``find_staff`` and ``resolve_resident`` asked twice.

    Sets ``inbound.staff_checked`` / ``staff_id`` and ``resident_checked`` / ``resident_id``; the rows
    stay in the session (held in ``session.info``: its identity map keeps rows only while they are
    referenced), so the router's ``find_staff`` and ``resolve_resident`` take them without a query.
    """
    sender = inbound.sender_id
    if not sender:
        inbound.is_staff, inbound.staff_id, inbound.staff_checked = False, None, True
        return None
    kind = IDENTITY_KINDS.get(inbound.channel)
    # One row whatever matches: (staff or NULL, identity or NULL) joined to a constant.
    one = select(literal(1).label("one")).subquery()
    query = select(Staff).select_from(one).outerjoin(
        Staff, and_(Staff.active.is_(True), or_(Staff.openid == sender, Staff.wework_userid == sender)))
    if kind is not None:
        query = query.add_columns(ResidentIdentity).outerjoin(ResidentIdentity, and_(
            ResidentIdentity.channel == inbound.channel, ResidentIdentity.kind == kind,
            ResidentIdentity.value == sender[:128])).options(joinedload(ResidentIdentity.resident))
    row = db.session.execute(query.limit(1)).first()
    staff = row[0] if row is not None else None
    identity = row[1] if row is not None and kind is not None else None
    db.session.info[_KEEP] = (staff, identity, identity.resident if identity is not None else None)
    inbound.is_staff, inbound.staff_id, inbound.staff_checked = (
        staff is not None, staff.id if staff is not None else None, True)
    if kind is not None:
        inbound.resident_checked = True
        inbound.resident_id = identity.resident_id if identity is not None else None
    return staff


def known_sender(inbound: InboundMessage) -> dict:
    """The resident (and, in a 1:1 chat, their community) ``identify`` found, as the message's columns.

    Stored with the message in its INSERT, the router's assignments of the same values change
    nothing, and the UPDATE it sent for them is saved. Empty for staff, on first contact and
    when the channel did not ask.
    """
    kept = db.session.info.get(_KEEP)
    if not inbound.resident_checked or inbound.is_staff or inbound.resident_id is None or kept is None:
        return {}
    resident = kept[2]
    if resident is None or resident.id != inbound.resident_id:
        return {}
    values = {"resident_id": resident.id}
    if inbound.chat_type != CHAT_GROUP and resident.community_id is not None:
        values["community_id"] = resident.community_id
    return values


def _update_known(resident: Resident, inbound: InboundMessage, group: ResidentGroup | None) -> None:
    changed = False
    if resident.community_id is None:
        # First seen in a group: that is their community; else the deployment's only one.
        resident.community_id = group.community_id if group is not None else sole_community_id(inbound.vocabulary_version)
        changed = resident.community_id is not None
    if not resident.nickname and inbound.sender_name:
        resident.nickname = inbound.sender_name[:100]
        changed = True
    if changed:
        db.session.commit()


def resolve_resident(inbound: InboundMessage, group: ResidentGroup | None) -> Resident | None:
    """The resident behind the sender id on this channel, created on first contact."""
    return resolve_sender(inbound, group)[0]


def resolve_sender(inbound: InboundMessage, group: ResidentGroup | None) -> tuple[Resident | None, bool]:
    """(the resident behind the sender id, whether this message created them: their first contact)."""
    query = identity_query(inbound.channel, inbound.sender_id)
    if query is None:
        return None, False
    known = db.session.get(Resident, inbound.resident_id) if inbound.resident_id is not None else None
    if known is None and not (inbound.resident_checked and inbound.resident_id is None):
        # Not looked up by the channel (``identify``): asked here.
        identity = db.session.scalars(query).first()
        known = identity.resident if identity is not None else None
    if known is None and finish_pending_of_sender(inbound.channel, inbound.sender_id):
        # Their report a moment ago was answered at once, before they were a resident
        # (app/handlers/conversation/express.py): finishing it made them one, so this message
        # is not a first contact and may join that report.
        identity = db.session.scalars(query).first()
        known = identity.resident if identity is not None else None
    if known is not None:
        _update_known(known, inbound, group)
        return known, False
    community_id = group.community_id if group is not None else sole_community_id(inbound.vocabulary_version)
    return create_resident_for(inbound.channel, inbound.sender_id, community_id=community_id,
                               nickname=inbound.sender_name)


def group_of(message: Message, inbound: InboundMessage) -> ResidentGroup | None:
    if message.group_id is not None:
        return db.session.get(ResidentGroup, message.group_id)
    if inbound.chat_type == CHAT_GROUP and inbound.chat_id:
        return db.session.scalars(select(ResidentGroup).where(
            ResidentGroup.channel == inbound.channel, ResidentGroup.chat_id == inbound.chat_id)).first()
    return None
