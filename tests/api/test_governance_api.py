"""The governance API: the three lists, projects, 议事 and the map end to end; roles, scoping and errors."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.handlers.org.auth import RESIDENT, STAFF, issue_token
from app.models import PartyMember
from tests import factories
from tests.handlers.governance.support import make_request, point, world


def _auth(row) -> dict:
    kind = STAFF if row.__tablename__ == "staff" else RESIDENT
    return {"Authorization": f"Bearer {issue_token(kind, row.id).token}"}


@pytest.fixture
def w(app, clock):
    w = world()
    w.extra["dept"] = factories.staff(community=w.community, roles=("department",), name="部门")
    w.extra["street"] = factories.staff(community_id=None, street_id=w.community.street_id,
                                        roles=("street_admin",), name="街道")
    w.extra["leader"] = factories.staff(community=w.community, roles=("grid_leader",), name="网格长")
    yan = PartyMember(community_id=w.community.id, resident_id=w.residents[2].id, kind="party", name="周晓燕",
                      work_unit="天宁区人民医院", party_org="区人民医院党委")
    db.session.add(yan)
    db.session.commit()
    w.extra["member"] = yan
    w.extra["tokens"] = {name: _auth(row) for name, row in {
        "admin": w.admin, "duty": w.duty, "grid": w.grid_worker, "dept": w.extra["dept"],
        "street": w.extra["street"], "leader": w.extra["leader"], "other": w.other_admin,
        "r0": w.residents[0], "r1": w.residents[1], "yan": w.residents[2], "r3": w.residents[3]}.items()}
    return w


def call(client, w, who, method, path, body=None, status=200):
    response = client.open(f"/api/v1{path}", method=method, json=body, headers=w.extra["tokens"][who])
    assert response.status_code == status, (path, response.get_json())
    return response.get_json()


def test_the_three_lists_through_the_api(client, w):
    unit = call(client, w, "admin", "POST", "/partner-units", {
        "name": "红梅街道社区卫生服务中心", "kind": "hospital", "phone": "0519-86609120",
        "lat": point(100)[0], "lng": point(100)[1]}, 201)
    resource = call(client, w, "duty", "POST", "/resources", {
        "unit_id": unit["id"], "kind": "skill", "title": "家庭医生上门随访", "tags": ["随访", "慢病"],
        "quantity": 20, "quantity_unit": "次", "weekdays": [2, 4]}, 201)
    offered = call(client, w, "yan", "POST", "/my/resources", {
        "kind": "hours", "title": "周末陪老人聊天", "quantity": 10, "weekdays": [6, 7]}, 201)
    assert offered["owner"]["name"] == "周晓燕"
    need = call(client, w, "grid", "POST", "/needs", {
        "kind": "skill", "title": "独居老人慢病随访", "tags": ["随访"], "building_id": w.buildings["1"].id,
        "weekdays": [2], "beneficiaries": 15}, 201)
    matches = call(client, w, "duty", "GET", f"/needs/{need['id']}/matches")
    assert matches["items"][0]["resource"]["id"] == resource["id"] and matches["items"][0]["reasons"]

    assigned = call(client, w, "duty", "POST", f"/needs/{need['id']}/assign", {"resource_id": resource["id"]}, 201)
    assert assigned["direction"] == "assigned" and not assigned["replay"]
    assert call(client, w, "duty", "POST", f"/needs/{need['id']}/assign", {"resource_id": resource["id"]})["replay"]
    listed = call(client, w, "yan", "GET", "/my/claimable-needs")["items"]
    assert [n["id"] for n in listed] == [need["id"]] and listed[0]["claimed_by"] == ["红梅街道社区卫生服务中心"]
    mine = call(client, w, "yan", "POST", f"/my/needs/{need['id']}/claim", {"note": "每周四陪同"}, 201)
    assert mine["party"]["name"] == "周晓燕"
    call(client, w, "r0", "POST", f"/my/needs/{need['id']}/claim", {}, 403)      # not a registered member

    project = call(client, w, "duty", "POST", f"/needs/{need['id']}/project", {
        "owner_staff_id": w.duty.id, "plan": "每周二、四上门随访", "deadline": "2026-12-31"}, 201)
    assert project["code"] == "GJ2026-001" and {p["name"] for p in project["partners"]} == {
        "红梅街道社区卫生服务中心", "周晓燕"}
    call(client, w, "duty", "POST", f"/projects/{project['id']}/progress", {"progress": 50, "note": "已随访8户"}, 201)
    call(client, w, "duty", "POST", f"/projects/{project['id']}/contributions", {
        "member_id": w.extra["member"].id, "kind": "hours", "quantity": 3}, 201)
    call(client, w, "duty", "POST", f"/projects/{project['id']}/contributions", {
        "unit_id": unit["id"], "kind": "service", "quantity": 8, "resource_id": resource["id"]}, 201)
    done = call(client, w, "admin", "POST", f"/projects/{project['id']}/complete", {"summary": "15户全部随访"})
    assert (done["status"], done["progress"], done["hours"]) == ("done", 100, 3.0)

    report = call(client, w, "grid", "GET", "/governance/report?year=2026")
    assert report["summary"]["projects_done"] == 1 and report["members"][0]["volunteer_hours"] == 3.0
    response = client.get("/api/v1/governance/export?year=2026", headers=w.extra["tokens"]["admin"])
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert load_workbook(io.BytesIO(response.data))["在职党员"].cell(4, 2).value == "周晓燕"


def test_recurring_requests_become_a_need_or_a_topic_in_one_step(client, w):
    ids = [make_request(w, w.buildings["2"], "parking", f"2号楼门口乱停车{d}", d).id for d in (9, 5, 1)]
    spots = call(client, w, "duty", "GET", "/governance/hotspots")["items"]
    assert spots[0]["request_ids"] == ids and spots[0]["on_need_list"] is False
    need = call(client, w, "duty", "POST", "/needs/from-requests", {"request_ids": ids, "kind": "other"}, 201)
    assert need["source"] == "requests" and need["building"] == "2号楼"
    assert call(client, w, "duty", "GET", "/governance/hotspots")["items"][0]["on_need_list"] is True
    again = client.post("/api/v1/needs/from-requests", json={"request_ids": ids}, headers=w.extra["tokens"]["duty"])
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_promoted"
    topic = call(client, w, "duty", "POST", "/topics/from-hotspot", {"request_ids": ids}, 201)
    assert topic["source"] == "requests" and topic["stage"] == "collect" and topic["request_ids"] == ids


def test_a_topic_through_the_five_steps_by_api_with_resident_votes(client, w):
    topic = call(client, w, "duty", "POST", "/topics", {"title": "小区广场舞音量", "detail": "晚上八点后音量过大"}, 201)
    path = f"/topics/{topic['id']}"
    call(client, w, "grid", "POST", f"{path}/advance", {"stage": "topic"}, 403)       # the committee runs 议事
    call(client, w, "duty", "POST", f"{path}/advance", {"stage": "topic"})
    refused = client.post(f"/api/v1{path}/advance", json={"stage": "deliberate"}, headers=w.extra["tokens"]["duty"])
    assert refused.status_code == 409 and refused.get_json()["error"]["missing"] == [
        "committee", "party_rep", "resident_rep", "stakeholder"]
    for party, extra in (("committee", {"staff_id": w.admin.id}), ("party_rep", {"member_id": w.extra["member"].id}),
                         ("resident_rep", {"resident_id": w.residents[0].id}), ("stakeholder", {"name": "广场舞队"})):
        call(client, w, "duty", "POST", f"{path}/participants", {"party": party, **extra}, 201)
    call(client, w, "duty", "POST", f"{path}/advance", {"stage": "deliberate"})
    call(client, w, "duty", "POST", f"{path}/minutes", {"text": "约定20:30前结束，音箱朝南", "place": "党群服务中心",
                                                      "attendees": ["王书记", "周晓燕"]}, 201)
    posted = call(client, w, "admin", "POST", f"{path}/post", {"round": "vote"})
    assert len(posted["messages"]) == 1 and posted["topic"]["vote_open"] is True
    voted = call(client, w, "r0", "POST", f"{path}/vote", {"choice": "支持", "comment": "早该管管了"})
    assert voted["round"] == "vote" and voted["result"]["total"] == 1
    call(client, w, "r0", "POST", f"{path}/vote", {"choice": "oppose"})              # changes, never adds
    call(client, w, "r1", "POST", f"{path}/vote", {"choice": "support"})
    bad = client.post(f"/api/v1{path}/vote", json={"choice": "maybe"}, headers=w.extra["tokens"]["r1"])
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "choice"
    public = client.get(f"/api/v1{path}/result").get_json()                        # no login: the result is public
    assert {c["choice"]: c["count"] for c in public["vote"]["counts"]} == {"support": 1, "oppose": 1, "abstain": 0}
    assert public["vote"]["comments"][0] == {"name": "陈*芳", "choice": "support", "choice_label": "支持",
                                             "text": "早该管管了", "at": public["vote"]["comments"][0]["at"]}

    missing = client.post(f"/api/v1{path}/advance", json={"stage": "carry_out", "decision": "限时限音量"},
                          headers=w.extra["tokens"]["duty"])
    assert missing.status_code == 400 and missing.get_json()["error"]["field"] == "owner_staff_id"
    call(client, w, "duty", "POST", f"{path}/advance", {
        "stage": "carry_out", "decision": "20:30前结束，音量不超过60分贝", "owner_staff_id": w.grid_worker.id,
        "deadline": "2026-12-01"})
    detail = call(client, w, "duty", "POST", f"{path}/tasks", {"kind": "task", "title": "张贴广场活动公约"}, 201)
    task_id = detail["tasks"][0]["id"]
    call(client, w, "duty", "POST", f"{path}/advance", {"stage": "review"}, 409)
    call(client, w, "duty", "POST", f"{path}/tasks/{task_id}/done", {"note": "已张贴"})
    call(client, w, "duty", "POST", f"{path}/advance", {"stage": "review"})
    call(client, w, "duty", "POST", f"{path}/post", {"round": "review"})
    assert call(client, w, "r1", "POST", f"{path}/vote", {"choice": "满意"})["round"] == "review"
    closed = call(client, w, "admin", "POST", f"{path}/advance", {"stage": "closed", "summary": "音量投诉已消除"})
    assert closed["stage"] == "closed" and closed["minutes"][0]["text"] == "约定20:30前结束，音箱朝南"
    seen = call(client, w, "r3", "GET", path)
    assert seen["stage_label"] == "已办结" and "request_ids" not in seen and seen["review"]["total"] == 1


def test_the_map_for_residents_staff_and_the_public(client, w):
    lat, lng = point(0, 750)
    station = call(client, w, "admin", "POST", "/map/stations", {
        "name": "暖心驿站", "kind": "warm_station", "address": "富强新村3栋旁", "lat": lat, "lng": lng,
        "services": ["water", "charging", "量血压"], "phone": "0519-86601234",
        "hours": [{"days": "daily", "open": "08:00", "close": "20:00"}]}, 201)
    assert [s["key"] for s in station["services"]] == ["water", "charging", "blood_pressure"]
    assert station["open_now"] is True and station["hours_text"] == "每天 08:00–20:00"
    far = point(0, -500)
    call(client, w, "admin", "POST", "/map/stations", {
        "name": "党群服务中心", "kind": "party_center", "address": "富强新村1号", "lat": far[0], "lng": far[1],
        "services": ["print", "water"], "hours": [{"days": "workdays", "open": "08:30", "close": "17:30"}]}, 201)
    seen = call(client, w, "yan", "GET", "/map/stations?service=water")                 # she lives in building 3
    assert seen["from_building"] == "3号楼" and [s["name"] for s in seen["items"]] == ["暖心驿站", "党群服务中心"]
    assert seen["items"][0]["distance_text"] == "约50米"
    assert call(client, w, "duty", "GET", f"/map/stations?building_id={w.buildings['1'].id}")["from_building"] == "1号楼"
    call(client, w, "duty", "PUT", f"/map/buildings/{w.buildings['1'].id}", {"lat": 31.78, "lng": 119.97})
    call(client, w, "grid", "POST", "/map/stations", {"name": "x"}, 403)
    public = client.get(f"/api/v1/public/map?community={w.community.id}").get_json()
    assert {s["name"] for s in public["stations"]} == {"暖心驿站", "党群服务中心"} and len(public["buildings"]) == 3
    assert client.get("/api/v1/public/map?community=nowhere").status_code == 404
    assert call(client, w, "r0", "GET", "/map/services")["items"][0] == {"key": "blood_pressure", "name": "量血压"}


def test_suggestions_by_api(client, w):
    posted = call(client, w, "r0", "POST", "/my/suggestions", {"text": "小区东门加一个无障碍坡道"}, 201)
    row = call(client, w, "grid", "GET", "/suggestions?status=new")["items"][0]
    assert row["id"] == posted["id"] and row["resident"]["name"] == "陈桂芳"
    answered = call(client, w, "grid", "POST", f"/suggestions/{row['id']}/answer", {"answer": "已报住建办，年内施工"})
    assert answered["status"] == "answered" and answered["message_id"] is None      # said in the app: shown there
    assert call(client, w, "r0", "GET", "/my/suggestions")["items"][0]["answer"] == "已报住建办，年内施工"
    topic = call(client, w, "duty", "POST", f"/suggestions/{row['id']}/promote", {}, 201)
    assert topic["source"] == "suggestion"
    public = client.get(f"/api/v1/public/suggestions?community={w.community.id}").get_json()
    assert public["items"][0]["resident"] == "陈*芳"


@pytest.mark.parametrize("who, method, path, status", [
    ("dept", "GET", "/needs", 403), ("r0", "GET", "/needs", 403), ("street", "GET", "/needs", 403),
    ("grid", "POST", "/partner-units", 403), ("grid", "POST", "/resources", 403),
    ("leader", "POST", "/topics/1/advance", 403), ("r0", "POST", "/topics", 403),
    ("grid", "POST", "/suggestions/1/promote", 403), ("other", "GET", "/governance/report", 200),
    ("r0", "GET", "/my/claimable-needs", 403), ("duty", "POST", "/my/suggestions", 403),
])
def test_roles(client, w, who, method, path, status):
    response = client.open(f"/api/v1{path}", method=method, json={}, headers=w.extra["tokens"][who])
    assert response.status_code == status, response.get_json()


def test_scoping_other_communities_see_nothing(client, w):
    need = call(client, w, "duty", "POST", "/needs", {"kind": "room", "title": "借会议室"}, 201)
    topic = call(client, w, "duty", "POST", "/topics", {"title": "楼道灯"}, 201)
    for path in (f"/needs/{need['id']}", f"/needs/{need['id']}/matches", f"/topics/{topic['id']}"):
        assert client.get(f"/api/v1{path}", headers=w.extra["tokens"]["other"]).status_code == 404
    assert call(client, w, "other", "GET", "/needs")["items"] == []
    street = call(client, w, "street", "GET", f"/governance/report?community_id={w.community.id}")
    assert street["community"]["name"] == "富强测试社区"
    other_street = factories.community(name="远处社区")
    db.session.commit()
    call(client, w, "street", "GET", f"/governance/report?community_id={other_street.id}", status=404)
    call(client, w, "street", "GET", "/governance/report", status=404)
    assert client.get(f"/api/v1/topics/{topic['id']}/result").status_code == 404    # still collecting: not public


@pytest.mark.parametrize("path, body, field", [
    ("/partner-units", {"name": "某单位"}, "kind"),
    ("/partner-units", {"name": "某单位", "kind": "hospital", "lat": 31.7}, "lng"),
    ("/resources", {"unit_id": "three", "kind": "room", "title": "x"}, "unit_id"),
    ("/needs", {"kind": "room"}, "title"),
    ("/needs", {"kind": "room", "title": "x", "building_id": 999999}, "building_id"),
    ("/needs", {"kind": "room", "title": "x", "wanted_by": "next week"}, "wanted_by"),
    ("/needs/from-requests", {"request_ids": "1,2"}, "request_ids"),
    ("/topics", {"title": ""}, "title"),
    ("/map/stations", {"name": "x", "kind": "clinic", "address": "y", "lat": 31.7, "lng": 500}, "lng"),
    ("/suggestions", {"text": "短"}, "text"),
])
def test_bad_input_names_the_field(client, w, path, body, field):
    response = client.post(f"/api/v1{path}", json=body, headers=w.extra["tokens"]["admin"])
    assert response.status_code in (400, 404), response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == field and error["message"]


def test_a_stage_that_is_not_text_names_the_field(client, w):
    """Found by schemathesis: an object as the stage was a 500."""
    topic = call(client, w, "admin", "POST", "/topics", {"title": "楼道堆物"}, 201)
    for stage in ({}, ["topic"], None):
        response = client.post(f"/api/v1/topics/{topic['id']}/advance", json={"stage": stage},
                               headers=w.extra["tokens"]["duty"])
        assert response.status_code == 400 and response.get_json()["error"]["field"] == "stage"


def test_the_routes_are_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operations = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    for name in ("register_partner_unit", "register_resource_line", "create_need_line", "match_need",
                 "assign_need_resource", "start_need_project", "record_project_contribution", "governance_export",
                 "advance_topic", "post_topic_to_groups", "vote_on_topic", "topic_public_result",
                 "list_map_stations", "public_map", "answer_suggestion", "claim_need_as_member"):
        assert name in operations
    assert "/api/v1/needs/{need_id}/claims/{claim_id}/withdraw" in document["paths"]


def test_quantities_that_round_to_zero_are_refused(client, w):
    """Found by schemathesis: 0.001 passed the > 0 check, was stored as 0.00 and broke the CHECK (500)."""
    unit = call(client, w, "admin", "POST", "/partner-units", {"name": "区人民医院", "kind": "hospital"}, 201)
    for path in ("/resources", "/needs"):
        body = {"kind": "room", "title": "会议室", "quantity": 0.001}
        if path == "/resources":
            body["unit_id"] = unit["id"]
        response = client.post(f"/api/v1{path}", json=body, headers=w.extra["tokens"]["admin"])
        assert response.status_code == 400 and response.get_json()["error"]["field"] == "quantity", path
    line = call(client, w, "admin", "POST", "/resources",
                {"unit_id": unit["id"], "kind": "room", "title": "会议室", "quantity": 2}, 201)
    response = client.patch(f"/api/v1/resources/{line['id']}", json={"quantity": 0.004},
                            headers=w.extra["tokens"]["admin"])
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "quantity"
    assert call(client, w, "admin", "PATCH", f"/resources/{line['id']}", {"quantity": 0.01})["quantity"] == 0.01


def test_renaming_onto_a_taken_name_is_409_naming_the_field(client, w):
    """Found by schemathesis: a partner unit or map station renamed to another's name was a 500."""
    first = call(client, w, "admin", "POST", "/partner-units", {"name": "区人民医院", "kind": "hospital"}, 201)
    second = call(client, w, "admin", "POST", "/partner-units", {"name": "实验小学", "kind": "school"}, 201)
    lat, lng = point()
    stations = [call(client, w, "admin", "POST", "/map/stations",
                     {"name": name, "kind": "clinic", "address": "富强新村", "lat": lat, "lng": lng}, 201)
                for name in ("卫生服务站", "暖心驿站")]
    for path, taken in ((f"/partner-units/{second['id']}", first["name"]),
                        (f"/map/stations/{stations[1]['id']}", stations[0]["name"])):
        response = client.patch(f"/api/v1{path}", json={"name": taken}, headers=w.extra["tokens"]["admin"])
        assert response.status_code == 409, (path, response.get_json())
        assert response.get_json()["error"]["field"] == "name"
    # Its own name again is no conflict.
    assert call(client, w, "admin", "PATCH", f"/partner-units/{second['id']}", {"name": "实验小学"})["name"] == "实验小学"
    assert call(client, w, "admin", "PATCH", f"/map/stations/{stations[1]['id']}", {"name": "暖心驿站"})["name"] == "暖心驿站"


