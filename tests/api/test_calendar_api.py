"""POST /api/v1/calendar/import: admins preview and import the holiday notice; nobody else can."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.handlers.org.auth import STAFF, issue_token
from app.models import AuditLog, CalendarDay
from app.workcal import load_calendar
from tests import factories as f

NOTICE_2025 = (Path(__file__).resolve().parents[1] / "data" / "holiday_notices" / "2025.txt").read_text(
    encoding="utf-8")
URL = "/api/v1/calendar/import"


def auth(staff):
    return {"Authorization": f"Bearer {issue_token(STAFF, staff.id).token}"}


@pytest.fixture
def admin(app):
    row = f.staff(roles=("community_admin",))
    db.session.commit()
    return row


def _count() -> int:
    db.session.expire_all()
    return len(db.session.scalars(select(CalendarDay)).all())


def test_a_preview_changes_nothing_and_confirm_applies(client, admin):
    preview = client.post(URL, json={"text": NOTICE_2025}, headers=auth(admin))
    assert preview.status_code == 200, preview.get_json()
    body = preview.get_json()
    assert body["year"] == 2025 and body["applied"] is False
    spring = body["holidays"][1]
    assert spring["name"] == "春节" and spring["line"] == 9
    assert spring["days_off"][0] == "2025-01-28" and len(spring["days_off"]) == 8
    assert spring["workdays"] == ["2025-01-26", "2025-02-08"]
    assert len(body["changes"]) == 33 and body["warnings"] == [] and body["kept"] == []
    assert _count() == 0
    applied = client.post(URL, json={"text": NOTICE_2025, "confirm": True}, headers=auth(admin)).get_json()
    assert applied["applied"] is True and len(applied["changes"]) == 33
    assert _count() == 33
    assert load_calendar().overrides[date(2025, 2, 8)] is True
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "calendar.import")).one()
    assert (audit.actor_type, audit.actor_id) == ("staff", admin.id)
    assert applied["followed"]["changed_days"][0] == "2025-01-01" and applied["followed"]["requests"] == []
    assert preview.get_json()["followed"] == {"changed_days": [], "requests": [], "cases": [],
                                              "cancelled_bookings": []}
    again = client.post(URL, json={"text": NOTICE_2025, "confirm": True}, headers=auth(admin)).get_json()
    assert again["changes"] == [] and again["followed"]["changed_days"] == []


def test_a_bad_notice_names_the_field_and_every_line(client, admin):
    text = NOTICE_2025.replace("4月27日（周日）", "4月27日（周一）").replace("共3天。\n六", "共4天。\n六")
    response = client.post(URL, json={"text": text, "confirm": True}, headers=auth(admin))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_notice" and error["field"] == "text"
    assert error["problems"] == [{"line": 11, "reason": "2025年4月27日是周日，通知写的是周一"},
                                 {"line": 12, "reason": "写的是共4天，但列出的放假日期是3天"}]
    assert error["message"].startswith("通知无法导入：第11行：2025年4月27日是周日")
    assert _count() == 0


@pytest.mark.parametrize("body, field", [
    ({}, "text"), ({"text": ""}, "text"), ({"text": 5}, "text"), ({"text": "x" * 100_001}, "text"),
    ({"text": NOTICE_2025, "confirm": "yes"}, "confirm")])
def test_malformed_bodies_name_the_field(client, admin, body, field):
    response = client.post(URL, json=body, headers=auth(admin))
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field


def test_only_admins_may_import(client, app):
    duty = f.staff(roles=("duty",))
    street_admin = f.staff(roles=("street_admin",))
    db.session.commit()
    assert client.post(URL, json={"text": NOTICE_2025}, headers=auth(duty)).status_code == 403
    assert client.post(URL, json={"text": NOTICE_2025}).status_code == 401
    assert client.post(URL, json={"text": NOTICE_2025}, headers=auth(street_admin)).status_code == 200


def test_the_route_is_in_the_openapi_document(client):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/calendar/import"]["post"]
    assert operation["operationId"] == "import_calendar_notice"
    assert operation["requestBody"]["content"]["application/json"]["schema"]["required"] == ["text"]
    assert "400" in operation["responses"] and operation["security"] == [{"bearer": []}]
