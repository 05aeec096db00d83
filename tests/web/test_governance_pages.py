"""The console's 共建共治 pages: the lists, projects and 议事 on the demo, each role's access, the
whole path from a unit's resource to a finished project with counted hours, a topic through the
five steps, and bad input answered in Chinese with what was typed kept."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.handlers.governance import votes
from app.models import (
    Contribution,
    HoursEntry,
    Need,
    PartnerUnit,
    PartyMember,
    Project,
    Resident,
    Staff,
    Topic,
    TopicTask,
)
from app.web.demo import demo_duty_staff


def staff_named(name: str) -> Staff:
    return db.session.scalars(select(Staff).where(Staff.name == name)).one()


def body(response) -> str:
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    return text


PAGES = ["/console/resources", "/console/needs", "/console/projects", "/console/topics"]


def test_the_demo_lists_projects_and_topics_are_on_the_pages(demo, browser):
    browser.login(demo_duty_staff())
    resources = body(browser.get("/console/resources"))
    assert "红梅街道社区卫生服务中心" in resources and "登记资源" in resources
    projects = body(browser.get("/console/projects"))
    assert "GJ2026-001" in projects and "独居老人午餐送餐" in projects and "40%" in projects
    topics = body(browser.get("/console/topics?stage=all"))
    assert "2栋加装电梯" in topics and "茶馆会投票中" in topics
    needs = body(browser.get("/console/needs?stage=all"))
    assert "需求清单" in needs
    closed = db.session.scalars(select(Topic).where(Topic.stage == "closed")).first()
    page = body(browser.get(f"/console/topics/{closed.id}"))
    assert "居民评审" in page and "网上茶馆会投票" in page and "议事会纪要" in page


@pytest.mark.parametrize("name, can_see, can_edit, can_collect, committee", [
    ("王秀英", True, True, True, True),      # community admin + duty
    ("张丽", True, True, True, True),        # duty + grid leader
    ("孙婷", True, False, True, False),      # grid worker
])
def test_each_role_sees_and_does_what_the_api_allows(demo, browser, name, can_see, can_edit, can_collect, committee):
    browser.login(staff_named(name))
    for path in PAGES:
        assert browser.get(path).status_code == 200
    assert (browser.post("/console/resources", {"party": "", "kind": "hours", "title": "x"},
                         token_from="/console/needs").status_code == 403) is not can_edit
    need_status = browser.post("/console/needs", {"title": "楼道扶手", "kind": "other"},
                               token_from="/console/needs").status_code
    assert (need_status == 302) is can_collect
    topic = db.session.scalars(select(Topic).where(Topic.stage == "collect")).first()
    topic = topic or db.session.scalars(select(Topic)).first()
    status = browser.post(f"/console/topics/{topic.id}/participant", {"party": "committee", "name": "某人"},
                          token_from="/console/topics").status_code
    assert (status != 403) is committee


@pytest.mark.parametrize("name", ["钱卫东", "何亮"])
def test_street_and_department_staff_have_no_co_governance_console(demo, browser, name):
    browser.login(staff_named(name))
    for path in PAGES:
        assert browser.get(path).status_code == 403


def test_another_communitys_rows_are_not_found(demo, browser):
    browser.login(demo_duty_staff())
    for path in ("/console/needs/987654321", "/console/projects/987654321", "/console/topics/987654321"):
        response = browser.get(path)
        assert response.status_code == 404 and "没有找到" in body(response)
    assert browser.post("/console/needs/987654321/claim", {}, token_from="/console/needs").status_code == 404


def test_a_unit_registers_a_resource_a_need_is_claimed_and_becomes_a_project_with_counted_hours(demo, browser):
    staff = demo_duty_staff()
    browser.login(staff)
    response = browser.post("/console/units", {"name": "富强社区老年大学", "kind": "social_org",
                                               "contact_name": "沈老师", "phone": "0519-8888"},
                            token_from="/console/resources")
    assert response.status_code == 302, body(response)[:2000]
    unit = db.session.scalars(select(PartnerUnit).where(PartnerUnit.name == "富强社区老年大学")).one()
    response = browser.post("/console/resources", {
        "party": f"unit:{unit.id}", "kind": "skill", "title": "智能手机课", "tags": "手机，课堂",
        "quantity": "12", "quantity_unit": "次", "weekdays": ["3"], "time_from": "14:00", "time_until": "16:00"},
        token_from="/console/resources")
    assert response.status_code == 302
    assert "智能手机课" in body(browser.get("/console/resources"))

    response = browser.post("/console/needs", {"title": "老人学用智能手机", "kind": "skill", "tags": "手机",
                                               "beneficiaries": "30"}, token_from="/console/needs")
    assert response.status_code == 302
    need = db.session.scalars(select(Need).where(Need.title == "老人学用智能手机")).one()
    page = body(browser.get(f"/console/needs/{need.id}"))
    assert "智能手机课" in page and "匹配建议" in page  # the resource is suggested, with reasons
    response = browser.post(f"/console/needs/{need.id}/claim", {"party": f"unit:{unit.id}"},
                            token_from=f"/console/needs/{need.id}")
    assert response.status_code == 302
    member = db.session.scalars(select(PartyMember).where(PartyMember.community_id == need.community_id)).first()
    browser.post(f"/console/needs/{need.id}/claim", {"party": f"member:{member.id}"},
                 token_from=f"/console/needs/{need.id}")
    response = browser.post(f"/console/needs/{need.id}/project", {
        "owner_staff_id": str(staff.id), "plan": "每周三下午在活动室上课", "deadline": "2026-12-31"},
        token_from=f"/console/needs/{need.id}")
    assert response.status_code == 302
    project = db.session.scalars(select(Project).where(Project.need_id == need.id)).one()
    url = f"/console/projects/{project.id}"
    assert browser.post(url + "/progress", {"progress": "50", "note": "已上四次课"}, token_from=url).status_code == 302
    assert browser.post(url + "/contribute", {"party": f"member:{member.id}", "kind": "hours", "quantity": "3",
                                              "note": "助教"}, token_from=url).status_code == 302
    hours_before = db.session.scalar(select(func.count()).select_from(HoursEntry))
    assert browser.post(url + "/contribute", {"party": f"unit:{unit.id}", "kind": "hours", "quantity": "2.5"},
                        token_from=url).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(HoursEntry)) == hours_before  # units: no volunteer hours
    page = body(browser.get(url))
    assert "50%" in page and "服务时长 5.5 小时" in page and "已上四次课" in page
    assert db.session.scalar(select(func.sum(Contribution.quantity)).where(Contribution.project_id == project.id)) == 5.5
    assert browser.post(url + "/complete", {"summary": "30位老人学会视频通话"}, token_from=url).status_code == 302
    db.session.refresh(need)
    assert need.status == "done" and "已完成" in body(browser.get(url))


def test_bad_input_is_answered_in_chinese_with_the_form_kept(demo, browser):
    staff = demo_duty_staff()
    browser.login(staff)
    response = browser.post("/console/resources", {"party": "", "kind": "hours", "title": "周末陪诊",
                                                   "quantity": "很多"}, token_from="/console/resources")
    page = body(response)
    assert response.status_code == 400 and 'role="alert"' in page
    assert "请填写单位或党员其中一个" in page and "unit_id" not in page.split('role="alert"')[1][:200]
    assert 'value="周末陪诊"' in page and 'value="很多"' in page
    unit = db.session.scalars(select(PartnerUnit)).first()
    response = browser.post("/console/resources", {"party": f"unit:{unit.id}", "kind": "hours", "title": "周末陪诊",
                                                   "quantity": "很多"}, token_from="/console/resources")
    assert response.status_code == 400 and "数量必须是数字" in body(response)
    project = db.session.scalars(select(Project).where(Project.status == "in_progress")).first()
    url = f"/console/projects/{project.id}"
    response = browser.post(url + "/progress", {"progress": "120", "note": "超额"}, token_from=url)
    page = body(response)
    assert response.status_code == 400 and "进度" in page and 'value="120"' in page and "超额" in page
    response = browser.post(url + "/contribute", {"party": "member:abc", "kind": "hours", "quantity": "1"},
                            token_from=url)
    assert response.status_code == 400 and "请选择单位或党员" in body(response)
    response = browser.post("/console/needs", {"title": "\x01坏字符", "kind": "other"}, token_from="/console/needs")
    assert response.status_code == 400 and "无法识别的字符" in body(response)


def test_a_topic_goes_through_the_five_steps_from_the_console_with_a_group_vote(demo, browser):
    staff = demo_duty_staff()
    browser.login(staff)
    response = browser.post("/console/topics", {"title": "小区北门加装快递柜", "detail": "快递堆在门岗"},
                            token_from="/console/topics")
    assert response.status_code == 302
    topic = db.session.scalars(select(Topic).where(Topic.title == "小区北门加装快递柜")).one()
    url = f"/console/topics/{topic.id}"

    def act(action, data, status=302):
        response = browser.post(f"{url}/{action}", data, token_from=url)
        assert response.status_code == status, body(response)[:3000]
        return response

    act("advance", {"stage": "topic", "note": "两委会确认"})
    refused = body(act("advance", {"stage": "deliberate"}, status=409))
    assert "协商议事需要四方参与，还缺" in refused
    for party, name in [("committee", "王秀英"), ("party_rep", "周桂兰"), ("resident_rep", "刘德福"),
                        ("stakeholder", "快递站点负责人")]:
        act("participant", {"party": party, "name": name})
    act("advance", {"stage": "deliberate"})
    act("post", {"round": "vote"})
    db.session.refresh(topic)
    residents = db.session.scalars(select(Resident).where(Resident.community_id == topic.community_id)
                                   .order_by(Resident.id).limit(3)).all()
    for resident, choice in zip(residents, ["support", "support", "oppose"], strict=True):
        votes.cast(topic, resident, "vote", choice, source="chat")
    page = body(browser.get(url))
    assert 'aria-label="支持 2 票"' in page and 'aria-label="反对 1 票"' in page
    act("minutes", {"text": "议事会同意在北门东侧加装快递柜", "place": "党群服务中心", "attendees": "王秀英、刘德福"})
    act("advance", {"stage": "carry_out", "decision": "北门东侧加装快递柜", "owner_staff_id": str(staff.id),
                    "deadline": "2026-12-20"})
    db.session.refresh(topic)
    assert topic.vote_closed_at is not None  # the vote ended with the decision
    act("task", {"kind": "task", "title": "联系快递柜公司"})
    refused = body(act("advance", {"stage": "review"}, status=409))
    assert "还有任务没有办结" in refused
    task = db.session.scalars(select(TopicTask).where(TopicTask.topic_id == topic.id)).one()
    act("task-done", {"task_id": str(task.id), "note": "已签约"})
    act("advance", {"stage": "review"})
    act("post", {"round": "review"})
    act("advance", {"stage": "closed", "summary": "快递柜已投用，居民满意"})
    db.session.refresh(topic)
    assert topic.stage == "closed"
    page = body(browser.get(url))
    assert "快递柜已投用" in page and page.count('class="done"') == 5
