"""A mini-program resident without a community gets the one they first act in (a booking, an event
sign-up, a 双报到 registration, a report), so micro-wishes and notices work for them afterwards."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.handlers.org.auth import RESIDENT, STAFF, issue_token
from app.models import AuditLog, Resident
from tests import factories as f
from tests.handlers.events.support import make_event
from tests.handlers.proxy.support import setup_community


def bearer(row) -> dict:
    return {"Authorization": f"Bearer {issue_token(RESIDENT, row.id).token}"}


@pytest.fixture
def s(app, clock):
    return setup_community(name="富强新村社区")


@pytest.fixture
def newcomer():
    row = f.resident(identities=[("miniprogram", "openid", "mini-newcomer")])
    db.session.commit()
    return row


def community_of(resident) -> int | None:
    db.session.expire_all()
    return db.session.get(Resident, resident.id).community_id


def adopted(resident) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == "resident.community_adopted",
                                                          AuditLog.actor_id == resident.id)))


def test_booking_a_proxy_slot_adopts_the_station_community_and_wishes_then_work(client, s, newcomer):
    headers = bearer(newcomer)
    before = client.post("/api/v1/my/wishes", json={"title": "想要一副老花镜"}, headers=headers)
    assert before.status_code == 400 and before.get_json()["error"]["field"] == "community_id"
    booked = client.post("/api/v1/my/bookings", headers=headers, json={
        "service_key": "zunlaojin", "station_id": s.station.id, "slot_start": "2026-11-18T09:00:00+08:00",
        "idempotency_key": "adopt-1"})
    assert booked.status_code == 201, booked.get_json()
    assert community_of(newcomer) == s.community.id
    assert [a.community_id for a in adopted(newcomer)] == [s.community.id]
    assert client.post("/api/v1/my/wishes", json={"title": "想要一副老花镜"}, headers=headers).status_code == 201
    assert client.get("/api/v1/my/profile", headers=headers).get_json()["community"]["name"] == "富强新村社区"


def test_a_refused_booking_adopts_nothing(client, s, newcomer):
    response = client.post("/api/v1/my/bookings", headers=bearer(newcomer), json={
        "service_key": "zunlaojin", "station_id": s.station.id, "slot_start": "2026-11-22T09:00:00+08:00",
        "idempotency_key": "adopt-closed"})  # a Sunday: no opening hours
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "slot_start"
    assert community_of(newcomer) is None and adopted(newcomer) == []


def test_signing_up_for_an_event_adopts_its_community(client, s, newcomer):
    event = make_event(s.community, title="社区义诊")
    db.session.commit()
    response = client.post(f"/api/v1/events/{event.id}/signup", json={"idempotency_key": "e1"},
                           headers=bearer(newcomer))
    assert response.status_code == 201, response.get_json()
    assert community_of(newcomer) == s.community.id


def test_registering_for_shuang_bao_dao_adopts_the_community(client, s, newcomer):
    response = client.post("/api/v1/my/party-member", headers=bearer(newcomer), json={
        "community_id": s.community.id, "name": "李党员", "work_unit": "区财政局", "party_org": "机关第一支部"})
    assert response.status_code == 201, response.get_json()
    assert community_of(newcomer) == s.community.id


def test_reporting_adopts_the_community_once(client, s, newcomer):
    headers = bearer(newcomer)
    response = client.post("/api/v1/my/requests", headers=headers,
                           json={"text": "3栋楼道灯坏了", "community_id": s.community.id})
    assert response.status_code == 201
    client.post("/api/v1/my/requests", headers=headers, json={"text": "楼下垃圾没人清"})
    assert community_of(newcomer) == s.community.id and len(adopted(newcomer)) == 1


def test_a_resident_who_chose_a_community_keeps_it(client, s):
    other = f.community(name="和平里社区")
    resident = f.resident(community_id=other.id)
    event = make_event(s.community, title="全街道健步走", audience="everyone")
    db.session.commit()
    response = client.post(f"/api/v1/events/{event.id}/signup", json={"idempotency_key": "e2"},
                           headers=bearer(resident))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "other_community"
    assert community_of(resident) == other.id and adopted(resident) == []


def test_counter_staff_see_the_name_and_phone_the_booker_gave(client, s, newcomer):
    headers = bearer(newcomer)
    client.patch("/api/v1/my/profile", headers=headers, json={"name": "赵桂兰", "phone": "13955556666"})
    booked = client.post("/api/v1/my/bookings", headers=headers, json={
        "service_key": "zunlaojin", "station_id": s.station.id, "slot_start": "2026-11-18T09:00:00+08:00",
        "idempotency_key": "desk-1"})
    assert booked.status_code == 201
    staff = {"Authorization": f"Bearer {issue_token(STAFF, s.duty.id).token}"}
    desk = client.get(f"/api/v1/stations/{s.station.id}/bookings?date=2026-11-18", headers=staff).get_json()
    [row] = [b for b in desk["bookings"] if b["id"] == booked.get_json()["id"]]
    assert (row["resident"]["name"], row["resident"]["phone"]) == ("赵桂兰", "13955556666")
