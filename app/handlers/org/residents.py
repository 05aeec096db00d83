"""The resident behind a sender id on a chat channel: found by their identity, or created on first contact.

Two callers create residents from a chat sender: the conversation router, for a
message it handles, and the finisher of a report the callback answered at once
(app/handlers/requests/deferred.py), whose sender may have been new. Both go
through ``resident_for_sender`` so a sender never becomes two residents: the
identity's unique key decides between two processes creating them at once.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Channel, IdentityKind, Resident, ResidentIdentity

# The identity kind a sender id has on each channel.
IDENTITY_KINDS = {
    Channel.MP.value: IdentityKind.OPENID.value,
    Channel.MINIPROGRAM.value: IdentityKind.OPENID.value,
    Channel.WEWORK.value: IdentityKind.EXTERNAL_USERID.value,
    Channel.GROUP.value: IdentityKind.GROUP_MEMBER.value,
}


def identity_query(channel: str, sender_id: str):
    """The sender's identity on the channel, with its resident in the same query; None for a channel without."""
    kind = IDENTITY_KINDS.get(channel)
    if kind is None or not sender_id:
        return None
    return select(ResidentIdentity).options(joinedload(ResidentIdentity.resident)).where(
        ResidentIdentity.channel == channel, ResidentIdentity.kind == kind, ResidentIdentity.value == sender_id[:128])


def create_resident_for(channel: str, sender_id: str, *, community_id: int | None,
                        nickname: str | None = None) -> tuple[Resident | None, bool]:
    """Create the resident of a sender id not seen before; (resident, created), committed.

    Another process that created them at the same moment wins: its resident is returned
    with ``created`` False.
    """
    query = identity_query(channel, sender_id)
    if query is None:
        return None, False
    resident = Resident(community_id=community_id, nickname=(nickname or None) and nickname[:100])
    resident.identities.append(ResidentIdentity(channel=channel, kind=IDENTITY_KINDS[channel], value=sender_id[:128]))
    db.session.add(resident)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        identity = db.session.scalars(query).first()
        return (identity.resident if identity is not None else None), False
    return resident, True


def resident_for_sender(channel: str, sender_id: str, *, community_id: int | None,
                        nickname: str | None = None) -> Resident | None:
    """The sender's resident, created (in ``community_id``) if they have none yet."""
    query = identity_query(channel, sender_id)
    if query is None:
        return None
    identity = db.session.scalars(query).first()
    if identity is not None:
        return identity.resident
    return create_resident_for(channel, sender_id, community_id=community_id, nickname=nickname)[0]
