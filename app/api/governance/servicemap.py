"""红色地图: stations and building locations; nearest open stations for the mini-program; the public map data."""
from __future__ import annotations

from flask import g, jsonify, request

from app.api.governance.common import EDITORS, TAGS, VIEWERS, resident_here, staff_of
from app.api.governance.suggestions import community_named
from app.api.schemas import governance as schemas
from app.api.support import id_arg, json_body, route
from app.clock import now
from app.extensions import db
from app.handlers.governance import geo, nearby, stations, terms
from app.handlers.governance.errors import not_found, refuse
from app.models import Building, BuildingLocation, Staff
from app.workcal import load_calendar

HOURS_RULE = {"type": "object", "properties": {
    "days": {"description": "workdays | daily | weekends | [1..7] (1 = Monday)"},
    "open": {"type": "string", "example": "08:30"}, "close": {"type": "string", "example": "11:30"}}}
# What the handler's reads do not say (app/api/openapi_bodies.py derives the rest).
STATION_BODY = {"type": "object", "properties": {
    "services": {"type": "array", "items": {"type": "string"}}, "hours": {"type": "array", "items": HOURS_RULE},
    "unit_id": {"type": "integer"}, "active": {"type": "boolean"}}}


def _community_and_building() -> tuple[int, int | None]:
    if isinstance(g.subject, Staff):
        staff = staff_of(*VIEWERS)
        return staff.community_id, id_arg("building_id")
    resident = resident_here()
    return resident.community_id, id_arg("building_id") or resident.building_id


@route("/map/services", summary="地图上的服务项目（量血压、打印复印…）", auth="any", tags=TAGS, returns=schemas.MAP_SERVICES)
def map_services():
    return jsonify({"items": [{"key": k, "name": n} for k, n in terms.terms().services.items()]})


@route("/map/stations", summary="服务站点（按距离、是否开放排序）", auth="any", tags=TAGS, query={
    "service": {"type": "string"}, "building_id": {"type": "integer", "description": "default: the resident's"}},
       returns=schemas.LIST_MAP_STATIONS)
def list_map_stations():
    community_id, building_id = _community_and_building()
    service = (request.args.get("service") or "").strip() or None
    if service is not None and service not in terms.terms().services:
        raise refuse(f"不认识的服务项目：{service}", field="service")
    moment, calendar = now(), load_calendar()
    origin, building = nearby.origin_of(community_id, building_id)
    items = []
    for place in nearby.nearest(community_id, service, origin, moment):
        view = stations.station_view(place.station, moment, calendar)
        view["distance_m"] = round(place.metres) if place.metres is not None else None
        view["distance_text"] = geo.distance_text(place.metres) if place.metres is not None else None
        items.append(view)
    return jsonify({"from_building": building.name if building and origin else None, "items": items})


@route("/map/stations", ["POST"], summary="在地图上添加站点", tags=TAGS, body=STATION_BODY,
       responses={"201": {"description": "created"}}, returns=schemas.CREATE_MAP_STATION,
       errors={404: ["not_found"], 409: ["duplicate"]})
def create_map_station():
    staff = staff_of(*EDITORS)
    station = stations.create_station(staff.community_id, json_body(), staff)
    return jsonify(stations.station_view(station, now())), 201


@route("/map/stations/<int:station_id>", ["PATCH"], summary="修改站点（地址、坐标、开放时间、服务、电话）", tags=TAGS,
       body=STATION_BODY, returns=schemas.CREATE_MAP_STATION, errors={409: ["duplicate"]})
def update_map_station(station_id: int):
    staff = staff_of(*EDITORS)
    station = stations.update_station(stations.station_in(staff.community_id, station_id), json_body(), staff)
    return jsonify(stations.station_view(station, now()))


@route("/map/buildings/<int:building_id>", ["PUT"], summary="标注楼栋位置（用于计算距离和画平面图）", tags=TAGS,
       body={"type": "object"}, returns=schemas.LOCATE_BUILDING)
def locate_building(building_id: int):
    staff = staff_of(*EDITORS)
    building = db.session.get(Building, building_id)
    if building is None or building.community_id != staff.community_id:
        raise not_found("楼栋", "building_id")
    location = stations.set_building_location(building, json_body(), staff)
    return jsonify({"building_id": building.id, "name": building.name, "lat": location.lat, "lng": location.lng})


@route("/public/map", summary="社区服务地图数据（站点、楼栋位置、开放状态）", auth="none", tags=TAGS,
       query={"community": {"type": "string", "required": True, "description": "community code or id"}},
       returns=schemas.PUBLIC_MAP, errors={404: ["not_found"]})
def public_map():
    community = community_named(request.args.get("community"))
    moment, calendar = now(), load_calendar()
    buildings = db.session.query(Building, BuildingLocation).join(
        BuildingLocation, BuildingLocation.building_id == Building.id).filter(
        Building.community_id == community.id).order_by(Building.id).all()
    return jsonify({"community": {"id": community.id, "name": community.name, "phone": community.phone},
                    "stations": [stations.station_view(s, moment, calendar) for s in stations.stations(community.id)],
                    "buildings": [{"id": b.id, "number": b.number, "name": b.name, "lat": loc.lat, "lng": loc.lng}
                                  for b, loc in buildings]})
