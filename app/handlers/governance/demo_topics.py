"""Demo 议事 and 百姓说事: a topic through all five steps (the building-3 charging shed, with its tea-house
vote, tasks, project and review), one being voted on in the group now, one just proposed, suggestions.

Written as rows with their timeline (the demo's transaction, flushes only); matched by title and text.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.handlers.governance import contributions
from app.localtime import local_date
from app.models import (
    Claim,
    Community,
    Contribution,
    Need,
    Participant,
    PartnerUnit,
    PartyMember,
    Project,
    ProjectUpdate,
    Resident,
    ResidentGroup,
    Resource,
    ServiceRequest,
    Staff,
    Suggestion,
    Topic,
    TopicComment,
    TopicEvent,
    TopicTask,
    Vote,
)

PARTIES = [("committee", "王秀英", "党总支书记"), ("committee", "张丽", "第一网格网格长"),
           ("party_rep", "韩卫国", "报到党员（供电公司）"), ("resident_rep", "陈桂芳", "3栋楼栋长"),
           ("stakeholder", "常州富强物业服务有限公司", "充电棚建设和管理方"), ("stakeholder", "3栋一楼住户代表", None)]
SUGGESTIONS = [("13900001001", "北门口装一个快递柜吧，老人取快递要走到南门太远了",
                "已和物业、快递公司商定，北门快递柜下月初安装。"),
               ("13900001003", "健身器材旁边能不能加几把长椅，老人锻炼完可以歇歇脚", None),
               ("13900001004", "小区里的停车位重新划一下线，现在一个车位占两个的太多了", None)]


def _ago(days: float) -> datetime:
    return now() - timedelta(days=days)


def _residents(community: Community) -> dict[str, Resident]:
    return {r.phone: r for r in db.session.scalars(select(Resident).where(Resident.community_id == community.id))
            if r.phone}


def _event(topic: Topic, days: float, event_kind: str, admin: Staff, *, to: str | None = None,
           frm: str | None = None, **detail) -> None:
    db.session.add(TopicEvent(topic_id=topic.id, at=_ago(days), actor_type="staff", actor_id=admin.id,
                              kind=event_kind, from_stage=frm, to_stage=to, detail=detail or None))


def _topic(community: Community, number: int, **values) -> tuple[Topic, bool]:
    topic = db.session.scalars(select(Topic).where(Topic.community_id == community.id,
                                                   Topic.title == values["title"])).first()
    if topic is not None:
        return topic, False
    taken = db.session.scalar(select(Topic.id).where(Topic.community_id == community.id, Topic.number == number))
    if taken:
        number = max(t.number for t in db.session.scalars(select(Topic).where(Topic.community_id == community.id))) + 1
    topic = Topic(community_id=community.id, number=number, **values)
    db.session.add(topic)
    db.session.flush()
    return topic, True


def _votes(topic: Topic, round_: str, ballots: list, residents: dict[str, Resident], days: float, group_id) -> None:
    for phone, choice, text in ballots:
        resident = residents.get(phone)
        if resident is None:
            continue
        db.session.add(Vote(topic_id=topic.id, round=round_, resident_id=resident.id, choice=choice, source="group",
                            group_id=group_id, created_at=_ago(days), updated_at=_ago(days)))
        if text:
            db.session.add(TopicComment(topic_id=topic.id, resident_id=resident.id, round=round_, choice=choice,
                                        text=text, source="group", created_at=_ago(days)))


def _parties(topic: Topic) -> None:
    for party, name, note in PARTIES:
        db.session.add(Participant(topic_id=topic.id, party=party, name=name, note=note))


def seed_topics(community: Community, admin: Staff, needs: dict[str, Need], requests: list[ServiceRequest]) -> list[str]:
    residents = _residents(community)
    group = db.session.scalars(select(ResidentGroup).where(ResidentGroup.community_id == community.id,
                                                           ResidentGroup.chat_id == "demo-fuqiang-grid-1")).first()
    group_ids = [group.id] if group else []
    made = 0
    made += _charging_shed(community, admin, needs["ebike"], requests, residents, group_ids)
    made += _lift(community, admin, residents, group_ids)
    made += _suggestions(community, admin, residents, group.id if group else None)
    return [f"议事 topics / 百姓说事: 新建 {made} 项（3栋充电棚已走完五步；2栋加装电梯正在第一网格居民群投票，"
            f"回复“支持”“反对”或“弃权”即可）"]


def _charging_shed(community, admin, need, requests, residents, group_ids) -> int:
    leader = db.session.scalars(select(Staff).where(Staff.community_id == community.id, Staff.name == "张丽")).one()
    topic, created = _topic(
        community, 1, title="3栋前空地建电动车集中充电棚", source="requests", request_ids=[r.id for r in requests],
        building_id=need.building_id, proposer_staff_id=leader.id, stage="closed", group_ids=group_ids,
        detail="3栋楼道飞线充电两个月里反复被反映4次。拟在3栋前空地建充电棚，物业负责管理，供电公司指导线路。",
        vote_opened_at=_ago(35), vote_closes_at=_ago(31), vote_closed_at=_ago(31), review_opened_at=_ago(8),
        review_closed_at=_ago(4), decision="在3栋前空地建12个充电位的充电棚：物业出场地和管理，供电公司指导线路改造，"
        "报到党员参与安全巡查；收费按成本价。", owner_staff_id=leader.id, deadline=local_date(_ago(10)),
        review_summary="充电棚已投入使用，楼道飞线充电消除；居民满意度4/4。", created_at=_ago(40))
    if not created:
        return 0
    _parties(topic)
    steps = [(40, "created", None, None), (38, "stage", "collect", "topic"), (36, "stage", "topic", "deliberate"),
             (31, "stage", "deliberate", "carry_out"), (8, "stage", "carry_out", "review"),
             (4, "stage", "review", "closed")]
    for days, kind, frm, to in steps:
        _event(topic, days, kind, admin, frm=frm, to=to, **({"source": "requests"} if kind == "created" else {}))
    _event(topic, 35, "posted", admin, round="vote", group_ids=group_ids)
    _event(topic, 33, "minutes", admin, text="党群服务中心议事厅召开议事会：四方同意建棚；一楼住户提出噪音和消防顾虑，"
           "约定充电棚加装烟感和喷淋、22点后断电。", place="党群服务中心三楼议事厅",
           attendees=["王秀英", "张丽", "韩卫国", "陈桂芳", "物业陆经理", "3栋一楼住户代表"])
    _votes(topic, "vote", [("13900001001", "support", "楼道里充电太危险了，早该建"), ("13900001005", "support", None),
                           ("13900001003", "support", "希望加装烟感"), ("13900001002", "abstain", None)],
           residents, 34, group_ids[0] if group_ids else None)
    _event(topic, 31, "round_closed", admin, round="vote", counts={"support": 3, "oppose": 0, "abstain": 1}, total=4)
    _shed_project(community, admin, need, topic)
    db.session.add(TopicTask(topic_id=topic.id, kind="need", ref_id=need.id, title="共建需求：3栋电动车集中充电棚",
                             owner_staff_id=leader.id, deadline=topic.deadline, created_by_staff_id=admin.id))
    db.session.add(TopicTask(topic_id=topic.id, kind="task", title="张贴充电棚使用须知、告知3栋住户",
                             owner_staff_id=leader.id, done_at=_ago(12), note="已在3栋各单元张贴",
                             created_by_staff_id=admin.id))
    _event(topic, 30, "task", admin, kind="need", ref_id=need.id, title="共建需求：3栋电动车集中充电棚")
    _event(topic, 8, "posted", admin, round="review", group_ids=group_ids)
    _votes(topic, "review", [("13900001001", "satisfied", "晚上充电放心多了"), ("13900001005", "satisfied", None),
                             ("13900001003", "satisfied", None), ("13900001002", "basically", "收费再便宜点就好了")],
           residents, 6, group_ids[0] if group_ids else None)
    _event(topic, 4, "round_closed", admin, round="review", counts={"satisfied": 3, "basically": 1}, total=4)
    need.topic_id = topic.id
    return 1


def _shed_project(community, admin, need, topic) -> None:
    if db.session.scalar(select(Project.id).where(Project.need_id == need.id)):
        return
    units = {u.name: u for u in db.session.scalars(select(PartnerUnit).where(PartnerUnit.community_id == community.id))}
    property_co, power = units["常州富强物业服务有限公司"], units["国网常州供电公司天宁供电中心"]
    member = db.session.scalars(select(PartyMember).where(PartyMember.community_id == community.id,
                                                          PartyMember.phone == "13900002002")).first()
    land = db.session.scalars(select(Resource).where(Resource.unit_id == property_co.id, Resource.kind == "room")).first()
    db.session.add(Claim(need_id=need.id, community_id=community.id, direction="assigned", unit_id=property_co.id,
                         resource_id=land.id if land else None, status="active", staff_id=admin.id))
    db.session.add(Claim(need_id=need.id, community_id=community.id, direction="claimed", unit_id=power.id,
                         note="免费指导线路改造", status="active", staff_id=admin.id))
    if member is not None:
        db.session.add(Claim(need_id=need.id, community_id=community.id, direction="claimed", member_id=member.id,
                             note="周末参与安全巡查", status="active", staff_id=admin.id))
    project = Project(community_id=community.id, need_id=need.id, code=f"GJ{local_date(now()).year}-001",
                      title="3栋电动车集中充电棚", plan=topic.decision, owner_staff_id=topic.owner_staff_id,
                      lead_unit_id=property_co.id, deadline=topic.deadline, status="done", progress=100,
                      beneficiaries=90, completed_at=_ago(12), summary="充电棚建成，12个充电位，加装烟感、喷淋和定时断电。",
                      created_at=_ago(30))
    db.session.add(project)
    db.session.flush()
    need.status = "done"
    for days, kind, progress, note in ((30, "created", 0, topic.decision), (20, "progress", 50, "地面硬化、棚架完成"),
                                       (12, "done", 100, project.summary)):
        db.session.add(ProjectUpdate(project_id=project.id, at=_ago(days), staff_id=admin.id, kind=kind,
                                     progress=progress, note=note))
    served = local_date(_ago(14))
    for unit, member_id, kind, quantity, unit_label, note in (
            (property_co, None, "hours", 12, "小时", "施工协调"), (property_co, None, "items", 12, "个", "充电插座"),
            (power, None, "hours", 8, "小时", "线路改造指导"), (None, member.id if member else None, "hours", 4, "小时",
                                                             "周末安全巡查")):
        if unit is None and member_id is None:
            continue
        entry = Contribution(project_id=project.id, community_id=community.id, unit_id=unit.id if unit else None,
                             member_id=member_id, kind=kind, quantity=quantity, quantity_unit=unit_label,
                             served_on=served, year=served.year, note=note, recorded_by_staff_id=admin.id,
                             created_at=_ago(14))
        if member_id is not None:
            entry.hours_entry_id = contributions.volunteer_hours_entry(project, member_id, quantity, served, note,
                                                                       admin).id
        db.session.add(entry)


def _lift(community, admin, residents, group_ids) -> int:
    topic, created = _topic(
        community, 2, title="2栋加装电梯", source="resident", stage="deliberate", group_ids=group_ids,
        proposer_resident_id=residents["13900001001"].id if "13900001001" in residents else None,
        detail="2栋6层无电梯，住户中70岁以上老人11位。拟申请既有住宅加装电梯补贴，费用按楼层分摊。",
        vote_opened_at=_ago(2), vote_closes_at=now() + timedelta(days=5), created_at=_ago(9))
    if not created:
        return 0
    _parties(topic)
    for days, kind, frm, to in ((9, "created", None, None), (7, "stage", "collect", "topic"),
                                (3, "stage", "topic", "deliberate")):
        _event(topic, days, kind, admin, frm=frm, to=to)
    _event(topic, 2, "posted", admin, round="vote", group_ids=group_ids)
    _votes(topic, "vote", [("13900001001", "support", "老人爬楼太难了"), ("13900001005", "support", None),
                           ("13900001002", "oppose", "一楼住户不用电梯还要分摊，采光也受影响")],
           residents, 1, group_ids[0] if group_ids else None)
    return 1


def _suggestions(community, admin, residents, group_id) -> int:
    made = 0
    for phone, text, answer in SUGGESTIONS:
        resident = residents.get(phone)
        if resident is None or db.session.scalar(select(Suggestion.id).where(Suggestion.community_id == community.id,
                                                                              Suggestion.text == text)):
            continue
        row = Suggestion(community_id=community.id, resident_id=resident.id, text=text, source="chat",
                         status="answered" if answer else "new", answer=answer,
                         answered_by_staff_id=admin.id if answer else None, answered_at=_ago(1) if answer else None,
                         reply_channel="group", reply_kind="group", reply_to="demo-fuqiang-grid-1",
                         group_id=group_id, created_at=_ago(3))
        db.session.add(row)
        made += 1
    db.session.flush()
    parking = db.session.scalars(select(Suggestion).where(Suggestion.community_id == community.id,
                                                          Suggestion.text == SUGGESTIONS[2][1])).first()
    if parking is not None and parking.topic_id is None:
        topic, created = _topic(community, 3, title="小区停车位重新划线", source="suggestion", stage="collect",
                                detail=parking.text, proposer_resident_id=parking.resident_id, created_at=_ago(2))
        if created:
            _event(topic, 2, "created", admin, source="suggestion", suggestion_id=parking.id)
            parking.topic_id, parking.status = topic.id, "promoted"
            made += 1
    return made
