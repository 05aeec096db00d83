"""The year's co-governance figures of a community: what units and members brought, the lists, 议事."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.localtime import at_local
from app.models import (
    Claim,
    Community,
    Contribution,
    HoursEntry,
    Need,
    PartnerUnit,
    PartyMember,
    Project,
    Resource,
    Suggestion,
    Topic,
    Vote,
)
from app.models.deliberation import STAGES
from app.models.governance import CONTRIBUTION_KINDS, NEED_STATUSES, UNIT_KINDS


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return at_local(date(year, 1, 1)), at_local(date(year + 1, 1, 1))


def _contribution_sums(community_id: int, year: int) -> dict[tuple[str, int], dict[str, float]]:
    """(party type, id) -> {kind/unit: total} for the year."""
    sums: dict[tuple[str, int], dict[str, float]] = defaultdict(dict)
    for unit_id, member_id, kind, unit_label, total in db.session.execute(select(
            Contribution.unit_id, Contribution.member_id, Contribution.kind, Contribution.quantity_unit,
            func.sum(Contribution.quantity)).where(Contribution.community_id == community_id,
                                                   Contribution.year == year)
            .group_by(Contribution.unit_id, Contribution.member_id, Contribution.kind, Contribution.quantity_unit)):
        key = ("unit", unit_id) if unit_id is not None else ("member", member_id)
        label = "hours" if kind == "hours" else f"{kind}:{unit_label}"
        sums[key][label] = round(sums[key].get(label, 0.0) + float(total or 0), 2)
    return sums


def _participation(community_id: int, start: datetime, end: datetime) -> tuple[dict, dict]:
    """(party) -> needs claimed in the year, and -> projects (of claimed needs) started in the year."""
    claimed: dict[tuple[str, int], int] = defaultdict(int)
    projects: dict[tuple[str, int], int] = defaultdict(int)
    rows = db.session.execute(select(Claim.unit_id, Claim.member_id, Project.id, Project.created_at, Claim.created_at)
                              .outerjoin(Project, Project.need_id == Claim.need_id)
                              .where(Claim.community_id == community_id, Claim.status == "active")).all()
    for unit_id, member_id, project_id, project_at, claim_at in rows:
        key = ("unit", unit_id) if unit_id is not None else ("member", member_id)
        if start <= claim_at < end:
            claimed[key] += 1
        if project_id is not None and start <= project_at < end:
            projects[key] += 1
    return claimed, projects


def _others(totals: dict[str, float]) -> str:
    """物资30件、资金5000元 — what is not hours, in words."""
    parts = []
    for label, value in sorted(totals.items()):
        if label == "hours":
            continue
        kind, _, unit = label.partition(":")
        parts.append(f"{CONTRIBUTION_KINDS.get(kind, kind)}{value:g}{unit}")
    return "、".join(parts)


def community_report(community: Community, year: int) -> dict[str, Any]:
    start, end = year_bounds(year)
    cid = community.id
    sums = _contribution_sums(cid, year)
    claimed, joined = _participation(cid, start, end)
    unit_rows = []
    for unit in db.session.scalars(select(PartnerUnit).where(PartnerUnit.community_id == cid).order_by(PartnerUnit.id)):
        key = ("unit", unit.id)
        resources = db.session.scalar(select(func.count()).select_from(Resource).where(
            Resource.unit_id == unit.id, Resource.status == "active")) or 0
        unit_rows.append({"unit_id": unit.id, "name": unit.name, "kind": UNIT_KINDS.get(unit.kind, unit.kind),
                          "contact_name": unit.contact_name, "phone": unit.phone, "resources": resources,
                          "needs_claimed": claimed.get(key, 0), "projects": joined.get(key, 0),
                          "hours": sums.get(key, {}).get("hours", 0.0), "other": _others(sums.get(key, {})),
                          "active": unit.active})
    member_hours = dict(db.session.execute(select(HoursEntry.member_id, func.sum(HoursEntry.minutes)).where(
        HoursEntry.community_id == cid, HoursEntry.year == year).group_by(HoursEntry.member_id)).all())
    member_rows = []
    for member in db.session.scalars(select(PartyMember).where(PartyMember.community_id == cid)
                                     .order_by(PartyMember.kind, PartyMember.id)):
        key = ("member", member.id)
        if not member.active and key not in sums:
            continue
        member_rows.append({"member_id": member.id, "name": member.name, "kind": member.kind,
                            "work_unit": member.work_unit, "party_org": member.party_org,
                            "needs_claimed": claimed.get(key, 0), "projects": joined.get(key, 0),
                            "project_hours": sums.get(key, {}).get("hours", 0.0),
                            "volunteer_hours": round((member_hours.get(member.id) or 0) / 60, 2),
                            "other": _others(sums.get(key, {}))})
    return {"community": {"id": cid, "name": community.name}, "year": year,
            "summary": _summary(cid, year, start, end, unit_rows, member_rows),
            "units": unit_rows, "members": member_rows}


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def _summary(cid: int, year: int, start: datetime, end: datetime, unit_rows: list, member_rows: list) -> dict:
    needs_by_status = dict(db.session.execute(select(Need.status, func.count()).where(
        Need.community_id == cid, Need.created_at >= start, Need.created_at < end).group_by(Need.status)).all())
    hours = db.session.scalar(select(func.coalesce(func.sum(Contribution.quantity), 0)).where(
        Contribution.community_id == cid, Contribution.year == year, Contribution.kind == "hours")) or 0
    beneficiaries = db.session.scalar(select(func.coalesce(func.sum(Project.beneficiaries), 0)).where(
        Project.community_id == cid, Project.status == "done", Project.completed_at >= start,
        Project.completed_at < end)) or 0
    topics_by_stage = dict(db.session.execute(select(Topic.stage, func.count()).where(
        Topic.community_id == cid, Topic.created_at >= start, Topic.created_at < end).group_by(Topic.stage)).all())
    suggestions = _count(Suggestion, Suggestion.community_id == cid, Suggestion.created_at >= start,
                         Suggestion.created_at < end)
    answered = _count(Suggestion, Suggestion.community_id == cid, Suggestion.created_at >= start,
                      Suggestion.created_at < end, Suggestion.answered_at.is_not(None))
    return {
        "units": sum(1 for u in unit_rows if u["active"]), "units_contributing": sum(
            1 for u in unit_rows if u["needs_claimed"] or u["projects"] or u["hours"]),
        "members": sum(1 for m in member_rows if m["kind"] == "party"),
        "members_contributing": sum(1 for m in member_rows if m["needs_claimed"] or m["project_hours"]),
        "resources": _count(Resource, Resource.community_id == cid, Resource.status == "active"),
        "needs": sum(needs_by_status.values()),
        "needs_by_status": {NEED_STATUSES.get(k, k): v for k, v in needs_by_status.items()},
        "needs_claimed": sum(v for k, v in needs_by_status.items() if k in ("claimed", "in_project", "done")),
        "projects_started": _count(Project, Project.community_id == cid, Project.created_at >= start,
                                   Project.created_at < end),
        "projects_done": _count(Project, Project.community_id == cid, Project.status == "done",
                                Project.completed_at >= start, Project.completed_at < end),
        "hours": round(float(hours), 2), "beneficiaries": int(beneficiaries),
        "topics": sum(topics_by_stage.values()),
        "topics_by_stage": {STAGES.get(k, k): v for k, v in topics_by_stage.items()},
        "topics_closed": topics_by_stage.get("closed", 0),
        "votes": _count(Vote, Vote.topic_id.in_(select(Topic.id).where(Topic.community_id == cid)),
                        Vote.created_at >= start, Vote.created_at < end),
        "suggestions": suggestions, "suggestions_answered": answered,
    }
