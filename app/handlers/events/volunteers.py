"""双报到 and volunteers: the community's member registry and its volunteer projects.

A member is an in-service party member reporting to the community (报到党员: work unit
and party organisation required) or a registered volunteer. Each chooses at least one
volunteer project a year. Their hours are in hours.py, the community report in
report.py, micro-wishes in wishes.py.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.audit import record
from app.handlers.events.errors import refusal
from app.handlers.org.profile import adopt_community
from app.localtime import FIRST_YEAR, LAST_YEAR, iso, to_local
from app.models import Resident, Staff
from app.models.masking import mask_name
from app.models.volunteers import MemberKind, MemberProject, PartyMember, VolunteerProject

PHONE = re.compile(r"^1\d{10}$")


def text_field(value: Any, name: str, label: str, *, required: bool, max_length: int) -> str | None:
    """A stripped text input, or None when empty and optional; refuses with the field named."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise refusal(f"请填写{label}", "invalid", 400, field=name)
        return None
    if not isinstance(value, str):
        raise refusal(f"{label}格式不对", "invalid", 400, field=name)
    value = value.strip()
    if len(value) > max_length:
        raise refusal(f"{label}过长（最多{max_length}字）", "invalid", 400, field=name)
    return value


def _member_values(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    kind = data.get("kind", None if partial else MemberKind.PARTY.value)
    if kind is not None:
        # A list or object is not a kind either (and is unhashable: a set lookup would raise).
        if not isinstance(kind, str) or kind not in {k.value for k in MemberKind}:
            raise refusal("成员类型无效，可选：party（在职党员）, volunteer（志愿者）", "invalid", 400, field="kind")
        values["kind"] = kind
    party = (kind or MemberKind.PARTY.value) == MemberKind.PARTY.value
    for name, label, required, max_length in (("name", "姓名", True, 100), ("work_unit", "工作单位", party, 200),
                                             ("party_org", "所在党组织", party, 200), ("phone", "手机号", False, 30)):
        if partial and name not in data:
            continue
        values[name] = text_field(data.get(name), name, label, required=required, max_length=max_length)
    if values.get("phone") is not None:
        phone = re.sub(r"[\s-]", "", values["phone"])
        if not PHONE.match(phone):
            raise refusal("手机号应为11位数字", "invalid", 400, field="phone")
        values["phone"] = phone
    return values


def member_for_resident(community_id: int, resident_id: int) -> PartyMember | None:
    return db.session.scalars(select(PartyMember).where(
        PartyMember.community_id == community_id, PartyMember.resident_id == resident_id)).first()


def register_member(community_id: int, data: dict[str, Any], *, resident: Resident | None = None,
                    staff: Staff | None = None) -> tuple[PartyMember, bool]:
    """Register (or, for a resident already registered, update) a member. Returns (member, created)."""
    values = _member_values(data, partial=False)
    project_ids = project_ids_arg(community_id, data.get("project_ids"))
    year = year_arg(data.get("year"))
    member = member_for_resident(community_id, resident.id) if resident is not None else None
    created = member is None
    if member is None:
        member = PartyMember(community_id=community_id, resident_id=resident.id if resident else None,
                             registered_at=clock_now(), registered_by_staff_id=staff.id if staff else None,
                             active=True, **values)
        db.session.add(member)
    else:
        for name, value in values.items():
            setattr(member, name, value)
        member.active = True
    try:
        db.session.flush()
        for project_id in project_ids:
            _add_project(member, project_id, year)
        record("staff" if staff else "resident", staff.id if staff else (resident.id if resident else None),
               "member.register" if created else "member.update", member, community_id=community_id,
               detail={"kind": member.kind, "projects": project_ids})
        adopt_community(resident, community_id)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise refusal("该手机号已在本社区登记", "duplicate_phone", field="phone") from None
    return member, created


def update_member(member: PartyMember, data: dict[str, Any], staff: Staff) -> PartyMember:
    values = _member_values(data, partial=True)
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise refusal("active 必须是 true 或 false", "invalid", 400, field="active")
        values["active"] = data["active"]
    for name, value in values.items():
        setattr(member, name, value)
    try:
        record("staff", staff.id, "member.update", member, community_id=member.community_id,
               detail={"fields": sorted(values)})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise refusal("该手机号已在本社区登记", "duplicate_phone", field="phone") from None
    return member


def current_year() -> int:
    return to_local(clock_now()).year


def year_arg(value: Any) -> int:
    """A year from a request (this year when absent)."""
    if value is None:
        return current_year()
    if isinstance(value, bool) or not isinstance(value, int) or not FIRST_YEAR <= value <= LAST_YEAR:
        raise refusal("年份无效", "invalid", 400, field="year")
    return value


def project_ids_arg(community_id: int, raw: Any) -> list[int]:
    """Project ids from a request: each an active project of the community; duplicates dropped."""
    if raw is None:
        return []
    if not isinstance(raw, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in raw):
        raise refusal("project_ids 必须是项目编号列表", "invalid", 400, field="project_ids")
    for project_id in raw:
        project = db.session.get(VolunteerProject, project_id)
        if project is None or project.community_id != community_id or not project.active:
            raise refusal(f"没有找到志愿服务项目 {project_id}", "not_found", 404, field="project_ids")
    return list(dict.fromkeys(raw))


def _add_project(member: PartyMember, project_id: int, year: int) -> MemberProject:
    existing = db.session.scalars(select(MemberProject).where(
        MemberProject.member_id == member.id, MemberProject.project_id == project_id,
        MemberProject.year == year)).first()
    if existing is not None:
        return existing
    row = MemberProject(member_id=member.id, project_id=project_id, year=year, joined_at=clock_now())
    db.session.add(row)
    db.session.flush()
    return row


def choose_projects(member: PartyMember, project_ids: Any, year: Any = None, *,
                    actor: tuple[str, int | None]) -> list[MemberProject]:
    ids = project_ids_arg(member.community_id, project_ids)
    if not ids:
        raise refusal("请选择至少一个志愿服务项目", "invalid", 400, field="project_ids")
    the_year = year_arg(year)
    rows = [_add_project(member, project_id, the_year) for project_id in ids]
    record(actor[0], actor[1], "member.projects", member, community_id=member.community_id,
           detail={"projects": ids, "year": the_year})
    db.session.commit()
    return rows


def create_project(community_id: int, data: dict[str, Any], staff: Staff) -> VolunteerProject:
    name = text_field(data.get("name"), "name", "项目名称", required=True, max_length=100)
    description = text_field(data.get("description"), "description", "项目说明", required=False, max_length=2000)
    project = VolunteerProject(community_id=community_id, name=name, description=description, active=True)
    db.session.add(project)
    try:
        db.session.flush()
        record("staff", staff.id, "project.create", project, community_id=community_id)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise refusal("已有同名的志愿服务项目", "duplicate", field="name") from None
    return project


def member_view(member: PartyMember, *, for_staff: bool = True) -> dict[str, Any]:
    view = {"id": member.id, "community_id": member.community_id, "resident_id": member.resident_id,
            "kind": member.kind, "name": member.name if for_staff else mask_name(member.name),
            "work_unit": member.work_unit, "party_org": member.party_org,
            "registered_at": iso(member.registered_at), "active": member.active}
    if for_staff:
        view["phone"] = member.phone
    return view
