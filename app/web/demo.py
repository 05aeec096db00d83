"""The demo community (`linli seed-demo`) as the pages see it: who to log in as, where to post.

Only used where ``support.demo_mode()`` holds (the embedded default and development).
"""
from __future__ import annotations

from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.handlers import demo
from app.handlers.sla import roster
from app.models import Community, Resident, ResidentGroup, ResidentIdentity, Staff


def demo_community() -> Community | None:
    return db.session.scalars(select(Community).where(Community.code == demo.COMMUNITY["code"])).first()


def demo_duty_staff() -> Staff | None:
    """Whoever is on duty in the demo community now: the 两委 member before the duty lead."""
    community = demo_community()
    if community is None:
        return None
    shifts = sorted(roster.on_duty(community.id, now()), key=lambda s: s.is_lead)
    if shifts:
        return shifts[0].staff
    return db.session.scalars(select(Staff).where(Staff.community_id == community.id, Staff.active.is_(True))
                              .order_by(Staff.id)).first()


def demo_groups(community: Community) -> list[ResidentGroup]:
    """The demo's resident groups (not the duty group), as seeded."""
    chats = [f"demo-fuqiang-grid-{i + 1}" for i in range(len(demo.GRIDS))]
    rows = db.session.scalars(select(ResidentGroup).where(ResidentGroup.community_id == community.id,
                                                          ResidentGroup.chat_id.in_(chats))).all()
    return sorted(rows, key=lambda g: chats.index(g.chat_id))


def demo_residents() -> list[dict]:
    """The seeded residents with their group member id, in the order of the demo data."""
    members = [r["member"] for r in demo.RESIDENTS]
    found = {i.value: i.resident_id for i in db.session.scalars(select(ResidentIdentity).where(
        ResidentIdentity.channel == "group", ResidentIdentity.kind == "group_member",
        ResidentIdentity.value.in_(members)))}
    residents = {r.id: r for r in db.session.scalars(select(Resident).where(Resident.id.in_(found.values())))}
    out = []
    for data in demo.RESIDENTS:
        resident = residents.get(found.get(data["member"]))
        if resident is not None:
            out.append({"member": data["member"], "nickname": resident.nickname or data["nickname"],
                        "where": f"{data['building']}号楼{data['unit']}单元{data['room']}"})
    return out
