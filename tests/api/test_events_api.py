"""The events and volunteers API: staff and resident flows, validation, scoping and roles per endpoint."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.handlers.events.signups import signup_for
from app.handlers.org.auth import RESIDENT, STAFF, issue_token
from app.models.events import Event, Signup
from app.models.volunteers import HoursEntry, MicroWish, PartyMember, VolunteerProject
from tests import factories
from tests.handlers.events.support import local, make_event, outbound


def _auth(row) -> dict:
    kind = STAFF if row.__tablename__ == "staff" else RESIDENT
    return {"Authorization": f"Bearer {issue_token(kind, row.id).token}"}


@pytest.fixture
def w(app, clock):
    community = factories.community(name="富强新村社区")
    other = factories.community(name="红梅新村社区")
    people = {
        "admin": factories.staff(community=community, roles=("community_admin",), name="王秀英"),
        "duty": factories.staff(community=community, roles=("duty",), name="张丽"),
        "grid": factories.staff(community=community, roles=("grid_worker",), name="孙婷"),
        "dept": factories.staff(community=community, roles=("department",), name="何亮"),
        "street": factories.staff(community_id=None, street_id=community.street_id, roles=("street_admin",)),
        "other_admin": factories.staff(community=other, roles=("community_admin",), name="外社区"),
    }
    residents = {n: factories.resident(community_id=community.id, name=f"居民{n}",
                                       identities=[("miniprogram", "openid", f"mini-{n}")]) for n in range(4)}
    outsider = factories.resident(community_id=other.id, name="外社区居民")
    homeless = factories.resident(community_id=None, name="未选社区")
    factories.group(community=community, chat_id="fq-1")
    project = VolunteerProject(community_id=community.id, name="环境整治")
    db.session.add(project)
    db.session.commit()
    tokens = {name: _auth(row) for name, row in people.items()}
    tokens.update({f"r{n}": _auth(row) for n, row in residents.items()})
    tokens["outsider"] = _auth(outsider)
    tokens["homeless"] = _auth(homeless)
    return {"community": community, "other": other, "people": people, "residents": residents, "tokens": tokens,
            "project": project, "homeless": homeless}


EVENT = {"title": "楼道环境整治志愿服务", "kind": "volunteer", "starts_at": "2026-11-21T09:00:00+08:00",
         "ends_at": "2026-11-21T12:00:00+08:00", "place": "1栋门口", "capacity": 1, "volunteer_hours": 3,
         "aliases": ["大扫除"], "audience": "everyone"}


def _create(client, w, **changes) -> dict:
    response = client.post("/api/v1/events", json={**EVENT, **changes}, headers=w["tokens"]["admin"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# ---- staff: events --------------------------------------------------------------------------

def test_create_publish_announce(client, w):
    body = _create(client, w, project_id=w["project"].id)
    assert body["status"] == "draft" and body["volunteer_hours"] == 3 and body["places_left"] == 1
    assert body["starts_at"] == "2026-11-21T09:00:00+08:00" and body["when"] == "11月21日（周六）09:00–12:00"
    event_id = body["id"]
    refused = client.post(f"/api/v1/events/{event_id}/announce", headers=w["tokens"]["duty"])
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_published"
    published = client.post(f"/api/v1/events/{event_id}/publish", headers=w["tokens"]["duty"]).get_json()
    assert published["status"] == "published" and published["published_at"]
    announced = client.post(f"/api/v1/events/{event_id}/announce", headers=w["tokens"]["admin"]).get_json()
    assert len(announced["messages"]) == 1 and announced["text"].startswith("【活动通知】楼道环境整治志愿服务")
    assert announced["event"]["announced_at"]
    (message,) = outbound()
    assert message.chat_id == "fq-1" and message.dedupe_key == f"event:{event_id}:announce:{message.group_id}"


@pytest.mark.parametrize("change, field", [
    ({"title": None}, "title"), ({"kind": "picnic"}, "kind"), ({"starts_at": "tomorrow"}, "starts_at"),
    ({"capacity": -3}, "capacity"), ({"capacity": "ten"}, "capacity"), ({"volunteer_hours": 30}, "volunteer_hours"),
    ({"aliases": "大扫除"}, "aliases"), ({"ends_at": "2026-11-21T08:00:00+08:00"}, "ends_at"),
    ({"recurrence": "daily"}, "recurrence"), ({"project_id": 999}, "project_id"), ({"audience": "kids"}, "audience"),
])
def test_create_validation_names_the_field(client, w, change, field):
    response = client.post("/api/v1/events", json={**EVENT, **change}, headers=w["tokens"]["admin"])
    assert response.status_code in (400, 404), response.get_json()
    assert response.get_json()["error"]["field"] == field
    assert db.session.scalar(select(Event.id)) is None


def test_update_and_cancel_event(client, w):
    event_id = _create(client, w, publish=True)["id"]
    url = f"/api/v1/events/{event_id}"
    assert client.patch(url, json={"capacity": 5, "place": "2栋门口"}, headers=w["tokens"]["admin"]).get_json()[
        "places_left"] == 5
    assert client.patch(url, json={"status": "draft"}, headers=w["tokens"]["admin"]).get_json()["error"][
        "field"] == "status"
    assert client.patch(url, json={}, headers=w["tokens"]["admin"]).status_code == 400
    cancelled = client.post(f"{url}/cancel-event", json={"reason": "暴雨"}, headers=w["tokens"]["admin"]).get_json()
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "暴雨"
    assert client.patch(url, json={"place": "x"}, headers=w["tokens"]["admin"]).status_code == 409


def test_staff_list_includes_drafts_and_filters(client, w):
    _create(client, w)
    _create(client, w, title="四点半课堂", kind="class", publish=True)
    items = client.get("/api/v1/events", headers=w["tokens"]["duty"]).get_json()["items"]
    assert [i["status"] for i in items] == ["draft", "published"]
    only = client.get("/api/v1/events?status=published", headers=w["tokens"]["duty"]).get_json()
    assert only["total"] == 1
    assert client.get("/api/v1/events?status=nope", headers=w["tokens"]["duty"]).status_code == 400
    assert client.get("/api/v1/events", headers=w["tokens"]["other_admin"]).get_json()["total"] == 0


# ---- residents: sign up, waiting list, cancel ------------------------------------------------

def test_resident_sign_up_waiting_list_and_promotion(client, w):
    event_id = _create(client, w, publish=True)["id"]
    t = w["tokens"]
    listing = client.get("/api/v1/events", headers=t["r0"]).get_json()
    assert listing["items"][0]["places_left"] == 1 and listing["items"][0]["my_signup"] is None
    first = client.post(f"/api/v1/events/{event_id}/signup", json={"idempotency_key": "a1"}, headers=t["r0"])
    assert first.status_code == 201 and first.get_json()["signup"]["status"] == "confirmed"
    replay = client.post(f"/api/v1/events/{event_id}/signup", json={"idempotency_key": "a1"}, headers=t["r0"])
    assert replay.status_code == 200 and replay.get_json()["replay"] is True
    twice = client.post(f"/api/v1/events/{event_id}/signup", json={"idempotency_key": "a2"}, headers=t["r0"])
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "already_signed_up"
    full = client.post(f"/api/v1/events/{event_id}/signup", json={"idempotency_key": "b1"}, headers=t["r1"])
    assert full.status_code == 409 and full.get_json()["error"]["code"] == "full"
    queued = client.post(f"/api/v1/events/{event_id}/signup", json={"idempotency_key": "b2", "waitlist": True},
                         headers=t["r1"])
    assert queued.status_code == 201 and queued.get_json()["signup"]["waiting_position"] == 1
    mine = client.get("/api/v1/my/signups", headers=t["r1"]).get_json()["items"]
    assert mine[0]["status"] == "waiting" and mine[0]["event"]["title"] == "楼道环境整治志愿服务"
    assert client.get(f"/api/v1/events/{event_id}", headers=t["r1"]).get_json()["my_signup"]["waiting_position"] == 1

    cancelled = client.post(f"/api/v1/events/{event_id}/cancel", headers=t["r0"])
    assert cancelled.status_code == 200 and cancelled.get_json()["signup"]["status"] == "cancelled"
    assert client.get("/api/v1/my/signups", headers=t["r1"]).get_json()["items"][0]["status"] == "confirmed"
    (notice,) = outbound(resident_id=w["residents"][1].id)
    assert notice.channel == "miniprogram" and notice.recipient_id == "mini-1" and "候补转正" in notice.text
    assert client.post(f"/api/v1/events/{event_id}/cancel", headers=t["r2"]).status_code == 404
    assert client.get("/api/v1/my/signups?all=true", headers=t["r0"]).get_json()["total"] == 1
    assert client.get("/api/v1/my/signups", headers=t["r0"]).get_json()["total"] == 0


def test_resident_sign_up_bad_input(client, w, clock):
    event_id = _create(client, w, publish=True, signup_deadline="2026-11-20T18:00:00+08:00")["id"]
    t = w["tokens"]
    missing = client.post(f"/api/v1/events/{event_id}/signup", json={}, headers=t["r0"])
    assert missing.status_code == 400 and missing.get_json()["error"]["field"] == "idempotency_key"
    assert client.post(f"/api/v1/events/{event_id}/signup", data="x", headers=t["r0"]).status_code == 400
    assert client.post("/api/v1/events/9999/signup", json={"idempotency_key": "k"}, headers=t["r0"]).status_code == 404
    draft_id = _create(client, w, title="草稿")["id"]
    assert client.post(f"/api/v1/events/{draft_id}/signup", json={"idempotency_key": "k"},
                       headers=t["r0"]).status_code == 404
    outsider = client.post(f"/api/v1/events/{event_id}/signup", json={"idempotency_key": "k"}, headers=t["outsider"])
    assert outsider.status_code == 403 and outsider.get_json()["error"]["code"] == "other_community"
    clock.set(local(2026, 11, 20, 18, 0))
    late = client.post(f"/api/v1/events/{event_id}/signup", json={"idempotency_key": "k"}, headers=t["r0"])
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "deadline_passed"
    assert "截止" in late.get_json()["error"]["message"]
    assert db.session.scalars(select(Signup)).all() == []


def test_resident_listing_needs_a_community(client, w):
    assert client.get("/api/v1/events", headers=w["tokens"]["homeless"]).get_json()["error"]["field"] == "community_id"
    ok = client.get(f"/api/v1/events?community_id={w['community'].id}", headers=w["tokens"]["homeless"])
    assert ok.status_code == 200
    assert client.get(f"/api/v1/events?community_id={w['other'].id}", headers=w["tokens"]["r0"]).status_code == 404


# ---- check-in, hours, members, report -------------------------------------------------------

def test_check_in_out_by_code_credits_hours_to_the_members_year(client, w, clock):
    t = w["tokens"]
    event_id = _create(client, w, publish=True, capacity=5, project_id=w["project"].id)["id"]
    registered = client.post("/api/v1/my/party-member", json={
        "name": "居民0", "phone": "13900001003", "work_unit": "实验小学", "party_org": "实验小学党总支",
        "project_ids": [w["project"].id]}, headers=t["r0"])
    assert registered.status_code == 201 and registered.get_json()["member"]["kind"] == "party"
    again = client.post("/api/v1/my/party-member", json={"name": "居民0", "work_unit": "实验小学（新）",
                                                          "party_org": "实验小学党总支"}, headers=t["r0"])
    assert again.status_code == 200 and again.get_json()["member"]["work_unit"] == "实验小学（新）"
    signup = client.post(f"/api/v1/events/{event_id}/signup", json={"idempotency_key": "k"},
                         headers=t["r0"]).get_json()["signup"]
    clock.set(local(2026, 11, 21, 8, 50))
    code = client.get(f"/api/v1/my/signups/{signup['id']}/code", headers=t["r0"]).get_json()
    assert code["action"] == "checkin" and code["expires_at"].endswith("+08:00")
    scan = client.post(f"/api/v1/events/{event_id}/checkin", json={"code": code["code"]}, headers=t["grid"])
    assert scan.status_code == 201 and scan.get_json()["signup"]["status"] == "attended"
    resent = client.post(f"/api/v1/events/{event_id}/checkin", json={"code": code["code"]}, headers=t["grid"])
    assert resent.status_code == 200 and resent.get_json()["replay"] is True
    clock.set(local(2026, 11, 21, 12, 5))
    out_code = client.get(f"/api/v1/my/signups/{signup['id']}/code", headers=t["r0"]).get_json()
    assert out_code["action"] == "checkout"
    out = client.post(f"/api/v1/events/{event_id}/checkout", json={"code": out_code["code"]}, headers=t["duty"])
    assert out.status_code == 201 and out.get_json()["hours_entry"]["hours"] == 3.0
    assert out.get_json()["hours_entry"]["recorded_by"]["name"] == "张丽"

    member_id = registered.get_json()["member"]["id"]
    entered = client.post("/api/v1/volunteer-hours", json={"member_id": member_id, "hours": 21,
                                                           "served_on": "2026-08-01", "note": "暑期四点半课堂"},
                          headers=t["admin"])
    assert entered.status_code == 201 and entered.get_json()["kind"] == "admin"
    bad = client.post("/api/v1/volunteer-hours", json={"member_id": member_id, "hours": "lots"}, headers=t["admin"])
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "hours"
    year = client.get(f"/api/v1/party-members/{member_id}/year?year=2026", headers=t["admin"]).get_json()
    assert (year["hours_checkin"], year["hours_admin"], year["hours"], year["met_target"]) == (3.0, 21.0, 24.0, True)
    mine = client.get("/api/v1/my/party-member", headers=t["r0"]).get_json()
    assert mine["year"]["hours"] == 24.0 and mine["member"]["name"] == "居民0"
    entries = client.get("/api/v1/volunteer-hours?kind=checkin", headers=t["admin"]).get_json()
    assert entries["total"] == 1 and entries["items"][0]["event_title"] == "楼道环境整治志愿服务"
    report = client.get("/api/v1/volunteers/report?year=2026", headers=t["admin"]).get_json()
    assert report["party_members_met_target"] == 1 and report["hours"] == 24.0
    export = client.get("/api/v1/volunteers/export?year=2026", headers=t["admin"])
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in export.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(export.data))
    assert [r[1] for r in book["党员时长"].iter_rows(min_row=2, values_only=True)] == ["居民0"]
    listing = client.get("/api/v1/party-members", headers=t["duty"]).get_json()
    assert listing["items"][0]["hours"] == 24.0 and listing["items"][0]["projects"] == ["环境整治"]


def test_check_in_from_the_list_and_not_signed_up(client, w, clock):
    t = w["tokens"]
    event_id = _create(client, w, publish=True, capacity=5)["id"]
    signup = client.post(f"/api/v1/events/{event_id}/signup", json={"idempotency_key": "k"},
                         headers=t["r0"]).get_json()["signup"]
    listing = client.get(f"/api/v1/events/{event_id}/signups", headers=t["grid"]).get_json()
    assert listing["items"][0]["resident"]["name"] == "居民0" and listing["counts"] == {"confirmed": 1}
    clock.set(local(2026, 11, 21, 9, 5))
    ok = client.post(f"/api/v1/events/{event_id}/checkin", json={"signup_id": signup["id"], "nonce": "tap-1"},
                     headers=t["grid"])
    assert ok.status_code == 201 and ok.get_json()["checkin"]["method"] == "list"
    assert client.post(f"/api/v1/events/{event_id}/checkin", json={"signup_id": signup["id"], "nonce": "tap-1"},
                       headers=t["grid"]).status_code == 200
    assert client.post(f"/api/v1/events/{event_id}/checkin", json={}, headers=t["grid"]).get_json()["error"][
        "field"] == "code"
    nobody = client.post(f"/api/v1/events/{event_id}/checkin", json={"signup_id": 9999}, headers=t["grid"])
    assert nobody.status_code == 404 and "未报名" in nobody.get_json()["error"]["message"]
    forged = client.post(f"/api/v1/events/{event_id}/checkin", json={"code": "abc.def"}, headers=t["grid"])
    assert forged.status_code == 400 and forged.get_json()["error"]["code"] == "invalid_code"


def test_staff_sign_up_and_cancel_on_behalf(client, w):
    t = w["tokens"]
    event_id = _create(client, w, publish=True)["id"]
    member = client.post("/api/v1/party-members", json={"name": "沈立新", "work_unit": "医院", "party_org": "支部",
                                                        "phone": "13900002001"}, headers=t["admin"])
    assert member.status_code == 201
    member_id = member.get_json()["id"]
    added = client.post(f"/api/v1/events/{event_id}/signups", json={"member_id": member_id}, headers=t["duty"])
    assert added.status_code == 201 and added.get_json()["signup"]["member"]["name"] == "沈立新"
    waiting = client.post(f"/api/v1/events/{event_id}/signups",
                          json={"resident_id": w["residents"][1].id, "waitlist": True}, headers=t["duty"])
    assert waiting.get_json()["signup"]["status"] == "waiting"
    signup_id = added.get_json()["signup"]["id"]
    cancelled = client.post(f"/api/v1/events/{event_id}/signups/{signup_id}/cancel", headers=t["admin"]).get_json()
    assert cancelled["signup"]["status"] == "cancelled" and len(cancelled["promoted"]) == 1
    assert client.post(f"/api/v1/events/{event_id}/signups", json={}, headers=t["duty"]).status_code == 400
    dup = client.post("/api/v1/party-members", json={"name": "重复", "work_unit": "x", "party_org": "y",
                                                     "phone": "13900002001"}, headers=t["admin"])
    assert dup.status_code == 409 and dup.get_json()["error"]["field"] == "phone"


def test_projects_and_member_updates(client, w):
    t = w["tokens"]
    created = client.post("/api/v1/volunteer-projects", json={"name": "四点半课堂"}, headers=t["admin"])
    assert created.status_code == 201
    assert client.post("/api/v1/volunteer-projects", json={"name": "四点半课堂"}, headers=t["admin"]).status_code == 409
    names = [p["name"] for p in client.get("/api/v1/volunteer-projects", headers=t["r0"]).get_json()["items"]]
    assert names == ["环境整治", "四点半课堂"]
    member_id = client.post("/api/v1/party-members", json={"name": "韩卫国", "work_unit": "供电公司",
                                                           "party_org": "支部"}, headers=t["admin"]).get_json()["id"]
    chosen = client.post(f"/api/v1/party-members/{member_id}/projects",
                         json={"project_ids": [created.get_json()["id"]]}, headers=t["admin"]).get_json()
    assert [p["name"] for p in chosen["projects"]] == ["四点半课堂"] and chosen["met_projects"] is True
    updated = client.patch(f"/api/v1/party-members/{member_id}", json={"active": False}, headers=t["admin"])
    assert updated.get_json()["active"] is False
    assert client.patch(f"/api/v1/party-members/{member_id}", json={"phone": "1"},
                        headers=t["admin"]).get_json()["error"]["field"] == "phone"
    assert client.get(f"/api/v1/party-members/{member_id}", headers=t["admin"]).get_json()["name"] == "韩卫国"
    assert client.get("/api/v1/party-members?kind=nope", headers=t["admin"]).status_code == 400
    assert client.get("/api/v1/my/party-member", headers=t["r3"]).status_code == 404


def test_micro_wishes_api(client, w):
    t = w["tokens"]
    posted = client.post("/api/v1/my/wishes", json={"title": "想要一副老花镜"}, headers=t["r2"])
    assert posted.status_code == 201
    wish_id = posted.get_json()["id"]
    assert client.get("/api/v1/wishes", headers=t["r0"]).status_code == 403  # not a registered member
    client.post("/api/v1/my/party-member", json={"name": "居民0", "work_unit": "单位", "party_org": "支部"},
                headers=t["r0"])
    open_ones = client.get("/api/v1/wishes", headers=t["r0"]).get_json()["items"]
    assert [o["title"] for o in open_ones] == ["想要一副老花镜"] and open_ones[0]["resident"]["name"] == "居*2"
    claimed = client.post(f"/api/v1/wishes/{wish_id}/claim", headers=t["r0"])
    assert claimed.status_code == 200 and claimed.get_json()["status"] == "claimed"
    again = client.post(f"/api/v1/wishes/{wish_id}/claim", headers=t["r0"])
    assert again.status_code == 409
    done = client.post(f"/api/v1/wishes/{wish_id}/fulfil", json={"note": "送到了"}, headers=t["r0"]).get_json()
    assert done["status"] == "fulfilled"
    staff_view = client.get("/api/v1/wishes?status=fulfilled", headers=t["admin"]).get_json()["items"]
    assert staff_view[0]["resident"]["name"] == "居民2"
    assert client.get("/api/v1/my/wishes", headers=t["r2"]).get_json()["items"][0]["status"] == "fulfilled"
    assert db.session.get(MicroWish, wish_id).fulfil_note == "送到了"


# ---- scoping and roles, endpoint by endpoint ------------------------------------------------

@pytest.fixture
def ids(w, client):
    event = make_event(w["community"], title="四点半课堂", kind="class", capacity=5,
                       starts_at=local(2026, 11, 25, 16, 30))
    signup = signup_for(event.id, resident=w["residents"][0]).signup
    member = PartyMember(community_id=w["community"].id, kind="party", name="党员", work_unit="u", party_org="o",
                         resident_id=w["residents"][1].id)
    db.session.add(member)
    wish = MicroWish(community_id=w["community"].id, resident_id=w["residents"][2].id, title="心愿")
    db.session.add(wish)
    db.session.commit()
    return {"event": event.id, "signup": signup.id, "member": member.id, "wish": wish.id}


ORGANISER_ENDPOINTS = [
    ("POST", "/api/v1/events", EVENT),
    ("PATCH", "/api/v1/events/{event}", {"place": "x"}),
    ("POST", "/api/v1/events/{event}/publish", None),
    ("POST", "/api/v1/events/{event}/announce", None),
    ("POST", "/api/v1/events/{event}/cancel-event", {}),
    ("POST", "/api/v1/events/{event}/signups", {"resident_id": 1}),
    ("POST", "/api/v1/events/{event}/signups/{signup}/cancel", None),
    ("POST", "/api/v1/volunteer-projects", {"name": "新项目"}),
    ("GET", "/api/v1/party-members", None),
    ("POST", "/api/v1/party-members", {"name": "x", "work_unit": "u", "party_org": "o"}),
    ("GET", "/api/v1/party-members/{member}", None),
    ("PATCH", "/api/v1/party-members/{member}", {"name": "y"}),
    ("GET", "/api/v1/party-members/{member}/year", None),
    ("POST", "/api/v1/party-members/{member}/projects", {"project_ids": []}),
    ("GET", "/api/v1/volunteer-hours", None),
    ("POST", "/api/v1/volunteer-hours", {"member_id": 0, "hours": 1}),
    ("GET", "/api/v1/volunteers/report", None),
    ("GET", "/api/v1/volunteers/export", None),
    ("POST", "/api/v1/wishes/{wish}/fulfil", {}),
]
DOOR_ENDPOINTS = [
    ("GET", "/api/v1/events/{event}/signups", None),
    ("POST", "/api/v1/events/{event}/checkin", {"signup_id": 0}),
    ("POST", "/api/v1/events/{event}/checkout", {"signup_id": 0}),
]
RESIDENT_ENDPOINTS = [
    ("POST", "/api/v1/events/{event}/signup", {"idempotency_key": "k"}),
    ("POST", "/api/v1/events/{event}/cancel", None),
    ("GET", "/api/v1/my/signups", None),
    ("GET", "/api/v1/my/signups/{signup}/code", None),
    ("POST", "/api/v1/my/party-member", {"name": "x"}),
    ("GET", "/api/v1/my/party-member", None),
    ("POST", "/api/v1/my/party-member/projects", {"project_ids": []}),
    ("POST", "/api/v1/my/wishes", {"title": "x"}),
    ("GET", "/api/v1/my/wishes", None),
    ("POST", "/api/v1/my/wishes/{wish}/cancel", None),
    ("POST", "/api/v1/wishes/{wish}/claim", None),
]


def _call(client, method, path, body, ids, headers):
    url = path.format(**ids)
    return client.open(url, method=method, json=body, headers=headers or {})


@pytest.mark.parametrize("method, path, body", ORGANISER_ENDPOINTS + DOOR_ENDPOINTS + RESIDENT_ENDPOINTS)
def test_every_endpoint_needs_a_token(client, w, ids, method, path, body):
    assert _call(client, method, path, body, ids, None).status_code == 401


@pytest.mark.parametrize("method, path, body", ORGANISER_ENDPOINTS)
def test_organiser_endpoints_refuse_other_roles(client, w, ids, method, path, body):
    for who in ("grid", "dept", "street"):
        response = _call(client, method, path, body, ids, w["tokens"][who])
        assert response.status_code == 403, (who, response.get_json())
    assert _call(client, method, path, body, ids, w["tokens"]["r0"]).status_code == 403


@pytest.mark.parametrize("method, path, body", DOOR_ENDPOINTS)
def test_door_endpoints_allow_grid_workers_but_not_departments(client, w, ids, method, path, body):
    assert _call(client, method, path, body, ids, w["tokens"]["dept"]).status_code == 403
    assert _call(client, method, path, body, ids, w["tokens"]["r0"]).status_code == 403
    assert _call(client, method, path, body, ids, w["tokens"]["grid"]).status_code not in (401, 403)


@pytest.mark.parametrize("method, path, body", [
    e for e in ORGANISER_ENDPOINTS + DOOR_ENDPOINTS if "{" in e[1]])
def test_staff_of_another_community_get_404(client, w, ids, method, path, body):
    response = _call(client, method, path, body, ids, w["tokens"]["other_admin"])
    assert response.status_code == 404, response.get_json()


@pytest.mark.parametrize("method, path, body", RESIDENT_ENDPOINTS)
def test_resident_endpoints_refuse_staff(client, w, ids, method, path, body):
    assert _call(client, method, path, body, ids, w["tokens"]["admin"]).status_code == 403


def test_residents_cannot_reach_others_things(client, w, ids):
    t = w["tokens"]
    assert client.get(f"/api/v1/my/signups/{ids['signup']}/code", headers=t["r1"]).status_code == 404
    assert client.post(f"/api/v1/my/wishes/{ids['wish']}/cancel", headers=t["r1"]).status_code == 404
    assert client.get(f"/api/v1/events/{ids['event']}", headers=t["outsider"]).status_code == 404
    assert client.get(f"/api/v1/events/{ids['event']}", headers=t["other_admin"]).status_code == 404
    assert client.get(f"/api/v1/events/{ids['event']}", headers=t["r1"]).status_code == 200


def test_the_openapi_document_describes_the_events_api(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/events", "/api/v1/events/{event_id}/signup", "/api/v1/events/{event_id}/checkin",
                 "/api/v1/my/party-member", "/api/v1/volunteers/export", "/api/v1/wishes/{wish_id}/claim"):
        assert path in paths, path
    assert "requestBody" in paths["/api/v1/events/{event_id}/signup"]["post"]
    assert db.session.scalars(select(HoursEntry)).all() == []
