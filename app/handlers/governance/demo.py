"""Demo co-governance data for 富强新村社区 (`linli seed-demo`), after shared/seeds/002 and 003.

The community's "社区大党委": the clinic, a primary school, the property company, the
power supplier, a bank branch and two social organisations, with what each offers;
the needs residents have (one promoted from the e-bike charging reports that kept
coming back from building 3), two co-building projects with counted hours, topics
in 四方五步议事 (one through all five steps with its tea-house vote, one being voted
on now), 百姓说事, and the service map (三站一中心, the clinic, a 暖心驿站) drawn from
coordinates. Runs inside the demo's transaction (flushes only) and adds nothing twice.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.handlers.governance import contributions, demo_topics
from app.localtime import local_date
from app.models import (
    Building,
    BuildingLocation,
    Claim,
    Community,
    Contribution,
    MapStation,
    Need,
    PartnerUnit,
    PartyMember,
    Project,
    ProjectUpdate,
    RequestEvent,
    Resource,
    ServiceRequest,
    Staff,
)

# The compound: 36 walk-ups in six rows from south to north, six to a row.
ORIGIN = (31.77880, 119.97560)
ROW_METRES, COLUMN_METRES = 48.0, 42.0
METRES_PER_DEGREE_LAT, METRES_PER_DEGREE_LNG = 110_540.0, 94_600.0   # at 31.8° N


def spot(north: float, east: float) -> tuple[float, float]:
    return (round(ORIGIN[0] + north / METRES_PER_DEGREE_LAT, 6), round(ORIGIN[1] + east / METRES_PER_DEGREE_LNG, 6))


def building_spot(number: int) -> tuple[float, float]:
    row, column = divmod(number - 1, 6)
    return spot(row * ROW_METRES, column * COLUMN_METRES)


UNITS = [
    dict(name="红梅街道社区卫生服务中心", kind="hospital", contact_name="沈立新", phone="0519-86609120",
         address="红梅街道富强路18号", party_org="社区卫生服务中心党支部", at=spot(-90, 60)),
    dict(name="天宁区富强小学", kind="school", contact_name="钱校长", phone="0519-86605511",
         address="富强新村北侧富强小学", party_org="富强小学党支部", at=spot(300, 120)),
    dict(name="常州富强物业服务有限公司", kind="property", contact_name="陆经理", phone="0519-86607788",
         address="富强新村19栋一楼物业服务中心", party_org="物业公司党支部（红色物业）", at=spot(150, 80)),
    dict(name="国网常州供电公司天宁供电中心", kind="government", contact_name="韩卫国", phone="0519-95598",
         address="红梅街道光华路6号", party_org="天宁供电中心党支部", at=spot(-400, 500)),
    dict(name="江苏银行常州红梅支行", kind="company", contact_name="柏行长", phone="0519-86603366",
         address="富强路与红梅路交叉口", party_org="红梅支行党支部", at=spot(-60, 260)),
    dict(name="椿熙堂社会工作服务中心", kind="social_org", contact_name="唐社工", phone="0519-86608899",
         address="富强新村居家养老站", party_org="椿熙堂联合党支部", at=spot(100, 250)),
]

RESOURCES = [
    # owner (unit name or member phone), kind, title, tags, quantity, unit, weekdays, from, until
    ("红梅街道社区卫生服务中心", "skill", "每周二上午义诊：量血压、测血糖、慢病用药咨询", ["义诊", "量血压", "慢病"], 48, "次",
     [2], "08:30", "11:00"),
    ("红梅街道社区卫生服务中心", "skill", "家庭医生上门随访（行动不便老人）", ["随访", "老人", "上门"], 60, "次", [2, 4], None, None),
    ("天宁区富强小学", "room", "周末开放教室和操场", ["教室", "场地", "课堂"], None, None, [6, 7], "08:00", "17:00"),
    ("天宁区富强小学", "room", "寒暑假开放教室（工作日）", ["教室", "场地", "课堂"], None, None, [1, 2, 3, 4, 5],
     "08:00", "17:00"),
    ("天宁区富强小学", "hours", "教师志愿服务队辅导作业", ["课堂", "辅导", "四点半"], 120, "小时", [3, 5], "16:30", "18:00"),
    ("常州富强物业服务有限公司", "room", "3栋前空地（可建电动车充电棚）", ["充电", "电动车", "场地"], None, None, [], None, None),
    ("常州富强物业服务有限公司", "skill", "物业维修工（水电、门禁）", ["维修", "电路"], 40, "小时", [1, 2, 3, 4, 5], "08:00", "17:00"),
    ("国网常州供电公司天宁供电中心", "skill", "用电安全检查、线路改造指导", ["电路", "充电", "用电安全"], 24, "小时", [], None, None),
    ("江苏银行常州红梅支行", "money", "共建经费", ["经费"], 20000, "元", [], None, None),
    ("江苏银行常州红梅支行", "skill", "防诈骗、反洗钱宣讲", ["宣讲", "防诈骗"], 6, "次", [], None, None),
    ("椿熙堂社会工作服务中心", "skill", "独居老人助餐送餐、助浴", ["老人", "助餐", "送餐"], 200, "次", [1, 2, 3, 4, 5], "10:30", "12:30"),
    ("13900001003", "hours", "周三下午四点半课堂辅导", ["课堂", "辅导", "四点半"], 40, "小时", [3], "16:30", "18:00"),
    ("13900002003", "skill", "个税、社保政策咨询", ["政策咨询", "社保"], 12, "次", [6], "09:00", "11:00"),
    ("13900002002", "hours", "周末用电安全志愿服务", ["电路", "用电安全"], 24, "小时", [6, 7], None, None),
]

STATIONS = [
    dict(name="富强新村党群服务中心", kind="party_center", address="富强新村19栋旁 党群服务中心", at=spot(145, 40),
         phone="0519-86601234", services=["print", "water", "rest", "toilet", "reading", "legal", "activity"],
         hours=[{"days": "workdays", "open": "08:30", "close": "12:00"},
                {"days": "workdays", "open": "14:00", "close": "17:30"}, {"days": [6], "open": "09:00", "close": "11:30"}],
         notes="一厅六区：一站式办事大厅、党群活动、文体活动、卫生服务、平安联创、养老托幼。每月第一个周六上午律师坐班。"),
    dict(name="社区卫生服务站", kind="clinic", address="党群服务中心一楼东侧", at=spot(140, 60), phone="0519-86609121",
         unit="红梅街道社区卫生服务中心", services=["blood_pressure", "blood_sugar", "health_consult", "first_aid"],
         hours=[{"days": "workdays", "open": "08:00", "close": "11:30"},
                {"days": "workdays", "open": "13:30", "close": "17:00"}],
         notes="每周二上午医生党员值守，免费量血压、测血糖，解读体检报告。"),
    dict(name="政务代办站（居民活动中心）", kind="proxy_station", address="富强新村27栋旁 居民活动中心一楼", at=spot(190, 150),
         phone="0519-86601235", services=["proxy", "print"],
         hours=[{"days": "daily", "open": "08:30", "close": "11:30"}, {"days": "daily", "open": "14:00", "close": "17:00"}],
         notes="每天专人值班，尊老金、低保、居住证等事项代办，“最多跑一次”。"),
    dict(name="便民服务站（富强社区超市）", kind="convenience", address="富强新村南门 富强社区超市", at=spot(-40, 100),
         phone="0519-86606677", services=["water", "charging", "microwave", "umbrella", "first_aid", "rest"],
         hours=[{"days": "daily", "open": "07:00", "close": "21:00"}],
         notes="党员经营户开办：送货上门；外卖小哥、环卫工人免费饮水、手机充电、应急药箱。"),
    dict(name="居家养老站", kind="elderly_care", address="富强新村24栋一楼", at=spot(100, 250), phone="0519-86608899",
         unit="椿熙堂社会工作服务中心", services=["elderly_meal", "day_care", "blood_pressure", "rest", "toilet"],
         hours=[{"days": "daily", "open": "08:00", "close": "18:00"}],
         notes="护理、理疗、助浴、日间照料、助餐等30余项免费或成本价服务。"),
    dict(name="暖心驿站（北门）", kind="warm_station", address="富强新村北门岗亭旁", at=spot(280, 110), phone="0519-86607788",
         unit="常州富强物业服务有限公司", services=["water", "charging", "rest", "microwave", "toilet", "umbrella"],
         hours=[{"days": "daily", "open": "06:00", "close": "22:00"}], notes="物业“红色物业”驿站，24小时有人值守岗亭。"),
]

# The reports that kept coming back from building 3 (closed each time, back again a few weeks later).
EBIKE_REPORTS = [(62, "3栋楼道有人飞线充电，电线从三楼窗户拉下来"), (41, "3栋一楼楼道里又在给电动车充电，很危险"),
                 (23, "3栋门口电动车充电线横在路上，老人差点绊倒"), (9, "3号楼楼道飞线充电又出现了，晚上还冒火花")]


def seed_demo_governance(community: Community) -> list[str]:
    made = {"units": 0, "resources": 0, "stations": 0, "needs": 0, "projects": 0}
    located = _locate_buildings(community)
    units = {spec["name"]: _unit(community, spec, made) for spec in UNITS}
    members = {m.phone: m for m in db.session.scalars(select(PartyMember).where(
        PartyMember.community_id == community.id))}
    resources = {spec[2]: _resource(community, spec, units, members, made) for spec in RESOURCES
                 if spec[0] in units or spec[0] in members}
    for spec in STATIONS:
        _station(community, spec, units, made)
    admin = _staff(community, "王秀英")
    requests = _ebike_reports(community)
    needs_made = _needs_and_projects(community, units, members, resources, requests, admin, made)
    db.session.flush()
    lines = [f"共建共治 governance: 共建单位 {made['units']}、资源 {made['resources']}、需求 {made['needs']}、"
             f"共建项目 {made['projects']}、地图站点 {made['stations']}（新建）；楼栋坐标 {located}"]
    lines += demo_topics.seed_topics(community, admin, needs_made, requests)
    return lines


def _staff(community: Community, name: str) -> Staff:
    return db.session.scalars(select(Staff).where(Staff.community_id == community.id, Staff.name == name)).one()


def _locate_buildings(community: Community) -> int:
    count = 0
    for building in db.session.scalars(select(Building).where(Building.community_id == community.id)):
        if not building.number.isdigit() or db.session.get(BuildingLocation, building.id) is not None:
            continue
        lat, lng = building_spot(int(building.number))
        db.session.add(BuildingLocation(building_id=building.id, community_id=community.id, lat=lat, lng=lng))
        count += 1
    db.session.flush()
    return count


def _unit(community: Community, spec: dict[str, Any], made: dict[str, int]) -> PartnerUnit:
    unit = db.session.scalars(select(PartnerUnit).where(PartnerUnit.community_id == community.id,
                                                        PartnerUnit.name == spec["name"])).first()
    if unit is None:
        values = {k: v for k, v in spec.items() if k != "at"}
        unit = PartnerUnit(community_id=community.id, lat=spec["at"][0], lng=spec["at"][1],
                           agreement_on=date(local_date(now()).year, 1, 15), **values)
        db.session.add(unit)
        db.session.flush()
        made["units"] += 1
    return unit


def _resource(community, spec, units, members, made) -> Resource:
    owner, kind, title, tags, quantity, quantity_unit, weekdays, time_from, time_until = spec
    unit, member = units.get(owner), members.get(owner)
    row = db.session.scalars(select(Resource).where(Resource.community_id == community.id,
                                                    Resource.title == title)).first()
    if row is None:
        row = Resource(community_id=community.id, unit_id=unit.id if unit else None,
                       member_id=member.id if member else None, kind=kind, title=title, tags=tags,
                       quantity=quantity, quantity_unit=quantity_unit, weekdays=weekdays, time_from=time_from,
                       time_until=time_until, available_from=date(local_date(now()).year, 1, 1),
                       available_until=date(local_date(now()).year, 12, 31), status="active")
        db.session.add(row)
        db.session.flush()
        made["resources"] += 1
    return row


def _station(community, spec, units, made) -> None:
    if db.session.scalar(select(MapStation.id).where(MapStation.community_id == community.id,
                                                     MapStation.name == spec["name"])):
        return
    values = {k: v for k, v in spec.items() if k not in ("at", "unit")}
    unit = units.get(spec.get("unit"))
    db.session.add(MapStation(community_id=community.id, lat=spec["at"][0], lng=spec["at"][1],
                              unit_id=unit.id if unit else None, active=True, **values))
    made["stations"] += 1


def _ebike_reports(community: Community) -> list[ServiceRequest]:
    """Four closed reports from building 3 over two months: the hot spot the need was promoted from."""
    building = db.session.scalars(select(Building).where(Building.community_id == community.id,
                                                         Building.number == "3")).one()
    rows = []
    for index, (days_ago, text) in enumerate(EBIKE_REPORTS):
        at = now() - timedelta(days=days_ago)
        code = f"R{local_date(at):%Y%m%d}-{9001 + index}"
        row = db.session.scalars(select(ServiceRequest).where(ServiceRequest.code == code)).first()
        if row is None:
            row = _closed_report(community, building, code, text, at)
        rows.append(row)
    return rows


def _closed_report(community: Community, building: Building, code: str, text: str, at: datetime) -> ServiceRequest:
    resolved, closed = at + timedelta(hours=20), at + timedelta(days=2)
    row = ServiceRequest(code=code, community_id=community.id, grid_id=building.grid_id, building_id=building.id,
                         location="3号楼", category="ebike", urgency="general", title=text[:30], text=text,
                         channel="group", status="closed", due_at=at + timedelta(days=7),
                         first_reply_at=at + timedelta(minutes=25), resolved_at=resolved, resolved_level="grid",
                         resolution_note="网格员上门劝导，拆除了飞线。", rating="basically", rated_at=closed,
                         closed_at=closed, last_resident_at=at, created_at=at, updated_at=closed)
    db.session.add(row)
    db.session.flush()
    for kind, moment, before, after in (("created", at, None, "received"), ("resolved", resolved, "received", "resolved"),
                                        ("closed", closed, "resolved", "closed")):
        db.session.add(RequestEvent(request_id=row.id, at=moment, actor_type="system", kind=kind,
                                    from_status=before, to_status=after,
                                    detail={"demo": True} if kind != "resolved" else {"note": row.resolution_note}))
    return row


def _need(community, made, **values) -> tuple[Need, bool]:
    need = db.session.scalars(select(Need).where(Need.community_id == community.id,
                                                 Need.title == values["title"])).first()
    if need is not None:
        return need, False
    need = Need(community_id=community.id, **values)
    db.session.add(need)
    db.session.flush()
    made["needs"] += 1
    return need, True


def _needs_and_projects(community, units, members, resources, requests, admin, made) -> dict[str, Need]:
    building = {b.number: b.id for b in db.session.scalars(select(Building).where(
        Building.community_id == community.id))}
    ebike, _ = _need(community, made, kind="room", title="3栋电动车集中充电棚", source="requests",
                     request_ids=[r.id for r in requests], building_id=building.get("3"), tags=["充电", "电动车"],
                     detail="3栋楼道飞线充电两个月里反复出现4次，需要集中充电的场地和线路。", beneficiaries=90,
                     status="open", created_by_staff_id=admin.id)
    meals, created = _need(community, made, kind="skill", title="独居老人午餐送餐", source="staff",
                           tags=["老人", "送餐", "助餐"], building_id=building.get("8"), weekdays=[1, 2, 3, 4, 5],
                           time_from="11:00", time_until="12:30", beneficiaries=18, status="open",
                           detail="第二网格18位独居、高龄老人午餐不便。", created_by_staff_id=admin.id)
    if created:
        _claims_and_project(meals, admin, [
            (units["椿熙堂社会工作服务中心"], None, resources.get("独居老人助餐送餐、助浴"), "assigned"),
            (None, members.get("13900001003"), None, "claimed"), (None, members.get("13900002003"), None, "claimed")],
            plan="椿熙堂中央厨房备餐，党员志愿者分片送餐；每周一至周五。", progress=40,
            work=[("unit", "hours", 16), ("13900001003", "hours", 6), ("13900002003", "hours", 4.5)],
            members=members, made=made)
    _need(community, made, kind="goods", title="老旧楼道灭火器配置", source="staff", tags=["消防", "灭火器"],
          quantity=72, quantity_unit="具", beneficiaries=400, status="open", created_by_staff_id=admin.id,
          detail="1–36栋每个单元一具，现有的已过期。")
    winter, created = _need(community, made, kind="room", title="寒假儿童托管场地", source="resident",
                            tags=["课堂", "场地", "教室"], weekdays=[1, 2, 3, 4, 5], time_from="08:30",
                            time_until="16:30", beneficiaries=35, status="open", created_by_staff_id=admin.id)
    if created:
        db.session.add(Claim(need_id=winter.id, community_id=community.id, direction="claimed",
                             unit_id=units["天宁区富强小学"].id, resource_id=resources["寒暑假开放教室（工作日）"].id,
                             note="寒假可开放一楼两间教室", status="active", staff_id=admin.id))
        winter.status = "claimed"
    return {"ebike": ebike, "meals": meals}


def _claims_and_project(need, admin, partners, *, plan, progress, work, members, made) -> Project:
    for unit, member, resource, direction in partners:
        if unit is None and member is None:
            continue
        db.session.add(Claim(need_id=need.id, community_id=need.community_id, direction=direction,
                             unit_id=unit.id if unit else None, member_id=member.id if member else None,
                             resource_id=resource.id if resource else None, status="active", staff_id=admin.id))
    started = now() - timedelta(days=20)
    lead = next((u for u, _m, _r, _d in partners if u is not None), None)
    project = Project(community_id=need.community_id, need_id=need.id, code=f"GJ{local_date(now()).year}-002",
                      title=need.title, plan=plan, owner_staff_id=admin.id, lead_unit_id=lead.id if lead else None,
                      deadline=local_date(now()) + timedelta(days=120), status="in_progress", progress=progress,
                      beneficiaries=need.beneficiaries, created_at=started)
    db.session.add(project)
    db.session.flush()
    need.status = "in_project"
    db.session.add(ProjectUpdate(project_id=project.id, at=started, staff_id=admin.id, kind="created", progress=0,
                                 note=plan))
    db.session.add(ProjectUpdate(project_id=project.id, at=now() - timedelta(days=3), staff_id=admin.id,
                                 kind="progress", progress=progress, note="第二网格8位老人已开始每日送餐。"))
    for owner, kind, quantity in work:
        served = local_date(now()) - timedelta(days=5)
        member = members.get(owner)
        entry = Contribution(project_id=project.id, community_id=need.community_id, kind=kind, quantity=quantity,
                             unit_id=None if member else lead.id, member_id=member.id if member else None,
                             quantity_unit="小时", served_on=served, year=served.year, note="送餐",
                             recorded_by_staff_id=admin.id, created_at=now())
        if member is not None:
            entry.hours_entry_id = contributions.volunteer_hours_entry(project, member.id, quantity, served, "送餐",
                                                                       admin).id
        db.session.add(entry)
    made["projects"] += 1
    return project
