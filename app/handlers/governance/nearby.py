"""附近哪里可以…: the stations offering a service, open ones first, nearest first, from a building."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.extensions import db
from app.handlers.governance import geo, stations, terms, units
from app.localtime import day_label, format_local, to_local
from app.models import Building, MapStation
from app.workcal import load_calendar

SHOWN_OPEN, SHOWN_CLOSED = 3, 2


@dataclass
class Place:
    station: MapStation
    metres: float | None
    open_until: str | None
    next_open: datetime | None

    @property
    def is_open(self) -> bool:
        return self.open_until is not None


def nearest(community_id: int, service: str | None, origin: geo.Point | None, moment: datetime) -> list[Place]:
    """Open stations first, then by distance (unknown distances last), then by name."""
    calendar = load_calendar()
    places = []
    for station in stations.stations(community_id, service=service):
        closes = stations.open_until(station, moment, calendar)
        places.append(Place(station, geo.distance_m(origin, (station.lat, station.lng)) if origin else None, closes,
                            None if closes else stations.next_opening(station, moment, calendar)))
    places.sort(key=lambda p: (not p.is_open, p.metres is None, p.metres or 0, p.station.name))
    return places


def origin_of(community_id: int, building_id: int | None) -> tuple[geo.Point | None, Building | None]:
    building = None
    if building_id is not None:
        found = units.building_point(building_id)
        building = db.session.get(Building, building_id)
        if building is not None and building.community_id == community_id and found is not None:
            return found, building
    return None, building


def _when(place: Place, moment: datetime) -> str:
    if place.is_open:
        return f"开放至{place.open_until}"
    if place.next_open is None:
        return "暂未登记开放时间"
    if to_local(place.next_open).date() == to_local(moment).date():
        return f"今天{to_local(place.next_open):%H:%M}开放"
    return f"{day_label(place.next_open)}{to_local(place.next_open):%H:%M}开放"


def _line(number: int, place: Place, moment: datetime) -> str:
    distance = f"，{geo.distance_text(place.metres)}" if place.metres is not None else ""
    phone = f"，电话{place.station.phone}" if place.station.phone else ""
    return f"{number}. {place.station.name}（{_when(place, moment)}{distance}）\n   地址：{place.station.address}{phone}"


def answer(places: list[Place], service: str, building: Building | None, moment: datetime) -> str:
    """The chat answer: up to three open places, and the nearest closed ones when few are open."""
    name = terms.terms().services.get(service, service)
    open_places = [p for p in places if p.is_open][:SHOWN_OPEN]
    closed = [p for p in places if not p.is_open][:SHOWN_CLOSED if len(open_places) < SHOWN_OPEN else 0]
    where = f"离{building.name}最近" if building is not None and places and places[0].metres is not None else "社区里"
    if open_places:
        lines = [f"{where}、现在开放的可以{name}的地方："]
    else:
        lines = [f"现在（{format_local(moment)}）可以{name}的地方都没有开放，最近的开放时间："]
    lines += [_line(i + 1, p, moment) for i, p in enumerate(open_places)]
    if open_places and closed:
        lines.append("现在未开放：")
    offset = len(open_places)
    lines += [_line(offset + i + 1, p, moment) for i, p in enumerate(closed)]
    if building is None or places[0].metres is None:
        lines.append("告诉我您住几栋（如“3栋附近哪里可以量血压”），我按距离帮您排。")
    return "\n".join(lines)
