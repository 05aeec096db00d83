"""The requests API: staff actions scoped to the community, residents' own requests, statistics."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.handlers import requests as flow
from app.handlers.org.auth import RESIDENT, STAFF, issue_token
from app.models.requests import ServiceRequest
from app.models.sla import ReplyClock
from tests import factories
from tests.factories.requests import build_world, outbound, report


def auth(member) -> dict:
    kind = STAFF if member.__tablename__ == "staff" else RESIDENT
    return {"Authorization": f"Bearer {issue_token(kind, member.id).token}"}


@pytest.fixture
def world(app, clock):
    return build_world()


@pytest.fixture
def req(world) -> ServiceRequest:
    _, request = report(world)
    return request


# Every staff endpoint on one request: (method, path suffix, body, action for the role table).
ACTIONS = [
    ("GET", "", None, "view"),
    ("GET", "/timeline", None, "view"),
    ("POST", "/reply", {"text": "收到，马上安排"}, "reply"),
    ("POST", "/dispatch", {}, "dispatch"),
    ("POST", "/start", {}, "start"),
    ("POST", "/escalate", {"level": "street", "reason": "需街道协调"}, "escalate"),
    ("POST", "/resolve", {"note": "已处理"}, "resolve"),
    ("POST", "/merge", {"into_id": None}, "merge"),
    ("POST", "/reject", {"reason": "不属于社区事务"}, "reject"),
    ("POST", "/reopen", {"reason": "问题复发"}, "reopen"),
    ("POST", "/classify", {"urgency": "emergency"}, "reclassify"),
]


def call(client, method, request_id, suffix, body, headers, into_id=None):
    if body is not None and "into_id" in body:
        body = {"into_id": into_id}
    url = f"/api/v1/requests/{request_id}{suffix}"
    return client.open(url, method=method, json=body, headers=headers)


# ---- scoping: other community → 404, residents → 403, no token → 401 -----------------------

@pytest.mark.parametrize("method,suffix,body,action", ACTIONS)
def test_staff_of_another_community_gets_404(client, world, req, method, suffix, body, action):
    response = call(client, method, req.id, suffix, body, auth(world.other_staff), into_id=req.id)
    assert response.status_code == 404, response.get_json()
    assert response.get_json()["error"]["code"] == "not_found"
    db.session.refresh(req)
    assert req.status == "received"


@pytest.mark.parametrize("method,suffix,body,action", ACTIONS)
def test_a_resident_on_a_staff_endpoint_gets_403(client, world, req, method, suffix, body, action):
    response = call(client, method, req.id, suffix, body, auth(world.resident), into_id=req.id)
    assert response.status_code == 403


@pytest.mark.parametrize("method,suffix,body,action", ACTIONS)
def test_without_a_token_401(client, world, req, method, suffix, body, action):
    assert call(client, method, req.id, suffix, body, {}, into_id=req.id).status_code == 401


@pytest.mark.parametrize("method,suffix,body,action", ACTIONS)
def test_a_department_sees_nothing_that_was_not_escalated_to_it(client, world, req, method, suffix, body, action):
    response = call(client, method, req.id, suffix, body, auth(world.dept_staff), into_id=req.id)
    assert response.status_code == 404


DEPARTMENT_MAY = {"view", "reply", "start", "resolve"}


@pytest.mark.parametrize("method,suffix,body,action", ACTIONS)
def test_department_roles_on_a_request_escalated_to_it(client, world, req, method, suffix, body, action):
    flow.escalate(req, world.admin, level="department", reason="需住建局处理", department_id=world.department.id)
    _, other = report(world, "3号楼外墙脱落", chat_id="chat-x")
    flow.escalate(other, world.admin, level="department", reason="同上", department_id=world.department.id)
    response = call(client, method, req.id, suffix, body, auth(world.dept_staff), into_id=other.id)
    if action in DEPARTMENT_MAY:
        assert response.status_code == 200, response.get_json()
    else:
        assert response.status_code == 403, response.get_json()
        assert response.get_json()["error"]["code"] == "forbidden"


GRID_WORKER_MAY = {"view", "reply", "start", "escalate", "resolve"}


@pytest.mark.parametrize("method,suffix,body,action", ACTIONS)
def test_grid_worker_roles(client, world, req, method, suffix, body, action):
    _, other = report(world, "3号楼门禁坏了", chat_id="chat-x")
    response = call(client, method, req.id, suffix, body, auth(world.worker), into_id=other.id)
    if action in GRID_WORKER_MAY:
        assert response.status_code == 200, response.get_json()
    else:
        assert response.status_code == 403, response.get_json()


@pytest.mark.parametrize("suffix,body", [("/start", {}), ("/resolve", {"note": "x"}),
                                         ("/escalate", {"level": "community", "reason": "x"})])
def test_a_grid_worker_cannot_handle_another_grids_request(client, world, suffix, body):
    other_grid = factories.grid(community=world.community, name="第二网格")
    factories.building(community=world.community, grid=other_grid, number="8")
    db.session.commit()
    _, request = report(world, "8号楼水管爆了", slots={"building": "8"}, chat_id="chat-8")
    assert request.grid_id == other_grid.id
    assert client.post(f"/api/v1/requests/{request.id}{suffix}", json=body,
                       headers=auth(world.worker)).status_code == 403
    flow.dispatch(request, world.duty, staff=world.worker)  # assigned to them: now they may
    assert client.post(f"/api/v1/requests/{request.id}{suffix}", json=body,
                       headers=auth(world.worker)).status_code == 200


def test_street_admin_sees_what_was_escalated_to_the_street(client, world, req):
    headers = auth(world.street_admin)
    assert client.get(f"/api/v1/requests/{req.id}", headers=headers).status_code == 404
    flow.escalate(req, world.admin, level="street", reason="涉及多个社区")
    assert client.get(f"/api/v1/requests/{req.id}", headers=headers).status_code == 200
    listed = client.get("/api/v1/requests", headers=headers).get_json()
    assert [i["id"] for i in listed["items"]] == [req.id]
    response = client.post(f"/api/v1/requests/{req.id}/escalate", headers=headers,
                           json={"level": "department", "department_id": world.department.id, "reason": "需部门报到"})
    assert response.status_code == 200 and response.get_json()["escalation_level"] == "department"


def test_list_and_stats_scoping(client, world, req):
    assert client.get("/api/v1/requests", headers=auth(world.resident)).status_code == 403
    assert client.get("/api/v1/requests").status_code == 401
    assert client.get("/api/v1/requests", headers=auth(world.other_staff)).get_json()["total"] == 0
    assert client.get("/api/v1/requests", headers=auth(world.dept_staff)).get_json()["total"] == 0
    assert client.get("/api/v1/requests", headers=auth(world.duty)).get_json()["total"] == 1
    for member in (world.resident, world.worker, world.dept_staff):
        assert client.get("/api/v1/stats/requests", headers=auth(member)).status_code == 403
    assert client.get("/api/v1/stats/requests", headers=auth(world.other_staff)).get_json()["total"] == 0
    assert client.get("/api/v1/stats/requests", headers=auth(world.duty)).get_json()["total"] == 1


def test_resident_endpoints_are_scoped_to_their_own_requests(client, world, req):
    neighbour = factories.resident(community_id=world.community.id, name="邻居")
    db.session.commit()
    assert client.get(f"/api/v1/my/requests/{req.id}", headers=auth(neighbour)).status_code == 404
    assert client.post(f"/api/v1/my/requests/{req.id}/rate", json={"rating": "satisfied"},
                       headers=auth(neighbour)).status_code == 404
    assert client.get("/api/v1/my/requests", headers=auth(neighbour)).get_json()["total"] == 0
    assert client.get("/api/v1/my/requests", headers=auth(world.duty)).status_code == 403
    assert client.post("/api/v1/my/requests", json={"text": "x"}, headers=auth(world.duty)).status_code == 403
    assert client.post(f"/api/v1/my/requests/{req.id}/rate", json={"rating": "satisfied"},
                       headers=auth(world.duty)).status_code == 403
    assert client.get("/api/v1/my/requests").status_code == 401


# ---- staff: reading --------------------------------------------------------------------------

def test_detail_shows_the_resident_unmasked_and_the_timeline(client, world, req):
    body = client.get(f"/api/v1/requests/{req.id}", headers=auth(world.duty)).get_json()
    assert body["code"] == req.code and body["status_label"] == "已接收"
    assert body["resident"]["phone"] == "13912345678" and body["resident"]["name"] == "张秀英"
    assert body["grid"] == {"id": world.grid.id, "name": "第一网格"}
    assert body["group"]["name"] == "富强新村1号群"
    assert body["due_at"] == "2026-11-26T23:59:59+08:00" and body["overdue"] is False
    assert [e["kind"] for e in body["timeline"]] == ["created"]
    assert body["reply_clock"]["stopped_at"] is None and body["reply_clock"]["seconds_left"] == 3600
    timeline = client.get(f"/api/v1/requests/{req.id}/timeline", headers=auth(world.duty)).get_json()
    assert timeline["total"] == 1 and timeline["items"][0]["actor_type"] == "resident"


def test_list_filters_and_pagination(client, world, clock):
    _, lamp = report(world, "3号楼楼道灯坏了", chat_id="c1")
    _, water = report(world, "3号楼停水了", category="utilities", chat_id="c2")
    _, noise = report(world, "楼上装修噪音", category="noise", slots={}, chat_id="c3")
    flow.resolve(noise, world.duty, note="已劝导")
    headers = auth(world.duty)

    def ids(query):
        response = client.get(f"/api/v1/requests?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [i["id"] for i in response.get_json()["items"]]

    assert ids("") == [noise.id, water.id, lamp.id]
    assert ids("status=open") == [water.id, lamp.id]
    assert ids("status=resolved,closed") == [noise.id]
    assert ids("category=utilities") == [water.id]
    assert ids(f"grid_id={world.grid.id}") == [water.id, lamp.id]
    assert ids("sort=due") == [water.id, lamp.id, noise.id]  # utilities: 24 h
    assert ids("overdue=true") == []
    clock.advance(hours=25)
    assert ids("overdue=true") == [water.id]
    assert ids("overdue=false") == [noise.id, lamp.id]
    flow.dispatch(lamp, world.duty)
    assert ids("assignee=me") == [noise.id]  # whoever resolves an unassigned request becomes its assignee
    assert ids(f"assignee={world.worker.id}") == [lamp.id]
    page = client.get("/api/v1/requests?per_page=2&page=2", headers=headers).get_json()
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (3, 2, 2, 1)
    for query, name in [("status=bogus", "status"), ("category=x", "category"), ("overdue=maybe", "overdue"),
                        ("per_page=0", "per_page"), ("grid_id=abc", "grid_id"), ("sort=x", "sort"),
                        ("scope=x", "scope"), ("level=x", "level")]:
        response = client.get(f"/api/v1/requests?{query}", headers=headers)
        assert response.status_code == 400 and response.get_json()["error"]["field"] == name, query


def test_a_grid_worker_sees_their_grid_by_default(client, world):
    _, mine = report(world, "3号楼灯坏了", chat_id="c1")
    _, elsewhere = report(world, "小区大门坏了", slots={}, chat_id="c2")
    headers = auth(world.worker)
    assert [i["id"] for i in client.get("/api/v1/requests", headers=headers).get_json()["items"]] == [mine.id]
    assert client.get("/api/v1/requests?scope=all", headers=headers).get_json()["total"] == 2
    flow.dispatch(elsewhere, world.duty, staff=world.worker)
    assert client.get("/api/v1/requests", headers=headers).get_json()["total"] == 2


# ---- staff: actions --------------------------------------------------------------------------

def test_reply_posts_to_the_group_and_stops_the_clock(client, world, req, clock):
    clock.advance(minutes=12)
    response = client.post(f"/api/v1/requests/{req.id}/reply", json={"text": "您好，网格员10分钟内到"},
                           headers=auth(world.duty))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "acknowledged" and body["message"]["status"] == "queued"
    sent = outbound(request_id=req.id)[-1]
    assert (sent.recipient_id, sent.handling["recipient_kind"]) == ("chat-fuqiang-1", "group")
    assert sent.text == f"【{req.code}】您好，网格员10分钟内到"
    clock_row = db.session.scalars(select(ReplyClock).where(ReplyClock.request_id == req.id)).one()
    assert clock_row.stopped_at == clock() and clock_row.stopped_by_staff_id == world.duty.id
    assert body["reply_clock"]["stopped_at"] is not None
    assert [e["kind"] for e in body["timeline"]] == ["created", "replied", "acknowledged"]


@pytest.mark.parametrize("body,name", [({}, "text"), ({"text": "  "}, "text"), ({"text": 5}, "text"),
                                       ({"text": "x" * 1001}, "text")])
def test_reply_validation(client, world, req, body, name):
    response = client.post(f"/api/v1/requests/{req.id}/reply", json=body, headers=auth(world.duty))
    assert response.status_code == 400 and response.get_json()["error"]["field"] == name


def test_reply_needs_a_json_object(client, world, req):
    response = client.post(f"/api/v1/requests/{req.id}/reply", data="not json", headers=auth(world.duty))
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "body"


def test_dispatch_start_escalate_resolve_through_the_api(client, world, req):
    headers = auth(world.duty)
    body = client.post(f"/api/v1/requests/{req.id}/dispatch", headers=headers).get_json()
    assert body["status"] == "dispatched" and body["assignee"]["id"] == world.worker.id
    for payload, name in [({"staff_id": 999999}, "staff_id"), ({"staff_id": world.other_staff.id}, "staff_id"),
                          ({"staff_id": "x"}, "staff_id"), ({"note": "x" * 501}, "note")]:
        response = client.post(f"/api/v1/requests/{req.id}/dispatch", json=payload, headers=headers)
        assert response.status_code == 400 and response.get_json()["error"]["field"] == name, payload
    body = client.post(f"/api/v1/requests/{req.id}/dispatch", json={"staff_id": world.leader.id, "note": "请网格长牵头"},
                       headers=headers).get_json()
    assert body["assignee"]["id"] == world.leader.id
    assert client.post(f"/api/v1/requests/{req.id}/start", headers=auth(world.leader)).get_json()["status"] == \
        "in_progress"
    for payload, name in [({"reason": "x"}, "level"), ({"level": "sky", "reason": "x"}, "level"),
                          ({"level": "community"}, "reason"), ({"level": "grid", "reason": "x"}, "level"),
                          ({"level": "department", "reason": "x"}, "department_id"),
                          ({"level": "department", "reason": "x", "department_id": 999999}, "department_id")]:
        response = client.post(f"/api/v1/requests/{req.id}/escalate", json=payload, headers=headers)
        assert response.status_code == 400 and response.get_json()["error"]["field"] == name, payload
    body = client.post(f"/api/v1/requests/{req.id}/escalate", json={"level": "community", "reason": "需协调物业"},
                       headers=headers).get_json()
    assert body["escalation_level"] == "community" and body["status"] == "dispatched"
    response = client.post(f"/api/v1/requests/{req.id}/resolve", json={}, headers=headers)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "note"
    body = client.post(f"/api/v1/requests/{req.id}/resolve", json={"note": "物业已维修"}, headers=headers).get_json()
    assert body["status"] == "resolved" and body["resolution_note"] == "物业已维修"
    response = client.post(f"/api/v1/requests/{req.id}/resolve", json={"note": "again"}, headers=headers)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "invalid_transition" and "当前状态为「已办结（待评价）」，不能办结" in error["message"]


def test_merge_reject_reopen_classify_through_the_api(client, world, req):
    headers = auth(world.duty)
    _, duplicate = report(world, "3号楼灯不亮", chat_id="chat-dup")
    _, foreign = report(world, "别的社区", slots={}, chat_id="chat-f")
    foreign.community_id = world.other_community.id
    db.session.commit()
    for payload, name in [({}, "into_id"), ({"into_id": "1"}, "into_id"), ({"into_id": foreign.id}, "into_id"),
                          ({"into_id": duplicate.id}, "into_id")]:
        response = client.post(f"/api/v1/requests/{duplicate.id}/merge", json=payload, headers=headers)
        assert response.status_code == 400 and response.get_json()["error"]["field"] == name, payload
    body = client.post(f"/api/v1/requests/{duplicate.id}/merge", json={"into_id": req.id}, headers=headers).get_json()
    assert body["status"] == "merged" and body["merged_into"] == {"id": req.id, "code": req.code}
    response = client.post(f"/api/v1/requests/{req.id}/reject", json={"reason": ""}, headers=headers)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "reason"
    response = client.post(f"/api/v1/requests/{req.id}/classify", json={}, headers=headers)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "category"
    response = client.post(f"/api/v1/requests/{req.id}/classify", json={"urgency": "now"}, headers=headers)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "urgency"
    body = client.post(f"/api/v1/requests/{req.id}/classify", json={"category": "utilities"}, headers=headers).get_json()
    assert body["urgency"] == "utilities" and body["due_at"] == "2026-11-18T09:30:00+08:00"
    response = client.post(f"/api/v1/requests/{req.id}/reopen", json={"reason": "x"}, headers=headers)
    assert response.status_code == 409
    flow.resolve(req, world.duty, note="已修")
    body = client.post(f"/api/v1/requests/{req.id}/reopen", json={"reason": "夜里又灭了"}, headers=headers).get_json()
    assert body["status"] == "in_progress"
    body = client.post(f"/api/v1/requests/{req.id}/reject", json={"reason": "系重复反映"}, headers=headers).get_json()
    assert body["status"] == "rejected"


def test_department_flow(client, world, req):
    flow.escalate(req, world.admin, level="department", reason="需住建局改造管网", department_id=world.department.id)
    headers = auth(world.dept_staff)
    listed = client.get("/api/v1/requests", headers=headers).get_json()
    assert [i["id"] for i in listed["items"]] == [req.id]
    assert client.post(f"/api/v1/requests/{req.id}/start", headers=headers).get_json()["assignee"]["id"] == \
        world.dept_staff.id
    body = client.post(f"/api/v1/requests/{req.id}/resolve", json={"note": "已改造"}, headers=headers).get_json()
    assert body["status"] == "resolved"
    # The community still sees its request.
    assert client.get(f"/api/v1/requests/{req.id}", headers=auth(world.duty)).status_code == 200


# ---- residents -------------------------------------------------------------------------------

def test_resident_creates_a_request_with_photos(client, world, clock):
    headers = auth(world.resident)
    response = client.post("/api/v1/my/requests", headers=headers, json={
        "text": "3号楼2单元电梯异响，请尽快检修", "category": "repair", "building": "3号楼", "unit": "2",
        "room": "501", "photos": ["media-1", "https://img.example/2.jpg"]})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["code"] == "R20261117-0001" and body["status_label"] == "已接收"
    assert body["location"] == "3号楼2单元501室" and body["photos"] == ["media-1", "https://img.example/2.jpg"]
    assert body["reporter"]["phone"] == "139****5678"
    request = db.session.get(ServiceRequest, body["id"])
    assert request.grid_id == world.grid.id and request.channel == "miniprogram"
    clock_row = db.session.scalars(select(ReplyClock).where(ReplyClock.request_id == request.id)).one()
    assert clock_row.stopped_at is None and clock_row.message_id is None
    unknown = client.post("/api/v1/my/requests", headers=headers, json={"text": "东门路灯坏了", "building": "东门"})
    assert unknown.status_code == 201 and db.session.get(ServiceRequest, unknown.get_json()["id"]).grid_id is None


@pytest.mark.parametrize("payload,name", [
    ({}, "text"), ({"text": ""}, "text"), ({"text": "x" * 2001}, "text"), ({"text": "x", "category": "ufo"}, "category"),
    ({"text": "x", "photos": [f"m{i}" for i in range(10)]}, "photos"), ({"text": "x", "photos": "m1"}, "photos"),
    ({"text": "x", "photos": [1]}, "photos"), ({"text": "x", "building": "x" * 21}, "building"),
    ({"text": "x", "unit": ["2"]}, "unit"), ({"text": "x", "room": "x" * 21}, "room")])
def test_resident_create_validation(client, world, payload, name):
    response = client.post("/api/v1/my/requests", json=payload, headers=auth(world.resident))
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["field"] == name


def test_a_resident_without_a_community_must_name_one(client, world):
    stranger = factories.resident(name="新住户")
    db.session.commit()
    headers = auth(stranger)
    response = client.post("/api/v1/my/requests", json={"text": "楼道堆物"}, headers=headers)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "community_id"
    response = client.post("/api/v1/my/requests", json={"text": "楼道堆物", "community_id": 999999}, headers=headers)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "community_id"
    response = client.post("/api/v1/my/requests", json={"text": "楼道堆物", "community_id": world.community.id},
                           headers=headers)
    assert response.status_code == 201


def test_my_requests_show_progress_with_masked_phone(client, world, req, clock):
    flow.reply_publicly(req, world.duty, "已安排网格员")
    flow.dispatch(req, world.duty)
    flow.escalate(req, world.worker, level="community", reason="内部原因：物业推诿")
    flow.supervise_overdue(req.id)  # not overdue: nothing
    body = client.get("/api/v1/my/requests", headers=auth(world.resident)).get_json()
    assert body["total"] == 1
    item = body["items"][0]
    assert item["reporter"] == {"id": world.resident.id, "name": "张*英", "phone": "139****5678"}
    progress = [(p["kind"], p.get("text")) for p in item["progress"]]
    assert progress == [("created", None), ("replied", "已安排网格员"), ("acknowledged", None),
                        ("dispatched", "已派给网格员办理"), ("escalated", "已上报社区协调办理")]
    assert "物业推诿" not in str(body)  # internal reasons stay internal
    detail = client.get(f"/api/v1/my/requests/{req.id}", headers=auth(world.resident)).get_json()
    assert detail["code"] == req.code and detail["can_rate"] is False


def test_resident_rates_through_the_api(client, world, req):
    headers = auth(world.resident)
    response = client.post(f"/api/v1/my/requests/{req.id}/rate", json={"rating": "satisfied"}, headers=headers)
    assert response.status_code == 409 and "不能评价" in response.get_json()["error"]["message"]
    flow.resolve(req, world.duty, note="已修好")
    response = client.post(f"/api/v1/my/requests/{req.id}/rate", json={"rating": "good"}, headers=headers)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "rating"
    response = client.post(f"/api/v1/my/requests/{req.id}/rate", json={"rating": "unsatisfied", "comment": "x" * 501},
                           headers=headers)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "comment"
    body = client.post(f"/api/v1/my/requests/{req.id}/rate", json={"rating": "unsatisfied", "comment": "没修好"},
                       headers=headers).get_json()
    assert body["status"] == "in_progress"
    flow.resolve(req, world.duty, note="重新维修")
    body = client.post(f"/api/v1/my/requests/{req.id}/rate", json={"rating": "satisfied"}, headers=headers).get_json()
    assert body["status"] == "closed" and body["rating"] == "satisfied"


# ---- statistics ------------------------------------------------------------------------------

def test_statistics(client, world, clock):
    _, a = report(world, "3号楼灯坏了", chat_id="c1")          # grid: replied in time, resolved at grid, satisfied
    _, b = report(world, "3号楼停水", category="utilities", chat_id="c2")  # escalated, resolved late, unsatisfied
    _, c = report(world, "3号楼噪音", category="noise", chat_id="c3")      # rejected
    _, d = report(world, "3号楼灯不亮", chat_id="c4")          # merged into a
    _, e = report(world, "3号楼垃圾", category="environment", chat_id="c5")  # open, never answered
    clock.advance(minutes=30)
    flow.reply_publicly(a, world.duty, "收到")
    flow.resolve(a, world.worker, note="已修")
    flow.rate(a, world.resident, rating="satisfied")
    clock.advance(minutes=60)
    flow.reply_publicly(b, world.duty, "收到")  # 90 minutes: late
    flow.escalate(b, world.duty, level="community", reason="需协调")
    flow.reject(c, world.duty, reason="非社区职责")
    flow.merge(d, world.duty, into=a)
    clock.advance(hours=30)
    flow.resolve(b, world.admin, note="已恢复供水")
    flow.rate(b, world.resident, rating="unsatisfied")
    flow.resolve(b, world.admin, note="已恢复供水并补偿")
    flow.rate(b, world.resident, rating="basically")
    body = client.get("/api/v1/stats/requests", headers=auth(world.admin)).get_json()
    assert body["from"] == "2026-10-20" and body["to"] == "2026-11-18"
    assert (body["total"], body["accepted"], body["rejected"], body["merged"]) == (4, 3, 1, 1)
    # responded within the hour: a (30 min) and c (rejection notice at 90 min is late) → only a
    assert body["responded_in_time"] == 1 and body["response_rate"] == 0.25
    assert body["resolved"] == 2 and body["resolution_rate"] == round(2 / 3, 4)
    assert body["resolved_on_time"] == 1  # b (utilities, 24 h) was resolved after 31.5 h
    assert body["rated"] == 2 and body["satisfaction_rate"] == 1.0
    assert body["solved_at_grid_level"] == 1 and body["resolved_by_level"]["community"] == 1
    assert body["escalated"] == 1 and body["open"] == 1 and body["overdue_open"] == 0
    per_category = {row["category"]: row for row in body["per_category"]}
    assert per_category["utilities"]["total"] == 1 and per_category["utilities"]["label"] == "水电气暖"
    assert per_category["repair"]["total"] == 1  # the merged duplicate is not counted
    ranged = client.get("/api/v1/stats/requests?from=2026-11-18&to=2026-11-30", headers=auth(world.admin)).get_json()
    assert ranged["total"] == 0
    for query, name in [("from=2026-13-01", "from"), ("from=2026-11-20&to=2026-11-01", "from"),
                        ("to=x", "to"), ("grid_id=x", "grid_id")]:
        response = client.get(f"/api/v1/stats/requests?{query}", headers=auth(world.admin))
        assert response.status_code == 400 and response.get_json()["error"]["field"] == name


def test_openapi_lists_the_request_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/requests", "/api/v1/requests/{request_id}", "/api/v1/requests/{request_id}/escalate",
                 "/api/v1/stats/requests", "/api/v1/my/requests", "/api/v1/my/requests/{request_id}/rate"):
        assert path in paths
    assert set(paths["/api/v1/my/requests"]) == {"get", "post"}


# ---- end to end through the conversation router ---------------------------------------------

def test_group_report_to_rating_through_the_router_and_the_api(client, world, clock):
    from app.handlers import sla
    from app.handlers.messaging.inbound import CHAT_GROUP, InboundMessage, receive
    from app.models.alerts import Alert

    def say(text, n):
        reply, _ = receive(InboundMessage(channel="group", dedupe_key=f"e2e-{n}", sender_id="u-zhang",
                                          chat_id="chat-fuqiang-1", chat_type=CHAT_GROUP, text=text,
                                          sender_name="张秀英"))
        return reply

    reply = say("3号楼2单元楼道灯坏了，晚上很黑", 1)
    request = db.session.scalars(select(ServiceRequest)).one()
    assert reply.text == f"已收到您的反映（编号{request.code}），值班人员会在1小时内答复。"
    assert (request.grid_id, request.category, request.location) == (world.grid.id, "repair", "3号楼2单元")
    clock.advance(minutes=3)
    reply = say("已经坏了三天了", 2)
    assert request.code in reply.text
    assert db.session.scalar(select(ServiceRequest.id).where(ServiceRequest.id != request.id)) is None
    clock.advance(minutes=20)
    response = client.post(f"/api/v1/requests/{request.id}/reply", json={"text": "收到，网格员马上到"},
                           headers=auth(world.duty))
    assert response.status_code == 200
    # Every clock this report started (the report and its follow-up) is answered by that one reply.
    assert db.session.scalars(select(ReplyClock).where(ReplyClock.stopped_at.is_(None))).all() == []
    clock.advance(hours=2)
    sla.sweep()
    assert db.session.scalars(select(Alert).where(Alert.kind.in_(("warn", "breach")))).all() == []
    assert client.post(f"/api/v1/requests/{request.id}/resolve", json={"note": "已更换楼道灯"},
                       headers=auth(world.worker)).status_code == 200
    reply = say("满意", 3)
    assert "感谢您的评价" in reply.text
    db.session.refresh(request)
    assert request.status == "closed" and request.rating == "satisfied"
    reply = say("我报的修了没有", 4)
    assert f"诉求{request.code}" in reply.text and "已完结" in reply.text
