"""Who may do what in the governance API, and the community a request is about."""
from __future__ import annotations

from flask import request

from app.api.support import current_resident, current_staff, id_arg, int_arg, require_role
from app.clock import now
from app.errors import Forbidden, NotFound
from app.extensions import db
from app.handlers.governance.roles import COLLECTORS, COMMITTEE, EDITORS, VIEWERS  # noqa: F401 - re-exported
from app.localtime import FIRST_YEAR, LAST_YEAR, local_date
from app.models import Community, Resident, Role, Staff

TAGS = ["governance"]

YEAR_QUERY = {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR}


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
    return int_arg("year", local_date(now()).year, minimum=FIRST_YEAR, maximum=LAST_YEAR)


def statuses(name: str = "status") -> list[str] | None:
    raw = (request.args.get(name) or "").strip()
    return [part.strip() for part in raw.split(",") if part.strip()] or None
