"""The console's service-map stations: the demo's stations with whether they are open; a station added with
its kind, hours (a lunch break as two lines), services, phone and unit, then seen on the public /map and by
the API; edited (a blank phone is cleared), taken off the map and put back; each role's access as the
API's; another community's station not found; bad input answered in Chinese with what was typed kept."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.handlers.governance import stations
from app.models import MapStation, PartnerUnit
from app.web.demo import demo_duty_staff
from tests.web.test_governance_pages import body, staff_named
from tests.web.test_voices_pages import other_community


def station_named(name: str) -> MapStation:
    db.session.expire_all()
    return db.session.scalars(select(MapStation).where(MapStation.name == name)).one()


FORM = {"name": "暖心驿站（南门）", "kind": "warm_station", "address": "富强新村南门岗亭", "phone": "0519-86600001",
        "lat": "31.7790", "lng": "119.9560", "hours_days": ["workdays", "weekends", "workdays"],
        "hours_open": ["08:00", "09:00", "14:00"], "hours_close": ["11:30", "12:00", "17:30"],
        "services": ["water", "charging", "rest"], "notes": "物业值守"}


def test_the_demo_stations_are_listed_with_their_hours(demo, browser):
    browser.login(demo_duty_staff())
    page = body(browser.get("/console/stations"))
    rows = db.session.scalars(select(MapStation).where(MapStation.community_id == demo.community_id)).all()
    assert len(rows) >= 6 and all(r.name in page for r in rows)
    assert "开放中" in page or "未开放" in page
    clinic = next(r for r in rows if r.kind == "clinic")
    detail = body(browser.get(f"/console/stations/{clinic.id}"))
    assert 'value="08:00"' in detail and 'value="13:30"' in detail  # both lines of the lunch break
    assert 'value="blood_pressure" checked' in detail


def test_a_station_is_added_seen_on_the_map_edited_removed_and_restored(demo, browser):
    browser.login(demo_duty_staff())
    unit = db.session.scalars(select(PartnerUnit).where(PartnerUnit.community_id == demo.community_id)).first()
    response = browser.post("/console/stations", {**FORM, "unit_id": str(unit.id)}, token_from="/console/stations")
    assert response.status_code == 302, body(response)[:2000]
    assert "已添加到服务地图" in body(browser.get(response.headers["Location"]))
    station = station_named("暖心驿站（南门）")
    assert station.kind == "warm_station" and station.unit_id == unit.id and station.phone == "0519-86600001"
    assert station.hours == [{"days": "workdays", "open": "08:00", "close": "11:30"},
                             {"days": "weekends", "open": "09:00", "close": "12:00"},
                             {"days": "workdays", "open": "14:00", "close": "17:30"}]
    assert station.services == ["water", "charging", "rest"] and (station.lat, station.lng) == (31.779, 119.956)
    assert "暖心驿站（南门）" in body(browser.get(f"/map?community={demo.community_id}"))

    edit = {**FORM, "phone": "", "hours_days": ["daily", "workdays"], "hours_open": ["07:00", ""],
            "hours_close": ["21:00", ""], "services": ["water"], "kind": "convenience"}
    response = browser.post(f"/console/stations/{station.id}", edit, token_from=f"/console/stations/{station.id}")
    assert response.status_code == 302
    station = station_named("暖心驿站（南门）")
    assert station.phone is None and station.unit_id is None and station.kind == "convenience"
    assert station.hours == [{"days": "daily", "open": "07:00", "close": "21:00"}] and station.services == ["water"]

    response = browser.post(f"/console/stations/{station.id}/remove", {}, token_from=f"/console/stations/{station.id}")
    assert response.status_code == 302
    assert "已从服务地图撤下" in body(browser.get(response.headers["Location"]))
    assert station_named("暖心驿站（南门）").active is False
    assert "暖心驿站（南门）" not in body(browser.get(f"/map?community={demo.community_id}"))
    assert "已从地图撤下" in body(browser.get("/console/stations"))
    browser.post(f"/console/stations/{station.id}/restore", {}, token_from=f"/console/stations/{station.id}")
    assert station_named("暖心驿站（南门）").active is True


@pytest.mark.parametrize("change, message", [
    ({"lat": "北纬31度"}, "纬度必须是数字"),
    ({"lat": "131.2"}, "纬度不能超过90"),
    ({"name": ""}, "请填写站点名称"),
    ({"hours_open": ["08:00", "", ""], "hours_close": ["", "", ""]}, "开放时间第1行请同时填写开门和关门时间"),
    ({"hours_open": ["18:00", "", ""], "hours_close": ["08:00", "", ""]}, "开放时间第1行的关门时间要晚于开门时间"),
    ({"hours_open": ["8点", "", ""], "hours_close": ["11:30", "", ""]}, "开放时间第1行的开门时间格式应为 HH:MM"),
    ({"services": ["fly"]}, "不认识的服务项目：fly"),
    ({"name": "社区卫生服务站"}, "已经在地图上了"),
])
def test_bad_input_is_answered_in_chinese_with_what_was_typed_kept(demo, browser, change, message):
    browser.login(demo_duty_staff())
    before = db.session.query(MapStation).count()
    response = browser.post("/console/stations", {**FORM, **change}, token_from="/console/stations")
    page = body(response)
    assert response.status_code in (400, 409) and message in page and 'role="alert"' in page
    assert 'value="富强新村南门岗亭"' in page and 'value="0519-86600001"' in page  # kept
    assert "（HH:MM）" not in page and "open" not in page.split('role="alert"')[1].split("</p>")[0]
    assert db.session.query(MapStation).count() == before


def test_an_edit_refused_keeps_the_typed_values_not_the_saved_ones(demo, browser):
    browser.login(demo_duty_staff())
    station = db.session.scalars(select(MapStation).where(MapStation.kind == "clinic")).first()
    response = browser.post(f"/console/stations/{station.id}", {**FORM, "name": "卫生站（新）", "lng": "east"},
                            token_from=f"/console/stations/{station.id}")
    page = body(response)
    assert response.status_code == 400 and "经度必须是数字" in page
    assert 'value="卫生站（新）"' in page and 'value="east"' in page
    assert station_named(station.name).name == station.name  # nothing saved


@pytest.mark.parametrize("name, can_edit", [("王秀英", True), ("张丽", True), ("孙婷", False)])
def test_each_role_sees_and_edits_what_the_api_allows(demo, browser, name, can_edit):
    browser.login(staff_named(name))
    page = body(browser.get("/console/stations"))
    assert ("添加站点" in page) is can_edit
    station = db.session.scalars(select(MapStation).where(MapStation.kind == "clinic")).first()
    assert ("修改站点" in body(browser.get(f"/console/stations/{station.id}"))) is can_edit
    status = browser.post(f"/console/stations/{station.id}/remove", {}, token_from="/console/stations").status_code
    assert (status == 302) is can_edit and (status == 403) is not can_edit


@pytest.mark.parametrize("name", ["钱卫东", "何亮"])
def test_street_and_department_staff_have_no_stations_console(demo, browser, name):
    browser.login(staff_named(name))
    assert browser.get("/console/stations").status_code == 403


def test_another_communitys_station_is_not_found(demo, browser):
    theirs = stations.create_station(other_community().id, {"name": "别处的驿站", "kind": "warm_station", "address": "别处",
                                                "lat": 31.7, "lng": 119.9}, None)
    browser.login(demo_duty_staff())
    assert "别处的驿站" not in body(browser.get("/console/stations"))
    assert browser.get(f"/console/stations/{theirs.id}").status_code == 404
    assert browser.post(f"/console/stations/{theirs.id}/remove", {},
                        token_from="/console/stations").status_code == 404
    assert station_named("别处的驿站").active is True
