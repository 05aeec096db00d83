"""One upsert per kind of row, by natural key (also used by the demo data, app/handlers/demo.py)."""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import select

from app.extensions import db
from app.handlers.org.importing.columns import CHANNEL_ALIASES, GROUP_KIND_ALIASES, URL
from app.handlers.org.importing.fields import (
    Fields,
    assign_changes,
    find_community,
    find_department,
    find_grid,
    find_street,
)
from app.handlers.org.importing.results import CREATED, UNCHANGED, UPDATED, RowError
from app.models import (
    Building,
    Channel,
    Community,
    Department,
    Grid,
    GroupKind,
    ResidentGroup,
    Role,
    Staff,
    Street,
)
from app.models.people import ROLE_LABELS
from app.text_numbers import normalise_building_number

# ---- row functions (one per kind) ------------------------------------------------------------------

def upsert_street(values: dict[str, Any]) -> tuple[str, Street]:
    fields = Fields(values)
    name = fields.text("name", "街道名称", required=True)
    district = fields.text("district", "区")
    fields.check()
    street = db.session.scalars(select(Street).where(Street.name == name)).first()
    if street is None:
        street = Street(name=name, district=district)
        db.session.add(street)
        db.session.flush()
        return CREATED, street
    return (UPDATED if assign_changes(street, {"district": district}) else UNCHANGED), street


def upsert_community(values: dict[str, Any]) -> tuple[str, Community]:
    fields = Fields(values)
    street = find_street(fields, required=True)
    name = fields.text("name", "社区名称", required=True)
    code = fields.text("code", "社区编码", max_length=50)
    address = fields.text("address", "地址", max_length=200)
    phone = fields.office_phone("phone", "电话")
    fields.check()
    community = db.session.scalars(select(Community).where(
        Community.street_id == street.id, Community.name == name)).first()
    if code is not None:
        holder = db.session.scalars(select(Community).where(Community.code == code)).first()
        if holder is not None and holder is not community:
            raise RowError(f"社区编码“{code}”已被“{holder.name}”使用")
    changes = {"code": code, "address": address, "phone": phone}
    if community is None:
        community = Community(street_id=street.id, name=name, **changes)
        db.session.add(community)
        db.session.flush()
        return CREATED, community
    return (UPDATED if assign_changes(community, changes) else UNCHANGED), community


def upsert_grid(values: dict[str, Any]) -> tuple[str, Grid]:
    fields = Fields(values)
    community = find_community(fields)
    name = fields.text("name", "网格名称", required=True)
    fields.check()
    grid = db.session.scalars(select(Grid).where(Grid.community_id == community.id, Grid.name == name)).first()
    if grid is None:
        grid = Grid(community_id=community.id, name=name)
        db.session.add(grid)
        db.session.flush()
        return CREATED, grid
    return UNCHANGED, grid


def upsert_building(values: dict[str, Any]) -> tuple[str, Building]:
    fields = Fields(values)
    community = find_community(fields)
    raw_number = values.get("number")
    number = normalise_building_number(raw_number)
    if raw_number is None:
        fields.fail("楼号不能为空")
    elif number is None:
        fields.fail(f"楼号“{raw_number}”无法识别（例如 3、3栋、三号楼、A座）")
    grid = find_grid(fields, community)
    name = fields.text("name", "楼栋名称")
    compound = fields.text("compound", "小区")
    units = fields.count("units", "单元数")
    floors = fields.count("floors", "层数")
    fields.check()
    building = db.session.scalars(select(Building).where(
        Building.community_id == community.id, Building.number == number)).first()
    changes = {"grid_id": grid.id if grid else None, "name": name, "compound": compound,
               "units": units, "floors": floors}
    if building is None:
        changes["name"] = name or f"{number}号楼"
        building = Building(community_id=community.id, number=number, **changes)
        db.session.add(building)
        db.session.flush()
        return CREATED, building
    return (UPDATED if assign_changes(building, changes) else UNCHANGED), building


def upsert_department(values: dict[str, Any]) -> tuple[str, Department]:
    fields = Fields(values)
    name = fields.text("name", "部门名称", required=True)
    street = find_street(fields)
    phone = fields.office_phone("phone", "电话")
    fields.check()
    statement = select(Department).where(Department.name == name)
    statement = statement.where(Department.street_id == street.id if street else Department.street_id.is_(None))
    department = db.session.scalars(statement).first()
    if department is None:
        department = Department(name=name, street_id=street.id if street else None, phone=phone)
        db.session.add(department)
        db.session.flush()
        return CREATED, department
    return (UPDATED if assign_changes(department, {"phone": phone}) else UNCHANGED), department


_NEEDS_COMMUNITY = (Role.DUTY, Role.GRID_WORKER, Role.GRID_LEADER, Role.COMMUNITY_ADMIN)


def _match_staff(name: str, phone: str | None, wework_userid: str | None, community: Community | None,
                 street: Street | None, department: Department | None) -> Staff | None:
    """The existing staff member a row means: by phone, else WeCom account, else name in the same place.

    A row's phone is the strongest key: a record found another way but holding a
    different phone number is somebody else.
    """
    if phone:
        found = db.session.scalars(select(Staff).where(Staff.phone == phone)).first()
        if found is not None:
            return found
    if wework_userid:
        found = db.session.scalars(select(Staff).where(Staff.wework_userid == wework_userid)).first()
        if found is not None and not (phone and found.phone):
            return found
    statement = select(Staff).where(Staff.name == name)
    if community is not None:
        statement = statement.where(Staff.community_id == community.id)
    elif department is not None:
        statement = statement.where(Staff.department_id == department.id)
    elif street is not None:
        statement = statement.where(Staff.street_id == street.id, Staff.community_id.is_(None))
    else:
        return None
    if phone:
        statement = statement.where(Staff.phone.is_(None))
    found = db.session.scalars(statement).all()
    if len(found) > 1:
        raise RowError(f"有多位名叫“{name}”的工作人员，请填写手机号以区分")
    return found[0] if found else None


