"""双向认领: units and members claim needs; the community assigns resources to needs.

A claim is one row per (need, party): claiming again is a replay that returns the
same row (and reactivates a withdrawn one), so a double tap or two staff members
entering the same phone call make one partner, not two.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.clock import now
from app.extensions import db
from app.handlers.audit import record
from app.handlers.governance import fields, units
from app.handlers.governance.errors import not_found, refuse
from app.localtime import iso
from app.models import Claim, Need, PartnerUnit, PartyMember, Resource, Staff
from app.models.governance import CLAIM_DIRECTIONS, NEED_STATUSES

OPEN_FOR_CLAIMS = ("open", "claimed", "in_project")


def claim_need(need: Need, data: dict[str, Any], staff: Staff | None, *,
               member: PartyMember | None = None) -> tuple[Claim, bool]:
    """A unit or member takes on a need (staff record it, or a member claims in the mini-program).

    Returns (claim, created). ``resource_id`` may name the resource-list line it brings.
    """
    fields.only_known(data, ("unit_id", "member_id", "resource_id", "note") if member is None
                      else ("resource_id", "note"))
    unit = None
    if member is None:
        unit, member = units.party_from(need.community_id, data)
    resource = _resource_of(need, data, unit, member)
    return _take(need, "claimed", unit, member, resource, fields.text(data, "note", "备注", max_length=500), staff)


def assign_resource(need: Need, data: dict[str, Any], staff: Staff) -> tuple[Claim, bool]:
    """The community assigns a registered resource to a need: its owner becomes a partner."""
    fields.only_known(data, ("resource_id", "note"))
    if not fields.present(data, "resource_id"):
        raise refuse("请选择要指派的资源", field="resource_id")
    resource = _resource_of(need, data, None, None)
    unit = db.session.get(PartnerUnit, resource.unit_id) if resource.unit_id else None
    member = db.session.get(PartyMember, resource.member_id) if resource.member_id else None
    return _take(need, "assigned", unit, member, resource, fields.text(data, "note", "备注", max_length=500), staff)


def _resource_of(need: Need, data: dict[str, Any], unit: PartnerUnit | None,
                 member: PartyMember | None) -> Resource | None:
    resource_id = fields.ident(data, "resource_id", "资源")
    if resource_id is None:
        return None
    resource = db.session.get(Resource, resource_id)
    if resource is None or resource.community_id != need.community_id:
        raise not_found("资源", "resource_id")
    if resource.status != "active":
        raise refuse(f"资源“{resource.title}”已撤回", "inactive", 409, field="resource_id")
    if (unit is not None and resource.unit_id != unit.id) or (member is not None and resource.member_id != member.id):
        raise refuse("这项资源不属于认领的单位或党员", field="resource_id")
    return resource


def _take(need: Need, direction: str, unit: PartnerUnit | None, member: PartyMember | None,
          resource: Resource | None, note: str | None, staff: Staff | None) -> tuple[Claim, bool]:
    if need.status not in OPEN_FOR_CLAIMS:
        raise refuse(f"需求已{NEED_STATUSES.get(need.status, need.status)}，不能再认领", "invalid_state", 409)
    existing = _existing(need.id, unit, member)
    if existing is not None and existing.status == "active":
        return existing, False
    if existing is not None:
        existing.status, existing.withdrawn_at, existing.direction = "active", None, direction
        existing.resource_id = resource.id if resource else existing.resource_id
        existing.note = note or existing.note
        claim, created = existing, True
    else:
        claim = Claim(need_id=need.id, community_id=need.community_id, direction=direction,
                      unit_id=unit.id if unit else None, member_id=member.id if member else None,
                      resource_id=resource.id if resource else None, note=note,
                      staff_id=staff.id if staff else None)
        db.session.add(claim)
        try:
            db.session.flush()
        except IntegrityError:   # the same party claimed at the same moment: theirs is the claim
            db.session.rollback()
            return _existing(need.id, unit, member), False
        created = True
    if need.status == "open":
        need.status = "claimed"
    actor = ("staff", staff.id) if staff else ("resident", member.resident_id if member else None)
    record(actor[0], actor[1], f"governance.need.{direction}", need, community_id=need.community_id,
           detail={"claim_id": claim.id, "unit_id": claim.unit_id, "member_id": claim.member_id,
                   "resource_id": claim.resource_id})
    db.session.commit()
    return claim, created


def _existing(need_id: int, unit: PartnerUnit | None, member: PartyMember | None) -> Claim | None:
    column, value = (Claim.unit_id, unit.id) if unit is not None else (Claim.member_id, member.id)
    return db.session.scalars(select(Claim).where(Claim.need_id == need_id, column == value)).first()


def withdraw_claim(claim: Claim, reason: Any, staff: Staff | None, *, resident_id: int | None = None) -> Claim:
    need = db.session.get(Need, claim.need_id)
    if claim.status != "active":
        return claim
    if need.status in ("in_project", "done"):
        raise refuse("项目已经开始，认领不能撤回；请在项目中调整", "invalid_state", 409)
    claim.status, claim.withdrawn_at = "withdrawn", now()
    claim.note = fields.text({"reason": reason}, "reason", "撤回原因", max_length=500) or claim.note
    remaining = db.session.scalar(select(Claim.id).where(Claim.need_id == need.id, Claim.status == "active",
                                                         Claim.id != claim.id))
    if remaining is None and need.status == "claimed":
        need.status = "open"
    actor = ("staff", staff.id) if staff else ("resident", resident_id)
    record(actor[0], actor[1], "governance.need.withdraw", need, community_id=need.community_id,
           detail={"claim_id": claim.id})
    db.session.commit()
    return claim


def claim_in(need: Need, claim_id: int) -> Claim:
    claim = db.session.get(Claim, claim_id)
    if claim is None or claim.need_id != need.id:
        raise not_found("认领记录", "claim_id")
    return claim


def active_claims(need_id: int) -> list[Claim]:
    return list(db.session.scalars(select(Claim).where(Claim.need_id == need_id, Claim.status == "active")
                                   .order_by(Claim.id)))


def claim_view(claim: Claim) -> dict[str, Any]:
    resource = db.session.get(Resource, claim.resource_id) if claim.resource_id else None
    return {"id": claim.id, "need_id": claim.need_id, "direction": claim.direction,
            "direction_label": CLAIM_DIRECTIONS.get(claim.direction, claim.direction),
            "party": units.party_view(claim.unit_id, claim.member_id),
            "resource": {"id": resource.id, "title": resource.title} if resource else None,
            "note": claim.note, "status": claim.status, "created_at": iso(claim.created_at)}
