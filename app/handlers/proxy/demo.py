"""Demo data of proxy-handling: the default catalogue and a station for the demo community.

``seed_demo_catalogue`` runs inside the demo's transaction (no commit) and
returns lines for its summary (app/handlers/demo.py).
"""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.handlers.proxy.catalogue import load_catalogue
from app.handlers.proxy.stations import create_station, hours_summary, parse_hours_spec
from app.models import Community
from app.models.proxy import Station

DEMO_HOURS = ["mon-fri 08:30-11:30,14:00-17:30", "sat 09:00-11:30x1"]


def seed_demo_station(community: Community, *, commit: bool = True) -> Station:
    """The demo community's station: weekdays with a lunch break, Saturday mornings with one person."""
    existing = db.session.scalars(select(Station).where(Station.community_id == community.id)).first()
    if existing is not None:
        return existing
    rows = [row for spec in DEMO_HOURS for row in parse_hours_spec(spec)]
    station = create_station(community.id, {
        "name": "政务代办站", "address": f"{community.address or community.name}党群服务中心一楼便民服务大厅",
        "slot_minutes": 30, "capacity": 2, "hours": rows})
    if commit:
        db.session.commit()
    return station


def seed_demo_catalogue(community: Community) -> list[str]:
    """The default catalogue and the 政务代办站 for the demo community; lines for the demo's summary."""
    result = load_catalogue(community, update=False, commit=False)
    station = seed_demo_station(community, commit=False)
    return [f"代办事项 / catalogue items: {len(result.created)} new, {len(result.unchanged)} kept",
            f"代办站 / station: {station.name}（{hours_summary(station)}）"]
