"""疑似诉求 in the duty inbox: a group message the bot leaves silent but marks as a possible report
is kept for staff, listed with kind possible_request, and converted into a request or dismissed."""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.handlers.messaging.inbound import InboundMessage, receive
from app.models import Direction, Message
from app.models.requests import PossibleRequest, ServiceRequest
from app.models.sla import ReplyClock
from tests import factories as f
from tests.api.test_sla_api import auth
from tests.handlers.sla.support import cover_day, make_world, start

_seq = itertools.count(1)
MAYBE = "三号楼那边黑灯瞎火的"   # no cue word, but it reads like a report (tests/bot/test_round3.py)


@pytest.fixture
def world(app, clock):
    w = make_world()
    cover_day(w, clock() - timedelta(hours=2))
    return w


def say(world, text, sender="member-7"):
    inbound = InboundMessage(channel=world.group.channel, dedupe_key=f"pg-{next(_seq)}", sender_id=sender,
                             chat_id=world.group.chat_id, chat_type="group", sender_name="孙大爷", text=text)
    reply, _ = receive(inbound)
    message = db.session.scalars(select(Message).where(Message.dedupe_key == inbound.dedupe_key)).one()
    return reply, message


def test_a_possible_report_is_kept_for_staff_and_the_group_hears_nothing(world):
    reply, message = say(world, MAYBE)
    assert reply.text is None
    row = db.session.scalars(select(PossibleRequest)).one()
    assert (row.message_id, row.community_id, row.group_id, row.status) == (
        message.id, world.community.id, world.group.id, "open")
    assert row.text == MAYBE and row.likelihood >= 0.4 and row.slots == {"building": "3"}
    assert message.handling["possible_request_id"] == row.id
    assert db.session.scalars(select(ReplyClock).where(ReplyClock.message_id == message.id)).first() is None
    # Chatter and real reports are not possible requests.
    say(world, "今天超市鸡蛋打折")
    say(world, "谢谢大家")
    say(world, "3号楼楼道灯坏了好几天了")
    assert db.session.scalars(select(PossibleRequest)).all() == [row]


def test_the_same_delivery_twice_is_kept_once(world):
    inbound = InboundMessage(channel=world.group.channel, dedupe_key="pg-twice", sender_id="m-2",
                             chat_id=world.group.chat_id, chat_type="group", text=MAYBE)
    receive(inbound)
    receive(inbound)
    assert len(db.session.scalars(select(PossibleRequest)).all()) == 1


