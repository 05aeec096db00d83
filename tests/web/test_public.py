"""The start page, the public board, the simulator and the dashboard pages; demo-only parts are off in production."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import Direction, Message, Staff
from app.models.sla import ReplyClock
from app.web.demo import demo_duty_staff

REPORT = "3号楼2单元楼道灯坏了，晚上很黑，老人上下楼不方便"


def send(browser, text, member="demo-fuqiang-resident-1", **extra):
    return browser.post("/try/send", {"member": member, "text": text, **extra}, token_from="/try")


def test_start_page_offers_the_demo_login(demo, browser):
    page = browser.get("/").get_data(as_text=True)
    assert "以演示值班人员身份登录" in page and demo_duty_staff().name in page
    response = browser.post("/console/login/demo", {}, token_from="/")
    assert response.status_code == 302
    assert browser.get("/console/inbox").status_code == 200


def test_a_resident_message_goes_through_the_ingest_core_and_opens_a_clock(demo, browser):
    assert send(browser, REPORT).status_code == 302
    stored = db.session.scalars(select(Message).where(Message.direction == Direction.IN.value)).all()
    assert [m.text for m in stored] == [REPORT]
    assert stored[0].chat_id == "demo-fuqiang-grid-1" and stored[0].channel == "group"
    clock = db.session.scalars(select(ReplyClock)).one()
    assert clock.community_id == demo.community_id and clock.stopped_at is None
    page = browser.get("/try").get_data(as_text=True)
    assert REPORT in page and f'data-clock="{clock.id}"' in page


def test_chatter_gets_no_answer(demo, browser):
    send(browser, "大家早上好", member="demo-fuqiang-resident-4")
    group = browser.get("/try?group=demo-fuqiang-grid-1&partial=group").get_data(as_text=True)
    assert "大家早上好" in group and "机器人没有发言" in group
    assert db.session.scalars(select(ReplyClock)).first() is None


def test_the_duty_pane_replies_in_the_group(app, demo, browser):
    send(browser, REPORT)
    clock = db.session.scalars(select(ReplyClock)).one()
    response = browser.post(f"/try/reply/{clock.id}", {"text": "电工下午来换灯"}, token_from="/try")
    assert response.status_code == 302
    db.session.refresh(clock)
    assert clock.stopped_at is not None
    sent = db.session.scalars(select(Message).where(Message.direction == Direction.OUT.value,
                                                    Message.staff_id.is_not(None))).one()
    assert "电工下午来换灯" in sent.text and sent.chat_id == "demo-fuqiang-grid-1"


def test_an_empty_message_is_a_message_on_the_page(demo, browser):
    response = send(browser, "   ", nickname="小王", member="visitor")
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "请填写消息" in body and 'value="小王"' in body


def test_a_visitor_is_one_resident_across_messages(demo, browser):
    send(browser, "你好", member="visitor", nickname="新来的小王")
    send(browser, "在吗", member="visitor", nickname="新来的小王")
    senders = set(db.session.scalars(select(Message.sender_id).where(Message.direction == Direction.IN.value)))
    assert len(senders) == 1 and next(iter(senders)).startswith("try-visitor-")


def test_the_board_is_public_and_masks_residents(demo, browser):
    send(browser, REPORT)
    page = browser.get("/board").get_data(as_text=True)
    assert "督办墙" in page and "陈**" in page
    assert "陈桂芳" not in page and "13900001001" not in page and REPORT not in page
    partial = browser.get(f"/board?community={demo.community_id}&partial=1").get_data(as_text=True)
    assert "<html" not in partial and "陈**" in partial
    assert browser.get("/board?community=FQXC").status_code == 200
    assert browser.get("/board?community=99999").status_code == 404
    assert browser.get("/board?community=%00").status_code == 404


def test_dashboard_downloads_are_xlsx(demo, browser):
    send(browser, REPORT)
    browser.login(demo_duty_staff())
    page = browser.get("/dashboard").get_data(as_text=True)
    assert 'id="chart-rates"' in page and "vendor/chart.umd.min.js" in page and "//cdn" not in page
    response = browser.get("/dashboard/export/grids.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["A2"].value == "网格"
    bad = browser.get("/dashboard?from=2030-13-01")
    assert bad.status_code == 400 and "开始日期格式不对" in bad.get_data(as_text=True)
    assert 'value="2030-13-01"' in bad.get_data(as_text=True)
    assert browser.get("/dashboard/export/nope.xlsx").status_code == 404


def test_grid_workers_have_no_dashboard(demo, browser):
    browser.login(db.session.scalars(select(Staff).where(Staff.name == "孙婷")).one())
    assert browser.get("/dashboard").status_code == 403


@pytest.fixture
def production_app(database_url, redis_url, tmp_path):
    return create_app("production", overrides={
        "DATABASE_URL": database_url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(tmp_path / "prod"),
        "SECRET_KEY": "x" * 40})


def test_the_simulator_and_the_demo_login_do_not_exist_in_production(production_app):
    with production_app.app_context():
        client = production_app.test_client()
        assert client.get("/try").status_code == 404
        assert client.post("/try/send", data={"text": "x"}).status_code in (400, 404)
        start = client.get("/").get_data(as_text=True)
        assert "以演示值班人员身份登录" not in start and "试一试" not in start
        db.session.remove()


@pytest.mark.parametrize("path", ["/console/requests/abc", "/console/nope", "/borad", "/dashboard/x"])
def test_a_mistyped_page_address_is_the_chinese_not_found_page(demo, browser, path):
    """A URL no route matches answered the API's English JSON to a person in a browser."""
    response = browser.get(path)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "没有这个页面" in response.get_data(as_text=True)


def test_a_method_a_page_does_not_take_is_a_chinese_page_with_allow(demo, browser):
    response = browser.get("/console/logout")
    assert response.status_code == 405 and response.mimetype == "text/html"
    assert "不支持这种操作" in response.get_data(as_text=True) and "POST" in response.headers["Allow"]


@pytest.mark.parametrize("path", ["/api/v1/nope", "/wechat/nope", "/ingest/nope", "/healthz/nope"])
def test_paths_that_are_not_pages_keep_the_json_error(demo, browser, path):
    response = browser.get(path)
    assert response.status_code == 404 and response.is_json
    assert response.get_json()["error"]["code"] == "not_found"


def test_pages_ask_for_no_favicon(demo, browser):
    assert '<link rel="icon" href="data:,">' in browser.get("/").get_data(as_text=True)


def test_a_form_too_large_for_a_page_is_the_chinese_page(demo, browser):
    """A blueprint's HTTP error goes through the same page as the routing errors (app.web.support)."""
    response = browser.post("/console/login", data={"note": "字" * 600_000})
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "提交的内容太大" in response.get_data(as_text=True)
