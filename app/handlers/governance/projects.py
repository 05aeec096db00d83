"""项目清单: a claimed need becomes a co-building project with an owner, a plan, a deadline and progress."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.clock import now
from app.database import begin_write_transaction
from app.extensions import db
from app.handlers.audit import record
from app.handlers.governance import claims, fields, units
from app.handlers.governance.errors import not_found, refuse
from app.localtime import iso, local_date
from app.models import Contribution, Need, Project, ProjectUpdate, Staff
from app.models.governance import CONTRIBUTION_KINDS, PROJECT_STATUSES

PROJECT_FIELDS = ("title", "plan", "owner_staff_id", "lead_unit_id", "deadline", "beneficiaries")


def start_project(need: Need, data: dict[str, Any], staff: Staff) -> Project:
    """The need, with at least one partner, becomes a project (one project per need)."""
    fields.only_known(data, PROJECT_FIELDS)
    if need.status in ("done", "closed"):
        raise refuse("需求已完成或已关闭，不能立项", "invalid_state", 409)
    if db.session.scalar(select(Project.id).where(Project.need_id == need.id)):
        raise refuse("这个需求已经立项了", "already_project", 409)
    partners = claims.active_claims(need.id)
    if not partners:
        raise refuse("还没有单位或党员认领这个需求，请先认领或指派资源", "no_partner", 409)
    values = _values(need.community_id, data, partial=False)
    begin_write_transaction(db.session)
    values["title"] = values["title"] or need.title
    values["beneficiaries"] = values["beneficiaries"] if values["beneficiaries"] is not None else need.beneficiaries
    if values.get("lead_unit_id") is None:
        values["lead_unit_id"] = next((c.unit_id for c in partners if c.unit_id), None)
    project = _insert(need, values)
    need.status = "in_project"
    db.session.add(ProjectUpdate(project_id=project.id, at=now(), staff_id=staff.id, kind="created", progress=0,
                                 note=values.get("plan")))
    record("staff", staff.id, "governance.project.start", project, community_id=need.community_id,
           detail={"need_id": need.id, "code": project.code})
    db.session.commit()
    return project


def _insert(need: Need, values: dict[str, Any]) -> Project:
    """Number the project GJ<year>-<n> within the community; the unique code settles a race."""
    year = local_date(now()).year
    count = db.session.scalar(select(func.count()).select_from(Project).where(
        Project.community_id == need.community_id, Project.code.like(f"GJ{year}-%"))) or 0
    project = Project(community_id=need.community_id, need_id=need.id, code=f"GJ{year}-{count + 1:03d}", **values)
    db.session.add(project)
    try:
        db.session.flush()
    except IntegrityError:   # another project was numbered (or this need started) at the same moment
        db.session.rollback()
        raise refuse("项目刚刚被其他人创建或编号冲突，请刷新后重试", "conflict", 409) from None
    return project


def _values(community_id: int, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    readers = {
        "title": lambda: fields.text(data, "title", "项目名称", max_length=100),
        "plan": lambda: fields.text(data, "plan", "实施方案", max_length=4000),
        "deadline": lambda: fields.day(data, "deadline", "计划完成日期"),
        "beneficiaries": lambda: fields.integer(data, "beneficiaries", "受益人数", maximum=1_000_000),
        "owner_staff_id": lambda: _owner(community_id, data, required=not partial),
        "lead_unit_id": lambda: units.unit_in(community_id, data["lead_unit_id"], "lead_unit_id").id
        if fields.present(data, "lead_unit_id") else None,
    }
    for name, read in readers.items():
        if not partial or name in data:
            values[name] = read()
    if values.get("deadline") and values["deadline"] < local_date(now()) and not partial:
        raise refuse("计划完成日期不能早于今天", field="deadline")
    return values


def _owner(community_id: int, data: dict[str, Any], *, required: bool) -> int | None:
    owner_id = fields.ident(data, "owner_staff_id", "负责人", required=required)
    if owner_id is None:
        return None
    owner = db.session.get(Staff, owner_id)
    if owner is None or owner.community_id != community_id or not owner.active:
        raise not_found("负责人（本社区在职工作人员）", "owner_staff_id")
    return owner.id


def update_project(project: Project, data: dict[str, Any], staff: Staff) -> Project:
    fields.only_known(data, PROJECT_FIELDS)
    _check_open(project)
    values = _values(project.community_id, data, partial=True)
    if "owner_staff_id" in values and values["owner_staff_id"] is None:
        raise refuse("负责人不能为空", field="owner_staff_id")
    for name, value in values.items():
        if name == "title" and not value:
            continue
        setattr(project, name, value)
    record("staff", staff.id, "governance.project.update", project, community_id=project.community_id,
           detail={"fields": sorted(values)})
    db.session.commit()
    return project


def _check_open(project: Project) -> None:
    if project.status != "in_progress":
        raise refuse(f"项目{PROJECT_STATUSES.get(project.status, project.status)}，不能再修改", "invalid_state", 409)


def report_progress(project: Project, data: dict[str, Any], staff: Staff) -> ProjectUpdate:
    fields.only_known(data, ("progress", "note"))
    _check_open(project)
    progress = fields.integer(data, "progress", "进度（百分比）", required=True, maximum=99)
    note = fields.text(data, "note", "进展说明", required=True, max_length=2000)
    project.progress = progress
    update = ProjectUpdate(project_id=project.id, at=now(), staff_id=staff.id, kind="progress", progress=progress,
                           note=note)
    db.session.add(update)
    record("staff", staff.id, "governance.project.progress", project, community_id=project.community_id,
           detail={"progress": progress})
    db.session.commit()
    return update


def complete_project(project: Project, data: dict[str, Any], staff: Staff) -> Project:
    fields.only_known(data, ("summary", "beneficiaries"))
    _check_open(project)
    project.summary = fields.text(data, "summary", "完成情况", required=True, max_length=4000)
    beneficiaries = fields.integer(data, "beneficiaries", "受益人数", maximum=1_000_000)
    if beneficiaries is not None:
        project.beneficiaries = beneficiaries
    project.status, project.progress, project.completed_at = "done", 100, now()
    need = db.session.get(Need, project.need_id)
    need.status = "done"
    db.session.add(ProjectUpdate(project_id=project.id, at=now(), staff_id=staff.id, kind="done", progress=100,
                                 note=project.summary))
    record("staff", staff.id, "governance.project.done", project, community_id=project.community_id)
    db.session.commit()
    return project


def cancel_project(project: Project, reason: Any, staff: Staff) -> Project:
    _check_open(project)
    reason = fields.text({"reason": reason}, "reason", "取消原因", required=True, max_length=500)
    project.status = "cancelled"
    need = db.session.get(Need, project.need_id)
    need.status = "claimed" if claims.active_claims(need.id) else "open"
    db.session.add(ProjectUpdate(project_id=project.id, at=now(), staff_id=staff.id, kind="cancelled", note=reason))
    record("staff", staff.id, "governance.project.cancel", project, community_id=project.community_id,
           detail={"reason": reason})
    db.session.commit()
    return project


def project_in(community_id: int, project_id: Any, field: str = "project_id") -> Project:
    project = db.session.get(Project, fields.as_id(project_id, field, "项目"))
    if project is None or project.community_id != community_id:
        raise not_found("项目", field)
    return project


def projects(community_id: int, *, status: str | None = None) -> list[Project]:
    statement = select(Project).where(Project.community_id == community_id)
    if status:
        statement = statement.where(Project.status == status)
    return list(db.session.scalars(statement.order_by(Project.created_at.desc(), Project.id.desc())))


def totals(project_id: int) -> list[dict[str, Any]]:
    """Per partner and kind: what the project has counted so far."""
    rows = db.session.execute(select(
        Contribution.unit_id, Contribution.member_id, Contribution.kind, Contribution.quantity_unit,
        func.sum(Contribution.quantity)).where(Contribution.project_id == project_id).group_by(
        Contribution.unit_id, Contribution.member_id, Contribution.kind, Contribution.quantity_unit)).all()
    return [{"party": units.party_view(unit_id, member_id), "kind": kind,
             "kind_label": CONTRIBUTION_KINDS.get(kind, kind), "quantity": round(float(total or 0), 2),
             "quantity_unit": unit_label} for unit_id, member_id, kind, unit_label, total in rows]


def project_view(project: Project, *, detail: bool = False) -> dict[str, Any]:
    owner = db.session.get(Staff, project.owner_staff_id)
    partners = claims.active_claims(project.need_id)
    hours = db.session.scalar(select(func.coalesce(func.sum(Contribution.quantity), 0)).where(
        Contribution.project_id == project.id, Contribution.kind == "hours"))
    view = {"id": project.id, "code": project.code, "community_id": project.community_id,
            "need_id": project.need_id, "title": project.title, "plan": project.plan,
            "owner": owner.public_view() if owner else None,
            "lead_unit": units.party_view(project.lead_unit_id, None) if project.lead_unit_id else None,
            "partners": [units.party_view(c.unit_id, c.member_id) for c in partners],
            "deadline": project.deadline.isoformat() if project.deadline else None,
            "overdue": bool(project.deadline and project.status == "in_progress"
                            and project.deadline < local_date(now())),
            "status": project.status, "status_label": PROJECT_STATUSES.get(project.status, project.status),
            "progress": project.progress, "hours": round(float(hours or 0), 2),
            "beneficiaries": project.beneficiaries, "summary": project.summary,
            "completed_at": iso(project.completed_at), "created_at": iso(project.created_at)}
    if detail:
        updates = db.session.scalars(select(ProjectUpdate).where(ProjectUpdate.project_id == project.id)
                                     .order_by(ProjectUpdate.id)).all()
        view["timeline"] = [{"id": u.id, "at": iso(u.at), "kind": u.kind, "progress": u.progress, "note": u.note,
                             "staff": (db.session.get(Staff, u.staff_id).public_view() if u.staff_id else None)}
                            for u in updates]
        view["contributions"] = totals(project.id)
    return view
