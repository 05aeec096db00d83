"""Proxy-handling (代办) in the mini-program API: the catalogue, stations and slots, the progress board.

Public (no token): a community's catalogue and stations, and the progress
board feed of cases with names masked. Staff: their community only (anything
else is 404); catalogue and station changes need community_admin (403).
Bookings and cases, the resident's and the station's, are app/api/proxy_bookings.py.
A refusal of the domain rules (app/handlers/proxy/errors.py) is answered by the
app's error handler as JSON with its status, Chinese reason and the field at fault.
"""
from __future__ import annotations

from datetime import date

from flask import g, jsonify, request

from app.api.schemas import proxy as schemas
from app.api.support import current_staff, field, id_arg, json_body, paginate, parse_date, require_role, route
from app.clock import now
from app.errors import NotFound, ValidationError
from app.extensions import db
from app.handlers.audit import record
from app.handlers.proxy import availability, bookings, cases, catalogue, stations, views
from app.handlers.proxy.common import HANDLING_ROLES
from app.localtime import iso, local_date
from app.models import Community, Resident, Role, Staff
from app.models.proxy import CASE_STATUS_LABELS, ServiceItem, Station

TAGS = ["proxy"]
ADMIN = (Role.COMMUNITY_ADMIN.value,)


def community_arg() -> Community:
    community_id = id_arg("community_id")
    if community_id is None:
        raise ValidationError("缺少参数 community_id (missing)", field="community_id")
    community = db.session.get(Community, community_id)
    if community is None:
        raise NotFound("没有这个社区 (no such community)")
    return community


def date_arg(name: str = "date") -> date:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return local_date(now())
    return parse_date(raw, name)


def staff_in(community_id: int, *roles: str) -> Staff:
    """The calling staff member, if they have one of ``roles`` (403) in this community (404)."""
    staff = current_staff()
    require_role(staff, *roles)
    if staff.community_id != community_id:
        raise NotFound("没有找到 (not found)")
    return staff


def own_community_staff(*roles: str) -> Staff:
    staff = current_staff()
    require_role(staff, *roles)
    if staff.community_id is None:
        raise NotFound("您不属于任何社区 (no community)")
    return staff


def station_or_404(station_id: int) -> Station:
    station = db.session.get(Station, station_id)
    if station is None:
        raise NotFound("没有这个代办站 (no such station)")
    return station


ITEM_SCHEMA = {"type": "object", "properties": {
    "key": {"type": "string", "description": "stable slug, e.g. zunlaojin"}, "name": {"type": "string"},
    "aliases": {"type": "array", "items": {"type": "string"}},
    "materials": {"type": "array", "items": {"type": "string"}}, "department": {"type": "string"},
    "time_limit_workdays": {"type": "integer"}, "eligibility": {"type": "string"},
    "visit_required": {"type": "boolean"}, "notes": {"type": "string"}, "sort_order": {"type": "integer"},
    "active": {"type": "boolean"}}}
HOURS_SCHEMA = {"type": "array", "items": {"type": "object", "properties": {
    "weekday": {"type": "integer", "description": "0=Monday … 6=Sunday, 7=make-up working day (调休)"},
    "opens": {"type": "string", "example": "08:30"}, "closes": {"type": "string", "example": "11:30"},
    "capacity": {"type": "integer", "description": "overrides the station's capacity"}}}}
STATION_SCHEMA = {"type": "object", "properties": {
    "name": {"type": "string"}, "address": {"type": "string"}, "phone": {"type": "string"},
    "slot_minutes": {"type": "integer"}, "capacity": {"type": "integer"}, "active": {"type": "boolean"},
    "hours": HOURS_SCHEMA}}


# ---- catalogue --------------------------------------------------------------------------------------

@route("/catalogue", summary="A community's proxy-handling catalogue (active items)", auth="none",
       query={"community_id": {"type": "integer", "minimum": 1, "required": True}}, tags=TAGS,
       returns=schemas.CATALOGUE, errors={404: ["not_found"]})
def proxy_catalogue():
    community = community_arg()
    return jsonify({"community_id": community.id,
                    "items": [i.public_view() for i in catalogue.items_for(community.id)]})


@route("/community/catalogue", summary="My community's catalogue, inactive items included (staff)", tags=TAGS,
       returns=schemas.CATALOGUE,
       errors={404: ["not_found"]})
def proxy_catalogue_manage():
    staff = own_community_staff(*HANDLING_ROLES)
    return jsonify({"community_id": staff.community_id,
                    "items": [i.public_view() for i in catalogue.items_for(staff.community_id, active_only=False)]})


