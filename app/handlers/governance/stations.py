"""The service map (红色地图): stations with address, coordinates, opening hours, services and phone."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.handlers.audit import record
from app.handlers.governance import fields, terms, units
from app.handlers.governance.errors import not_found, refuse
from app.localtime import WEEKDAY_NAMES, at_local, iso, to_local
from app.models import Building, BuildingLocation, MapStation, Staff
from app.models.servicemap import STATION_KINDS
from app.workcal import WorkCalendar, load_calendar

STATION_FIELDS = ("name", "kind", "address", "lat", "lng", "phone", "services", "hours", "notes", "unit_id",
                  "active")
DAY_RULES = {"workdays": "工作日", "daily": "每天", "weekends": "周末"}


def _hours(value: Any) -> list[dict[str, Any]]:
    """[{"days": "workdays" | "daily" | "weekends" | [1..7], "open": "08:30", "close": "11:30"}, …]"""
    if not isinstance(value, list) or len(value) > 21:
        raise refuse("开放时间必须是规则列表，如 [{\"days\": \"workdays\", \"open\": \"08:30\", "
                     "\"close\": \"17:30\"}]", field="hours")
    rules = []
    for index, rule in enumerate(value):
        where = f"hours[{index}]"
        if not isinstance(rule, dict):
            raise refuse(f"开放时间第{index + 1}条格式不对", field=where)
        days = rule.get("days", "daily")
        if isinstance(days, list):
            days = fields.weekdays({"days": days}, "days")
            if not days:
                raise refuse(f"开放时间第{index + 1}条没有星期", field=f"{where}.days")
        elif days not in DAY_RULES:
            raise refuse(f"开放时间第{index + 1}条的 days 应为 workdays、daily、weekends 或星期列表",
                         field=f"{where}.days")
        opens = fields.clock(rule, "open", f"开放时间第{index + 1}条的开门时间")
        closes = fields.clock(rule, "close", f"开放时间第{index + 1}条的关门时间")
        if opens is None or closes is None or closes <= opens:
            raise refuse(f"开放时间第{index + 1}条需要开门和关门时间（HH:MM），且关门晚于开门", field=where)
        rules.append({"days": days, "open": opens, "close": closes})
    return rules


def _services(value: Any) -> list[str]:
    known = terms.terms().services
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise refuse("服务项目必须是列表", field="services")
    by_name = {name: key for key, name in known.items()}
    keys = [by_name.get(v.strip(), v.strip()) for v in value]
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise refuse(f"不认识的服务项目：{'、'.join(unknown)}；可选：{'、'.join(f'{k}（{n}）' for k, n in known.items())}",
                     field="services")
    return list(dict.fromkeys(keys))


def _values(community_id: int, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    fields.only_known(data, STATION_FIELDS)
    readers = {
        "name": lambda: fields.text(data, "name", "站点名称", required=True, max_length=100),
        "kind": lambda: fields.choice(data, "kind", "站点类型", STATION_KINDS, required=True),
        "address": lambda: fields.text(data, "address", "地址", required=True, max_length=200),
        "lat": lambda: fields.coordinate(data, "lat", "纬度", 90, required=True),
        "lng": lambda: fields.coordinate(data, "lng", "经度", 180, required=True),
        "phone": lambda: fields.text(data, "phone", "电话", max_length=30),
        "services": lambda: _services(data.get("services") or []),
        "hours": lambda: _hours(data.get("hours") or []),
        "notes": lambda: fields.text(data, "notes", "说明", max_length=2000),
        "unit_id": lambda: units.unit_in(community_id, data["unit_id"]).id
        if fields.present(data, "unit_id") else None,
    }
    values = {name: read() for name, read in readers.items() if not partial or name in data}
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise refuse("active 必须是 true 或 false", field="active")
        values["active"] = data["active"]
    return values


def create_station(community_id: int, data: dict[str, Any], staff: Staff | None) -> MapStation:
    values = _values(community_id, data, partial=False)
    if db.session.scalar(select(MapStation.id).where(MapStation.community_id == community_id,
                                                     MapStation.name == values["name"])):
        raise refuse(f"站点“{values['name']}”已经在地图上了", "duplicate", 409, field="name")
    station = MapStation(community_id=community_id, **values)
    db.session.add(station)
    db.session.flush()
    record("staff" if staff else "system", staff.id if staff else None, "governance.station.create", station,
           community_id=community_id, detail={"name": station.name})
    db.session.commit()
    return station


def update_station(station: MapStation, data: dict[str, Any], staff: Staff) -> MapStation:
    values = _values(station.community_id, data, partial=True)
    if values.get("name") not in (None, station.name) and db.session.scalar(select(MapStation.id).where(
            MapStation.community_id == station.community_id, MapStation.name == values["name"])):
        raise refuse(f"站点“{values['name']}”已经在地图上了", "duplicate", 409, field="name")
    for name, value in values.items():
        setattr(station, name, value)
    record("staff", staff.id, "governance.station.update", station, community_id=station.community_id,
           detail={"fields": sorted(values)})
    db.session.commit()
    return station


def station_in(community_id: int, station_id: Any) -> MapStation:
    station = db.session.get(MapStation, fields.as_id(station_id, "station_id", "站点"))
    if station is None or station.community_id != community_id:
        raise not_found("站点", "station_id")
    return station


def stations(community_id: int, *, active_only: bool = True, service: str | None = None) -> list[MapStation]:
    statement = select(MapStation).where(MapStation.community_id == community_id)
    if active_only:
        statement = statement.where(MapStation.active.is_(True))
    rows = list(db.session.scalars(statement.order_by(MapStation.id)))
    return [s for s in rows if service in (s.services or [])] if service else rows


def set_building_location(building: Building, data: dict[str, Any], staff: Staff | None) -> BuildingLocation:
    fields.only_known(data, ("lat", "lng"))
    lat = fields.coordinate(data, "lat", "纬度", 90, required=True)
    lng = fields.coordinate(data, "lng", "经度", 180, required=True)
    location = db.session.get(BuildingLocation, building.id)
    if location is None:
        location = BuildingLocation(building_id=building.id, community_id=building.community_id, lat=lat, lng=lng)
        db.session.add(location)
    else:
        location.lat, location.lng = lat, lng
    record("staff" if staff else "system", staff.id if staff else None, "governance.building.locate", building,
           community_id=building.community_id, detail={"lat": lat, "lng": lng})
    db.session.commit()
    return location


# ---- opening hours ----------------------------------------------------------------------------

def _day_matches(days: Any, moment: datetime, calendar: WorkCalendar) -> bool:
    local = to_local(moment)
    if days == "workdays":
        return calendar.is_workday(local.date())
    if days == "weekends":
        return local.isoweekday() >= 6
    if days == "daily":
        return True
    return local.isoweekday() in days


def open_until(station: MapStation, moment: datetime, calendar: WorkCalendar) -> str | None:
    """The closing time ("11:30") when the station is open at ``moment``, else None."""
    clock = to_local(moment).strftime("%H:%M")
    for rule in station.hours or []:
        if _day_matches(rule["days"], moment, calendar) and rule["open"] <= clock < rule["close"]:
            return rule["close"]
    return None


def next_opening(station: MapStation, moment: datetime, calendar: WorkCalendar) -> datetime | None:
    """The next time it opens, within two weeks (None: no opening hours entered)."""
    local = to_local(moment)
    for offset in range(15):
        day = local.date() + timedelta(days=offset)
        probe = at_local(day, time(12))
        opens = sorted(rule["open"] for rule in station.hours or [] if _day_matches(rule["days"], probe, calendar))
        for value in opens:
            start = at_local(day, time.fromisoformat(value))
            if start > moment:
                return start
    return None


def hours_text(station: MapStation) -> str:
    """工作日 08:30–11:30、14:00–17:30；周六 09:00–11:00"""
    grouped: dict[str, list[str]] = {}
    for rule in station.hours or []:
        days = rule["days"]
        label = DAY_RULES.get(days) if isinstance(days, str) else "周" + "、".join(WEEKDAY_NAMES[d - 1] for d in days)
        grouped.setdefault(label, []).append(f"{rule['open']}–{rule['close']}")
    return "；".join(f"{label} {'、'.join(spans)}" for label, spans in grouped.items()) or "未登记开放时间"


def station_view(station: MapStation, moment: datetime | None = None,
                 calendar: WorkCalendar | None = None) -> dict[str, Any]:
    known = terms.terms().services
    view = {"id": station.id, "community_id": station.community_id, "name": station.name, "kind": station.kind,
            "kind_label": STATION_KINDS.get(station.kind, station.kind), "address": station.address,
            "lat": station.lat, "lng": station.lng, "phone": station.phone,
            "services": [{"key": k, "name": known.get(k, k)} for k in station.services or []],
            "hours": list(station.hours or []), "hours_text": hours_text(station), "notes": station.notes,
            "unit": units.party_view(station.unit_id, None) if station.unit_id else None, "active": station.active}
    if moment is not None:
        calendar = calendar or load_calendar()
        closes = open_until(station, moment, calendar)
        view["open_now"] = closes is not None
        view["open_until"] = closes
        upcoming = None if closes else next_opening(station, moment, calendar)
        view["next_open"] = iso(upcoming)
    return view
