"""共建共治 and the front desk in a real browser: a need claimed and turned into a project with progress
and counted hours (seen on the board), a resident's vote in the group counted on the topic's page and
the board, the service map with the nearest open station, and the desk's check-in, no-show and
accepting the materials."""
from __future__ import annotations

import uuid

import pytest

from tests.browser.test_screens import demo_login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BOOKINGS = """
from datetime import timedelta
from sqlalchemy import select
from app import create_app
from app.clock import now
from app.extensions import db
from app.localtime import at_local, local_date
from app.models import Resident
from app.models.proxy import Booking, ServiceItem, Station

app = create_app()
with app.app_context():
    station = db.session.scalars(select(Station).order_by(Station.id)).first()
    item = db.session.scalars(select(ServiceItem).where(ServiceItem.community_id == station.community_id)
                              .order_by(ServiceItem.id)).first()
    residents = db.session.scalars(select(Resident).where(Resident.community_id == station.community_id)
                                   .order_by(Resident.id).limit(3)).all()
    moment = now()
    start = max(at_local(local_date(moment)) + timedelta(minutes=1), moment - timedelta(minutes=30))
    for index, resident in enumerate(residents):
        db.session.add(Booking(community_id=station.community_id, station_id=station.id, service_item_id=item.id,
                               resident_id=resident.id, slot_start=start, slot_end=start + timedelta(minutes=20),
                               code="T{tag}" + str(index), idempotency_key="browser:{tag}:" + str(index),
                               source="staff"))
    db.session.commit()
    print(station.name)
"""


def test_a_need_is_claimed_becomes_a_project_and_its_hours_count(page, shoot):
    title = f"楼道加装扶手 {uuid.uuid4().hex[:4]}"
    demo_login(page)
    page.goto("/console/needs")
    page.locator("#form-need summary").click()
    page.fill("#n-title", title)
    page.select_option("#n-kind", "other")
    page.fill("#n-ben", "很多人")
    page.get_by_role("button", name="加入需求清单").click()
    assert "受益人数必须是整数" in page.get_by_role("alert").inner_text()
    assert page.input_value("#n-title") == title  # what was typed stays
    page.fill("#n-ben", "24")
    page.get_by_role("button", name="加入需求清单").click()
    page.wait_for_url("**/console/needs/*")
    page.locator("#action-claim summary").click()
    page.select_option("#c-party", label="常州富强物业服务有限公司")
    page.get_by_role("button", name="登记认领").click()
    assert "已登记常州富强物业服务有限公司认领" in page.get_by_role("status").inner_text()
    page.locator("#action-project summary").click()
    page.select_option("#p-owner", index=1)
    page.fill("#p-plan", "物业出材料，党员志愿者安装")
    page.get_by_role("button", name="立项").click()
    page.wait_for_url("**/console/projects/*")
    page.locator("#action-progress summary").click()
    page.fill("#g-progress", "30")
    page.fill("#g-note", "1至3栋已装好")
    page.get_by_role("button", name="更新进度").click()
    assert "30%" in page.locator("#project-progress").inner_text()
    page.locator("#action-contribute summary").click()
    page.select_option("#k-party", label="常州富强物业服务有限公司")
    page.select_option("#k-kind", "hours")
    page.fill("#k-qty", "6")
    page.get_by_role("button", name="记录贡献").click()
    assert "服务时长 6 小时" in page.inner_text("main")
    assert "常州富强物业服务有限公司" in page.locator("#contribution-totals").inner_text()
    shoot(page, "project")
    page.goto("/board")
    card = page.locator("[data-board-project]", has_text=title)
    assert "30%" in card.inner_text() and "常州富强物业服务有限公司" in card.inner_text()


def test_a_vote_in_the_group_shows_on_the_topic_and_the_board(page, shoot):
    demo_login(page)
    page.goto("/console/topics")
    page.locator("[data-topic] a", has_text="2栋加装电梯").click()
    result = page.locator(".vote-result[data-round=vote]")
    before = int(result.locator("h3").inner_text().split("共 ")[1].split(" 人")[0])
    shoot(page, "topic")
    group = page.context.new_page()
    group.goto("/try")
    group.select_option("#member", "visitor")
    group.fill("#nickname", f"新邻居{uuid.uuid4().hex[:3]}")
    group.fill("#text", "支持，老人爬楼太难了")
    group.get_by_role("button", name="发送").click()
    group.wait_for_url("**/try?group=**")
    group.close()
    page.reload()
    assert f"共 {before + 1} 人" in page.locator(".vote-result[data-round=vote] h3").inner_text()
    assert "老人爬楼太难了" in page.locator(".vote-result[data-round=vote]").inner_text()
    page.goto("/board")
    topic = page.locator("[data-board-topic]", has_text="2栋加装电梯")
    assert f"（{before + 1} 人）" in topic.inner_text()
    assert "老人爬楼太难了" not in page.inner_text("body")  # residents' words stay off the board
    shoot(page, "board-governance")


def test_the_service_map_lists_the_nearest_open_station(page, shoot):
    page.goto("/map")
    assert page.locator("#service-map circle.st").count() >= 6
    page.select_option("#m-service", "blood_pressure")
    page.select_option("#m-building", index=3)
    page.get_by_role("button", name="查找").click()
    first = page.locator("[data-station-card]").first
    assert "距" in first.inner_text() and "米" in first.inner_text()
    assert page.locator("#service-map circle[stroke]").count() == 1  # where the resident lives
    shoot(page, "map")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "scrolls sideways"


def test_the_desk_checks_in_marks_a_no_show_and_accepts_the_materials(page, server, shoot):
    tag = uuid.uuid4().hex[:4].upper()
    station = server.python(BOOKINGS.replace("{tag}", tag)).strip()
    demo_login(page)
    page.goto("/console/desk")
    rows = page.locator("tr", has_text=f"T{tag}")
    assert rows.count() == 3 and station in page.inner_text("main")
    page.locator("tr", has_text=f"T{tag}0").get_by_role("button", name="到场签到").click()
    assert page.get_by_role("status").inner_text() == f"预约 T{tag}0 已签到。"
    assert "已到场" in page.locator("tr", has_text=f"T{tag}0").inner_text()
    page.locator("tr", has_text=f"T{tag}1").get_by_role("button", name="未到").click()
    assert page.get_by_role("status").inner_text() == f"预约 T{tag}1 已记为未到。"
    assert "未到" in page.locator("tr", has_text=f"T{tag}1").inner_text()
    page.locator("tr", has_text=f"T{tag}0").get_by_role("button", name="收件受理").click()
    status = page.get_by_role("status").inner_text()
    assert status.startswith("材料已收下，代办件 ") and status.endswith(" 已受理。")
    code = status.split("代办件 ")[1].split(" ")[0]
    assert page.locator("article.card", has_text=code).count() == 1  # an open case now
    shoot(page, "desk")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "scrolls sideways"