def upsert_staff(values: dict[str, Any]) -> tuple[str, Staff]:
    fields = Fields(values)
    name = fields.text("name", "姓名", required=True)
    roles = fields.roles()
    phone = fields.mobile("phone")
    street = find_street(fields)
    community = find_community(fields, required=False)
    grid = find_grid(fields, community)
    department = find_department(fields, street)
    title = fields.text("title", "职务", max_length=50)
    wework_userid = fields.text("wework_userid", "企业微信账号", max_length=64)
    active = fields.flag("active", "在岗")
    fields.check()

    staff = _match_staff(name, phone, wework_userid, community, street, department)
    _check_roles(fields, roles, staff, street, community, grid, department)
    if wework_userid:
        holder = db.session.scalars(select(Staff).where(Staff.wework_userid == wework_userid)).first()
        if holder is not None and holder is not staff:
            raise RowError(f"企业微信账号“{wework_userid}”已被“{holder.name}”使用")

    street_id = street.id if street else None
    if street_id is None and Role.STREET_ADMIN in roles and community is not None:
        street_id = community.street_id
    if street_id is None and department is not None:
        street_id = department.street_id
    changes = {"name": name, "phone": phone, "community_id": community.id if community else None,
               "street_id": street_id, "grid_id": grid.id if grid else None,
               "department_id": department.id if department else None, "title": title,
               "wework_userid": wework_userid, "active": active}
    if community is not None and grid is None and staff is not None and staff.community_id != community.id:
        staff.grid_id = None  # moved to another community: the old grid is not theirs any more
    wanted_roles = {r.value for r in roles}
    if staff is None:
        staff = Staff(**{k: v for k, v in changes.items() if v is not None})
        staff.set_roles(wanted_roles)
        db.session.add(staff)
        db.session.flush()
        return CREATED, staff
    changed = assign_changes(staff, changes)
    if staff.roles != wanted_roles:
        staff.set_roles(wanted_roles)
        changed = True
    return (UPDATED if changed else UNCHANGED), staff


def _check_roles(fields: Fields, roles, staff: Staff | None, street: Street | None, community: Community | None,
                 grid: Grid | None, department: Department | None) -> None:
    """Each role needs its place (a grid worker a grid …); raises RowError naming every gap."""
    # A blank cell keeps the existing value, so role requirements look at both.
    has_community = community is not None or (staff is not None and staff.community_id is not None)
    same_community = staff is not None and (community is None or community.id == staff.community_id)
    has_grid = grid is not None or (same_community and staff.grid_id is not None)
    has_department = department is not None or (staff is not None and staff.department_id is not None)
    for role in sorted(roles, key=lambda r: r.value):
        label = ROLE_LABELS[role]
        if role in _NEEDS_COMMUNITY and not has_community:
            fields.fail(f"角色“{label}”需要填写社区")
        elif role in (Role.GRID_WORKER, Role.GRID_LEADER) and not has_grid:
            fields.fail(f"角色“{label}”需要填写网格")
        elif role == Role.DEPARTMENT and not has_department:
            fields.fail(f"角色“{label}”需要填写部门")
        elif role == Role.STREET_ADMIN and street is None and not has_community and (
                staff is None or staff.street_id is None):
            fields.fail(f"角色“{label}”需要填写街道或社区")
    if staff is None and not (community or street or department) and not fields.problems:
        fields.fail("请至少填写社区、街道或部门之一")
    fields.check()


def upsert_group(values: dict[str, Any]) -> tuple[str, ResidentGroup]:
    fields = Fields(values)
    community = find_community(fields)
    name = fields.text("name", "群名称", required=True)
    chat_id = fields.text("chat_id", "群ID", required=True, max_length=128)
    channel = fields.choice("channel", "渠道", CHANNEL_ALIASES, "企业微信/wework、群接入/group、公众号/mp、小程序/miniprogram")
    kind = fields.choice("kind", "类型", GROUP_KIND_ALIASES, "居民群、值班群")
    grid = find_grid(fields, community)
    webhook_url = fields.text("webhook_url", "推送地址", max_length=500)
    if webhook_url is not None and not URL.match(webhook_url):
        fields.fail("推送地址应以 https:// 开头")
    active = fields.flag("active", "启用")
    fields.check()
    channel_value = (channel or Channel.GROUP).value
    group = db.session.scalars(select(ResidentGroup).where(
        ResidentGroup.channel == channel_value, ResidentGroup.chat_id == chat_id)).first()
    changes = {"community_id": community.id, "grid_id": grid.id if grid else None, "name": name,
               "kind": kind.value if kind else None, "webhook_url": webhook_url, "active": active}
    if group is None:
        changes["kind"] = changes["kind"] or GroupKind.RESIDENT.value
        group = ResidentGroup(channel=channel_value, chat_id=chat_id,
                              **{k: v for k, v in changes.items() if v is not None})
        db.session.add(group)
        db.session.flush()
        return CREATED, group
    return (UPDATED if assign_changes(group, changes) else UNCHANGED), group


UPSERTS: dict[str, Callable[[dict[str, Any]], tuple[str, Any]]] = {
    "streets": upsert_street, "communities": upsert_community, "grids": upsert_grid,
    "buildings": upsert_building, "departments": upsert_department, "staff": upsert_staff,
    "groups": upsert_group,
}
