"""Who may do what in the governance API, and the community a request is about."""
from __future__ import annotations

from flask import request

from app.api.support import current_resident, current_staff, id_arg, int_arg, require_role
from app.clock import now
from app.errors import Forbidden, NotFound
from app.extensions import db
from app.localtime import local_date
from app.models import Community, Resident, Role, Staff

TAGS = ["governance"]
# Everyone working in the community sees the lists, the projects, the topics and the map.
VIEWERS = (Role.COMMUNITY_ADMIN.value, Role.DUTY.value, Role.GRID_LEADER.value, Role.GRID_WORKER.value)
# The lists, projects and the map are kept by the community's admins, the duty team (两委) and grid leaders.
EDITORS = (Role.COMMUNITY_ADMIN.value, Role.DUTY.value, Role.GRID_LEADER.value)
# Grid workers also bring needs and suggestions from their rounds (每日巡、经常访).
COLLECTORS = EDITORS + (Role.GRID_WORKER.value,)
# 议事 is run by the community committee: admins and the duty team (两委 members).
COMMITTEE = (Role.COMMUNITY_ADMIN.value, Role.DUTY.value)

YEAR_QUERY = {"type": "integer", "minimum": 2000, "maximum": 2100}


def staff_of(*roles: str) -> Staff:
    staff = current_staff()
    if staff.community_id is None:
        raise Forbidden("仅限社区工作人员 (community staff only)")
    require_role(staff, *roles)
    return staff


def community_for_report() -> tuple[Community, Staff]:
    """Community staff: their own; a street admin: ?community_id= of a community of the street."""
    staff = current_staff()
    if staff.community_id is not None:
        require_role(staff, *VIEWERS)
        return db.session.get(Community, staff.community_id), staff
    require_role(staff, Role.STREET_ADMIN.value)
    community_id = id_arg("community_id")
    community = db.session.get(Community, community_id) if community_id else None
    if community is None or community.street_id != staff.street_id:
        raise NotFound("没有找到本街道的这个社区 (community_id of a community of your street)")
    return community, staff


def resident_here() -> Resident:
    resident = current_resident()
    if resident.community_id is None:
        raise Forbidden("请先选择所在社区 (resident has no community)")
    return resident


def year() -> int:
    return int_arg("year", local_date(now()).year, minimum=2000, maximum=2100)


def statuses(name: str = "status") -> list[str] | None:
    raw = (request.args.get(name) or "").strip()
    return [part.strip() for part in raw.split(",") if part.strip()] or None
