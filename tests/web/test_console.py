"""The staff console: login (invite code, one-time link), CSRF, scoping like the API, inbox reply, actions."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.cli import cli
from app.extensions import db
from app.handlers import requests as flow
from app.handlers.inbox import open_clocks_query
from app.handlers.messaging.outbox import TO_GROUP, queue_message
from app.handlers.org.auth import STAFF, issue_token
from app.handlers.sla import start_reply_clock
from app.models import Alert, AlertRecipient, Community, Role, Staff, Street
from app.models.sla import ReplyClock
from app.web.demo import demo_duty_staff
from app.web.login import LINK_LABEL, LINK_TTL
from tests.web.conftest import csrf_of
from workers.sends import deliver


def _request(community_id: int, text: str = "3号楼楼道灯坏了，晚上很黑"):
    row = flow.create_request(community_id=community_id, text=text, channel="group", source="chat")
    start_reply_clock(community_id=community_id, request_id=row.id)
    return row


def test_pages_need_a_login_and_come_back_after_it(demo, browser):
    response = browser.get("/console/inbox")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/console/login?next=/console/inbox")
    staff = demo_duty_staff()
    browser.login(staff)
    page = browser.get("/console/inbox").get_data(as_text=True)
    assert "值班收件箱" in page and staff.name in page


def test_a_wrong_invite_code_is_refused_in_chinese_and_kept_in_the_form(demo, browser):
    response = browser.post("/console/login", {"code": "abc-def"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "邀请码不正确或已过期" in page
    assert 'value="abc-def"' in page
    assert "Traceback" not in page


def test_control_characters_in_a_form_are_a_message_not_a_500(demo, browser):
    response = browser.post("/console/login", {"code": "AB\x00CD"})
    assert response.status_code == 400
    assert "无法识别的字符" in response.get_data(as_text=True)


def test_every_post_needs_the_csrf_token(demo, browser, client):
    staff = demo_duty_staff()
    browser.login(staff)
    row = _request(staff.community_id)
    clock = db.session.scalars(select(ReplyClock).where(ReplyClock.request_id == row.id)).one()
    response = client.post(f"/console/inbox/{clock.id}/reply", data={"text": "马上处理"})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)
    db.session.refresh(clock)
    assert clock.stopped_at is None


def test_the_inbox_reply_stops_the_clock_and_records_the_request(demo, browser):
    staff = demo_duty_staff()
    browser.login(staff)
    row = _request(staff.community_id)
    clock = db.session.scalars(select(ReplyClock).where(ReplyClock.request_id == row.id)).one()
    response = browser.post(f"/console/inbox/{clock.id}/reply", {"text": "已通知电工，今天修好。"},
                            token_from="/console/inbox")
    assert response.status_code == 302
    db.session.refresh(clock)
    assert clock.stopped_at is not None and clock.stopped_by_staff_id == staff.id
    assert "replied" in [e["kind"] for e in flow.timeline(row)]
    page = browser.get("/console/inbox").get_data(as_text=True)
    assert f'id="answered-{clock.id}"' in page and "计时已停止" in page
    again = browser.post(f"/console/inbox/{clock.id}/reply", {"text": "再说一次"}, token_from="/console/inbox")
    assert again.status_code == 409
    assert "这条诉求已由" in again.get_data(as_text=True)


def test_another_communitys_request_and_clock_are_not_found(demo, browser):
    street = db.session.scalars(select(Street)).first()
    other = Community(street_id=street.id, name="别的社区", code="OTHER")
    db.session.add(other)
    db.session.commit()
    row = _request(other.id)
    clock = db.session.scalars(select(ReplyClock).where(ReplyClock.request_id == row.id)).one()
    browser.login(demo_duty_staff())
    assert browser.get(f"/console/requests/{row.id}").status_code == 404
    assert browser.post(f"/console/inbox/{clock.id}/reply", {"text": "x"},
                        token_from="/console/inbox").status_code == 404
    assert clock.id not in [c.id for c in db.session.scalars(open_clocks_query(demo.community_id))]


def test_a_refused_action_shows_the_reason_and_keeps_the_text(demo, browser):
    staff = demo_duty_staff()
    browser.login(staff)
    row = _request(staff.community_id)
    page = f"/console/requests/{row.id}"
    response = browser.post(f"{page}/escalate", {"level": "department", "reason": "需要供电所协调"}, token_from=page)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "请填写部门" in body and "需要供电所协调" in body
    ok = browser.post(f"{page}/escalate", {"level": "street", "reason": "需要街道协调"}, token_from=page)
    assert ok.status_code == 302
    db.session.refresh(row)
    assert row.escalation_level == "street"
    assert browser.post(f"{page}/nonsense", {}, token_from=page).status_code == 404


def test_grid_workers_cannot_open_the_alerts_page(demo, browser):
    worker = db.session.scalars(select(Staff).where(Staff.name == "孙婷")).one()
    browser.login(worker)
    response = browser.get("/console/alerts")
    assert response.status_code == 403
    assert "您的角色不能使用这个页面" in response.get_data(as_text=True)


def test_a_one_time_link_logs_in_once_and_only_with_a_post(demo, browser):
    staff = demo_duty_staff()
    token = issue_token(STAFF, staff.id, ttl=LINK_TTL, label=LINK_LABEL).token
    url = f"/console/login/link?token={token}"
    page = browser.get(url)
    assert page.status_code == 200 and staff.name in page.get_data(as_text=True)
    assert browser.get("/console/inbox").status_code == 302  # opening the link did not log in
    assert browser.post(url, {"token": token}, token_from=url).status_code == 302
    assert browser.get("/console/inbox").status_code == 200
    assert browser.get(url).status_code == 400  # used up


def test_an_api_token_is_not_a_login_link(demo, browser):
    token = issue_token(STAFF, demo_duty_staff().id, label="cli").token
    assert browser.get(f"/console/login/link?token={token}").status_code == 400


def test_the_next_parameter_never_leaves_the_site(demo, browser):
    invite_page = browser.get("/console/login?next=//evil.example/x").get_data(as_text=True)
    assert 'value="/console/inbox"' in invite_page


def test_staff_token_link_command(app, demo, cli_runner):
    staff = demo_duty_staff()
    result = cli_runner.invoke(cli, ["staff", "token", str(staff.id), "--link", "--base-url", "http://hall.local"])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"http://hall\.local/console/login/link\?token=\S+\n", result.output)
    demo_out = cli_runner.invoke(cli, ["web-demo"]).output
    assert "invite code" in demo_out and "/console/login/link?token=" in demo_out


def test_csrf_token_helper_sees_the_logout_form(demo, browser):
    browser.login(demo_duty_staff())
    assert csrf_of(browser.get("/console/roster"))
    assert browser.post("/console/logout", token_from="/console/roster").status_code == 302
    assert browser.get("/console/inbox").status_code == 302


def test_the_alerts_page_names_kinds_roles_and_channels_in_chinese(demo, browser):
    """Found on a phone: the recipients' table showed raw codes (calendar, staff, wework) and overflowed."""
    admin = next(s for s in db.session.scalars(select(Staff)) if Role.COMMUNITY_ADMIN.value in s.roles)
    alert = Alert(key="review:calendar", kind="calendar", community_id=admin.community_id, text="2027年放假安排未导入")
    alert.recipients.append(AlertRecipient(staff_id=admin.id, role="lead", channel="wework", target="staff",
                                           state="no_channel"))
    db.session.add(alert)
    db.session.commit()
    browser.login(admin)
    page = browser.get("/console/alerts").get_data(as_text=True)
    card = page[page.index("2027年放假安排未导入") - 300:]
    assert "节假日安排未导入" in card and "<td>值班长</td>" in card and "企业微信" in card
    assert ">wework<" not in card and ">lead<" not in card and 'class="table-wrap"' in card


def test_a_refused_send_shows_its_reason_in_chinese_only(demo, browser):
    """The sender's reasons carry an English tail for the operators' log; staff read the Chinese."""
    staff = demo_duty_staff()
    message = queue_message(channel="mp", recipient_kind=TO_GROUP, recipient_id="x", text="测试通知",
                            idempotency_key="no-route-1", community_id=staff.community_id, enqueue=False)
    db.session.commit()
    assert deliver(message.id) == "rejected"
    db.session.expire_all()   # the delivery ran in its own session
    browser.login(staff)
    page = browser.get("/console/sent").get_data(as_text=True)
    assert "没有可用的发送渠道" in page and "no way to reach" not in page


def test_the_sent_record_scrolls_inside_its_own_region(demo, browser):
    browser.login(demo_duty_staff())
    assert '<div class="table-wrap"' in browser.get("/console/sent").get_data(as_text=True)