def test_the_inbox_lists_clocks_then_possible_requests_each_with_its_kind(world, client, clock):
    clock_row = start(world)
    say(world, MAYBE)
    clock.advance(minutes=1)
    say(world, "停谁停了")
    headers = auth(world.duty)
    default = client.get("/api/v1/inbox", headers=headers).get_json()
    assert [(i["kind"], i["id"]) for i in default["items"]] == [("reply", clock_row.id)]
    assert default["total"] == 1 and default["counts"] == {"reply": 1, "possible_request": 2}
    everything = client.get("/api/v1/inbox?kind=all", headers=headers).get_json()
    assert [i["kind"] for i in everything["items"]] == ["reply", "possible_request", "possible_request"]
    assert everything["total"] == 3
    first = everything["items"][1]
    assert first["message"]["text"] == MAYBE and first["group"]["name"] == "3号楼居民群"
    assert first["status"] == "open" and first["status_label"] == "待判断" and first["request"] is None
    second_page = client.get("/api/v1/inbox?kind=all&per_page=2&page=2", headers=headers).get_json()
    assert [i["message"]["text"] for i in second_page["items"]] == ["停谁停了"]
    only = client.get("/api/v1/inbox?kind=possible_request&per_page=1&page=2", headers=headers).get_json()
    assert [i["message"]["text"] for i in only["items"]] == ["停谁停了"] and only["total"] == 2
    bad = client.get("/api/v1/inbox?kind=maybe", headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "kind"


def test_convert_makes_a_request_with_its_clock_and_may_reply_at_once(world, client):
    _, message = say(world, MAYBE)
    row = db.session.scalars(select(PossibleRequest)).one()
    response = client.post(f"/api/v1/inbox/possible/{row.id}/convert", headers=auth(world.duty),
                           json={"category": "repair", "reply": "已安排电工今晚去看"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["possible"]["status"] == "converted" and body["possible"]["decided_by_staff_id"] == world.duty.id
    request = db.session.get(ServiceRequest, body["request"]["id"])
    assert (request.category, request.message_id, request.group_id) == ("repair", message.id, world.group.id)
    assert body["possible"]["request"]["code"] == request.code
    clock_row = db.session.scalars(select(ReplyClock).where(ReplyClock.request_id == request.id)).one()
    assert clock_row.stopped_at is not None          # the reply at once answered it
    posted = db.session.scalars(select(Message).where(Message.direction == Direction.OUT.value)).all()
    assert any("已安排电工今晚去看" in (m.text or "") for m in posted)
    again = client.post(f"/api/v1/inbox/possible/{row.id}/dismiss", headers=auth(world.duty))
    assert again.status_code == 409 and "已转为诉求" in again.get_json()["error"]["message"]
    listed = client.get("/api/v1/inbox?kind=possible_request", headers=auth(world.duty)).get_json()
    assert listed["items"] == []


def test_convert_without_a_body_takes_the_bots_guess_and_leaves_the_clock_running(world, client):
    say(world, MAYBE)
    row = db.session.scalars(select(PossibleRequest)).one()
    response = client.post(f"/api/v1/inbox/possible/{row.id}/convert", headers=auth(world.duty))
    assert response.status_code == 200, response.get_json()
    request = db.session.get(ServiceRequest, response.get_json()["request"]["id"])
    assert request.category == (row.category or "other") and request.building_id is None   # no building 3 here
    assert request.location and "3" in request.location
    clock_row = db.session.scalars(select(ReplyClock).where(ReplyClock.request_id == request.id)).one()
    assert clock_row.stopped_at is None


def test_dismiss_removes_it_from_the_inbox_and_posts_nothing(world, client):
    say(world, MAYBE)
    row = db.session.scalars(select(PossibleRequest)).one()
    outgoing = len(db.session.scalars(select(Message).where(Message.direction == Direction.OUT.value)).all())
    response = client.post(f"/api/v1/inbox/possible/{row.id}/dismiss", headers=auth(world.admin),
                           json={"note": "邻居在聊天"})
    assert response.status_code == 200
    assert response.get_json()["possible"]["status"] == "dismissed"
    assert response.get_json()["possible"]["note"] == "邻居在聊天"
    assert len(db.session.scalars(select(Message).where(Message.direction == Direction.OUT.value)).all()) == outgoing
    assert db.session.scalars(select(ServiceRequest)).all() == []
    assert client.get("/api/v1/inbox?kind=all", headers=auth(world.duty)).get_json()["counts"]["possible_request"] == 0


def test_bad_input_and_other_communities(world, client):
    say(world, MAYBE)
    row = db.session.scalars(select(PossibleRequest)).one()
    url = f"/api/v1/inbox/possible/{row.id}"
    bad_category = client.post(f"{url}/convert", headers=auth(world.duty), json={"category": "ufo"})
    assert bad_category.status_code == 400 and bad_category.get_json()["error"]["field"] == "category"
    not_json = client.post(f"{url}/dismiss", headers=auth(world.duty), data="x", content_type="application/json")
    assert not_json.status_code == 400 and not_json.get_json()["error"]["field"] == "body"
    too_long = client.post(f"{url}/dismiss", headers=auth(world.duty), json={"note": "很" * 201})
    assert too_long.status_code == 400 and too_long.get_json()["error"]["field"] == "note"
    other = make_world()
    elsewhere = client.post(f"{url}/dismiss", headers=auth(other.duty))
    assert elsewhere.status_code == 404 and elsewhere.get_json()["error"]["code"] == "not_found"
    assert client.post("/api/v1/inbox/possible/999999/convert", headers=auth(world.duty)).status_code == 404
    resident = f.resident(community_id=world.community.id, name="钱阿姨")
    db.session.commit()
    from app.handlers.org.auth import RESIDENT
    assert client.post(f"{url}/dismiss", headers=auth(resident, RESIDENT)).status_code == 403
    assert db.session.get(PossibleRequest, row.id).status == "open"
