"""Mini-program login (wx.login code → code2session → token), staff binding by invite code, rate limits."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.handlers.org.staff import create_staff
from app.models import ResidentIdentity, Staff
from app.models.auth import StaffInvite
from tests import factories as f

SESSION_KEY = "c2VjcmV0LXNlc3Npb24ta2V5LTAwMQ=="


def login(client, code, **kw):
    return client.post("/api/v1/auth/login", json={"code": code}, **kw)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def wx(fake_wechat):
    return fake_wechat


def test_a_new_user_becomes_a_resident_and_the_session_key_stays_on_the_server(client, wx):
    wx.add_session("code-1", "openid-resident-1", session_key=SESSION_KEY)
    response = login(client, "code-1")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert SESSION_KEY not in response.get_data(as_text=True) and "session_key" not in response.get_data(as_text=True)
    assert body["token_type"] == "Bearer" and body["user"]["kind"] == "resident"
    assert body["expires_at"].endswith("+08:00")
    identity = db.session.scalars(select(ResidentIdentity).where(ResidentIdentity.value == "openid-resident-1")).one()
    assert (identity.channel, identity.kind) == ("miniprogram", "openid")
    me = client.get("/api/v1/me", headers=bearer(body["token"])).get_json()
    assert me["kind"] == "resident" and me["resident"]["id"] == identity.resident_id
    [call] = wx.calls_to("/sns/jscode2session")
    assert call.query["js_code"] == "code-1" and call.query["grant_type"] == "authorization_code"


def test_the_same_openid_is_the_same_resident(client, wx):
    wx.add_session("code-a", "openid-same")
    wx.add_session("code-b", "openid-same")
    first = login(client, "code-a").get_json()["user"]["id"]
    second = login(client, "code-b").get_json()["user"]["id"]
    assert first == second
    assert len(db.session.scalars(select(ResidentIdentity)).all()) == 1


def test_a_unionid_joins_the_resident_known_from_the_official_account(client, wx):
    known = f.resident(name="王秀英", identities=[("mp", "openid", "mp-openid"), ("mp", "unionid", "union-1")])
    db.session.commit()
    wx.add_session("code-u", "mini-openid", unionid="union-1")
    body = login(client, "code-u").get_json()
    assert body["user"]["id"] == known.id and body["user"]["name"] == "王秀英"  # their own name, whole


def test_a_bound_staff_member_gets_a_staff_token(client, wx, clock):
    member = f.staff(roles=("duty",), name="张值班", openid="openid-staff-1")
    db.session.commit()
    wx.add_session("code-s", "openid-staff-1")
    body = login(client, "code-s").get_json()
    assert body["user"]["kind"] == "staff" and body["user"]["id"] == member.id
    assert body["user"]["roles"] == ["duty"]
    assert client.get("/api/v1/inbox", headers=bearer(body["token"])).status_code == 200


def test_login_token_expires_after_the_configured_days(client, wx, clock, app):
    app.config["LOGIN_TOKEN_DAYS"] = 2
    wx.add_session("code-e", "openid-e")
    token = login(client, "code-e").get_json()["token"]
    clock.advance(days=2, seconds=1)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("payload, field_name", [({}, "code"), ({"code": ""}, "code"), ({"code": 42}, "code"),
                                                ({"code": "x" * 129}, "code")])
def test_a_missing_or_malformed_code_is_400(client, wx, payload, field_name):
    response = client.post("/api/v1/auth/login", json=payload)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field_name
    assert wx.calls_to("/sns/jscode2session") == []


def test_an_invalid_or_used_code_is_400(client, wx):
    assert login(client, "never-issued").get_json()["error"]["field"] == "code"
    wx.add_session("code-once", "openid-once")
    assert login(client, "code-once").status_code == 200
    again = login(client, "code-once")
    assert again.status_code == 400 and again.get_json()["error"]["field"] == "code"


def test_wechat_unavailable_is_502(client, wx, app):
    wx.stop()
    response = login(client, "code-x")
    assert response.status_code == 502 and response.get_json()["error"]["code"] == "wechat_unavailable"
    app.config["WECHAT_MINI_APPID"] = ""
    app.config["WECHAT_ACCOUNT"] = "mp"
    assert login(client, "code-y").status_code == 502


def test_too_many_attempts_with_one_code_are_429(client, wx, app):
    app.config["LOGIN_RATE_PER_CODE"] = 3
    for _ in range(3):
        assert login(client, "guess-me").status_code == 400
    response = login(client, "guess-me")
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert 0 < response.get_json()["error"]["retry_after"] <= 600
    assert int(response.headers["Retry-After"]) == response.get_json()["error"]["retry_after"]
    assert len(wx.calls_to("/sns/jscode2session")) == 3  # the 4th never reached WeChat


def test_too_many_attempts_from_one_address_are_429(client, wx, app):
    app.config["LOGIN_RATE_PER_IP"] = 5
    statuses = [login(client, f"code-{i}").status_code for i in range(6)]
    assert statuses == [400] * 5 + [429]
    other_address = login(client, "code-6", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_address.status_code == 400


# ---- binding a staff member's WeChat -------------------------------------------------------------

@pytest.fixture
def invited(app, clock):
    f.community(name="富强新村社区")
    db.session.commit()
    staff, invite = create_staff(community_name="富强新村社区", name="李娜", roles=["duty"])
    return staff, invite.code


def resident_login(client, wx, code="code-r", openid="openid-li"):
    wx.add_session(code, openid)
    return login(client, code).get_json()["token"]


def test_binding_with_an_invite_code_turns_the_login_into_staff(client, wx, invited):
    staff, code = invited
    token = resident_login(client, wx)
    response = client.post("/api/v1/auth/bind", json={"invite_code": code.lower()}, headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["user"]["kind"] == "staff" and body["user"]["id"] == staff.id
    db.session.refresh(staff)
    assert staff.openid == "openid-li"
    assert db.session.scalars(select(StaffInvite)).one().used_at is not None
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401  # the resident token is revoked
    # From now on logging in gives the staff account directly.
    wx.add_session("code-r2", "openid-li")
    assert login(client, "code-r2").get_json()["user"]["kind"] == "staff"


def test_an_invite_code_works_once(client, wx, invited):
    _staff, code = invited
    client.post("/api/v1/auth/bind", json={"invite_code": code}, headers=bearer(resident_login(client, wx)))
    other = resident_login(client, wx, code="code-z", openid="openid-other")
    response = client.post("/api/v1/auth/bind", json={"invite_code": code}, headers=bearer(other))
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "invite_code"


def test_expired_unknown_and_missing_invite_codes_are_400(client, wx, invited, clock):
    _staff, code = invited
    token = resident_login(client, wx)
    for body in ({}, {"invite_code": "NOPE2345"}, {"invite_code": 12345678}):
        response = client.post("/api/v1/auth/bind", json=body, headers=bearer(token))
        assert response.status_code == 400 and response.get_json()["error"]["field"] == "invite_code"
    clock.advance(days=15)
    token = resident_login(client, wx, code="code-late")
    expired = client.post("/api/v1/auth/bind", json={"invite_code": code}, headers=bearer(token))
    assert expired.status_code == 400 and expired.get_json()["error"]["field"] == "invite_code"


def test_bind_needs_a_login_and_cannot_rebind(client, wx, invited):
    staff, code = invited
    assert client.post("/api/v1/auth/bind", json={"invite_code": code}).status_code == 401
    token = resident_login(client, wx)
    staff_token = client.post("/api/v1/auth/bind", json={"invite_code": code}, headers=bearer(token)).get_json()["token"]
    again = client.post("/api/v1/auth/bind", json={"invite_code": code}, headers=bearer(staff_token))
    assert again.status_code == 409
    # A resident account created without the mini-program has no openid to bind.
    plain = f.resident()
    db.session.commit()
    from app.handlers.org.auth import RESIDENT, issue_token
    response = client.post("/api/v1/auth/bind", json={"invite_code": "ABCDEFGH"},
                           headers=bearer(issue_token(RESIDENT, plain.id).token))
    assert response.status_code == 400


def test_a_staff_member_bound_to_another_wechat_is_a_conflict(client, wx, invited):
    staff, code = invited
    staff.openid = "openid-old-phone"
    db.session.commit()
    token = resident_login(client, wx)
    response = client.post("/api/v1/auth/bind", json={"invite_code": code}, headers=bearer(token))
    assert response.status_code == 409
    assert db.session.get(Staff, staff.id).openid == "openid-old-phone"


def test_guessing_invite_codes_is_rate_limited(client, wx, invited, app):
    app.config["LOGIN_RATE_PER_IP"] = 4
    token = resident_login(client, wx)  # logins and binds are counted separately
    statuses = [client.post("/api/v1/auth/bind", json={"invite_code": f"GUESS{i:03d}"},
                            headers=bearer(token)).status_code for i in range(5)]
    assert statuses == [400] * 4 + [429]


def test_openapi_describes_the_login(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    login_op = doc["paths"]["/api/v1/auth/login"]["post"]
    assert "security" not in login_op and "429" in login_op["responses"]
    assert "/api/v1/inbox/{clock_id}/reply" in doc["paths"]
