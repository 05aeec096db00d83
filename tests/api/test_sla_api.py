"""Staff API: the inbox with its countdown, the public reply, alerts and SLA statistics."""
from __future__ import annotations

from datetime import timedelta

import pytest
from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from app.extensions import db
from app.handlers import sla
from app.handlers.org.auth import RESIDENT, STAFF, issue_token
from app.models import Direction, Message
from app.models.sla import ReplyClock
from tests import factories as f
from tests.handlers.sla.support import cover_day, make_world, resident_message, start
from workers.jobs import QUEUE_SEND, QUEUE_SLA
from workers.runner import build_worker


def auth(staff_or_resident, kind=STAFF):
    return {"Authorization": f"Bearer {issue_token(kind, staff_or_resident.id).token}"}


@pytest.fixture
def world(app, clock):
    w = make_world()
    cover_day(w, clock() - timedelta(hours=2))
    return w


def test_inbox_lists_open_clocks_most_urgent_first_with_seconds_left(world, clock, client):
    first = start(world, resident_message(world, "5号楼门口垃圾三天没人清运"))
    clock.advance(minutes=20)
    second = start(world)
    answered = start(world)
    sla.stop_clock(answered, staff_id=world.duty.id, at=clock())
    clock.advance(minutes=5)
    body = client.get("/api/v1/inbox", headers=auth(world.duty)).get_json()
    assert body["total"] == 2
    assert [item["id"] for item in body["items"]] == [first.id, second.id]
    top = body["items"][0]
    assert top["seconds_left"] == 35 * 60
    assert top["message"]["text"] == "5号楼门口垃圾三天没人清运"
    assert top["group"]["name"] == "3号楼居民群"
    assert top["resident"] == {"id": world.resident.id, "name": "赵*妈", "phone": "138****5678"}
    assert top["request"] is None
    paged = client.get("/api/v1/inbox?per_page=1&page=2", headers=auth(world.duty)).get_json()
    assert [i["id"] for i in paged["items"]] == [second.id] and paged["total"] == 2


def test_an_overdue_clock_shows_negative_seconds_left(world, clock, client):
    clock_row = start(world)
    clock.advance(minutes=70)
    [item] = client.get("/api/v1/inbox", headers=auth(world.admin)).get_json()["items"]
    assert item["id"] == clock_row.id and item["seconds_left"] == -600 and item["overdue"] is True


def test_inbox_is_scoped_to_my_community_and_roles(world, client, app):
    start(world)
    other = make_world()
    assert client.get("/api/v1/inbox", headers=auth(other.duty)).get_json()["total"] == 0
    assert client.get("/api/v1/inbox").status_code == 401
    assert client.get("/api/v1/inbox", headers=auth(world.resident, RESIDENT)).status_code == 403
    department = f.staff(roles=("department",), department_id=f.department().id)
    db.session.commit()
    assert client.get("/api/v1/inbox", headers=auth(department)).status_code == 403


def test_public_reply_posts_to_the_group_and_stops_the_clock(world, clock, client, redis_client):
    clock_row = start(world)
    clock.advance(minutes=12)
    response = client.post(f"/api/v1/inbox/{clock_row.id}/reply", json={"text": "已通知物业，今晚8点前修好。"},
                           headers=auth(world.duty))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["clock"]["stopped_at"] is not None and body["clock"]["stopped_by_staff_id"] == world.duty.id
    message = db.session.get(Message, body["message"]["id"])
    assert message.direction == Direction.OUT.value and message.handling["recipient_kind"] == "group"
    assert message.group_id == world.group.id and message.recipient_id == world.group.chat_id
    assert message.staff_id == world.duty.id and message.in_reply_to_id == clock_row.message_id
    assert message.text.startswith("【值班回复·张值班】") and message.text.endswith("已通知物业，今晚8点前修好。")
    db.session.refresh(clock_row)
    assert clock_row.reply_seconds() == 12 * 60 and clock_row.stop_message_id == message.id
    assert ScheduledJobRegistry(QUEUE_SLA, connection=redis_client).get_job_ids() == []
    again = client.post(f"/api/v1/inbox/{clock_row.id}/reply", json={"text": "再说一遍"}, headers=auth(world.lead))
    assert again.status_code == 409 and "张值班" in again.get_json()["error"]["message"]


