"""The demo community (`linli seed-demo`): 富强新村社区, an old 1990s compound.

Modelled on the case in shared/seeds/002: four grid party branches, each grid
with a full-time grid worker and a party-member part-time grid worker, the
"两委" members answering the resident groups on a 24-hour rotation, a street
office and departments that take escalations (供电, 住建, 城管).

Running it again updates the same rows (natural keys, through the import's row
functions) and never duplicates them. Existing duty shifts are kept as they are,
so a swap made in the demo survives `make run` restarts.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.clock import now
from app.database import begin_write_transaction
from app.extensions import db
from app.handlers.audit import record
from app.handlers.events.demo import seed_demo_events
from app.handlers.governance.demo import seed_demo_governance
from app.handlers.org import importing
from app.handlers.proxy.demo import seed_demo_catalogue
from app.localtime import at_local, local_date
from app.models import Building, Community, DutyShift, Resident, ResidentIdentity, Staff

# Each domain's demo data, called as function(community) after the organisation and the roster, in
# the same transaction. A function may return a line or a list of lines for the summary.
DEMO_EXTRAS: tuple[Callable[[Community], str | list[str] | None], ...] = (
    seed_demo_catalogue,  # the default catalogue and the 政务代办站
    seed_demo_events,
    seed_demo_governance,  # after events: its 双报到 members take part
)

STREET = {"name": "红梅街道", "district": "常州市天宁区"}
COMMUNITY = {"street": "红梅街道", "name": "富强新村社区", "code": "FQXC", "address": "常州市天宁区富强新村",
             "phone": "0519-86601234"}
GRIDS = ["第一网格", "第二网格", "第三网格", "第四网格"]
BUILDINGS_PER_GRID = 9


def _buildings() -> list[dict[str, Any]]:
    rows = []
    for index in range(len(GRIDS) * BUILDINGS_PER_GRID):
        number = index + 1
        rows.append({
            "community": COMMUNITY["name"], "street": STREET["name"], "number": f"{number}栋", "grid": GRIDS[index // BUILDINGS_PER_GRID],
            "name": f"{number}号楼", "compound": "富强新村",
            # Six-storey walk-ups without lifts, two or three stairwells each, as built in the 1990s.
            "units": 3 if number % 3 == 0 else 2, "floors": 5 if number <= 4 else 6,
        })
    return rows


BUILDINGS = _buildings()

DEPARTMENTS = [
    {"name": "城管中队", "street": "红梅街道", "phone": "0519-86602110"},
    {"name": "住建办", "street": "红梅街道", "phone": "0519-86602120"},
    {"name": "供电所", "street": "红梅街道", "phone": "0519-86602130"},
]


def _member(name, title, roles, phone, wework, grid=None, **extra) -> dict[str, Any]:
    row = {"name": name, "title": title, "roles": roles, "phone": phone, "wework_userid": wework,
           "community": COMMUNITY["name"], "grid": grid, "active": "是"}
    row.update(extra)
    return row


STAFF = [
    _member("王秀英", "党总支书记", "社区管理员、值班", "13900000101", "wangxiuying"),
    _member("李建国", "居委会主任", "社区管理员、值班", "13900000102", "lijianguo"),
    _member("张丽", "党总支副书记", "值班、网格长", "13900000103", "zhangli", "第一网格"),
    _member("陈明", "两委委员", "值班、网格长", "13900000104", "chenming", "第二网格"),
    _member("刘芳", "两委委员", "值班、网格长", "13900000105", "liufang", "第三网格"),
    _member("杨军", "两委委员", "值班、网格长", "13900000106", "yangjun", "第四网格"),
    _member("孙婷", "专职网格员", "网格员", "13900000107", "sunting", "第一网格"),
    _member("赵磊", "专职网格员", "网格员", "13900000108", "zhaolei", "第二网格"),
    _member("吴静", "专职网格员", "网格员", "13900000109", "wujing", "第三网格"),
    _member("徐强", "专职网格员", "网格员", "13900000110", "xuqiang", "第四网格"),
    _member("周桂兰", "党员兼职网格员", "网格员", "13900000111", "zhouguilan", "第一网格"),
    _member("黄志刚", "党员兼职网格员", "网格员", "13900000112", "huangzhigang", "第二网格"),
    _member("朱美华", "党员兼职网格员", "网格员", "13900000113", "zhumeihua", "第三网格"),
    _member("胡德明", "党员兼职网格员", "网格员", "13900000114", "hudeming", "第四网格"),
    {"name": "钱卫东", "title": "街道社区治理办", "roles": "街道管理员", "phone": "13900000115",
     "wework_userid": "qianweidong", "street": "红梅街道", "active": "是"},
    {"name": "何亮", "title": "城管中队队员", "roles": "部门", "phone": "13900000116", "wework_userid": "heliang",
     "department": "城管中队", "street": "红梅街道", "active": "是"},
    {"name": "郭敏", "title": "住建办科员", "roles": "部门", "phone": "13900000117", "wework_userid": "guomin",
     "department": "住建办", "street": "红梅街道", "active": "是"},
    {"name": "马涛", "title": "供电所客户经理", "roles": "部门", "phone": "13900000118", "wework_userid": "matao",
     "department": "供电所", "street": "红梅街道", "active": "是"},
]

GROUPS = [
    *({"community": COMMUNITY["name"], "street": STREET["name"], "name": f"富强新村{grid}居民群", "chat_id": f"demo-fuqiang-grid-{i + 1}",
       "channel": "group", "kind": "居民群", "grid": grid, "active": "是"} for i, grid in enumerate(GRIDS)),
    {"community": COMMUNITY["name"], "street": STREET["name"], "name": "富强新村社区值班群", "chat_id": "demo-fuqiang-duty",
     "channel": "group", "kind": "值班群", "active": "是"},
]

# The duty rotation: a lead (值班长: 书记/主任) and a 两委 member on duty each day, 00:00 to 24:00.
DUTY_LEADS = ["王秀英", "李建国"]
DUTY_MEMBERS = ["张丽", "陈明", "刘芳", "杨军"]
ROSTER_PAST_DAYS = 2
ROSTER_NEXT_DAYS = 14  # today and the 13 days after it

RESIDENTS = [
    {"member": "demo-fuqiang-resident-1", "name": "陈桂芳", "nickname": "陈阿姨", "phone": "13900001001",
     "building": "3", "unit": "2", "room": "501"},
    {"member": "demo-fuqiang-resident-2", "name": "刘德福", "nickname": "老刘", "phone": "13900001002",
     "building": "12", "unit": "1", "room": "302"},
    {"member": "demo-fuqiang-resident-3", "name": "周晓燕", "nickname": "燕子", "phone": "13900001003",
     "building": "21", "unit": "3", "room": "601"},
    {"member": "demo-fuqiang-resident-4", "name": "吴建平", "nickname": "吴师傅", "phone": "13900001004",
     "building": "30", "unit": "2", "room": "102"},
    {"member": "demo-fuqiang-resident-5", "name": "蒋秀兰", "nickname": "蒋奶奶", "phone": "13900001005",
     "building": "8", "unit": "1", "room": "201"},
]

SUMMARY_LABELS = {
    "streets": "街道", "communities": "社区", "grids": "网格", "buildings": "楼栋", "departments": "部门",
    "staff": "工作人员", "groups": "居民群", "shifts": "值班排班", "residents": "居民",
}


class DemoError(RuntimeError):
    """The demo data could not be written (e.g. it clashes with imported data)."""


@dataclass
class DemoSummary:
    community_id: int
    community_name: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    admin_id: int | None = None

    def count(self, kind: str, outcome: str) -> None:
        bucket = self.counts.setdefault(kind, {"created": 0, "existing": 0, "updated": 0})
        if outcome == importing.CREATED:
            bucket["created"] += 1
        else:
            bucket["existing"] += 1
            if outcome == importing.UPDATED:
                bucket["updated"] += 1

    def lines(self) -> list[str]:
        out = []
        for kind, bucket in self.counts.items():
            line = f"  {SUMMARY_LABELS.get(kind, kind)} {kind}: 新建 {bucket['created']}，已存在 {bucket['existing']}"
            if bucket["updated"]:
                line += f"（已更新 {bucket['updated']}）"
            out.append(line)
        out.extend(f"  {note}" for note in self.notes)
        out.append(f"演示数据已就绪 / demo data ready: {self.community_name} (community id {self.community_id})")
        if self.admin_id is not None:
            out.append(f"社区管理员的 API 令牌 / an admin API token: linli staff token {self.admin_id}")
        return out


def _upsert(summary: DemoSummary, kind: str, rows: list[dict[str, Any]]) -> list[Any]:
    made = []
    for values in importing.rows_from_records(rows):
        try:
            outcome, row = importing.UPSERTS[kind](values)
        except importing.RowError as exc:
            raise DemoError(f"演示数据写入失败 / cannot write the demo {kind} "
                            f"“{values.get('name') or values.get('number')}”：{exc}") from None
        summary.count(kind, outcome)
        made.append(row)
    return made


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    # Both ends are local midnights, so one day's end is exactly the next day's start.
    return at_local(day), at_local(day + timedelta(days=1))


def roster_days(today: date) -> list[date]:
    return [today + timedelta(days=offset) for offset in range(-ROSTER_PAST_DAYS, ROSTER_NEXT_DAYS)]


def _seed_roster(summary: DemoSummary, community: Community, staff_by_name: dict[str, Staff]) -> None:
    today = local_date(now())
    for day in roster_days(today):
        start, end = _day_bounds(day)
        # Rotation by calendar day, so every run (and every machine) gives the same roster.
        slots = [(True, DUTY_LEADS[day.toordinal() % len(DUTY_LEADS)]),
                 (False, DUTY_MEMBERS[day.toordinal() % len(DUTY_MEMBERS)])]
        for is_lead, name in slots:
            existing = db.session.scalars(select(DutyShift).where(
                DutyShift.community_id == community.id, DutyShift.starts_at == start,
                DutyShift.ends_at == end, DutyShift.is_lead.is_(is_lead))).first()
            if existing is not None:
                summary.count("shifts", importing.UNCHANGED)  # kept: it may have been swapped on purpose
                continue
            db.session.add(DutyShift(community_id=community.id, staff_id=staff_by_name[name].id,
                                     starts_at=start, ends_at=end, is_lead=is_lead,
                                     note="值班长" if is_lead else "值班"))
            summary.count("shifts", importing.CREATED)
    db.session.flush()


def _seed_residents(summary: DemoSummary, community: Community) -> None:
    for data in RESIDENTS:
        building = db.session.scalars(select(Building).where(
            Building.community_id == community.id, Building.number == data["building"])).one()
        identity = db.session.scalars(select(ResidentIdentity).where(
            ResidentIdentity.channel == "group", ResidentIdentity.kind == "group_member",
            ResidentIdentity.value == data["member"])).first()
        values = {"community_id": community.id, "building_id": building.id, "name": data["name"],
                  "nickname": data["nickname"], "phone": data["phone"], "unit": data["unit"], "room": data["room"]}
        if identity is None:
            resident = Resident(**values)
            resident.identities.append(ResidentIdentity(channel="group", kind="group_member", value=data["member"]))
            db.session.add(resident)
            summary.count("residents", importing.CREATED)
            continue
        resident = identity.resident
        changed = False
        for name, value in values.items():
            if getattr(resident, name) != value:
                setattr(resident, name, value)
                changed = True
        summary.count("residents", importing.UPDATED if changed else importing.UNCHANGED)
    db.session.flush()


def _run_extras(summary: DemoSummary, community: Community) -> None:
    for extra in DEMO_EXTRAS:
        result = extra(community)
        if isinstance(result, str):
            summary.notes.append(result)
        elif result:
            summary.notes.extend(str(line) for line in result)


def seed_demo() -> DemoSummary:
    """Create or update the demo community and everything in it, in one transaction."""
    try:
        begin_write_transaction(db.session)
        counts = DemoSummary(community_id=0, community_name=COMMUNITY["name"])
        _upsert(counts, "streets", [STREET])
        (community,) = _upsert(counts, "communities", [COMMUNITY])
        counts.community_id = community.id
        _upsert(counts, "grids", [{"community": COMMUNITY["name"], "street": STREET["name"], "name": g}
                                  for g in GRIDS])
        _upsert(counts, "buildings", BUILDINGS)
        _upsert(counts, "departments", DEPARTMENTS)
        staff = _upsert(counts, "staff", STAFF)
        staff_by_name = {member.name: member for member in staff}
        counts.admin_id = staff_by_name[DUTY_LEADS[0]].id
        _upsert(counts, "groups", GROUPS)
        _seed_roster(counts, community, staff_by_name)
        _seed_residents(counts, community)
        _run_extras(counts, community)
        record("operator", None, "demo.seeded", community, community_id=community.id,
               detail={kind: dict(bucket) for kind, bucket in counts.counts.items()})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return counts
