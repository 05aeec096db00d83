"""百姓说事 and the service map's stations in the console, in a real browser: a resident's suggestion said
in the simulated group is listed, answered publicly (the answer goes back to the group: the sent-messages
record and the simulator show it) and promoted to a 议事 topic; one recorded for a resident is answered
and closed; a station is added with its kind, address, coordinates, hours and services, edited, seen on
the public /map, taken off it and put back. Bad input is answered in Chinese with what was typed kept."""
from __future__ import annotations

import re
import uuid

import pytest

from tests.browser.test_screens import demo_login

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def say_as_visitor(page, nickname: str, text: str) -> None:
    """A new neighbour's message in the simulated group (the ingest path the group uses)."""
    page.goto("/try")
    page.select_option("#member", "visitor")
    page.fill("#nickname", nickname)
    page.fill("#text", text)
    page.get_by_role("button", name="发送").click()
    page.wait_for_url("**/try?group=**")


def suggestion_card(page, code: str):
    """The list's card of S12 (not S120: its title starts "S12 · ")."""
    return page.locator("[data-suggestion]", has_text=re.compile(rf"(^|\s){code} · "))


def test_a_suggestion_from_the_group_is_answered_promoted_and_another_closed(page, shoot):
    tag = uuid.uuid4().hex[:4]
    nickname, idea = f"快递迷{tag}", f"小区南门装一组快递柜，上班族取件方便 {tag}"
    group = page.context.new_page()
    say_as_visitor(group, nickname, f"百姓说事：{idea}")
    bot = group.locator("#group-log .msg.bot", has_text="已收到您的建议").last.inner_text()
    code = re.search(r"编号(S\d+)）", bot).group(1)

    demo_login(page)
    page.goto("/console/suggestions")
    card = suggestion_card(page, code)
    assert idea[:20] in card.inner_text() and nickname in card.inner_text() and "待答复" in card.inner_text()
    shoot(page, "suggestions")
    card.get_by_role("link").click()
    page.wait_for_url("**/console/suggestions/*")
    assert idea in page.locator("#suggestion-text").inner_text()
    assert "居民在群里或私信里说的" in page.inner_text("main") and "发回居民群" in page.inner_text("main")

    # A blank answer passes the browser's `required` but not the server: said in Chinese, the form kept open.
    page.fill("#a-answer", "   ")
    page.locator("#action-answer button[type=submit]").click()
    assert "请填写答复" in page.get_by_role("alert").inner_text()
    assert page.locator("#action-answer").get_attribute("open") is not None
    assert page.input_value("#a-answer") == "   "
    assert "还没有答复" in page.inner_text("main")

    answer = f"已和物业商量，下月在南门装快递柜 {tag}。"
    page.fill("#a-answer", answer)
    page.locator("#action-answer button[type=submit]").click()
    status = page.get_by_role("status").inner_text()
    assert status.startswith(f"已公开答复 {code}，答复已发回居民群“") and status.endswith("。")
    assert answer in page.locator("#suggestion-answer").inner_text()

    page.locator("#action-promote summary").click()
    title = f"南门快递柜 {tag}"
    page.fill("#p-title", title)
    page.get_by_role("button", name="转为议题").click()
    assert page.get_by_role("status").inner_text().endswith("（收集问题），可在议事里办理。")
    assert page.locator("h1 .tag").inner_text() == "已转议题"
    shoot(page, "suggestion")
    page.get_by_role("link", name=re.compile(title)).click()
    page.wait_for_url("**/console/topics/*")
    assert title in page.locator("h1").inner_text()

    # The answer went back to the group: the sent-messages record has it at once, the group a moment later.
    page.goto("/console/sent")
    assert f"【百姓说事·{code}】答复：{answer}" in page.inner_text("main")
    group.locator("#group-log .msg", has_text=f"【百姓说事·{code}】").wait_for(timeout=30000)
    assert answer in group.locator("#group-log").inner_text()
    group.close()

    page.goto("/console/suggestions")
    assert suggestion_card(page, code).count() == 0  # promoted: off the open tab
    page.goto("/console/suggestions?status=promoted")
    assert suggestion_card(page, code).count() == 1

    # Another, recorded for a resident met on a round: too short first (kept), then answered and closed.
    page.goto("/console/suggestions")
    page.locator("#form-suggestion summary").click()
    page.fill("#s-text", "长椅")
    page.get_by_role("button", name="登记建议").click()
    assert "请把建议说得具体一些" in page.get_by_role("alert").inner_text()
    assert page.input_value("#s-text") == "长椅"
    page.fill("#s-text", f"希望在3栋门口放两张长椅，老人歇脚 {tag}")
    page.get_by_role("button", name="登记建议").click()
    page.wait_for_url("**/console/suggestions/*")
    other = re.search(r"已登记建议 (S\d+)。", page.get_by_role("status").inner_text()).group(1)
    assert "工作人员代为登记" in page.inner_text("main")
    page.fill("#a-answer", "长椅已经订了，下周放好。")
    page.locator("#action-answer button[type=submit]").click()
    assert page.get_by_role("status").inner_text() == f"已公开答复 {other}，答复显示在公开列表上。"
    page.locator("#action-close summary").click()
    page.fill("#c-reason", "已采纳并落实")
    page.get_by_role("button", name="关闭", exact=True).click()
    assert page.get_by_role("status").inner_text() == f"建议 {other} 已关闭。"
    assert "关闭原因：已采纳并落实" in page.inner_text("main")
    assert page.locator("#action-answer").count() == 0  # closed: nothing more to do
    page.goto("/console/suggestions?status=closed")
    assert suggestion_card(page, other).count() == 1


