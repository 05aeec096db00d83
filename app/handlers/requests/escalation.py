"""吹哨报到: a request moves up grid → community → street → department, never down, with a reason.

The level above is told at once: the department's staff, the street admins, or
the community admins (in their WeCom app).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.errors import ValidationError
from app.extensions import db
from app.handlers.requests.notify import community_admins, notify_staff, summary_line
from app.handlers.requests.rules import clean_text
from app.handlers.requests.timeline import require_status, transition
from app.localtime import format_local
from app.models import Community, Department, Role, Staff
from app.models.requests import LEVEL_LABELS, LEVELS, OPEN_STATUSES, Level, RequestStatus, ServiceRequest


def _department(request: ServiceRequest, level: str, department_id: int | None) -> Department | None:
    """The department to escalate to (only for level department, and of the request's street)."""
    if level != Level.DEPARTMENT.value:
        if department_id is not None:
            raise ValidationError("只有吹哨到职能部门时才填写部门 (department_id only for level department)",
                                  field="department_id")
        return None
    if department_id is None:
        raise ValidationError("吹哨到职能部门时请选择部门 (department_id required)", field="department_id")
    department = db.session.get(Department, department_id)
    community = db.session.get(Community, request.community_id)
    if department is None or department.street_id not in (None, community.street_id):
        raise ValidationError("部门不存在或不属于本街道 (unknown department)", field="department_id")
    return department


def _receivers(request: ServiceRequest, level: str, department: Department | None) -> list[Staff]:
    if department is not None:
        return list(db.session.scalars(select(Staff).where(Staff.department_id == department.id)).all())
    if level == Level.STREET.value:
        community = db.session.get(Community, request.community_id)
        return [m for m in db.session.scalars(select(Staff).where(Staff.street_id == community.street_id))
                if m.has_role(Role.STREET_ADMIN)]
    return community_admins(request.community_id)


def escalate(request: ServiceRequest, actor: Any, *, level: str, reason: str,
             department_id: int | None = None) -> ServiceRequest:
    """吹哨: move up grid → community → street → department (never down), with a reason."""
    if level not in LEVELS:
        raise ValidationError(f"层级无效 (level one of {', '.join(LEVELS)})", field="level")
    reason = clean_text(reason, "reason", 500, label="吹哨原因")
    require_status(request, "escalate", OPEN_STATUSES)
    current = request.escalation_level
    if LEVELS.index(level) <= LEVELS.index(current):
        raise ValidationError(f"只能向上吹哨：当前已在{LEVEL_LABELS[current]}层级 (level must be above {current})",
                              field="level")
    department = _department(request, level, department_id)
    previous = request.assignee_id
    request.escalation_level = level
    request.department_id = department.id if department else None
    request.assignee_id = None
    row = transition(request, actor, "escalate", "escalated", RequestStatus.DISPATCHED.value, OPEN_STATUSES,
                     detail={"from_level": current, "to_level": level, "reason": reason,
                             "department_id": department.id if department else None,
                             "department_name": department.name if department else None,
                             "previous_assignee_id": previous})
    db.session.commit()
    notify_staff(_receivers(request, level, department),
                 f"【吹哨】诉求{request.code}（{summary_line(request)}）由{LEVEL_LABELS[current]}上报至"
                 f"{department.name if department else LEVEL_LABELS[level]}：{reason}。"
                 f"办理时限{format_local(request.due_at)}。",
                 f"request:{request.id}:escalate:{row.id}", request)
    return request
