"""需求清单: needs entered by staff, promoted from recurring requests or a micro-wish, or decided in 议事."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.handlers.audit import record
from app.handlers.governance import fields, hotspots, schedule
from app.handlers.governance.claims import claim_view
from app.handlers.governance.errors import not_found, refuse
from app.models import Building, Claim, MicroWish, Need, Project, Resident, Staff
from app.models.governance import NEED_SOURCES, NEED_STATUSES, RESOURCE_KINDS

NEED_FIELDS = ("kind", "title", "detail", "tags", "building_id", "quantity", "quantity_unit", "weekdays",
               "time_from", "time_until", "wanted_by", "beneficiaries", "resident_id")


def _values(community_id: int, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    readers = {
        "kind": lambda: fields.choice(data, "kind", "需要的资源类型", RESOURCE_KINDS, required=not partial),
        "title": lambda: fields.text(data, "title", "需求名称", required=not partial, max_length=100),
        "detail": lambda: fields.text(data, "detail", "说明", max_length=2000),
        "tags": lambda: fields.words(data, "tags", "关键词"),
        "quantity": lambda: fields.number(data, "quantity", "数量", positive=True),
        "quantity_unit": lambda: fields.text(data, "quantity_unit", "数量单位", max_length=10),
        "wanted_by": lambda: fields.day(data, "wanted_by", "希望完成日期"),
        "beneficiaries": lambda: fields.integer(data, "beneficiaries", "受益人数", maximum=1_000_000),
    }
    for name, read in readers.items():
        if not partial or name in data:
            values[name] = read()
    if not partial or any(k in data for k in ("weekdays", "time_from", "time_until")):
        values.update(schedule.read_window(data))
    if not partial or "building_id" in data:
        values["building_id"] = _building(community_id, data)
    if not partial or "resident_id" in data:
        values["resident_id"] = _resident(community_id, data)
    for name in ("kind", "title"):
        if name in values and values[name] is None:
            raise refuse("需求类型和名称不能为空", field=name)
    return values


def _building(community_id: int, data: dict[str, Any]) -> int | None:
    building_id = fields.ident(data, "building_id", "楼栋")
    if building_id is None:
        return None
    building = db.session.get(Building, building_id)
    if building is None or building.community_id != community_id:
        raise not_found("楼栋", "building_id")
    return building_id


def _resident(community_id: int, data: dict[str, Any]) -> int | None:
    resident_id = fields.ident(data, "resident_id", "居民")
    if resident_id is None:
        return None
    resident = db.session.get(Resident, resident_id)
    if resident is None or resident.community_id != community_id:
        raise not_found("居民", "resident_id")
    return resident_id


def create_need(community_id: int, data: dict[str, Any], staff: Staff | None, *, source: str = "staff",
                **links: Any) -> Need:
    fields.only_known(data, NEED_FIELDS)
    values = _values(community_id, data, partial=False)
    values.update(links)
    need = Need(community_id=community_id, source=source, created_by_staff_id=staff.id if staff else None,
                **values)
    db.session.add(need)
    db.session.flush()
    record("staff" if staff else "system", staff.id if staff else None, "governance.need.create", need,
           community_id=community_id, detail={"source": source, "title": need.title, **{
               k: v for k, v in links.items() if k in ("request_ids", "wish_id", "topic_id")}})
    db.session.commit()
    return need


def promote_requests(community_id: int, request_ids: list[int], data: dict[str, Any], staff: Staff) -> Need:
    """A recurring need found in the requests, promoted to the list in one step."""
    rows = hotspots.requests_in(community_id, request_ids)
    taken = requests_on_list(community_id)
    already = [r.code for r in rows if r.id in taken]
    if already:
        raise refuse(f"诉求{'、'.join(already)}已经汇总到需求清单", "already_promoted", 409, field="request_ids")
    data = {"kind": "other", "title": hotspots.default_title(rows),
            "detail": "\n".join(f"{r.code} {r.title}" for r in rows), **data}
    if "building_id" not in data and hotspots.common_building(rows):
        data["building_id"] = hotspots.common_building(rows)
    return create_need(community_id, data, staff, source="requests", request_ids=[r.id for r in rows])


def requests_on_list(community_id: int) -> set[int]:
    taken: set[int] = set()
    for ids in db.session.scalars(select(Need.request_ids).where(Need.community_id == community_id,
                                                                 Need.source == "requests")):
        taken.update(ids or [])
    return taken


def promote_wish(community_id: int, wish_id: Any, data: dict[str, Any], staff: Staff) -> Need:
    """A micro-wish too big for one member (a ramp, a repair that needs a unit) becomes a need."""
    wish = db.session.get(MicroWish, fields.as_id(wish_id, "wish_id", "微心愿"))
    if wish is None or wish.community_id != community_id:
        raise not_found("微心愿", "wish_id")
    if wish.status in ("fulfilled", "cancelled"):
        raise refuse("这个微心愿已经实现或已取消", "wish_closed", 409, field="wish_id")
    if db.session.scalar(select(Need.id).where(Need.wish_id == wish.id)):
        raise refuse("这个微心愿已经在需求清单上了", "already_promoted", 409, field="wish_id")
    resident = db.session.get(Resident, wish.resident_id)
    data = {"kind": "other", "title": wish.title, "detail": wish.detail,
            "building_id": resident.building_id if resident else None, **data}
    return create_need(community_id, data, staff, source="wish", wish_id=wish.id, resident_id=wish.resident_id)


def update_need(need: Need, data: dict[str, Any], staff: Staff) -> Need:
    fields.only_known(data, NEED_FIELDS)
    if need.status in ("done", "closed"):
        raise refuse(f"需求已{NEED_STATUSES[need.status]}，不能修改", "invalid_state", 409)
    values = _values(need.community_id, data, partial=True)
    for name, value in values.items():
        setattr(need, name, value)
    record("staff", staff.id, "governance.need.update", need, community_id=need.community_id,
           detail={"fields": sorted(values)})
    db.session.commit()
    return need


def close_need(need: Need, reason: Any, staff: Staff) -> Need:
    reason = fields.text({"reason": reason}, "reason", "关闭原因", required=True)
    if need.status in ("in_project", "done", "closed"):
        raise refuse(f"需求{NEED_STATUSES[need.status]}，不能关闭", "invalid_state", 409)
    need.status, need.close_reason = "closed", reason
    record("staff", staff.id, "governance.need.close", need, community_id=need.community_id,
           detail={"reason": reason})
    db.session.commit()
    return need


def need_in(community_id: int, need_id: Any, field: str = "need_id") -> Need:
    need = db.session.get(Need, fields.as_id(need_id, field, "需求"))
    if need is None or need.community_id != community_id:
        raise not_found("需求", field)
    return need


def needs(community_id: int, *, status: list[str] | None = None, kind: str | None = None,
          source: str | None = None) -> list[Need]:
    statement = select(Need).where(Need.community_id == community_id)
    if status:
        statement = statement.where(Need.status.in_(status))
    if kind:
        statement = statement.where(Need.kind == kind)
    if source:
        statement = statement.where(Need.source == source)
    return list(db.session.scalars(statement.order_by(Need.created_at.desc(), Need.id.desc())))


def need_view(need: Need, *, with_claims: bool = True) -> dict[str, Any]:
    building = db.session.get(Building, need.building_id) if need.building_id else None
    project = db.session.scalars(select(Project).where(Project.need_id == need.id)).first()
    view = {"id": need.id, "community_id": need.community_id, "kind": need.kind,
            "kind_label": RESOURCE_KINDS.get(need.kind, need.kind), "title": need.title, "detail": need.detail,
            "tags": list(need.tags or []), "source": need.source,
            "source_label": NEED_SOURCES.get(need.source, need.source), "request_ids": list(need.request_ids or []),
            "wish_id": need.wish_id, "topic_id": need.topic_id, "building_id": need.building_id,
            "building": building.name if building else None, "quantity": need.quantity,
            "quantity_unit": need.quantity_unit, "weekdays": list(need.weekdays or []),
            "time_from": need.time_from, "time_until": need.time_until,
            "when": schedule.describe(schedule.Window.of(need, None, "wanted_by")),
            "wanted_by": need.wanted_by.isoformat() if need.wanted_by else None,
            "beneficiaries": need.beneficiaries, "status": need.status,
            "status_label": NEED_STATUSES.get(need.status, need.status), "close_reason": need.close_reason,
            "project_id": project.id if project else None}
    if with_claims:
        claims = db.session.scalars(select(Claim).where(Claim.need_id == need.id).order_by(Claim.id)).all()
        view["claims"] = [claim_view(c) for c in claims]
    return view


def public_need_view(need: Need) -> dict[str, Any]:
    """What a resident or member sees: no resident ids, no request ids."""
    view = need_view(need, with_claims=False)
    for key in ("request_ids", "wish_id", "resident_id"):
        view.pop(key, None)
    view["claimed_by"] = [c["party"]["name"] for c in need_view(need)["claims"] if c["status"] == "active"]
    return view