def test_the_reply_reaches_the_group_through_its_webhook(world, client, app, fake_wechat):
    world.group.webhook_url = fake_wechat.webhook_url("resident-group-key")
    db.session.commit()
    clock_row = start(world)
    client.post(f"/api/v1/inbox/{clock_row.id}/reply", json={"text": "师傅已经在路上了"}, headers=auth(world.duty))
    build_worker(app, queues=[QUEUE_SEND], worker_class=SimpleWorker).work(burst=True)
    [call] = fake_wechat.sent("/cgi-bin/webhook/send")
    assert call.query["key"] == "resident-group-key"
    assert "师傅已经在路上了" in call.body["text"]["content"]


def test_reply_validation_scope_and_roles(world, client):
    clock_row = start(world)
    url = f"/api/v1/inbox/{clock_row.id}/reply"
    missing = client.post(url, json={}, headers=auth(world.duty))
    assert missing.status_code == 400 and missing.get_json()["error"]["field"] == "text"
    long = client.post(url, json={"text": "长" * 1001}, headers=auth(world.duty))
    assert long.status_code == 400 and long.get_json()["error"]["field"] == "text"
    not_json = client.post(url, data="text", headers=auth(world.duty))
    assert not_json.status_code == 400
    other = make_world()
    assert client.post(url, json={"text": "你好"}, headers=auth(other.duty)).status_code == 404
    assert client.post("/api/v1/inbox/999999/reply", json={"text": "你好"}, headers=auth(world.duty)).status_code == 404
    assert client.post(url, json={"text": "你好"}, headers=auth(world.resident, RESIDENT)).status_code == 403
    db.session.refresh(clock_row)
    assert clock_row.stopped_at is None


def test_a_private_chat_question_is_answered_in_that_chat(world, client):
    message = Message(direction=Direction.IN.value, channel="mp", dedupe_key="mp-1", sender_id="openid-zhao",
                      resident_id=world.resident.id, community_id=world.community.id, text="低保怎么申请？")
    db.session.add(message)
    db.session.commit()
    clock_row = sla.start_reply_clock(community_id=world.community.id, message_id=message.id,
                                      resident_id=world.resident.id)
    body = client.post(f"/api/v1/inbox/{clock_row.id}/reply", json={"text": "请带户口本到社区服务中心"},
                       headers=auth(world.duty)).get_json()
    reply = db.session.get(Message, body["message"]["id"])
    assert (reply.channel, reply.recipient_id, reply.handling["recipient_kind"]) == ("mp", "openid-zhao", "user")


# ---- alerts -------------------------------------------------------------------------------------

def test_admins_see_alerts_with_recipients_and_delivery_state(world, clock, client, app, fake_wechat):
    clock_row = start(world)
    clock.advance(minutes=45)
    sla.sweep()
    clock.advance(minutes=15)
    sla.sweep()
    build_worker(app, queues=[QUEUE_SEND], worker_class=SimpleWorker).work(burst=True)
    body = client.get("/api/v1/sla/alerts", headers=auth(world.admin)).get_json()
    assert body["total"] == 2
    breach, warn = body["items"]
    assert (breach["kind"], warn["kind"]) == ("breach", "warn")
    assert breach["key"] == f"{clock_row.id}:breach"
    assert {(r["staff"]["name"], r["role"], r["delivery"]) for r in breach["recipients"]} == {
        ("张值班", "duty", "sent"), ("李值班长", "lead", "sent"), ("王书记", "admin", "sent")}
    assert len(fake_wechat.sent("/cgi-bin/message/send")) == 5
    only_warn = client.get("/api/v1/sla/alerts?kind=warn", headers=auth(world.admin)).get_json()
    assert [a["kind"] for a in only_warn["items"]] == ["warn"]
    later = (clock() + timedelta(minutes=1)).isoformat()
    assert client.get("/api/v1/sla/alerts", query_string={"since": later},
                      headers=auth(world.admin)).get_json()["total"] == 0


def test_alerts_are_for_admins_of_that_community(world, clock, client):
    start(world)
    clock.advance(hours=1)
    sla.sweep()
    assert client.get("/api/v1/sla/alerts", headers=auth(world.duty)).status_code == 403
    other = make_world()
    assert client.get("/api/v1/sla/alerts", headers=auth(other.admin)).get_json()["total"] == 0
    bad = client.get("/api/v1/sla/alerts?kind=loud", headers=auth(world.admin))
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "kind"
    bad = client.get("/api/v1/sla/alerts?since=yesterday", headers=auth(world.admin))
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "since"


