"""Roster API: shifts, who is on duty, my shifts, adding shifts, swaps, gaps — scoped and role-checked."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.handlers.org.auth import RESIDENT, STAFF, issue_token
from app.models import DutyShift
from tests import factories as f

SH = ZoneInfo("Asia/Shanghai")


def local(day, hour=0):
    return datetime(2026, 11, day, hour, tzinfo=SH)


def auth(subject, kind=STAFF):
    return {"Authorization": f"Bearer {issue_token(kind, subject.id).token}"}


@pytest.fixture
def team(app, clock):
    """Now is Tuesday 2026-11-17 09:30 Shanghai."""
    community = f.community(name="富强新村社区")
    admin = f.staff(roles=("community_admin",), community=community, name="王书记")
    zhang = f.staff(roles=("duty",), community=community, name="张伟")
    li = f.staff(roles=("duty",), community=community, name="李娜")
    shifts = {
        "zhang_today": f.shift(zhang, local(17, 0), local(18, 0)),
        "li_today_lead": f.shift(li, local(17, 8), local(17, 20), is_lead=True),
        "li_tomorrow": f.shift(li, local(18, 0), local(19, 0)),
        "zhang_next_week": f.shift(zhang, local(25, 0), local(26, 0)),
    }
    other = f.community(name="别的社区")
    stranger = f.staff(roles=("community_admin", "duty"), community=other, name="外人")
    stranger_shift = f.shift(stranger, local(17, 0), local(18, 0))
    db.session.commit()
    return dict(community=community, admin=admin, zhang=zhang, li=li, stranger=stranger,
                stranger_shift=stranger_shift, **shifts)


def ids(items):
    return [item["id"] for item in items]


def test_roster_lists_my_communitys_shifts_in_the_range(team, client):
    body = client.get("/api/v1/roster", headers=auth(team["zhang"])).get_json()
    assert ids(body["items"]) == [team["zhang_today"].id, team["li_today_lead"].id, team["li_tomorrow"].id]
    assert body["items"][1]["is_lead"] is True and body["items"][1]["staff"]["name"] == "李娜"
    assert body["items"][0]["starts_at"] == "2026-11-17T00:00:00+08:00"
    wide = client.get("/api/v1/roster", query_string={"from": "2026-11-17T00:00", "to": "2026-11-30T00:00",
                                                      "per_page": 2}, headers=auth(team["zhang"])).get_json()
    assert wide["total"] == 4 and len(wide["items"]) == 2


def test_roster_range_validation(team, client):
    headers = auth(team["zhang"])
    bad = client.get("/api/v1/roster", query_string={"from": "tomorrow"}, headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "from"
    bad = client.get("/api/v1/roster", query_string={"from": "2026-11-18T00:00", "to": "2026-11-17T00:00"},
                     headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "to"
    bad = client.get("/api/v1/roster", query_string={"from": "2026-01-01T00:00", "to": "2026-12-31T00:00"},
                     headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "to"
    bad = client.get("/api/v1/roster", query_string={"per_page": 1000}, headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "per_page"


def test_who_is_on_duty_now_and_at_a_time(team, client):
    body = client.get("/api/v1/roster/on-duty", headers=auth(team["zhang"])).get_json()
    assert ids(body["shifts"]) == [team["li_today_lead"].id, team["zhang_today"].id]
    assert body["lead"]["name"] == "李娜" and body["nobody_on_duty"] is False
    night = client.get("/api/v1/roster/on-duty", query_string={"at": "2026-11-20T03:00"},
                       headers=auth(team["zhang"])).get_json()
    assert night["shifts"] == [] and night["nobody_on_duty"] is True and night["lead"] is None


def test_my_shifts(team, client):
    body = client.get("/api/v1/roster/mine", headers=auth(team["zhang"])).get_json()
    assert ids(body["items"]) == [team["zhang_today"].id, team["zhang_next_week"].id]


def test_roster_reads_need_community_staff(team, client):
    resident = f.resident()
    db.session.commit()
    for path in ("/api/v1/roster", "/api/v1/roster/on-duty", "/api/v1/roster/mine", "/api/v1/roster/gaps"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=auth(resident, RESIDENT)).status_code == 403
    street_admin = f.staff(roles=("street_admin",), street_id=team["community"].street_id)
    db.session.commit()
    assert client.get("/api/v1/roster", headers=auth(street_admin)).status_code == 403
    theirs = client.get("/api/v1/roster", headers=auth(team["stranger"])).get_json()
    assert ids(theirs["items"]) == [team["stranger_shift"].id]
    on_duty = client.get("/api/v1/roster/on-duty", headers=auth(team["stranger"])).get_json()
    assert ids(on_duty["shifts"]) == [team["stranger_shift"].id] and on_duty["lead"] is None
    gaps = client.get("/api/v1/roster/gaps", query_string={"to": "2026-11-18T00:00"},
                      headers=auth(team["stranger"])).get_json()
    assert gaps["total"] == 0  # their own roster covers the day; ours does not matter to them
    mine = client.get("/api/v1/roster/mine", headers=auth(team["stranger"])).get_json()
    assert ids(mine["items"]) == [team["stranger_shift"].id]


def test_admin_adds_a_shift(team, client):
    response = client.post("/api/v1/roster/shifts", json={
        "staff_id": team["zhang"].id, "starts_at": "2026-11-19T00:00:00+08:00",
        "ends_at": "2026-11-20T00:00:00+08:00", "is_lead": True, "note": "周四全天"}, headers=auth(team["admin"]))
    assert response.status_code == 201, response.get_json()
    shift = db.session.get(DutyShift, response.get_json()["id"])
    assert (shift.staff_id, shift.starts_at, shift.is_lead, shift.note) == (team["zhang"].id, local(19), True, "周四全天")


@pytest.mark.parametrize("body, status, field_name", [
    ({"starts_at": "2026-11-19T00:00", "ends_at": "2026-11-20T00:00"}, 400, "staff_id"),
    ({"staff_id": "张伟", "starts_at": "2026-11-19T00:00", "ends_at": "2026-11-20T00:00"}, 400, "staff_id"),
    ({"staff_id": 0, "starts_at": "2026-11-19T00:00", "ends_at": "2026-11-20T00:00"}, 400, "staff_id"),
    ("ZHANG", 400, "ends_at"),
    ("ZHANG_BACKWARDS", 400, "ends_at"),
    ("ZHANG_OVERLAP", 409, "starts_at"),
    ("STRANGER", 404, "staff_id"),
    ({"staff_id": 999999, "starts_at": "2026-11-19T00:00", "ends_at": "2026-11-20T00:00"}, 404, "staff_id"),
])
def test_adding_a_shift_reports_the_field_at_fault(team, client, body, status, field_name):
    zhang, stranger = team["zhang"].id, team["stranger"].id
    presets = {
        "ZHANG": {"staff_id": zhang, "starts_at": "2026-11-19T00:00"},
        "ZHANG_BACKWARDS": {"staff_id": zhang, "starts_at": "2026-11-19T08:00", "ends_at": "2026-11-19T07:00"},
        "ZHANG_OVERLAP": {"staff_id": zhang, "starts_at": "2026-11-17T12:00", "ends_at": "2026-11-17T14:00"},
        "STRANGER": {"staff_id": stranger, "starts_at": "2026-11-19T00:00", "ends_at": "2026-11-20T00:00"},
    }
    if isinstance(body, str):
        body = presets[body]
    response = client.post("/api/v1/roster/shifts", json=body, headers=auth(team["admin"]))
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["field"] == field_name


def test_only_admins_edit_the_roster(team, client):
    body = {"staff_id": team["zhang"].id, "starts_at": "2026-11-19T00:00", "ends_at": "2026-11-20T00:00"}
    assert client.post("/api/v1/roster/shifts", json=body, headers=auth(team["zhang"])).status_code == 403
    swap = {"shift_id": team["zhang_today"].id, "with_shift_id": team["li_tomorrow"].id}
    assert client.post("/api/v1/roster/swap", json=swap, headers=auth(team["zhang"])).status_code == 403
    url = f"/api/v1/roster/shifts/{team['zhang_today'].id}"
    assert client.delete(url, headers=auth(team["li"])).status_code == 403


def test_admin_deletes_a_shift_of_the_own_community_only(team, client):
    other = client.delete(f"/api/v1/roster/shifts/{team['stranger_shift'].id}", headers=auth(team["admin"]))
    assert other.status_code == 404
    ok = client.delete(f"/api/v1/roster/shifts/{team['zhang_next_week'].id}", headers=auth(team["admin"]))
    assert ok.status_code == 200
    assert db.session.get(DutyShift, team["zhang_next_week"].id) is None


def test_swap_two_shifts(team, client):
    clash = client.post("/api/v1/roster/swap", json={
        "shift_id": team["zhang_today"].id, "with_shift_id": team["li_tomorrow"].id}, headers=auth(team["admin"]))
    assert clash.status_code == 409  # 李娜 would be on two shifts today
    response = client.post("/api/v1/roster/swap", json={
        "shift_id": team["zhang_next_week"].id, "with_shift_id": team["li_tomorrow"].id, "reason": "家里有事"},
        headers=auth(team["admin"]))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["swap"]["from_staff_id"] == team["zhang"].id and body["swap"]["to_staff_id"] == team["li"].id
    assert [s["staff"]["name"] for s in body["shifts"]] == ["李娜", "张伟"]


def test_hand_a_shift_to_someone_else_and_conflicts(team, client):
    headers = auth(team["admin"])
    busy = client.post("/api/v1/roster/swap", json={"shift_id": team["zhang_today"].id, "staff_id": team["li"].id},
                       headers=headers)
    assert busy.status_code == 409  # 李娜 is on the 08–20 lead shift today
    ok = client.post("/api/v1/roster/swap", json={"shift_id": team["zhang_next_week"].id,
                                                  "staff_id": team["li"].id}, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["shifts"][0]["staff"]["name"] == "李娜"


@pytest.mark.parametrize("body, status, field_name", [
    ({}, 400, "shift_id"),
    ({"shift_id": "ZT"}, 400, "with_shift_id"),
    ({"shift_id": "ZT", "with_shift_id": "LT", "staff_id": "LI"}, 400, "with_shift_id"),
    ({"shift_id": "ST", "with_shift_id": "LT"}, 404, "shift_id"),
    ({"shift_id": "ZT", "with_shift_id": "ST"}, 404, "with_shift_id"),
    ({"shift_id": "ZT", "staff_id": "STRANGER"}, 404, "staff_id"),
    ({"shift_id": "ZT", "with_shift_id": "ZT"}, 400, "with_shift_id"),
])
def test_swap_validation_and_scope(team, client, body, status, field_name):
    names = {"ZT": team["zhang_today"].id, "LT": team["li_tomorrow"].id, "ST": team["stranger_shift"].id,
             "LI": team["li"].id, "STRANGER": team["stranger"].id}
    body = {k: names.get(v, v) for k, v in body.items()}
    response = client.post("/api/v1/roster/swap", json=body, headers=auth(team["admin"]))
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["field"] == field_name


def test_gaps_from_now(team, client):
    body = client.get("/api/v1/roster/gaps", query_string={"to": "2026-11-20T00:00"},
                      headers=auth(team["zhang"])).get_json()
    assert [(g["from"], g["to"]) for g in body["items"]] == [("2026-11-19T00:00:00+08:00", "2026-11-20T00:00:00+08:00")]
    assert body["uncovered_seconds"] == 86400 and body["total"] == 1
    default = client.get("/api/v1/roster/gaps", headers=auth(team["zhang"])).get_json()
    assert default["range_from"] == "2026-11-17T09:30:00+08:00" and default["total"] == 2
