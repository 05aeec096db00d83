"""Who sees which requests and who may act on them (404 for what is out of sight, 403 for a role)."""
from __future__ import annotations

from sqlalchemy import and_, false, func, or_, select

from app.errors import Forbidden
from app.extensions import db
from app.handlers.requests.rules import ACTION_LABELS, ACTION_ROLES
from app.models import Community, Role, Staff
from app.models.requests import Level, ServiceRequest


def is_plain_grid_worker(staff: Staff) -> bool:
    return staff.has_role(Role.GRID_WORKER) and not staff.has_role(
        Role.DUTY, Role.GRID_LEADER, Role.COMMUNITY_ADMIN, Role.STREET_ADMIN)


def visible_clause(staff: Staff):
    """SQL condition for the requests a staff member may see at all (others are 404 to them).

    Community staff: their community. Department staff: only what was escalated
    to their department (吹哨报到). Street admins: what their communities escalated
    to the street or to a department.
    """
    if staff.has_role(Role.DEPARTMENT) and staff.department_id:
        return and_(ServiceRequest.escalation_level == Level.DEPARTMENT.value,
                    ServiceRequest.department_id == staff.department_id)
    conditions = []
    if staff.community_id:
        conditions.append(ServiceRequest.community_id == staff.community_id)
    if staff.has_role(Role.STREET_ADMIN) and staff.street_id:
        conditions.append(and_(
            ServiceRequest.community_id.in_(select(Community.id).where(Community.street_id == staff.street_id)),
            ServiceRequest.escalation_level.in_((Level.STREET.value, Level.DEPARTMENT.value))))
    if not conditions:
        return false()
    return or_(*conditions)


def can_see(staff: Staff, request: ServiceRequest) -> bool:
    return db.session.scalar(select(func.count()).select_from(ServiceRequest).where(
        ServiceRequest.id == request.id, visible_clause(staff))) > 0


def authorize(staff: Staff, action: str, request: ServiceRequest | None = None) -> None:
    """Raise Forbidden (403) when the staff member's roles do not allow ``action``."""
    allowed = ACTION_ROLES.get(action, frozenset())
    if not staff.roles & allowed:
        what = {"stats": "查看统计", "view": "查看诉求"}.get(action) or ACTION_LABELS.get(action, "执行此操作")
        raise Forbidden(f"您的角色不能{what} (role not allowed: {action})")
    if request is None:
        return
    if action in ("start", "escalate", "resolve") and is_plain_grid_worker(staff):
        if request.assignee_id != staff.id and (staff.grid_id is None or request.grid_id != staff.grid_id):
            raise Forbidden("网格员只能处理本网格或派给自己的诉求 (not your grid)")
    if action in ("start", "resolve") and staff.has_role(Role.DEPARTMENT) and staff.department_id:
        if request.escalation_level != Level.DEPARTMENT.value or request.department_id != staff.department_id:
            raise Forbidden("只能处理吹哨到本部门的诉求 (not escalated to your department)")