# ---- statistics ---------------------------------------------------------------------------------

def make_history(world, clock):
    """Four clocks: replied in 10 min (duty), in 70 min (lead, late), unanswered, and one still open."""
    base = clock()
    on_time = start(world)
    late = start(world)
    start(world)  # never answered
    sla.stop_clock(on_time, staff_id=world.duty.id, at=base + timedelta(minutes=10))
    sla.stop_clock(late, staff_id=world.lead.id, at=base + timedelta(minutes=70))
    clock.advance(minutes=90)
    start(world)  # still inside its hour
    return base


def test_sla_statistics_for_the_admin(world, clock, client):
    make_history(world, clock)
    body = client.get("/api/v1/stats/sla", headers=auth(world.admin)).get_json()
    community = body["community"]
    assert community["name"] == world.community.name
    assert (community["clocks"], community["replied"], community["within"], community["late"],
            community["unanswered"], community["open"]) == (4, 2, 1, 1, 1, 1)
    assert community["rate"] == pytest.approx(1 / 3)
    assert community["median_seconds"] == 40 * 60 and community["p90_seconds"] == 70 * 60
    staff = {row["name"]: row for row in body["staff"]}
    assert staff["张值班"]["rate"] == 1.0 and staff["张值班"]["median_seconds"] == 600
    assert staff["李值班长"]["rate"] == 0.0 and staff["李值班长"]["within"] == 0
    assert body["sla_seconds"] == 3600


def test_sla_statistics_window_validation_and_roles(world, clock, client):
    base = make_history(world, clock)
    until = (base - timedelta(minutes=1)).isoformat()
    empty = client.get("/api/v1/stats/sla", query_string={"until": until}, headers=auth(world.admin))
    assert empty.status_code == 200
    assert empty.get_json()["community"]["clocks"] == 0 and empty.get_json()["community"]["rate"] is None
    bad = client.get("/api/v1/stats/sla", query_string={"since": clock().isoformat(), "until": until},
                     headers=auth(world.admin))
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "since"
    assert client.get("/api/v1/stats/sla", headers=auth(world.duty)).status_code == 403
    other = make_world()
    assert client.get("/api/v1/stats/sla", headers=auth(other.admin)).get_json()["community"]["clocks"] == 0


def test_clock_rows_are_not_changed_by_reading(world, client):
    start(world)
    client.get("/api/v1/inbox", headers=auth(world.duty))
    assert db.session.scalars(select(ReplyClock)).one().stopped_at is None


def test_replying_to_a_requests_clock_goes_through_the_requests_timeline(world, clock, client):
    requests = pytest.importorskip("app.handlers.requests")
    from app.models.requests import RequestEvent, ServiceRequest

    message = resident_message(world, "3号楼2单元楼道灯坏了")
    request_row = requests.create_request(community_id=world.community.id, text=message.text, category="repair",
                                          resident=world.resident, message=message, group=world.group)
    clock_row = sla.start_reply_clock(community_id=world.community.id, message_id=message.id,
                                      request_id=request_row.id, group_id=world.group.id,
                                      resident_id=world.resident.id)
    [item] = client.get("/api/v1/inbox", headers=auth(world.duty)).get_json()["items"]
    assert item["request"]["id"] == request_row.id and item["request"]["code"] == request_row.code
    assert item["request"]["category"] == "repair"
    clock.advance(minutes=8)
    response = client.post(f"/api/v1/inbox/{clock_row.id}/reply", json={"text": "已派电工上门"},
                           headers=auth(world.duty))
    assert response.status_code == 200, response.get_json()
    db.session.refresh(clock_row)
    assert clock_row.stopped_by_staff_id == world.duty.id and clock_row.reply_seconds() == 8 * 60
    events = db.session.scalars(select(RequestEvent.kind).where(RequestEvent.request_id == request_row.id)).all()
    assert "replied" in events
    assert db.session.get(ServiceRequest, request_row.id).status == "acknowledged"
    assert "已派电工上门" in response.get_json()["message"]["text"]
