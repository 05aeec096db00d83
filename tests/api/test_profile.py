"""My profile (GET/PATCH /my/profile) with getPhoneNumber's code exchanged at the fake WeChat API,
and the community and building pickers."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.handlers.org.auth import RESIDENT, STAFF, issue_token
from app.models import AuditLog, Resident
from tests import factories as f

PROFILE = "/api/v1/my/profile"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def place():
    community = f.community(name="富强新村社区")
    other = f.community(name="和平里社区")
    b3 = f.building(community=community, number="3", name="3号楼", units=4)
    b5 = f.building(community=community, number="5", name="5号楼")
    elsewhere = f.building(community=other, number="1", name="1号楼")
    db.session.commit()
    return {"community": community, "other": other, "b3": b3, "b5": b5, "elsewhere": elsewhere}


@pytest.fixture
def resident():
    row = f.resident(nickname="微信用户")
    db.session.commit()
    return row


@pytest.fixture
def headers(resident):
    return bearer(issue_token(RESIDENT, resident.id).token)


def test_a_new_resident_has_an_empty_profile(client, resident, headers):
    body = client.get(PROFILE, headers=headers).get_json()
    assert body == {"id": resident.id, "name": None, "nickname": "微信用户", "phone": None, "community_id": None,
                    "community": None, "building_id": None, "building": None, "unit": None, "room": None,
                    "complete": False}


def test_the_resident_fills_in_the_profile_and_sees_it_unmasked(client, place, resident, headers):
    response = client.patch(PROFILE, headers=headers, json={
        "name": "王秀英", "phone": "139 1234 5678", "community_id": place["community"].id,
        "building_id": place["b3"].id, "unit": "2", "room": "501"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["name"], body["phone"], body["complete"]) == ("王秀英", "13912345678", True)
    assert body["community"]["name"] == "富强新村社区" and body["building"]["name"] == "3号楼"
    assert client.get(PROFILE, headers=headers).get_json() == body
    assert client.get("/api/v1/me", headers=headers).get_json()["resident"]["name"] == "王秀英"
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "resident.profile")).one()
    assert "13912345678" not in str(audit.detail) and "王秀英" not in str(audit.detail)


def test_only_the_fields_sent_change_and_null_clears(client, place, resident, headers):
    client.patch(PROFILE, headers=headers, json={"name": "王秀英", "phone": "13912345678", "unit": "2"})
    body = client.patch(PROFILE, headers=headers, json={"unit": None}).get_json()
    assert (body["name"], body["phone"], body["unit"]) == ("王秀英", "13912345678", None)


def test_a_new_community_clears_the_building_of_the_old_one(client, place, resident, headers):
    client.patch(PROFILE, headers=headers, json={"community_id": place["community"].id,
                                                  "building_id": place["b3"].id})
    body = client.patch(PROFILE, headers=headers, json={"community_id": place["other"].id}).get_json()
    assert (body["community_id"], body["building_id"]) == (place["other"].id, None)


@pytest.mark.parametrize("change, field", [
    ({"phone": "12345"}, "phone"),
    ({"phone": 13912345678}, "phone"),
    ({"name": "长" * 51}, "name"),
    ({"name": ["王"]}, "name"),
    ({"community_id": 999999}, "community_id"),
    ({"community_id": None}, "community_id"),
    ({"community_id": "1"}, "community_id"),
    ({"building_id": 1}, "community_id"),           # no community yet
    ({"room": "9" * 21}, "room"),
    ({"nickname": "改个昵称"}, "nickname"),
])
def test_refusals_name_the_field_and_change_nothing(client, place, resident, headers, change, field):
    response = client.patch(PROFILE, headers=headers, json={"name": "王秀英", **change})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert db.session.get(Resident, resident.id).name is None


def test_a_building_of_another_community_is_refused(client, place, resident, headers):
    response = client.patch(PROFILE, headers=headers, json={"community_id": place["community"].id,
                                                             "building_id": place["elsewhere"].id})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "building_id"


def test_the_body_must_be_an_object(client, headers):
    response = client.patch(PROFILE, headers=headers, json=["name"])
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "body"


def test_staff_have_no_resident_profile(client, place):
    token = issue_token(STAFF, f.staff(community=place["community"]).id).token
    db.session.commit()
    assert client.get(PROFILE, headers=bearer(token)).status_code == 403
    assert client.get(PROFILE).status_code == 401


# ---- getPhoneNumber ------------------------------------------------------------------------------

def test_phone_code_is_exchanged_with_wechat(client, resident, headers, fake_wechat):
    fake_wechat.add_phone("phone-code-1", "13800138000")
    body = client.patch(PROFILE, headers=headers, json={"phone_code": "phone-code-1", "phone": "13900000000"}).get_json()
    assert body["phone"] == "13800138000"  # WeChat's verified number wins over a typed one
    [call] = fake_wechat.calls_to("/wxa/business/getuserphonenumber")
    assert call.body == {"code": "phone-code-1"} and call.query["access_token"].startswith("TOKEN-")
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "resident.profile")).one()
    assert audit.detail["phone_verified"] is True


def test_a_used_phone_code_is_refused_on_its_field(client, resident, headers, fake_wechat):
    fake_wechat.add_phone("phone-code-2", "13800138000")
    assert client.patch(PROFILE, headers=headers, json={"phone_code": "phone-code-2"}).status_code == 200
    response = client.patch(PROFILE, headers=headers, json={"phone_code": "phone-code-2", "name": "王秀英"})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "phone_code"
    assert db.session.get(Resident, resident.id).name is None


def test_wechat_down_is_a_502_and_the_typed_phone_still_works(client, resident, headers, fake_wechat):
    fake_wechat.script("/wxa/business/getuserphonenumber", {"errcode": -1, "errmsg": "system busy"})
    response = client.patch(PROFILE, headers=headers, json={"phone_code": "whatever"})
    assert response.status_code == 502
    assert response.get_json()["error"] == {"code": "wechat_unavailable", "field": "phone_code",
                                            "message": response.get_json()["error"]["message"]}
    assert client.patch(PROFILE, headers=headers, json={"phone": "13912345678"}).status_code == 200


def test_an_expired_access_token_is_refreshed_once(client, resident, headers, fake_wechat):
    fake_wechat.add_phone("phone-code-3", "13800138000")
    fake_wechat.add_phone("phone-code-4", "13700137000")
    client.patch(PROFILE, headers=headers, json={"phone_code": "phone-code-3"})
    fake_wechat.expire_tokens()
    assert client.patch(PROFILE, headers=headers, json={"phone_code": "phone-code-4"}).get_json()["phone"] \
        == "13700137000"


# ---- counter staff reach the booker ---------------------------------------------------------------

def test_staff_see_the_name_and_phone_the_resident_gave(client, place, resident, headers):
    client.patch(PROFILE, headers=headers, json={"name": "王秀英", "phone": "13912345678",
                                                  "community_id": place["community"].id})
    assert db.session.get(Resident, resident.id).staff_view()["phone"] == "13912345678"
    me = client.get("/api/v1/me", headers=headers).get_json()["resident"]
    assert me["phone"] == "139****5678"  # whole only in /my/profile


# ---- pickers ----------------------------------------------------------------------------------------

def test_communities_and_their_buildings(client, place):
    listed = client.get("/api/v1/communities").get_json()["items"]
    assert {c["name"] for c in listed} == {"富强新村社区", "和平里社区"}
    buildings = client.get(f"/api/v1/communities/{place['community'].id}/buildings").get_json()["items"]
    assert [(b["number"], b["name"], b["units"]) for b in buildings] == [("3", "3号楼", 4), ("5", "5号楼", None)]
    missing = client.get("/api/v1/communities/999999/buildings")
    assert missing.status_code == 404 and missing.get_json()["error"]["field"] == "community_id"


def test_the_operations_are_declared(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    patch = paths["/api/v1/my/profile"]["patch"]
    props = patch["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert props["name"]["maxLength"] == 50 and props["phone_code"]["maxLength"] == 128
    assert {"200", "400", "401", "403", "502"} <= set(patch["responses"])
    assert "404" in paths["/api/v1/communities/{community_id}/buildings"]["get"]["responses"]
