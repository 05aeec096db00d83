"""What the public sees of co-governance: the board's 议事 and 共建项目 section, and the service map
drawn from the community's own coordinates (no map tiles).

Public by design: topics past the collect step with their vote counts and decisions, the staff
owner's name, projects with their progress and partner units. Never a resident's name or
words (a comment may name a neighbour), nor a 双报到 member's name (counted, not named).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.handlers.governance import claims, geo, nearby, stations, terms, topic_views, votes
from app.localtime import local_date
from app.models import Building, BuildingLocation, PartnerUnit, Project, Staff, Topic
from app.models.deliberation import STAGES
from app.workcal import load_calendar

PUBLIC_STAGES = ("topic", "deliberate", "carry_out", "review", "closed")
RECENT_DAYS = 30
SHOWN = 6
MAP_WIDTH, MAP_HEIGHT = 800, 600


def _counts(topic: Topic, round_: str) -> dict[str, Any] | None:
    opened = topic.vote_opened_at if round_ == "vote" else topic.review_opened_at
    if opened is None:
        return None
    outcome = votes.result(topic, round_)
    return {"open": outcome["open"], "total": outcome["total"],
            "counts": [{k: c[k] for k in ("label", "count", "share")} for c in outcome["counts"]]}


def _topic(topic: Topic) -> dict[str, Any]:
    owner = db.session.get(Staff, topic.owner_staff_id) if topic.owner_staff_id else None
    return {"label": topic.label, "title": topic.title, "stage": topic.stage,
            "stage_label": STAGES.get(topic.stage, topic.stage), "decision": topic.decision,
            "owner": owner.name if owner else None, "deadline": topic.deadline, "steps": topic_views.steps(topic),
            "vote": _counts(topic, "vote"), "review": _counts(topic, "review")}


def _project(project: Project) -> dict[str, Any]:
    partners = claims.active_claims(project.need_id)
    unit_ids = [c.unit_id for c in partners if c.unit_id]
    names = dict(db.session.execute(select(PartnerUnit.id, PartnerUnit.name).where(
        PartnerUnit.id.in_(unit_ids))).all()) if unit_ids else {}
    owner = db.session.get(Staff, project.owner_staff_id)
    return {"code": project.code, "title": project.title, "status": project.status, "progress": project.progress,
            "owner": owner.name if owner else None, "deadline": project.deadline,
            "units": [names[i] for i in unit_ids if i in names],
            "members": sum(1 for c in partners if c.member_id)}


def board_section(community_id: int, moment: datetime) -> dict[str, Any]:
    """Topics in progress (and closed in the last 30 days), projects in progress (and done lately)."""
    since = moment - timedelta(days=RECENT_DAYS)
    topics = db.session.scalars(select(Topic).where(
        Topic.community_id == community_id, Topic.stage.in_(PUBLIC_STAGES)).order_by(Topic.number.desc())).all()
    shown = [t for t in topics if t.stage != "closed" or (t.review_closed_at or t.created_at) >= since][:SHOWN]
    projects = db.session.scalars(select(Project).where(
        Project.community_id == community_id, Project.status.in_(("in_progress", "done")))
        .order_by(Project.id.desc())).all()
    recent = [p for p in projects if p.status == "in_progress" or (p.completed_at and p.completed_at >= since)]
    return {"topics": [_topic(t) for t in shown], "projects": [_project(p) for p in recent[:SHOWN]],
            "today": local_date(moment)}


def service_map(community_id: int, moment: datetime, *, service: str | None = None,
                building_id: int | None = None) -> dict[str, Any]:
    """The stations and buildings placed on one drawing, north up, true to scale; the nearest list."""
    calendar = load_calendar()
    buildings = db.session.execute(select(Building, BuildingLocation).join(
        BuildingLocation, BuildingLocation.building_id == Building.id).where(
        Building.community_id == community_id).order_by(Building.id)).all()
    all_stations = stations.stations(community_id)
    points = [(loc.lat, loc.lng) for _b, loc in buildings] + [(s.lat, s.lng) for s in all_stations]
    plan = geo.Plan.around(points, MAP_WIDTH, MAP_HEIGHT)
    origin, origin_building = nearby.origin_of(community_id, building_id)
    places = nearby.nearest(community_id, service, origin, moment)
    listed = []
    for place in places:
        view = stations.station_view(place.station, moment, calendar)
        view["xy"] = plan.xy((place.station.lat, place.station.lng))
        view["distance"] = geo.distance_text(place.metres) if place.metres is not None else None
        listed.append(view)
    return {"width": MAP_WIDTH, "height": MAP_HEIGHT, "stations": listed,
            "buildings": [{"id": b.id, "name": b.name, "number": b.number, "xy": plan.xy((loc.lat, loc.lng))}
                          for b, loc in buildings],
            "services": terms.terms().services, "service": service,
            "origin": {"id": origin_building.id, "name": origin_building.name, "xy": plan.xy(origin)}
            if origin and origin_building else None,
            "scale_100m": plan.metres_to_units(100) if points else None}
