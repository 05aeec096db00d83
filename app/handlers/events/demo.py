"""Demo events and members for `linli seed-demo` (runs inside the demo's transaction: flushes only).

Idempotent: an event is matched by title among the community's not-yet-ended series heads and
one-offs, a project by name, a member by phone.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.events.capacity import new_event
from app.handlers.events.series import materialise_series
from app.localtime import to_local, zone
from app.models import Community, Resident
from app.models.events import Audience, Event, EventKind, EventStatus, Recurrence
from app.models.volunteers import MemberProject, PartyMember, VolunteerProject

DEMO_PROJECTS = [
    ("健康义诊服务", "协助每周二上午的免费义诊：引导、登记、量血压。"),
    ("四点半课堂", "放学后为双职工家庭的孩子辅导作业、开展兴趣活动。"),
    ("环境整治", "楼道清理、垃圾分类引导、小区环境整治。"),
    ("党群议事", "参与党群议事会（四方五步议事），收集居民意见。"),
]
DEMO_MEMBERS = [
    # name, phone, work unit, party organisation, kind, projects, demo resident phone (links the member to a resident)
    ("周晓燕", "13900001003", "天宁区实验小学", "天宁区实验小学党总支第二支部", "party", ["四点半课堂"], "13900001003"),
    ("沈立新", "13900002001", "天宁区人民医院", "天宁区人民医院党委内科支部", "party", ["健康义诊服务"], None),
    ("韩卫国", "13900002002", "国网常州供电公司", "国网常州供电公司天宁供电中心党支部", "party", ["环境整治"], None),
    ("顾佳怡", "13900002003", "常州市税务局天宁分局", "天宁分局机关第一党支部", "party", ["党群议事", "环境整治"], None),
    ("吴建平", "13900001004", None, None, "volunteer", ["环境整治"], "13900001004"),
]


def _next_weekday(after: datetime, weekday: int, hour: int, minute: int) -> datetime:
    """The first local ``weekday`` (0 = Monday) at hour:minute strictly after ``after``."""
    local = to_local(after)
    day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone())
    return moment if moment > after else moment + timedelta(weeks=1)


def _hours(h: int, m: int = 0) -> timedelta:
    return timedelta(hours=h, minutes=m)


def demo_event_specs(moment: datetime) -> list[dict[str, Any]]:
    """The five demo events (two weekly), starting on the next matching weekday after ``moment``."""
    tuesday = _next_weekday(moment, 1, 8, 30)
    wednesday = _next_weekday(moment, 2, 16, 30)
    thursday = _next_weekday(moment, 3, 19, 0)
    saturday = _next_weekday(moment, 5, 9, 0)
    friday = _next_weekday(moment, 4, 14, 30)
    return [
        dict(title="每周二上午义诊", kind=EventKind.HEALTH_CHECK.value, starts_at=tuesday, ends_at=tuesday + _hours(2, 30),
             place="党群服务中心一楼 社区卫生服务站", capacity=30, recurrence=Recurrence.WEEKLY.value,
             signup_deadline=tuesday - _hours(14, 30), audience=Audience.EVERYONE.value, volunteer_minutes=0,
             aliases=["义诊", "免费义诊", "健康义诊", "周二义诊", "量血压"], project="健康义诊服务",
             description="天宁区人民医院医生坐诊：量血压、测血糖、慢病用药咨询。请带上医保卡和近期病历。"),
        dict(title="四点半课堂", kind=EventKind.CLASS.value, starts_at=wednesday, ends_at=wednesday + _hours(1, 30),
             place="党群服务中心二楼 四点半课堂教室", capacity=20, recurrence=Recurrence.WEEKLY.value,
             signup_deadline=wednesday - _hours(4, 30), audience=Audience.EVERYONE.value, volunteer_minutes=0,
             aliases=["430课堂", "四点半", "作业辅导", "课后托管"], project="四点半课堂",
             description="面向小学生：党员志愿者辅导作业、开展阅读和手工活动。家长接送请准时。"),
        dict(title="党群议事会：加装电梯与停车位规划", kind=EventKind.MEETING.value, starts_at=thursday,
             ends_at=thursday + _hours(1, 30), place="党群服务中心三楼 议事厅", capacity=40,
             audience=Audience.EVERYONE.value, volunteer_minutes=0, aliases=["党群议事会", "议事会", "四方五步议事"],
             project="党群议事",
             description="按“四方五步”议事：社区党组织、居委会、业委会、物业共同听取居民意见，议定加装电梯和停车位方案。"),
        dict(title="楼道环境整治志愿服务", kind=EventKind.VOLUNTEER.value, starts_at=saturday,
             ends_at=saturday + _hours(3), place="富强新村1–9栋（在1栋门口集合）", capacity=15,
             audience=Audience.VOLUNTEERS.value, volunteer_minutes=180,
             aliases=["大扫除", "环境整治", "清理楼道", "志愿服务"], project="环境整治",
             description="清理楼道堆物、张贴垃圾分类提示。工具由社区提供，请穿方便劳动的衣服。"),
        dict(title="主题党日：走访独居老人", kind=EventKind.PARTY_DAY.value, starts_at=friday,
             ends_at=friday + _hours(2), place="党群服务中心一楼集合", capacity=12,
             audience=Audience.PARTY_MEMBERS.value, volunteer_minutes=120, aliases=["主题党日", "走访老人"],
             project="党群议事", description="报到党员两人一组走访独居老人，了解需求并登记微心愿。"),
    ]


def _seed_projects(community: Community) -> tuple[dict[str, VolunteerProject], int]:
    projects: dict[str, VolunteerProject] = {}
    made = 0
    for name, description in DEMO_PROJECTS:
        project = db.session.scalars(select(VolunteerProject).where(
            VolunteerProject.community_id == community.id, VolunteerProject.name == name)).first()
        if project is None:
            project = VolunteerProject(community_id=community.id, name=name, description=description, active=True)
            db.session.add(project)
            db.session.flush()
            made += 1
        projects[name] = project
    return projects, made


def _seed_events(community: Community, projects: dict[str, VolunteerProject], moment: datetime) -> int:
    made = 0
    for spec in demo_event_specs(moment):
        project = projects[spec.pop("project")]
        existing = db.session.scalars(select(Event).where(
            Event.community_id == community.id, Event.title == spec["title"], Event.series_id.is_(None),
            Event.status != EventStatus.CANCELLED.value,
            or_(Event.recurrence == Recurrence.WEEKLY.value, Event.ends_at > moment))).first()
        if existing is not None:
            if existing.is_series_head:
                made += len(materialise_series(existing, commit=False))
            continue
        event = new_event(community_id=community.id, project_id=project.id, status=EventStatus.PUBLISHED.value,
                          published_at=moment, **spec)
        db.session.flush()
        made += 1
        if event.is_series_head:
            made += len(materialise_series(event, commit=False))
    return made


def _seed_member(community: Community, moment: datetime, name: str, phone: str, work_unit: str | None,
                 party_org: str | None, kind: str, resident_phone: str | None) -> tuple[PartyMember, bool]:
    member = db.session.scalars(select(PartyMember).where(
        PartyMember.community_id == community.id, PartyMember.phone == phone)).first()
    if member is not None:
        return member, False
    resident = None
    if resident_phone:
        resident = db.session.scalars(select(Resident).where(
            Resident.community_id == community.id, Resident.phone == resident_phone)).first()
    member = PartyMember(community_id=community.id, resident_id=resident.id if resident else None, kind=kind,
                         name=name, phone=phone, work_unit=work_unit, party_org=party_org,
                         registered_at=moment, active=True)
    db.session.add(member)
    db.session.flush()
    return member, True


def _seed_members(community: Community, projects: dict[str, VolunteerProject], moment: datetime) -> int:
    year = to_local(moment).year
    made = 0
    for name, phone, work_unit, party_org, kind, project_names, resident_phone in DEMO_MEMBERS:
        member, created = _seed_member(community, moment, name, phone, work_unit, party_org, kind, resident_phone)
        made += created
        for project_name in project_names:
            project = projects[project_name]
            if db.session.scalars(select(MemberProject).where(
                    MemberProject.member_id == member.id, MemberProject.project_id == project.id,
                    MemberProject.year == year)).first() is None:
                db.session.add(MemberProject(member_id=member.id, project_id=project.id, year=year, joined_at=moment))
    return made


def seed_demo_events(community: Community) -> list[str]:
    """The demo's projects, events (with the weekly ones' coming occurrences) and members; summary lines."""
    moment = clock_now()
    projects, projects_made = _seed_projects(community)
    events_made = _seed_events(community, projects, moment)
    members_made = _seed_members(community, projects, moment)
    db.session.flush()
    return [f"活动 events: 新建 {events_made}（含每周二上午义诊、四点半课堂等每周活动的近期场次）；"
            f"志愿服务项目 projects: 新建 {projects_made}；报到党员/志愿者 members: 新建 {members_made}"]
