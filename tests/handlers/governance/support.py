"""A small community for the governance tests: buildings with coordinates, staff, residents, a group, units."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from app.clock import now
from app.extensions import db
from app.models import BuildingLocation, PartyMember, Resident, ServiceRequest
from tests import factories

# Around 31.78 N, 119.97 E (a compound in Changzhou): 0.001 degree of latitude is about 111 m.
ORIGIN = (31.7800, 119.9700)


@dataclass
class World:
    community: Any
    grid: Any
    buildings: dict[str, Any]
    admin: Any
    duty: Any
    grid_worker: Any
    group: Any
    residents: list[Any]
    other: Any = None                      # another community
    other_admin: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def locate(building, north_m: float = 0, east_m: float = 0) -> BuildingLocation:
    row = BuildingLocation(building_id=building.id, community_id=building.community_id,
                           lat=ORIGIN[0] + north_m / 111_000, lng=ORIGIN[1] + east_m / 94_400)
    db.session.add(row)
    db.session.flush()
    return row


def point(north_m: float = 0, east_m: float = 0) -> tuple[float, float]:
    return ORIGIN[0] + north_m / 111_000, ORIGIN[1] + east_m / 94_400


def world() -> World:
    community = factories.community(name="富强测试社区", phone="0519-86600000")
    grid = factories.grid(community=community, name="第一网格")
    buildings = {n: factories.building(community=community, grid=grid, number=n, name=f"{n}号楼") for n in "123"}
    locate(buildings["1"], 0, 0)
    locate(buildings["2"], 200, 0)
    locate(buildings["3"], 0, 800)
    admin = factories.staff(roles=("community_admin", "duty"), community=community, name="王书记")
    duty = factories.staff(roles=("duty",), community=community, name="张值班")
    grid_worker = factories.staff(roles=("grid_worker",), community=community, grid_id=grid.id, name="孙网格")
    group = factories.group(community=community, chat_id="wrwG-gov", channel="group", grid_id=grid.id)
    residents = []
    for index, (name, number) in enumerate((("陈桂芳", "1"), ("刘德福", "2"), ("周晓燕", "3"), ("吴建平", "1"))):
        residents.append(factories.resident(
            community_id=community.id, building_id=buildings[number].id, name=name,
            identities=[("group", "group_member", f"member-{index + 1}"), ("mp", "openid", f"oGOV{index + 1}")]))
    other = factories.community(name="别的社区")
    other_admin = factories.staff(roles=("community_admin",), community=other, name="外社区书记")
    db.session.commit()
    return World(community, grid, buildings, admin, duty, grid_worker, group, residents, other, other_admin)


def member(w: World, resident: Resident | None = None, **kw) -> PartyMember:
    row = PartyMember(community_id=w.community.id, resident_id=resident.id if resident else None,
                      kind=kw.pop("kind", "party"), name=kw.pop("name", resident.name if resident else "党员"),
                      phone=kw.pop("phone", None), work_unit=kw.pop("work_unit", "天宁区人民医院"),
                      party_org=kw.pop("party_org", "区人民医院党委"), **kw)
    db.session.add(row)
    db.session.commit()
    return row


SEQ = itertools.count(1)


def make_request(w, building, category="repair", title="楼道灯坏了", days_ago=1, status="acknowledged"):
    row = ServiceRequest(code=f"RT{next(SEQ):06d}",
                         community_id=w.community.id, building_id=building.id, grid_id=w.grid.id,
                         category=category, urgency="general", title=title, text=title, channel="group",
                         status=status, due_at=now() + timedelta(days=7),
                         created_at=now() - timedelta(days=days_ago))
    db.session.add(row)
    db.session.commit()
    return row