@route("/catalogue", ["POST"], summary="Add a catalogue item (community admin)", body=ITEM_SCHEMA, tags=TAGS,
       status=201, returns=schemas.CATALOGUE_ITEM,
       errors={404: ["not_found"]})
def proxy_catalogue_create():
    staff = own_community_staff(*ADMIN)
    data = json_body()
    item = catalogue.create_item(staff.community_id, data)
    record("staff", staff.id, "catalogue.item_created", item, community_id=staff.community_id,
           detail={"key": item.key})
    db.session.commit()
    return jsonify(item.public_view()), 201


@route("/catalogue/<int:item_id>", ["PATCH"], summary="Edit a catalogue item (community admin)",
       body=ITEM_SCHEMA, tags=TAGS, returns=schemas.CATALOGUE_ITEM)
def proxy_catalogue_update(item_id: int):
    item = db.session.get(ServiceItem, item_id)
    staff = current_staff()
    require_role(staff, *ADMIN)
    if item is None or item.community_id != staff.community_id:
        raise NotFound("没有这个代办事项 (no such item)")
    data = json_body()
    catalogue.update_item(item, data)
    record("staff", staff.id, "catalogue.item_updated", item, community_id=item.community_id,
           detail={"fields": sorted(data)})
    db.session.commit()
    return jsonify(item.public_view())


@route("/catalogue/load-default", ["POST"], summary="Load the default catalogue into my community (admin)",
       body={"type": "object", "properties": {"update": {"type": "boolean"}}}, tags=TAGS,
       returns=schemas.PROXY_CATALOGUE_LOAD_DEFAULT,
       errors={404: ["not_found"]})
def proxy_catalogue_load_default():
    staff = own_community_staff(*ADMIN)
    data = request.get_json(silent=True) or {}
    update = field(data, "update", bool, required=False, default=False) if isinstance(data, dict) else False
    community = db.session.get(Community, staff.community_id)
    result = catalogue.load_catalogue(community, update=update, commit=False)
    record("staff", staff.id, "catalogue.loaded", None, community_id=community.id,
           detail={"created": len(result.created), "updated": len(result.updated)})
    db.session.commit()
    return jsonify({"created": result.created, "updated": result.updated, "unchanged": result.unchanged})


# ---- stations and slots -----------------------------------------------------------------------------

@route("/stations", summary="A community's proxy-handling stations with hours and closures", auth="none",
       query={"community_id": {"type": "integer", "minimum": 1, "required": True}}, tags=TAGS,
       returns=schemas.PROXY_STATIONS,
       errors={404: ["not_found"]})
def proxy_stations():
    community = community_arg()
    return jsonify({"community_id": community.id,
                    "stations": [views.station_view(s) for s in stations.stations_for(community.id)]})


@route("/stations", ["POST"], summary="Create a station with its weekly plan (community admin)",
       body=STATION_SCHEMA, tags=TAGS, status=201, returns=schemas.STATION, errors={400: ["invalid_hours"], 404: ["not_found"], 409: ["exists"]})
def proxy_station_create():
    staff = own_community_staff(*ADMIN)
    data = json_body()
    station = stations.create_station(staff.community_id, data)
    record("staff", staff.id, "station.created", station, community_id=station.community_id)
    db.session.commit()
    return jsonify(views.station_view(station)), 201


@route("/stations/<int:station_id>", ["PATCH"], summary="Edit a station (community admin)",
       body=STATION_SCHEMA, tags=TAGS, returns=schemas.STATION,
       errors={400: ["invalid_hours"], 409: ["exists"]})
def proxy_station_update(station_id: int):
    station = station_or_404(station_id)
    staff = staff_in(station.community_id, *ADMIN)
    data = json_body()
    stations.update_station(station, data)
    record("staff", staff.id, "station.updated", station, community_id=station.community_id,
           detail={"fields": sorted(data)})
    db.session.commit()
    return jsonify(views.station_view(station))


@route("/stations/<int:station_id>/hours", ["PUT"], summary="Replace a station's weekly plan (community admin)",
       body={"type": "object", "properties": {"hours": HOURS_SCHEMA}}, tags=TAGS,
       returns=schemas.STATION, errors={400: ["invalid_hours"]})
def proxy_station_hours(station_id: int):
    station = station_or_404(station_id)
    staff = staff_in(station.community_id, *ADMIN)
    data = json_body()
    hours = data.get("hours")
    if not isinstance(hours, list):
        raise ValidationError("hours 必须是时间段列表", field="hours")
    stations.set_hours(station, hours)
    record("staff", staff.id, "station.hours_set", station, community_id=station.community_id,
           detail={"intervals": len(hours)})
    db.session.commit()
    return jsonify(views.station_view(station))


