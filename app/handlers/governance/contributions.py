"""Counting what each partner gave a project: hours, items, money, a room, a vehicle (谁组织谁记录).

Entries are append-only; a correction is a negative entry with a note. A 双报到
member's hours are also written as a volunteer-hours entry (kind ``admin``,
recorded by the same staff member), so they count toward the member's 24 hours
in the 双报到 report without being entered twice.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from app.clock import now
from app.extensions import db
from app.handlers.audit import record
from app.handlers.governance import claims, fields, resources, units
from app.handlers.governance.errors import refuse
from app.localtime import iso, local_date
from app.models import Contribution, HoursEntry, Need, Project, Staff
from app.models.governance import CONTRIBUTION_KINDS

CONTRIBUTION_FIELDS = ("unit_id", "member_id", "kind", "quantity", "quantity_unit", "served_on", "note",
                       "resource_id")
DEFAULT_UNITS = {"hours": "小时", "items": "件", "money": "元", "room": "次", "vehicle": "次", "service": "次"}
MAX_HOURS_PER_ENTRY = 24   # as for volunteer hours: one entry is at most a day's service


def record_contribution(project: Project, data: dict[str, Any], staff: Staff) -> Contribution:
    fields.only_known(data, CONTRIBUTION_FIELDS)
    if project.status == "cancelled":
        raise refuse("项目已取消，不能记录贡献", "invalid_state", 409)
    unit, member = units.party_from(project.community_id, data)
    _check_partner(project, unit.id if unit else None, member.id if member else None)
    kind = fields.choice(data, "kind", "贡献类型", CONTRIBUTION_KINDS, required=True)
    quantity = fields.number(data, "quantity", "数量", required=True)
    if quantity == 0:
        raise refuse("数量不能为0", field="quantity")
    if kind == "hours" and abs(quantity) > MAX_HOURS_PER_ENTRY:
        raise refuse(f"一次记录的服务时长不能超过{MAX_HOURS_PER_ENTRY}小时", field="quantity")
    note = fields.text(data, "note", "备注", required=quantity < 0, max_length=500)
    served_on = _served_on(data)
    resource_id = None
    if fields.present(data, "resource_id"):
        resource = resources.resource_in(project.community_id, data["resource_id"])
        if resource.unit_id != (unit.id if unit else None) or resource.member_id != (member.id if member else None):
            raise refuse("这项资源不属于该单位或党员", field="resource_id")
        resource_id = resource.id
    unit_label = fields.text(data, "quantity_unit", "数量单位", max_length=10) or DEFAULT_UNITS[kind]
    if kind == "hours":
        unit_label = "小时"
    _check_total(project.id, unit, member, kind, quantity)
    entry = Contribution(project_id=project.id, community_id=project.community_id,
                         unit_id=unit.id if unit else None, member_id=member.id if member else None,
                         resource_id=resource_id, kind=kind, quantity=quantity, quantity_unit=unit_label,
                         served_on=served_on, year=served_on.year, note=note, recorded_by_staff_id=staff.id,
                         created_at=now())
    if kind == "hours" and member is not None:
        entry.hours_entry_id = volunteer_hours_entry(project, member.id, quantity, served_on, note, staff).id
    db.session.add(entry)
    db.session.flush()
    record("staff", staff.id, "governance.contribution", project, community_id=project.community_id,
           detail={"contribution_id": entry.id, "kind": kind, "quantity": quantity,
                   "unit_id": entry.unit_id, "member_id": entry.member_id})
    db.session.commit()
    return entry


def _served_on(data: dict[str, Any]) -> date:
    today = local_date(now())
    served_on = fields.day(data, "served_on", "服务日期") or today
    if served_on > today:
        raise refuse("服务日期不能是将来", field="served_on")
    return served_on


def _check_partner(project: Project, unit_id: int | None, member_id: int | None) -> None:
    partners = {(c.unit_id, c.member_id) for c in claims.active_claims(project.need_id)}
    if project.lead_unit_id:
        partners.add((project.lead_unit_id, None))
    if (unit_id, member_id) not in partners:
        names = "、".join(units.party_name(u, m) for u, m in sorted(partners, key=str)) or "（无）"
        raise refuse(f"{units.party_name(unit_id, member_id)}不是本项目的参与方；参与方：{names}。"
                     "请先在需求上认领或指派", "not_partner", 409, field="unit_id" if unit_id else "member_id")


def _check_total(project_id: int, unit, member, kind: str, quantity: float) -> None:
    if quantity > 0:
        return
    column, value = (Contribution.unit_id, unit.id) if unit is not None else (Contribution.member_id, member.id)
    total = float(db.session.scalar(select(func.coalesce(func.sum(Contribution.quantity), 0)).where(
        Contribution.project_id == project_id, column == value, Contribution.kind == kind)) or 0)
    if total + quantity < 0:
        raise refuse(f"更正后合计不能为负（当前{total:g}）", "negative_total", field="quantity")


def volunteer_hours_entry(project: Project, member_id: int, hours: float, served_on: date, note: str | None,
                     staff: Staff) -> HoursEntry:
    text = f"共建项目{project.code}：{project.title}" + (f"（{note}）" if note else "")
    entry = HoursEntry(member_id=member_id, community_id=project.community_id, kind="admin",
                       minutes=round(hours * 60), served_on=served_on, year=served_on.year,
                       recorded_by_staff_id=staff.id, note=text[:500], created_at=now())
    db.session.add(entry)
    db.session.flush()
    return entry


def contributions(community_id: int, *, project_id: int | None = None, year: int | None = None) -> list[Contribution]:
    statement = select(Contribution).where(Contribution.community_id == community_id)
    if project_id:
        statement = statement.where(Contribution.project_id == project_id)
    if year:
        statement = statement.where(Contribution.year == year)
    return list(db.session.scalars(statement.order_by(Contribution.served_on, Contribution.id)))


def contribution_view(entry: Contribution) -> dict[str, Any]:
    project = db.session.get(Project, entry.project_id)
    staff = db.session.get(Staff, entry.recorded_by_staff_id)
    need = db.session.get(Need, project.need_id) if project else None
    return {"id": entry.id, "project_id": entry.project_id, "project": project.title if project else None,
            "project_code": project.code if project else None, "need_id": need.id if need else None,
            "party": units.party_view(entry.unit_id, entry.member_id), "kind": entry.kind,
            "kind_label": CONTRIBUTION_KINDS.get(entry.kind, entry.kind), "quantity": entry.quantity,
            "quantity_unit": entry.quantity_unit, "served_on": entry.served_on.isoformat(), "note": entry.note,
            "resource_id": entry.resource_id, "hours_entry_id": entry.hours_entry_id,
            "recorded_by": staff.public_view() if staff else None, "created_at": iso(entry.created_at)}
