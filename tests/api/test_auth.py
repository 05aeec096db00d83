from datetime import timedelta

from app.cli.staff import staff_group
from app.handlers.org.auth import RESIDENT, STAFF, issue_token, revoke_token
from tests import factories


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_openapi_document_lists_the_routes(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/me" in doc["paths"]


def test_missing_or_bad_token_is_401(client):
    assert client.get("/api/v1/me").status_code == 401
    response = client.get("/api/v1/me", headers=_auth("not-a-token"))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_staff_token_identifies_staff(app, client):
    member = factories.staff(name="李值班", phone="13800001111")
    issued = issue_token(STAFF, member.id)
    body = client.get("/api/v1/me", headers=_auth(issued.token)).get_json()
    assert body["kind"] == "staff"
    assert body["staff"]["phone"] == "13800001111"


def test_resident_sees_own_phone_masked(app, client):
    resident = factories.resident(name="王秀英", phone="13912345678")
    issued = issue_token(RESIDENT, resident.id)
    body = client.get("/api/v1/me", headers=_auth(issued.token)).get_json()
    assert body["resident"]["phone"] == "139****5678"


def test_expired_and_revoked_tokens_are_refused(app, client, clock):
    member = factories.staff()
    expiring = issue_token(STAFF, member.id, ttl=timedelta(minutes=5))
    revoked = issue_token(STAFF, member.id)
    assert client.get("/api/v1/me", headers=_auth(expiring.token)).status_code == 200
    clock.advance(minutes=6)
    assert client.get("/api/v1/me", headers=_auth(expiring.token)).status_code == 401
    assert revoke_token(revoked.token) is True
    assert client.get("/api/v1/me", headers=_auth(revoked.token)).status_code == 401


def test_inactive_staff_token_is_refused(app, client):
    from app.extensions import db
    member = factories.staff()
    issued = issue_token(STAFF, member.id)
    member.active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=_auth(issued.token)).status_code == 401


def test_cli_staff_add_and_token(app, cli_runner, client):
    community = factories.community(name="富强新村社区")
    factories.grid(community=community, name="第一网格")
    from app.extensions import db
    db.session.commit()
    added = cli_runner.invoke(staff_group, ["add", "--community", "富强新村社区", "--name", "张伟",
                                            "--role", "duty", "--role", "grid_worker", "--grid", "第一网格"])
    assert added.exit_code == 0, added.output
    staff_id = int(added.output.split()[1])
    token = cli_runner.invoke(staff_group, ["token", str(staff_id)])
    assert token.exit_code == 0, token.output
    body = client.get("/api/v1/me", headers=_auth(token.output.strip())).get_json()
    assert body["staff"]["name"] == "张伟"
    assert body["staff"]["roles"] == ["duty", "grid_worker"]


def test_cli_staff_add_reports_unknown_community_in_one_line(app, cli_runner):
    result = cli_runner.invoke(staff_group, ["add", "--community", "不存在", "--name", "x", "--role", "duty"])
    assert result.exit_code != 0
    assert "no community named" in result.output
    assert "Traceback" not in result.output
