"""A resident's own profile (name, phone, community, building, unit, room) and the community they adopt
by acting in one.

A resident who logs in through the mini-program starts with nothing but an openid. They fill in the
profile themselves; counter staff then see the booker's name and phone in the staff API (the staff view
is unmasked and scoped to the community). A resident who has no community yet gets the one they first
act in (a booking, an event sign-up, a 双报到 registration, a report), so 微心愿 and notices reach them.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from app.errors import NotFound, ValidationError
from app.extensions import db
from app.handlers.audit import record
from app.models import Building, Community, Resident, Street

MAX_NAME = 50
MAX_UNIT = 20
# A mainland mobile number (11 digits from 1[3-9]), or a landline with its area code (0 + 2–3 digits,
# then 7–8 digits, a hyphen allowed): what counter staff can dial back.
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
PROFILE_FIELDS = ("name", "phone", "community_id", "building_id", "unit", "room")


def community_view(community: Community) -> dict[str, Any]:
    return {"id": community.id, "name": community.name, "street": community.street.name if community.street else None,
            "address": community.address}


def building_view(building: Building) -> dict[str, Any]:
    return {"id": building.id, "number": building.number, "name": building.name, "compound": building.compound,
            "units": building.units}


def list_communities() -> list[Community]:
    """Every community a resident may choose, by street then name."""
    return list(db.session.scalars(select(Community).join(Street, Street.id == Community.street_id)
                                   .order_by(Street.name, Community.name, Community.id)))


def community_buildings(community_id: int) -> list[Building]:
    if db.session.get(Community, community_id) is None:
        raise NotFound("社区不存在 (unknown community)", field="community_id")
    return list(db.session.scalars(select(Building).where(Building.community_id == community_id)
                                   .order_by(Building.compound, Building.number, Building.id)))


def profile_view(resident: Resident) -> dict[str, Any]:
    """The resident's own profile, unmasked: only ever answered to the resident themselves."""
    community = db.session.get(Community, resident.community_id) if resident.community_id else None
    building = db.session.get(Building, resident.building_id) if resident.building_id else None
    return {"id": resident.id, "name": resident.name, "nickname": resident.nickname, "phone": resident.phone,
            "community_id": resident.community_id, "community": community_view(community) if community else None,
            "building_id": resident.building_id, "building": building_view(building) if building else None,
            "unit": resident.unit, "room": resident.room,
            "complete": bool(resident.name and resident.phone and resident.community_id)}


def clean_phone(value: Any, field: str = "phone") -> str:
    if not isinstance(value, str):
        raise ValidationError("手机号格式不正确 (phone must be text)", field=field)
    digits = re.sub(r"[\s()（）]", "", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    if not (MOBILE.match(digits) or LANDLINE.match(digits)):
        raise ValidationError("请填写11位手机号或带区号的固定电话 (invalid phone number)", field=field)
    return digits


def _text(value: Any, name: str, label: str, max_length: int) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValidationError(f"{label}格式不正确 ({name} must be text)", field=name)
    text = str(value).strip()
    if len(text) > max_length:
        raise ValidationError(f"{label}不能超过{max_length}字 ({name} longer than {max_length})", field=name)
    return text


def _id(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{name} 必须是正整数编号 (positive integer id)", field=name)
    return value


def _place(resident: Resident, data: dict[str, Any], changes: dict[str, Any]) -> None:
    """Community and building: a building must be in the (new or current) community; a new
    community without a building given clears the old building (it was in the other community)."""
    community_id = resident.community_id
    if "community_id" in data:
        if data["community_id"] is None:
            raise ValidationError("社区不能清空，可以改选其他社区 (community_id cannot be cleared)",
                                  field="community_id")
        community_id = _id(data["community_id"], "community_id")
        if db.session.get(Community, community_id) is None:
            raise ValidationError("社区不存在 (unknown community)", field="community_id")
        if community_id != resident.community_id:
            changes["community_id"] = community_id
            if "building_id" not in data:
                changes["building_id"] = None
    if "building_id" in data:
        if data["building_id"] is None:
            changes["building_id"] = None
            return
        building_id = _id(data["building_id"], "building_id")
        if community_id is None:
            raise ValidationError("请先选择社区 (choose a community first)", field="community_id")
        building = db.session.get(Building, building_id)
        if building is None or building.community_id != community_id:
            raise ValidationError("该楼栋不在所选社区 (building not in the community)", field="building_id")
        changes["building_id"] = building_id


def update_profile(resident: Resident, data: dict[str, Any], *, verified_phone: str | None = None) -> list[str]:
    """Change the fields present in ``data`` (null or "" clears name, phone, building, unit, room);
    ``verified_phone`` is a number WeChat vouched for (getPhoneNumber). Returns the changed field
    names; commits. Nothing is changed when any field is refused."""
    unknown = sorted(set(data) - set(PROFILE_FIELDS) - {"phone_code"})
    if unknown:
        raise ValidationError(f"不支持的字段 {unknown[0]} (unknown field)", field=unknown[0])
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = _text(data["name"], "name", "姓名", MAX_NAME)
    if verified_phone is not None:
        changes["phone"] = verified_phone
    elif "phone" in data:
        changes["phone"] = None if data["phone"] in (None, "") else clean_phone(data["phone"])
    _place(resident, data, changes)
    for name, label in (("unit", "单元"), ("room", "房号")):
        if name in data:
            changes[name] = _text(data[name], name, label, MAX_UNIT)
    changed = [name for name, value in changes.items() if getattr(resident, name) != value]
    for name in changed:
        setattr(resident, name, changes[name])
    if changed:
        # The values stay out of the audit log: it is read by more people than the profile.
        record("resident", resident.id, "resident.profile", resident, community_id=resident.community_id,
               detail={"fields": changed, "phone_verified": verified_phone is not None})
    db.session.commit()
    return changed


def adopt_community(resident: Resident | None, community_id: int | None) -> bool:
    """Record ``community_id`` as the resident's when they have none (in the caller's transaction).
    Acting in a community (booking, signing up, registering, reporting) is the resident saying they
    belong there; a resident who chose a community keeps it."""
    if resident is None or community_id is None or resident.community_id is not None:
        return False
    resident.community_id = community_id
    record("resident", resident.id, "resident.community_adopted", resident, community_id=community_id)
    return True
