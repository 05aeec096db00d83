"""The demo community's co-governance data: realistic, consistent with the rules, and added once."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.handlers.demo import seed_demo
from app.handlers.governance import deliberation, hotspots, matching, needs, projects, report, topic_views, votes
from app.handlers.messaging.inbound import InboundMessage, receive
from app.models import (
    BuildingLocation,
    Community,
    Contribution,
    HoursEntry,
    MapStation,
    Need,
    PartnerUnit,
    Project,
    Resource,
    Suggestion,
    Topic,
    Vote,
)

COUNTED = (PartnerUnit, Resource, Need, Project, Contribution, Topic, Vote, MapStation, Suggestion, BuildingLocation,
           HoursEntry)


def counts() -> dict:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def test_the_demo_has_every_part_of_co_governance_and_runs_twice(app, clock):
    summary = seed_demo()
    community = db.session.get(Community, summary.community_id)
    first = counts()
    assert any("共建共治 governance" in line for line in summary.lines())
    units = {u.name for u in db.session.scalars(select(PartnerUnit))}
    assert {"红梅街道社区卫生服务中心", "天宁区富强小学", "常州富强物业服务有限公司"} <= units
    assert first["BuildingLocation"] == 36 and first["MapStation"] >= 5

    # A need promoted from the reports that kept coming back from building 3.
    shed = db.session.scalars(select(Need).where(Need.title == "3栋电动车集中充电棚")).one()
    assert shed.source == "requests" and len(shed.request_ids) == 4 and shed.status == "done"
    assert hotspots.hotspots(community.id)[0].request_ids == shed.request_ids

    # A project in progress with counted hours, the members' share in their 双报到 hours too.
    meals = db.session.scalars(select(Project).where(Project.title == "独居老人午餐送餐")).one()
    view = projects.project_view(meals, detail=True)
    assert view["status"] == "in_progress" and view["hours"] == 26.5 and len(view["partners"]) == 3
    data = report.community_report(community, 2026)
    yan = next(m for m in data["members"] if m["name"] == "周晓燕")
    assert yan["project_hours"] == 6 and yan["volunteer_hours"] >= 6

    # A topic through the five steps with its vote and review; one being voted on now.
    closed = db.session.scalars(select(Topic).where(Topic.title == "3栋前空地建电动车集中充电棚")).one()
    topic = topic_views.topic_view(closed, detail=True)
    assert [s["state"] for s in topic["steps"]] == ["done"] * 5 and {p["party"] for p in topic["participants"]} == {
        "committee", "party_rep", "resident_rep", "stakeholder"}
    assert topic["vote"]["total"] == 4 and topic["review"]["total"] == 4 and all(t["finished"] for t in topic["tasks"])
    lift = db.session.scalars(select(Topic).where(Topic.title == "2栋加装电梯")).one()
    assert votes.is_open(lift, "vote") and votes.result(lift, "vote")["total"] == 3
    assert deliberation.topics(community.id, stage=["collect"])[0].source == "suggestion"

    open_need = db.session.scalars(select(Need).where(Need.title == "寒假儿童托管场地")).one()
    assert matching.suggest(open_need)[0].resource.title == "寒暑假开放教室（工作日）"
    assert needs.need_view(open_need)["claims"][0]["party"]["name"] == "天宁区富强小学"

    seed_demo()
    assert counts() == first


def test_a_demo_resident_votes_in_the_group_and_asks_the_map(app, clock):
    seed_demo()
    lift = db.session.scalars(select(Topic).where(Topic.title == "2栋加装电梯")).one()
    reply, _ = receive(InboundMessage(channel="group", dedupe_key="demo-v1", sender_id="demo-fuqiang-resident-4",
                                      chat_id="demo-fuqiang-grid-1", chat_type="group", text="支持 加装电梯是好事"))
    assert reply.text is None and votes.result(lift, "vote")["total"] == 4
    reply, _ = receive(InboundMessage(channel="group", dedupe_key="demo-m1", sender_id="demo-fuqiang-resident-1",
                                      chat_id="demo-fuqiang-grid-1", chat_type="group", text="附近哪里可以量血压"))
    # 09:30 on a Tuesday: the clinic and the elderly-care station are open; 陈桂芳 lives in building 3.
    assert reply.text.startswith("离3号楼最近、现在开放的可以量血压的地方：")
    assert "社区卫生服务站" in reply.text and "居家养老站" in reply.text
