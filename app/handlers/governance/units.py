"""Partner units (驻区单位/共建单位) and the parties of the lists: a unit or a 双报到 member."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.handlers.audit import record
from app.handlers.governance import fields
from app.handlers.governance.errors import not_found, refuse
from app.models import BuildingLocation, PartnerUnit, PartyMember, Resident, Staff
from app.models.governance import UNIT_KINDS

UNIT_FIELDS = ("name", "kind", "contact_name", "phone", "address", "party_org", "lat", "lng", "agreement_on",
               "active")


def _unit_values(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    fields.only_known(data, UNIT_FIELDS)
    values: dict[str, Any] = {}
    readers = {
        "name": lambda: fields.text(data, "name", "单位名称", required=not partial, max_length=100),
        "kind": lambda: fields.choice(data, "kind", "单位类型", UNIT_KINDS, required=not partial),
        "contact_name": lambda: fields.text(data, "contact_name", "联系人", max_length=50),
        "phone": lambda: fields.text(data, "phone", "联系电话", max_length=30),
        "address": lambda: fields.text(data, "address", "地址", max_length=200),
        "party_org": lambda: fields.text(data, "party_org", "单位党组织", max_length=200),
        "lat": lambda: fields.coordinate(data, "lat", "纬度", 90),
        "lng": lambda: fields.coordinate(data, "lng", "经度", 180),
        "agreement_on": lambda: fields.day(data, "agreement_on", "共建协议签订日期"),
    }
    for name, read in readers.items():
        if not partial or name in data:
            values[name] = read()
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise refuse("active 必须是 true 或 false", field="active")
        values["active"] = data["active"]
    if (values.get("lat") is None) != (values.get("lng") is None) and not partial:
        raise refuse("纬度和经度要一起填写", field="lat" if values.get("lat") is None else "lng")
    return values


def register_unit(community_id: int, data: dict[str, Any], staff: Staff | None) -> PartnerUnit:
    values = _unit_values(data, partial=False)
    if db.session.scalar(select(PartnerUnit.id).where(PartnerUnit.community_id == community_id,
                                                      PartnerUnit.name == values["name"])):
        raise refuse(f"单位“{values['name']}”已经登记过了", "duplicate", 409, field="name")
    unit = PartnerUnit(community_id=community_id, **values)
    db.session.add(unit)
    db.session.flush()
    record("staff" if staff else "system", staff.id if staff else None, "governance.unit.register", unit,
           community_id=community_id, detail={"name": unit.name})
    db.session.commit()
    return unit


def update_unit(unit: PartnerUnit, data: dict[str, Any], staff: Staff) -> PartnerUnit:
    values = _unit_values(data, partial=True)
    if "name" in values and values["name"] is None:
        raise refuse("单位名称不能为空", field="name")
    if "kind" in values and values["kind"] is None:
        raise refuse("单位类型不能为空", field="kind")
    if values.get("name") not in (None, unit.name) and db.session.scalar(select(PartnerUnit.id).where(
            PartnerUnit.community_id == unit.community_id, PartnerUnit.name == values["name"])):
        raise refuse(f"单位“{values['name']}”已经登记过了", "duplicate", 409, field="name")
    for name, value in values.items():
        setattr(unit, name, value)
    if (unit.lat is None) != (unit.lng is None):
        raise refuse("纬度和经度要一起填写", field="lat" if unit.lat is None else "lng")
    record("staff", staff.id, "governance.unit.update", unit, community_id=unit.community_id,
           detail={"fields": sorted(values)})
    db.session.commit()
    return unit


def unit_in(community_id: int, unit_id: Any, field: str = "unit_id") -> PartnerUnit:
    unit = db.session.get(PartnerUnit, fields.as_id(unit_id, field, "单位"))
    if unit is None or unit.community_id != community_id:
        raise not_found("单位", field)
    return unit


def member_in(community_id: int, member_id: Any, field: str = "member_id") -> PartyMember:
    member = db.session.get(PartyMember, fields.as_id(member_id, field, "党员/志愿者"))
    if member is None or member.community_id != community_id:
        raise not_found("党员/志愿者", field)
    return member


def member_of_resident(community_id: int, resident_id: int) -> PartyMember | None:
    return db.session.scalars(select(PartyMember).where(
        PartyMember.community_id == community_id, PartyMember.resident_id == resident_id,
        PartyMember.active.is_(True))).first()


def party_from(community_id: int, data: dict[str, Any]) -> tuple[PartnerUnit | None, PartyMember | None]:
    """Exactly one of unit_id / member_id: who offers, claims or contributes."""
    has_unit, has_member = fields.present(data, "unit_id"), fields.present(data, "member_id")
    if has_unit == has_member:
        raise refuse("请填写单位（unit_id）或党员（member_id）其中一个", field="unit_id")
    if has_unit:
        unit = unit_in(community_id, data["unit_id"])
        if not unit.active:
            raise refuse(f"单位“{unit.name}”已停用", "inactive", field="unit_id")
        return unit, None
    member = member_in(community_id, data["member_id"])
    if not member.active:
        raise refuse(f"{member.name}已停用", "inactive", field="member_id")
    return None, member


def party_name(unit_id: int | None, member_id: int | None) -> str:
    if unit_id is not None:
        unit = db.session.get(PartnerUnit, unit_id)
        return unit.name if unit else f"单位{unit_id}"
    member = db.session.get(PartyMember, member_id) if member_id is not None else None
    return member.name if member else ""


def party_location(unit_id: int | None, member_id: int | None) -> tuple[float, float] | None:
    """Where a party is: the unit's coordinates, or the building a member lives in."""
    if unit_id is not None:
        unit = db.session.get(PartnerUnit, unit_id)
        return (unit.lat, unit.lng) if unit is not None and unit.lat is not None else None
    member = db.session.get(PartyMember, member_id) if member_id is not None else None
    resident = db.session.get(Resident, member.resident_id) if member and member.resident_id else None
    return building_point(resident.building_id if resident else None)


def building_point(building_id: int | None) -> tuple[float, float] | None:
    location = db.session.get(BuildingLocation, building_id) if building_id is not None else None
    return (location.lat, location.lng) if location is not None else None


def unit_view(unit: PartnerUnit) -> dict[str, Any]:
    return {"id": unit.id, "community_id": unit.community_id, "name": unit.name, "kind": unit.kind,
            "kind_label": UNIT_KINDS.get(unit.kind, unit.kind), "contact_name": unit.contact_name,
            "phone": unit.phone, "address": unit.address, "party_org": unit.party_org, "lat": unit.lat,
            "lng": unit.lng, "agreement_on": unit.agreement_on.isoformat() if unit.agreement_on else None,
            "active": unit.active}


def party_view(unit_id: int | None, member_id: int | None) -> dict[str, Any]:
    if unit_id is not None:
        return {"type": "unit", "unit_id": unit_id, "name": party_name(unit_id, None)}
    return {"type": "member", "member_id": member_id, "name": party_name(None, member_id)}


def units(community_id: int, *, active_only: bool = False) -> list[PartnerUnit]:
    statement = select(PartnerUnit).where(PartnerUnit.community_id == community_id)
    if active_only:
        statement = statement.where(PartnerUnit.active.is_(True))
    return list(db.session.scalars(statement.order_by(PartnerUnit.id)))