def _fits(client, path: str, method: str, answer, status: int = 200) -> list[str]:
    """The errors of validating a real answer against its operation's declared schema (enums included)."""
    from jsonschema import Draft202012Validator
    document = client.get("/api/v1/openapi.json").get_json()
    schema = document["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({"components": document["components"], **schema})
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(answer)]


def test_station_weekdays_and_minutes_without_place_fit_the_document(client, w):
    """Found by schemathesis: a station's rule for given weekdays has days [6] (the document said a
    string), and minutes recorded without a place have place null (the document said a string)."""
    lat, lng = point()
    station = call(client, w, "admin", "POST", "/map/stations", {
        "name": "党群服务中心", "kind": "party_center", "address": "富强新村1号", "lat": lat, "lng": lng,
        "hours": [{"days": "workdays", "open": "08:30", "close": "17:30"}, {"days": [6], "open": "09:00",
                                                                            "close": "11:30"}]}, 201)
    assert station["hours"][1]["days"] == [6]
    assert _fits(client, "/api/v1/map/stations", "post", station, 201) == []
    assert _fits(client, "/api/v1/map/stations", "get", call(client, w, "admin", "GET", "/map/stations")) == []
    topic = call(client, w, "duty", "POST", "/topics", {"title": "楼道堆物"}, 201)
    call(client, w, "duty", "POST", f"/topics/{topic['id']}/advance", {"stage": "topic"})
    detail = call(client, w, "duty", "POST", f"/topics/{topic['id']}/minutes", {"text": "商定周末统一清理"}, 201)
    assert detail["minutes"][0]["place"] is None
    assert _fits(client, "/api/v1/topics/{topic_id}", "get", call(client, w, "duty", "GET", f"/topics/{topic['id']}")) == []