@route("/stations/<int:station_id>/closures", ["POST"], summary="Block a date at a station (community admin)",
       body={"type": "object", "properties": {"date": {"type": "string", "format": "date"},
                                              "reason": {"type": "string"},
                                              "cancel_bookings": {"type": "boolean"}}}, tags=TAGS,
       status=201, returns=schemas.PROXY_STATION_CLOSE, errors={400: ["past"], 409: ["bad_state", "exists", "has_bookings", "started"]})
def proxy_station_close(station_id: int):
    station = station_or_404(station_id)
    staff = staff_in(station.community_id, *ADMIN)
    data = json_body()
    day = parse_date(field(data, "date", str, max_length=10), "date")
    reason = field(data, "reason", str, required=False, max_length=200)
    cancel = field(data, "cancel_bookings", bool, required=False, default=False)
    closure, cancelled = bookings.close_day(station, day, reason, staff=staff, cancel_bookings=cancel)
    record("staff", staff.id, "station.closed", station, community_id=station.community_id,
           detail={"date": day.isoformat(), "reason": reason, "cancelled": len(cancelled)})
    db.session.commit()
    return jsonify({"date": closure.day.isoformat(), "reason": closure.reason,
                    "cancelled_bookings": [b.code for b in cancelled]}), 201


@route("/stations/<int:station_id>/closures/<day>", ["DELETE"], summary="Reopen a blocked date (community admin)",
       tags=TAGS, returns=schemas.PROXY_STATION_REOPEN)
def proxy_station_reopen(station_id: int, day: str):
    station = station_or_404(station_id)
    staff = staff_in(station.community_id, *ADMIN)
    when = parse_date(day, "day")
    if not stations.remove_closure(station, when):
        raise NotFound("该日期没有设置暂停服务")
    record("staff", staff.id, "station.reopened", station, community_id=station.community_id,
           detail={"date": when.isoformat()})
    db.session.commit()
    return jsonify({"date": when.isoformat(), "reopened": True})


@route("/stations/<int:station_id>/slots", summary="Slots of a station on a date, with free places",
       auth="any", query={"date": {"type": "string", "format": "date"}}, tags=TAGS, returns=schemas.PROXY_STATION_SLOTS)
def proxy_station_slots(station_id: int):
    station = station_or_404(station_id)
    subject = g.subject
    community_id = getattr(subject, "community_id", None)
    if isinstance(subject, Staff) and community_id != station.community_id:
        raise NotFound("没有这个代办站 (no such station)")
    if isinstance(subject, Resident) and community_id is not None and community_id != station.community_id:
        raise NotFound("没有这个代办站 (no such station)")
    day = date_arg()
    plan, day_slots = availability.day_slots(station, day, now=now())
    today = local_date(now())
    reason = plan.closed_reason
    message = plan.message
    if plan.open and not day_slots:
        if day < today:
            reason, message = "past", "该日期已经过去"
        elif day > availability.last_bookable_day(now()):
            reason, message = "beyond_horizon", "超出可预约的天数"
        else:
            reason, message = "no_more_slots", "当天已没有可预约的时段"
    return jsonify({"station_id": station.id, "date": day.isoformat(), "open": plan.open,
                    "kind": plan.kind, "reason": reason, "message": message,
                    "hours": [{"opens": f"{i.opens:%H:%M}", "closes": f"{i.closes:%H:%M}", "capacity": i.capacity}
                              for i in plan.intervals],
                    "slots": [s.as_dict() for s in day_slots]})


# ---- public progress board --------------------------------------------------------------------------

@route("/public/cases", summary="Public progress board feed: cases with names masked (督办墙)", auth="none",
       query={"community_id": {"type": "integer", "minimum": 1, "required": True},
              "status": {"type": "string", "enum": list(CASE_STATUS_LABELS)}}, tags=TAGS,
       returns=schemas.PROXY_PUBLIC_CASES,
       errors={404: ["not_found"]})
def proxy_public_cases():
    community = community_arg()
    status = request.args.get("status")
    if status and status not in CASE_STATUS_LABELS:
        raise ValidationError(f"status 取值无效（{', '.join(CASE_STATUS_LABELS)}）", field="status")
    body = paginate(cases.public_feed_query(community.id, status=status or None), views.public_view)
    body["community"] = {"id": community.id, "name": community.name}
    body["counts"] = cases.counts(community.id)
    body["generated_at"] = iso(now())
    return jsonify(body)
