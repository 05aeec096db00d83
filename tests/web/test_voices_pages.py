"""The console's 百姓说事 pages: the demo's suggestions by state, a public answer that goes back to the
group it was said in, promotion to a 议事 topic, closing, a suggestion recorded for a resident; each
role's access as the API's; another community's suggestion not found; bad input answered in Chinese
with what was typed kept."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.handlers.governance import suggestions
from app.models import Community, Message, Street, Suggestion, Topic
from app.web.demo import demo_duty_staff
from tests.web.test_governance_pages import body, staff_named


def other_community() -> Community:
    """A second community of the demo's street: its rows must stay out of the demo staff's pages."""
    other = Community(street_id=db.session.scalars(select(Street)).first().id, name="别的社区", code="OTHER")
    db.session.add(other)
    db.session.flush()
    return other


def new_suggestion() -> Suggestion:
    return db.session.scalars(select(Suggestion).where(Suggestion.status == "new").order_by(Suggestion.id)).first()


def test_the_demo_suggestions_are_listed_by_state(demo, browser):
    browser.login(demo_duty_staff())
    page = body(browser.get("/console/suggestions"))
    rows = db.session.scalars(select(Suggestion)).all()
    waiting = [r for r in rows if r.status in ("new", "answered")]
    assert waiting and all(r.code in page for r in waiting)
    assert f"未办结（{len(waiting)}）" in page
    promoted = next(r for r in rows if r.status == "promoted")
    assert promoted.code not in page  # not on the default tab
    assert promoted.code in body(browser.get("/console/suggestions?status=promoted"))
    assert all(r.code in body(browser.get("/console/suggestions?status=all")) for r in rows)
    detail = body(browser.get(f"/console/suggestions/{promoted.id}"))
    topic = db.session.get(Topic, promoted.topic_id)
    assert f"/console/topics/{topic.id}" in detail and "已转为议题" in detail


def test_the_words_the_page_names_start_a_suggestion_in_the_group(demo, browser):
    """The list tells staff what residents say to make a suggestion: each word named must work in the group
    (the page once named a bare "建议", which the bot takes as an ordinary message)."""
    browser.login(demo_duty_staff())
    intro = re.search(r"在群里以((?:“[^”]+”)+)等开头说的", body(browser.get("/console/suggestions")))
    words = re.findall(r"“([^”]+)”", intro.group(1))
    assert len(words) == 3
    for number, word in enumerate(words, start=1):
        idea = f"小区门口第{number}个路口装一个快递柜"
        sent = browser.post("/try/send", {"member": "demo-fuqiang-resident-1", "text": f"{word}：{idea}"},
                            token_from="/try")
        assert sent.status_code == 302
        assert db.session.scalars(select(Suggestion).where(Suggestion.text == idea)).one().source == "chat"


def test_an_answer_goes_back_to_the_group_and_is_kept_on_the_page(demo, browser):
    browser.login(demo_duty_staff())
    row = new_suggestion()
    page = body(browser.get(f"/console/suggestions/{row.id}"))
    assert "还没有答复" in page and "发回居民群" in page
    response = browser.post(f"/console/suggestions/{row.id}/answer", {"answer": "已经和物业商量，下周装好。"},
                            token_from=f"/console/suggestions/{row.id}")
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(Suggestion, row.id)
    assert row.status == "answered" and row.answer == "已经和物业商量，下周装好。"
    sent = db.session.scalars(select(Message).where(Message.direction == "out")
                              .order_by(Message.id.desc())).first()
    assert sent.recipient_id == row.reply_to and "已经和物业商量" in sent.text and row.code in sent.text
    page = body(browser.get(f"/console/suggestions/{row.id}"))
    assert "已公开答复" in page and "已经和物业商量，下周装好。" in page


def test_a_suggestion_becomes_a_topic_then_is_closed(demo, browser):
    browser.login(demo_duty_staff())
    row = new_suggestion()
    response = browser.post(f"/console/suggestions/{row.id}/promote", {"title": "楼道装感应灯"},
                            token_from=f"/console/suggestions/{row.id}")
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(Suggestion, row.id)
    topic = db.session.get(Topic, row.topic_id)
    assert row.status == "promoted" and topic.title == "楼道装感应灯" and topic.stage == "collect"
    again = browser.post(f"/console/suggestions/{row.id}/promote", {}, token_from=f"/console/suggestions/{row.id}")
    assert again.status_code == 409 and "已经转为议题" in body(again)
    refused = browser.post(f"/console/suggestions/{row.id}/close", {"reason": "已转议事"},
                           token_from=f"/console/suggestions/{row.id}")
    assert refused.status_code == 409 and "请先公开答复再关闭" in body(refused)
    browser.post(f"/console/suggestions/{row.id}/answer", {"answer": "已转为议题，请大家来议。"},
                 token_from=f"/console/suggestions/{row.id}")
    closed = browser.post(f"/console/suggestions/{row.id}/close", {"reason": "已转议事"},
                          token_from=f"/console/suggestions/{row.id}")
    assert closed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Suggestion, row.id).status == "closed"
    page = body(browser.get(f"/console/suggestions/{row.id}"))
    assert "关闭原因：</strong>已转议事" in page and "公开答复</summary>" not in page


def test_a_suggestion_recorded_for_a_resident_and_bad_input_keeps_what_was_typed(demo, browser):
    browser.login(staff_named("孙婷"))  # a grid worker brings it from her round
    short = browser.post("/console/suggestions", {"text": "路灯"}, token_from="/console/suggestions")
    assert short.status_code == 400
    page = body(short)
    assert "请把建议说得具体一些" in page and ">路灯</textarea>" in page and 'role="alert"' in page
    control = browser.post("/console/suggestions", {"text": "小区\x01里"}, token_from="/console/suggestions")
    assert control.status_code == 400 and "无法识别的字符" in body(control)
    done = browser.post("/console/suggestions", {"text": "希望在3栋门口放两张长椅，老人歇脚"},
                        token_from="/console/suggestions")
    assert done.status_code == 302
    row = db.session.scalars(select(Suggestion).where(Suggestion.text.like("希望在3栋门口%"))).one()
    assert row.source == "staff" and row.resident_id is None
    page = body(browser.get(done.headers["Location"]))
    assert "工作人员代为登记" in page and "答复显示在公开列表上" in page
    empty = browser.post(f"/console/suggestions/{row.id}/answer", {"answer": "  "},
                         token_from=f"/console/suggestions/{row.id}")
    assert empty.status_code == 400 and "请填写答复" in body(empty)


@pytest.mark.parametrize("name, collect, promote", [
    ("王秀英", True, True),      # community admin
    ("张丽", True, True),        # duty + grid leader
    ("孙婷", True, False),       # grid worker: answers and closes, does not promote
])
def test_each_role_does_what_the_api_allows(demo, browser, name, collect, promote):
    browser.login(staff_named(name))
    row = new_suggestion()
    page = body(browser.get(f"/console/suggestions/{row.id}"))
    assert ("转为议事议题" in page) is promote and ("公开答复</summary>" in page) is collect
    status = browser.post(f"/console/suggestions/{row.id}/promote", {}, token_from="/console/suggestions").status_code
    assert (status == 302) is promote and (status == 403) is not promote


@pytest.mark.parametrize("name", ["钱卫东", "何亮"])
def test_street_and_department_staff_have_no_suggestions_console(demo, browser, name):
    browser.login(staff_named(name))
    assert browser.get("/console/suggestions").status_code == 403


def test_another_communitys_suggestion_is_not_found_and_a_post_needs_its_token(demo, browser):
    theirs, _created = suggestions.collect(other_community().id, "别的社区的建议：多放几个垃圾桶", resident=None, source="staff")
    browser.login(demo_duty_staff())
    assert theirs.code not in body(browser.get("/console/suggestions?status=all"))
    response = browser.get(f"/console/suggestions/{theirs.id}")
    assert response.status_code == 404 and "没有找到" in body(response)
    assert browser.post(f"/console/suggestions/{theirs.id}/answer", {"answer": "好的"},
                        token_from="/console/suggestions").status_code == 404
    db.session.expire_all()
    assert db.session.get(Suggestion, theirs.id).answer is None
    row = new_suggestion()
    forged = browser.client.post(f"/console/suggestions/{row.id}/answer", data={"answer": "好的"})
    assert forged.status_code == 400 and "页面已过期" in body(forged)
    db.session.expire_all()
    assert db.session.get(Suggestion, row.id).answer is None
