"""疑似诉求 in the console inbox: a group message the bot left silent but marked as a possible report
(sent through the simulator, i.e. the group-ingest core) is listed for the person on duty, who makes
it a request — its clock starts, a reply may go at once — or dismisses it; bad input is answered on
the page with what was typed kept."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Direction, Message
from app.models.requests import PossibleRequest, ServiceRequest
from app.models.sla import ReplyClock
from app.web.demo import demo_duty_staff

MAYBE = "三号楼那边黑灯瞎火的"   # no cue word, but it reads like a report (tests/bot/test_round3.py)


def possible_from_the_group(browser, text: str = MAYBE) -> PossibleRequest:
    response = browser.post("/try/send", {"member": "demo-fuqiang-resident-1", "text": text}, token_from="/try")
    assert response.status_code == 302
    return db.session.scalars(select(PossibleRequest).where(PossibleRequest.text == text)).one()


def test_a_possible_request_is_converted_with_a_reply_from_the_inbox(demo, browser):
    row = possible_from_the_group(browser)
    browser.login(demo_duty_staff())
    page = browser.get("/console/inbox").get_data(as_text=True)
    assert f'data-possible="{row.id}"' in page and MAYBE in page and "疑似诉求（1）" in page
    partial = browser.get("/console/inbox?partial=1").get_data(as_text=True)
    assert f'data-possible="{row.id}"' in partial  # refreshed with the clocks
    response = browser.post(f"/console/inbox/possible/{row.id}/convert",
                            {"category": "repair", "reply": "已通知电工今晚查看路灯"},
                            token_from="/console/inbox")
    assert response.status_code == 302
    db.session.refresh(row)
    request = db.session.get(ServiceRequest, row.request_id)
    assert row.status == "converted" and request.category == "repair"
    clock = db.session.scalars(select(ReplyClock).where(ReplyClock.request_id == request.id)).one()
    assert clock.stopped_at is not None  # the reply went at once
    sent = db.session.scalars(select(Message).where(Message.direction == Direction.OUT.value,
                                                    Message.text.contains("已通知电工"))).one()
    assert sent.chat_id == "demo-fuqiang-grid-1"
    page = browser.get("/console/inbox").get_data(as_text=True)
    assert f'data-possible="{row.id}"' not in page and "已转为诉求" in page


def test_dismissing_posts_nothing_and_a_second_decision_is_refused(demo, browser):
    row = possible_from_the_group(browser)
    browser.login(demo_duty_staff())
    before = db.session.query(Message).filter(Message.direction == Direction.OUT.value).count()
    response = browser.post(f"/console/inbox/possible/{row.id}/dismiss", {"note": "邻居聊天"},
                            token_from="/console/inbox")
    assert response.status_code == 302
    db.session.refresh(row)
    assert row.status == "dismissed" and row.note == "邻居聊天"
    assert db.session.query(Message).filter(Message.direction == Direction.OUT.value).count() == before
    again = browser.post(f"/console/inbox/possible/{row.id}/convert", {}, token_from="/console/inbox")
    page = again.get_data(as_text=True)
    assert again.status_code == 409 and "已由" in page and 'role="alert"' in page and "already" not in page


def test_bad_input_keeps_what_was_typed_and_other_communities_are_not_found(demo, browser):
    row = possible_from_the_group(browser)
    browser.login(demo_duty_staff())
    response = browser.post(f"/console/inbox/possible/{row.id}/convert",
                            {"category": "repair", "reply": "好的\x01"}, token_from="/console/inbox")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "无法识别的字符" in page and "Traceback" not in page
    assert f'data-possible="{row.id}"' in page
    response = browser.post(f"/console/inbox/possible/{row.id}/convert", {"category": "nonsense"},
                            token_from="/console/inbox")
    assert response.status_code == 400 and "请选择类别" in response.get_data(as_text=True)
    assert browser.post("/console/inbox/possible/987654321/dismiss", {}, token_from="/console/inbox"
                        ).status_code == 404
    db.session.refresh(row)
    assert row.status == "open"