def map_cards(page, name: str):
    page.goto("/map")
    return page.locator("[data-station-card]", has_text=name)


def test_a_station_is_added_edited_seen_on_the_map_taken_off_and_restored(page, shoot):
    name = f"暖心驿站（南门{uuid.uuid4().hex[:4]}）"
    demo_login(page)
    page.goto("/console/stations")
    page.locator("#form-station summary").click()
    form = page.locator("#form-station")
    page.fill("#n-name", name)
    page.select_option("#n-kind", "warm_station")
    page.fill("#n-address", "富强新村南门岗亭")
    page.fill("#n-phone", "0519-86600001")
    page.fill("#n-lat", "131.7784")  # a typo: out of range
    page.fill("#n-lng", "119.9752")
    page.select_option("#n-unit", index=1)
    page.select_option("#n-days-1", "workdays")
    page.fill("#n-open-1", "08:00")
    page.fill("#n-close-1", "11:30")
    page.select_option("#n-days-2", "workdays")
    page.fill("#n-open-2", "14:00")
    page.fill("#n-close-2", "17:30")
    for service in ("water", "charging", "rest"):
        form.locator(f"input[name=services][value={service}]").check()
    page.get_by_role("button", name="添加到地图").click()
    assert "纬度不能超过90" in page.get_by_role("alert").inner_text()
    assert page.locator("#form-station").get_attribute("open") is not None
    assert [page.input_value(f"#n-{f}") for f in ("name", "address", "phone", "lat", "lng", "open-2", "close-2")] == \
        [name, "富强新村南门岗亭", "0519-86600001", "131.7784", "119.9752", "14:00", "17:30"]
    assert page.input_value("#n-kind") == "warm_station" and page.input_value("#n-unit") != ""
    assert page.locator("#form-station input[name=services]:checked").evaluate_all("els => els.map(e => e.value)") \
        == ["water", "charging", "rest"]
    assert page.locator("[data-station-row]", has_text=name).count() == 0  # nothing saved

    page.fill("#n-lat", "31.7784")
    page.get_by_role("button", name="添加到地图").click()
    page.wait_for_url("**/console/stations/*")
    assert page.get_by_role("status").inner_text() == f"站点“{name}”已添加到服务地图。"
    summary = page.locator("#station-summary").inner_text()
    assert "富强新村南门岗亭" in summary and "0519-86600001" in summary and "饮水" in summary and "运营：" in summary
    assert "08:00" in summary and "17:30" in summary

    # An edit: a bad longitude is refused and the typed values (not the saved ones) stay.
    page.select_option("#e-kind", "convenience")
    page.fill("#e-phone", "")
    page.fill("#e-lng", "东经119度")
    page.locator("input[name=services][value=ebike_charging]").check()
    page.locator("input[name=services][value=rest]").uncheck()
    page.select_option("#e-days-3", "weekends")
    page.fill("#e-open-3", "09:00")
    page.fill("#e-close-3", "12:00")
    page.get_by_role("button", name="保存").click()
    assert "经度必须是数字" in page.get_by_role("alert").inner_text()
    assert page.input_value("#e-lng") == "东经119度" and page.input_value("#e-kind") == "convenience"
    assert page.input_value("#e-phone") == "" and page.input_value("#e-open-3") == "09:00"
    assert page.locator("input[name=services][value=ebike_charging]").is_checked()
    assert "暖心驿站" in page.locator("h1 .tag").inner_text()  # not saved
    page.fill("#e-lng", "119.9752")
    page.get_by_role("button", name="保存").click()
    assert page.get_by_role("status").inner_text() == f"站点“{name}”已保存，服务地图随之更新。"
    assert "便民服务站" in page.locator("h1 .tag").inner_text()
    summary = page.locator("#station-summary").inner_text()
    assert "电动车充电" in summary and "歇脚" not in summary and "0519-86600001" not in summary
    assert "09:00" in summary
    station_url = page.url

    page.goto("/console/stations")
    assert "便民服务站" in page.locator("[data-station-row]", has_text=name).inner_text()
    shoot(page, "stations")
    card = map_cards(page, name)
    assert card.count() == 1 and "便民服务站" in card.inner_text() and "电动车充电" in card.inner_text()
    assert page.locator("#service-map title", has_text=name).count() == 1

    page.goto(station_url)
    page.get_by_role("button", name="从地图撤下").click()
    assert page.get_by_role("status").inner_text() == f"站点“{name}”已从服务地图撤下（可以随时恢复）。"
    assert "已从地图撤下" in page.locator("h1").inner_text()
    assert map_cards(page, name).count() == 0
    assert page.locator("#service-map title", has_text=name).count() == 0
    page.goto("/console/stations")
    assert page.locator("[data-station-row]", has_text=name).count() == 0
    page.locator("[data-removed-station] a", has_text=name).click()
    page.wait_for_url(station_url)
    page.get_by_role("button", name="恢复到地图").click()
    assert page.get_by_role("status").inner_text() == f"站点“{name}”已恢复到服务地图上。"
    shoot(page, "station")
    assert map_cards(page, name).count() == 1
