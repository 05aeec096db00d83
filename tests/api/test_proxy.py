"""The proxy-handling API: catalogue, stations and slots, resident bookings, staff work, cases, public feed."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.handlers.org.auth import RESIDENT, STAFF, issue_token
from app.models.proxy import Booking, Case
from tests.handlers.proxy.support import load, local, outbound, resident, setup_community


def headers(subject) -> dict:
    kind = STAFF if subject.__tablename__ == "staff" else RESIDENT
    return {"Authorization": f"Bearer {issue_token(kind, subject.id).token}"}


@pytest.fixture
def s(app, clock):
    return setup_community()


def _book(client, who, **body):
    payload = {"service_key": "zunlaojin", "slot_start": "2026-11-18T09:00:00+08:00", "idempotency_key": "k1",
               **body}
    return client.post("/api/v1/my/bookings", json=payload, headers=headers(who))


# ---- public -----------------------------------------------------------------------------------------

def test_public_catalogue_and_stations(client, s):
    response = client.get(f"/api/v1/catalogue?community_id={s.community.id}")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert len(items) == 18 and items[0]["key"] == "zunlaojin" and "高龄津贴" in items[0]["aliases"]
    assert client.get("/api/v1/catalogue").get_json()["error"]["field"] == "community_id"
    assert client.get("/api/v1/catalogue?community_id=abc").status_code == 400
    assert client.get("/api/v1/catalogue?community_id=99999").status_code == 404
    stations = client.get(f"/api/v1/stations?community_id={s.community.id}").get_json()["stations"]
    assert stations[0]["name"] == "政务代办站" and stations[0]["slot_minutes"] == 30
    assert {"weekday": 5, "weekday_label": "周六", "opens": "09:00", "closes": "11:30", "capacity": 1} \
        in stations[0]["hours"]


def test_slots_of_a_day_for_residents_and_staff(client, s):
    r = resident(s.community)
    url = f"/api/v1/stations/{s.station.id}/slots"
    assert client.get(url + "?date=2026-11-18").status_code == 401
    body = client.get(url + "?date=2026-11-18", headers=headers(r)).get_json()
    assert body["open"] and len(body["slots"]) == 13
    assert body["slots"][0] == {"station_id": s.station.id, "start": "2026-11-18T08:30:00+08:00",
                                "end": "2026-11-18T09:00:00+08:00", "capacity": 2, "booked": 0, "free": 2}
    today = client.get(url, headers=headers(s.duty)).get_json()
    assert today["date"] == "2026-11-17" and today["slots"][0]["start"] == "2026-11-17T10:00:00+08:00"
    holiday = client.get(url + "?date=2026-11-22", headers=headers(r)).get_json()
    assert holiday["open"] is False and holiday["reason"] == "no_hours" and holiday["slots"] == []
    assert _fits(client, holiday) == []
    new_year = client.get(url + "?date=2027-01-01", headers=headers(r)).get_json()
    assert new_year["reason"] == "holiday" and _fits(client, new_year) == []   # found by schemathesis
    bad = client.get(url + "?date=18/11/2026", headers=headers(r))
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "date"
    assert client.get(url + "?date=2026-11-16", headers=headers(r)).get_json()["reason"] == "past"


def _fits(client, answer) -> list[str]:
    """Validate a slots answer against the declared schema, enums included (the suite's checker reads types)."""
    from jsonschema import Draft202012Validator
    document = client.get("/api/v1/openapi.json").get_json()
    op = document["paths"]["/api/v1/stations/{station_id}/slots"]["get"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    return [e.message for e in Draft202012Validator({"components": document["components"], **schema}).iter_errors(answer)]


# ---- resident bookings ------------------------------------------------------------------------------

def test_book_replay_list_cancel_and_reschedule(client, s):
    r = resident(s.community)
    response = _book(client, r)
    assert response.status_code == 201
    booking = response.get_json()
    assert booking["status"] == "confirmed" and booking["slot_start"] == "2026-11-18T09:00:00+08:00"
    assert booking["service_item"]["key"] == "zunlaojin" and booking["station"]["name"] == "政务代办站"
    replay = _book(client, r)
    assert replay.status_code == 200 and replay.get_json()["code"] == booking["code"]
    mismatch = _book(client, r, slot_start="2026-11-18T09:30:00+08:00")
    assert mismatch.status_code == 409 and mismatch.get_json()["error"]["field"] == "idempotency_key"
    listed = client.get("/api/v1/my/bookings", headers=headers(r)).get_json()
    assert listed["total"] == 1 and listed["items"][0]["code"] == booking["code"]
    code = booking["code"]
    assert client.get(f"/api/v1/my/bookings/{code}", headers=headers(r)).status_code == 200

    moved = client.post(f"/api/v1/my/bookings/{code}/reschedule", json={"slot_start": "2026-11-19T14:00:00+08:00"},
                        headers=headers(r))
    assert moved.status_code == 200 and moved.get_json()["slot_start"] == "2026-11-19T14:00:00+08:00"
    assert moved.get_json()["code"] == code
    closed = client.post(f"/api/v1/my/bookings/{code}/reschedule", json={"slot_start": "2026-11-22T09:00:00+08:00"},
                         headers=headers(r))
    assert closed.status_code == 400 and "不开放" in closed.get_json()["error"]["message"]

    cancelled = client.post(f"/api/v1/my/bookings/{code}/cancel", headers=headers(r))
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    again = client.post(f"/api/v1/my/bookings/{code}/cancel", headers=headers(r))
    assert again.status_code == 409
    assert load(s.station.id, local(2026, 11, 19, 14, 0)) == 0


@pytest.mark.parametrize("body, status, field", [
    ({"slot_start": "2026-11-16T09:00:00+08:00"}, 400, "slot_start"),          # past
    ({"slot_start": "2026-11-18T12:00:00+08:00"}, 400, "slot_start"),          # lunch break
    ({"slot_start": "not a time"}, 400, "slot_start"),
    ({"service_key": "huzhao"}, 400, "service_key"),                           # unknown item
    ({"service_key": None}, 400, "service_key"),
    ({"idempotency_key": ""}, 400, "idempotency_key"),
    ({"station_id": 99999}, 404, None),
    ({"note": "x" * 501}, 400, "note"),
])
def test_bad_bookings_are_refused_with_the_reason(client, s, body, status, field):
    r = resident(s.community)
    response = _book(client, r, **body)
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["message"]
    if field:
        assert error["field"] == field
    assert db.session.scalars(select(Booking)).all() == []


def test_a_full_slot_is_409_with_nothing_written(client, s):
    for n in range(2):
        assert _book(client, resident(s.community, name=f"居民{n}")).status_code == 201
    late = resident(s.community, name="晚来")
    response = _book(client, late)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "slot_full"
    assert len(db.session.scalars(select(Booking)).all()) == 2


def test_a_residents_booking_code_is_private(client, s):
    owner, other = resident(s.community), resident(s.community, name="李四")
    code = _book(client, owner).get_json()["code"]
    for method, path in (("get", ""), ("post", "/cancel"), ("post", "/reschedule")):
        response = getattr(client, method)(f"/api/v1/my/bookings/{code}{path}",
                                           json={"slot_start": "2026-11-19T09:00:00+08:00"}, headers=headers(other))
        assert response.status_code == 404
    assert client.post(f"/api/v1/my/bookings/{code}/cancel", headers=headers(s.duty)).status_code == 403


def test_residents_of_another_community_cannot_see_its_station(client, s):
    stranger = resident(setup_community(name="别的社区").community)
    assert client.get(f"/api/v1/stations/{s.station.id}/slots", headers=headers(stranger)).status_code == 404
    assert _book(client, stranger, station_id=s.station.id).status_code == 404


# ---- staff ------------------------------------------------------------------------------------------

def test_station_day_check_in_hand_over_complete_and_case_flow(client, s):
    r = resident(s.community, name="张三华")
    code = _book(client, r, slot_start="2026-11-17T10:00:00+08:00").get_json()["code"]
    day = client.get(f"/api/v1/stations/{s.station.id}/bookings", headers=headers(s.duty)).get_json()
    assert day["date"] == "2026-11-17" and day["counts"]["confirmed"] == 1
    entry = day["bookings"][0]
    assert entry["code"] == code and entry["resident"]["name"] == "张三华" and entry["resident"]["phone"]
    booking_id = entry["id"]

    assert client.post(f"/api/v1/bookings/{booking_id}/no-show", headers=headers(s.duty)).status_code == 409
    response = client.post(f"/api/v1/bookings/{booking_id}/check-in", headers=headers(s.duty))
    assert response.status_code == 200 and response.get_json()["status"] == "checked_in"
    bad = client.post(f"/api/v1/bookings/{booking_id}/hand-over", json={"staff_id": 99999}, headers=headers(s.duty))
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "staff_id"
    response = client.post(f"/api/v1/bookings/{booking_id}/hand-over", json={"staff_id": s.admin.id},
                           headers=headers(s.duty))
    assert response.get_json()["handed_over_to"]["name"] == "王秀英"
    response = client.post(f"/api/v1/bookings/{booking_id}/complete", json={"note": "材料齐全"},
                           headers=headers(s.duty))
    assert response.status_code == 201
    case = response.get_json()
    assert case["code"] == code and case["status"] == "submitted" and case["responsible"]["name"] == "王秀英"
    assert case["due_at"] == "2026-12-01T23:59:59+08:00" and case["next"] == ["forwarded", "rejected"]

    url = f"/api/v1/cases/{case['id']}/transitions"
    skip = client.post(url, json={"status": "approved"}, headers=headers(s.duty))
    assert skip.status_code == 409 and skip.get_json()["error"]["field"] == "status"
    assert client.post(url, json={"status": "nope"}, headers=headers(s.duty)).status_code == 400
    ok = client.post(url, json={"status": "forwarded", "department": "区民政局"}, headers=headers(s.duty))
    assert ok.status_code == 200 and ok.get_json()["department"] == "区民政局"
    no_reason = client.post(url, json={"status": "rejected"}, headers=headers(s.duty))
    assert no_reason.status_code == 400 and no_reason.get_json()["error"]["field"] == "note"
    assert client.post(url, json={"status": "approved"}, headers=headers(s.admin)).status_code == 200
    assigned = client.post(f"/api/v1/cases/{case['id']}/assign", json={"staff_id": s.duty.id},
                           headers=headers(s.admin))
    assert assigned.get_json()["responsible"]["name"] == "李建国"
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=headers(s.duty)).get_json()
    assert [e["action"] for e in detail["events"]] == ["created", "forwarded", "approved", "assigned"]
    assert detail["events"][1]["staff"] == "李建国"

    listed = client.get("/api/v1/cases?status=approved", headers=headers(s.duty)).get_json()
    assert listed["total"] == 1 and listed["counts"]["approved"] == 1
    assert client.get("/api/v1/cases?status=bogus", headers=headers(s.duty)).status_code == 400
    mine = client.get("/api/v1/my/cases", headers=headers(r)).get_json()["items"]
    assert mine[0]["code"] == code and "审批已通过" in mine[0]["progress"]


def test_walk_in_case_and_overdue_filter(client, s, clock):
    r = resident(s.community)
    response = client.post("/api/v1/cases", json={"service_key": "shengyu_dengji", "resident_id": r.id},
                           headers=headers(s.duty))
    assert response.status_code == 201 and response.get_json()["booking_id"] is None
    assert response.get_json()["responsible"]["name"] == "李建国"
    stranger = resident(setup_community(name="别处").community)
    bad = client.post("/api/v1/cases", json={"service_key": "dibao", "resident_id": stranger.id},
                      headers=headers(s.duty))
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "resident_id"
    clock.set(local(2026, 11, 23, 9, 0))  # 3 working days later, the deadline passed
    overdue = client.get("/api/v1/cases?overdue=true", headers=headers(s.duty)).get_json()
    assert overdue["total"] == 1 and overdue["items"][0]["overdue"] is True and overdue["counts"]["overdue"] == 1


def test_staff_cancel_and_closures_cancel_bookings_and_tell_residents(client, s):
    r = resident(s.community)
    code = _book(client, r).get_json()["code"]
    url = f"/api/v1/stations/{s.station.id}/closures"
    refused = client.post(url, json={"date": "2026-11-18", "reason": "内部培训"}, headers=headers(s.admin))
    assert refused.status_code == 409 and refused.get_json()["error"]["bookings"] == 1
    closed = client.post(url, json={"date": "2026-11-18", "reason": "内部培训", "cancel_bookings": True},
                         headers=headers(s.admin))
    assert closed.status_code == 201 and closed.get_json()["cancelled_bookings"] == [code]
    (notice,) = [m for m in outbound() if m.dedupe_key.startswith("proxy:cancelled:")]
    assert "内部培训" in notice.text and code in notice.text
    slots = client.get(f"/api/v1/stations/{s.station.id}/slots?date=2026-11-18", headers=headers(r)).get_json()
    assert slots["open"] is False and "内部培训" in slots["message"]
    assert client.post(url, json={"date": "2026-11-18"}, headers=headers(s.admin)).status_code == 409
    assert client.post(url, json={"date": "2026-11-10"}, headers=headers(s.admin)).status_code == 400
    assert client.post(url, json={"date": "tomorrow"}, headers=headers(s.admin)).status_code == 400
    reopened = client.delete(f"{url}/2026-11-18", headers=headers(s.admin))
    assert reopened.status_code == 200
    assert client.delete(f"{url}/2026-11-18", headers=headers(s.admin)).status_code == 404

    code2 = _book(client, r, slot_start="2026-11-19T09:00:00+08:00", idempotency_key="k2").get_json()["code"]
    booking_id = db.session.scalars(select(Booking.id).where(Booking.code == code2)).one()
    response = client.post(f"/api/v1/bookings/{booking_id}/cancel", json={"reason": "居民来电取消"},
                           headers=headers(s.duty))
    assert response.status_code == 200 and response.get_json()["cancelled_by"] == "staff"


# ---- admin ------------------------------------------------------------------------------------------

def test_admins_edit_the_catalogue(client, s):
    created = client.post("/api/v1/catalogue", json={"key": "huzhao", "name": "护照代办", "aliases": ["护照"],
                                                     "materials": ["身份证"], "time_limit_workdays": 7},
                          headers=headers(s.admin))
    assert created.status_code == 201 and created.get_json()["visit_required"] is True
    duplicate = client.post("/api/v1/catalogue", json={"key": "huzhao", "name": "x", "time_limit_workdays": 1},
                            headers=headers(s.admin))
    assert duplicate.status_code == 400 and duplicate.get_json()["error"]["field"] == "key"
    item_id = created.get_json()["id"]
    patched = client.patch(f"/api/v1/catalogue/{item_id}", json={"active": False, "time_limit_workdays": 5},
                           headers=headers(s.admin))
    assert patched.status_code == 200 and patched.get_json()["active"] is False
    bad = client.patch(f"/api/v1/catalogue/{item_id}", json={"time_limit_workdays": "soon"}, headers=headers(s.admin))
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "time_limit_workdays"
    public = client.get(f"/api/v1/catalogue?community_id={s.community.id}").get_json()["items"]
    assert "huzhao" not in {i["key"] for i in public}
    everything = client.get("/api/v1/community/catalogue", headers=headers(s.duty)).get_json()["items"]
    assert "huzhao" in {i["key"] for i in everything}
    loaded = client.post("/api/v1/catalogue/load-default", json={}, headers=headers(s.admin)).get_json()
    assert loaded["created"] == [] and len(loaded["unchanged"]) == 18


def test_admins_create_stations_and_plans(client, s):
    body = {"name": "二号代办点", "address": "12栋一楼", "slot_minutes": 20, "capacity": 1,
            "hours": [{"weekday": 0, "opens": "09:00", "closes": "11:00"},
                      {"weekday": 7, "opens": "09:00", "closes": "10:00", "capacity": 1}]}
    created = client.post("/api/v1/stations", json=body, headers=headers(s.admin))
    assert created.status_code == 201 and len(created.get_json()["hours"]) == 2
    station_id = created.get_json()["id"]
    assert client.post("/api/v1/stations", json=body, headers=headers(s.admin)).status_code == 409
    overlap = client.put(f"/api/v1/stations/{station_id}/hours", json={"hours": [
        {"weekday": 1, "opens": "09:00", "closes": "11:00"}, {"weekday": 1, "opens": "10:00", "closes": "12:00"}]},
        headers=headers(s.admin))
    assert overlap.status_code == 400 and overlap.get_json()["error"]["field"] == "hours"
    bad_time = client.put(f"/api/v1/stations/{station_id}/hours", json={"hours": [
        {"weekday": 1, "opens": "25:00", "closes": "26:00"}]}, headers=headers(s.admin))
    assert bad_time.status_code == 400
    ok = client.put(f"/api/v1/stations/{station_id}/hours", json={"hours": [
        {"weekday": 1, "opens": "14:00", "closes": "16:00"}]}, headers=headers(s.admin))
    assert [h["weekday"] for h in ok.get_json()["hours"]] == [1]
    patched = client.patch(f"/api/v1/stations/{station_id}", json={"capacity": 3, "slot_minutes": 500},
                           headers=headers(s.admin))
    assert patched.status_code == 400 and patched.get_json()["error"]["field"] == "slot_minutes"
    patched = client.patch(f"/api/v1/stations/{station_id}", json={"capacity": 3}, headers=headers(s.admin))
    assert patched.get_json()["capacity"] == 3
    # Two stations now: a resident must say which one.
    r = resident(s.community)
    response = _book(client, r)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "station_id"
    assert _book(client, r, station_id=s.station.id).status_code == 201


# ---- public progress board --------------------------------------------------------------------------

def test_public_case_feed_masks_names(client, s):
    r = resident(s.community, name="张三华")
    code = _book(client, r, slot_start="2026-11-17T10:00:00+08:00").get_json()["code"]
    booking_id = db.session.scalars(select(Booking.id).where(Booking.code == code)).one()
    client.post(f"/api/v1/bookings/{booking_id}/complete", json={"note": "内部：已电话核实13800001234"},
                headers=headers(s.duty))
    response = client.get(f"/api/v1/public/cases?community_id={s.community.id}")
    assert response.status_code == 200
    body = response.get_json()
    (item,) = body["items"]
    assert item["resident"] == "张*华" and item["responsible"] == "李建国" and item["code"] == code
    assert item["item"] == "尊老金申领" and item["status_label"] == "已受理" and item["due_date"] == "2026-12-01"
    raw = response.get_data(as_text=True)
    assert "张三华" not in raw and r.phone not in raw and "13800001234" not in raw and "内部" not in raw
    assert body["counts"]["submitted"] == 1 and body["community"]["name"] == s.community.name
    assert client.get("/api/v1/public/cases").status_code == 400
    assert client.get(f"/api/v1/public/cases?community_id={s.community.id}&status=x").status_code == 400
    assert db.session.scalars(select(Case)).one().code == code


def test_the_routes_are_in_the_openapi_document(client, s):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/catalogue", "/api/v1/stations/{station_id}/slots", "/api/v1/my/bookings",
                 "/api/v1/bookings/{booking_id}/check-in", "/api/v1/public/cases", "/api/v1/cases/{case_id}/transitions"):
        assert path in paths
    assert "security" not in paths["/api/v1/public/cases"]["get"]
