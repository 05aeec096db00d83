"""Who may join an event: everyone, registered party members (双报到) or registered volunteers.

Apart from the sign-ups so that the volunteer registry and the chat's option lists can
ask the same question without importing the sign-up machinery.
"""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.handlers.events.errors import refusal
from app.models import Resident
from app.models.events import Audience, Event
from app.models.volunteers import MemberKind, PartyMember


def membership(community_id: int, resident_id: int | None) -> PartyMember | None:
    """The resident's active entry in the community's member registry, if any."""
    if resident_id is None:
        return None
    return db.session.scalars(select(PartyMember).where(
        PartyMember.community_id == community_id, PartyMember.resident_id == resident_id,
        PartyMember.active.is_(True))).first()


def check_audience(event: Event, resident: Resident | None, member: PartyMember | None) -> None:
    """Refuse (EventError) a person outside the event's community or audience."""
    if resident is not None and resident.community_id is not None and resident.community_id != event.community_id:
        raise refusal("这是其他社区的活动，请报名本社区的活动", "other_community", 403)
    if event.audience == Audience.PARTY_MEMBERS.value:
        if member is None or member.kind != MemberKind.PARTY.value:
            raise refusal(f"“{event.title}”仅限到社区报到的在职党员参加。党员请先在小程序“双报到”中登记。",
                          "audience", 403)
    elif event.audience == Audience.VOLUNTEERS.value and member is None:
        raise refusal(f"“{event.title}”仅限社区注册志愿者参加。请先在小程序中登记为志愿者。", "audience", 403)
