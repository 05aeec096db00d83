"""资源清单: what units and 双报到 members offer the community, with when and how much."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.handlers.audit import record
from app.handlers.governance import fields, schedule, units
from app.handlers.governance.errors import not_found, refuse
from app.models import Contribution, PartnerUnit, PartyMember, Resource, Staff
from app.models.governance import RESOURCE_KINDS, RESOURCE_STATUSES, UNIT_KINDS

RESOURCE_FIELDS = ("unit_id", "member_id", "kind", "title", "detail", "tags", "quantity", "quantity_unit",
                   "weekdays", "time_from", "time_until", "available_from", "available_until")
EDITABLE = tuple(f for f in RESOURCE_FIELDS if f not in ("unit_id", "member_id"))
DEFAULT_UNITS = {"hours": "小时", "money": "元", "room": "次", "vehicle": "次", "goods": "件", "skill": "次"}


def _values(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    readers = {
        "kind": lambda: fields.choice(data, "kind", "资源类型", RESOURCE_KINDS, required=not partial),
        "title": lambda: fields.text(data, "title", "资源名称", required=not partial, max_length=100),
        "detail": lambda: fields.text(data, "detail", "说明", max_length=2000),
        "tags": lambda: fields.words(data, "tags", "关键词"),
        "quantity": lambda: fields.number(data, "quantity", "数量", positive=True),
        "quantity_unit": lambda: fields.text(data, "quantity_unit", "数量单位", max_length=10),
        "available_from": lambda: fields.day(data, "available_from", "可用开始日期"),
        "available_until": lambda: fields.day(data, "available_until", "可用截止日期"),
    }
    for name, read in readers.items():
        if not partial or name in data:
            values[name] = read()
    if not partial or any(k in data for k in ("weekdays", "time_from", "time_until")):
        values.update(schedule.read_window(data))
    for name in ("kind", "title"):
        if name in values and values[name] is None:
            raise refuse("资源类型和名称不能为空", field=name)
    return values


def register_resource(community_id: int, data: dict[str, Any], staff: Staff | None, *,
                      member: PartyMember | None = None) -> Resource:
    """A unit's or member's offer. Staff name the party; a member registering their own passes ``member``."""
    if member is not None:
        fields.only_known(data, EDITABLE)
        unit = None
    else:
        fields.only_known(data, RESOURCE_FIELDS)
        unit, member = units.party_from(community_id, data)
    values = _values(data, partial=False)
    if values["quantity"] is not None and not values["quantity_unit"]:
        values["quantity_unit"] = DEFAULT_UNITS.get(values["kind"], "次")
    _check_dates(values)
    resource = Resource(community_id=community_id, unit_id=unit.id if unit else None,
                        member_id=member.id if member else None,
                        recorded_by_staff_id=staff.id if staff else None, **values)
    db.session.add(resource)
    db.session.flush()
    actor = ("staff", staff.id) if staff else ("resident", member.resident_id if member else None)
    record(actor[0], actor[1], "governance.resource.register", resource, community_id=community_id,
           detail={"kind": resource.kind, "title": resource.title})
    db.session.commit()
    return resource


def _check_dates(values: dict[str, Any]) -> None:
    starts, ends = values.get("available_from"), values.get("available_until")
    if starts and ends and ends < starts:
        raise refuse("可用截止日期不能早于开始日期", field="available_until")


def update_resource(resource: Resource, data: dict[str, Any], staff: Staff) -> Resource:
    fields.only_known(data, EDITABLE + ("status",))
    values = _values(data, partial=True)
    if "status" in data:
        values["status"] = fields.choice(data, "status", "状态", RESOURCE_STATUSES, required=True)
    merged = {"available_from": resource.available_from, "available_until": resource.available_until, **values}
    _check_dates(merged)
    for name, value in values.items():
        setattr(resource, name, value)
    record("staff", staff.id, "governance.resource.update", resource, community_id=resource.community_id,
           detail={"fields": sorted(values)})
    db.session.commit()
    return resource


def resource_in(community_id: int, resource_id: Any, field: str = "resource_id") -> Resource:
    resource = db.session.get(Resource, fields.as_id(resource_id, field, "资源"))
    if resource is None or resource.community_id != community_id:
        raise not_found("资源", field)
    return resource


def used(resource_ids: list[int]) -> dict[int, float]:
    """How much of each resource the projects have drawn (contributions naming it)."""
    if not resource_ids:
        return {}
    rows = db.session.execute(select(Contribution.resource_id, func.sum(Contribution.quantity)).where(
        Contribution.resource_id.in_(resource_ids)).group_by(Contribution.resource_id)).all()
    return {rid: float(total or 0) for rid, total in rows}


def remaining(resource: Resource, drawn: float | None = None) -> float | None:
    if resource.quantity is None:
        return None
    drawn = used([resource.id]).get(resource.id, 0.0) if drawn is None else drawn
    return round(max(float(resource.quantity) - drawn, 0.0), 2)


def resources(community_id: int, *, kind: str | None = None, status: str | None = "active",
              unit_id: int | None = None, member_id: int | None = None) -> list[Resource]:
    statement = select(Resource).where(Resource.community_id == community_id)
    if kind:
        statement = statement.where(Resource.kind == kind)
    if status:
        statement = statement.where(Resource.status == status)
    if unit_id:
        statement = statement.where(Resource.unit_id == unit_id)
    if member_id:
        statement = statement.where(Resource.member_id == member_id)
    return list(db.session.scalars(statement.order_by(Resource.id)))


def resource_view(resource: Resource, drawn: float | None = None) -> dict[str, Any]:
    window = schedule.Window.of(resource, "available_from", "available_until")
    owner = units.party_view(resource.unit_id, resource.member_id)
    if resource.unit_id is not None:
        unit = db.session.get(PartnerUnit, resource.unit_id)
        owner["kind_label"] = UNIT_KINDS.get(unit.kind, unit.kind) if unit else None
    return {"id": resource.id, "community_id": resource.community_id, "owner": owner, "kind": resource.kind,
            "kind_label": RESOURCE_KINDS.get(resource.kind, resource.kind), "title": resource.title,
            "detail": resource.detail, "tags": list(resource.tags or []), "quantity": resource.quantity,
            "quantity_unit": resource.quantity_unit, "remaining": remaining(resource, drawn),
            "weekdays": list(resource.weekdays or []), "time_from": resource.time_from,
            "time_until": resource.time_until,
            "available_from": resource.available_from.isoformat() if resource.available_from else None,
            "available_until": resource.available_until.isoformat() if resource.available_until else None,
            "when": schedule.describe(window), "status": resource.status,
            "status_label": RESOURCE_STATUSES.get(resource.status, resource.status)}


def resource_views(rows: list[Resource]) -> list[dict[str, Any]]:
    drawn = used([r.id for r in rows])
    return [resource_view(r, drawn.get(r.id, 0.0)) for r in rows]
