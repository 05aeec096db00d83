"""/ingest/group-messages and the outbox pull protocol of the group bridge."""
from __future__ import annotations

import json
import threading

import pytest
from rq import SimpleWorker

from app.channels.security import ingest_signature
from app.extensions import db
from app.handlers.messaging.outbox import TO_GROUP, queue_message
from tests import factories
from tests.channels.conftest import INGEST_SECRET, inbound_rows, outbound_rows
from workers.runner import build_worker


class Bridge:
    """A bridge as documented: signs timestamp + body with the shared secret."""

    def __init__(self, client, clock, secret: str = INGEST_SECRET):
        self.client, self.clock, self.secret = client, clock, secret

    def headers(self, body: bytes, *, timestamp: str | None = None, secret: str | None = None) -> dict:
        ts = timestamp or str(int(self.clock().timestamp()))
        return {"X-Linli-Timestamp": ts, "X-Linli-Signature": ingest_signature(secret or self.secret, ts, body),
                "Content-Type": "application/json"}

    def post(self, path: str, payload, **kw):
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        return self.client.post(path, data=body, headers=self.headers(body, **kw))

    def deliver(self, *messages, **kw):
        return self.post("/ingest/group-messages", {"messages": list(messages)}, **kw)


def msg(n: int, text: str = "你好", **kw) -> dict:
    return {"channel": "group", "chat_id": "chat-3", "msg_id": f"m{n}", "sender_id": f"wxid_{n}",
            "sender_name": "王阿姨", "is_staff": False, "text": text, "sent_at": "2026-11-17T09:31:00+08:00", **kw}


@pytest.fixture
def bridge(client, clock):
    return Bridge(client, clock)


@pytest.fixture
def group(session):
    row = factories.group(chat_id="chat-3", channel="group")
    session.commit()
    return row


def test_a_batch_is_stored_with_per_message_results(bridge, group, echo_core):
    response = bridge.deliver(msg(1, "3栋灯坏了"), msg(2, "@社区助手 几点开门", mentioned=True),
                              msg(3, "收到，马上处理", is_staff=True, sender_id="staff_1"))
    assert response.status_code == 200
    body = response.get_json()
    assert (body["stored"], body["duplicate"], body["invalid"], body["error"]) == (3, 0, 0, 0)
    first, second, third = body["results"]
    assert first["status"] == "stored" and first["reply"] is None          # group chatter: silent
    assert second["reply"] == "收到：@社区助手 几点开门" and second["chat_id"] == "chat-3"
    rows = inbound_rows()
    assert [r.is_staff for r in rows] == [False, False, True]
    assert all(r.group_id == group.id and r.community_id == group.community_id for r in rows)
    assert rows[0].sender_name == "王阿姨" and rows[0].sent_at.isoformat() == "2026-11-17T01:31:00+00:00"


def test_invalid_messages_are_reported_and_the_valid_ones_still_stored(bridge, group, echo_core):
    response = bridge.deliver(msg(1), {"chat_id": "chat-3", "msg_id": "m2"}, "not an object",
                              msg(4, sent_at="yesterday"), msg(5, is_staff="yes"), msg(6, channel="sms"),
                              msg(7, text=12345), msg(8))
    body = response.get_json()
    assert response.status_code == 200
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["stored", "invalid", "invalid", "invalid", "invalid", "invalid", "invalid", "stored"]
    fields = [r["errors"][0]["field"] for r in body["results"] if r["status"] == "invalid"]
    assert fields == ["sender_id", "messages[2]", "sent_at", "is_staff", "channel", "text"]
    assert [r.channel_msg_id for r in inbound_rows()] == ["m1", "m8"]


def test_resending_a_batch_stores_nothing_twice(bridge, group, echo_core):
    payload = [msg(1, "@助手 在吗", mentioned=True), msg(2)]
    first = bridge.deliver(*payload).get_json()
    second = bridge.deliver(*payload).get_json()
    assert [r["status"] for r in second["results"]] == ["duplicate", "duplicate"]
    assert second["results"][0]["reply"] == first["results"][0]["reply"]
    assert second["results"][0]["message_id"] == first["results"][0]["message_id"]
    assert len(inbound_rows()) == 2 and len(echo_core) == 2


def test_messages_posted_by_the_bot_itself_are_stored_but_not_handled(bridge, group, echo_core):
    body = bridge.deliver(msg(1, "收到：…", from_bot=True, mentioned=True)).get_json()
    assert body["results"][0]["reply"] is None
    assert inbound_rows()[0].handling["handled_by"] == "channel" and echo_core == []


def test_text_is_cleaned_and_bounded(bridge, group, echo_core, app):
    bridge.deliver(msg(1, "灯\x00坏\u202e了"), msg(2, "长" * 9000))
    short, long = inbound_rows()
    assert short.text == "灯坏了"
    assert len(long.text) == app.config["MESSAGE_MAX_TEXT_LENGTH"] and long.media["truncated"] is True


@pytest.mark.parametrize("case", ["bad-signature", "wrong-secret", "no-headers", "old", "future"])
def test_unsigned_or_stale_requests_are_refused_and_nothing_stored(bridge, client, clock, group, echo_core, case):
    body = json.dumps({"messages": [msg(1)]}).encode()
    headers = bridge.headers(body)
    if case == "bad-signature":
        headers["X-Linli-Signature"] = "sha256=" + "0" * 64
    elif case == "wrong-secret":
        headers = bridge.headers(body, secret="another-secret")
    elif case == "no-headers":
        headers = {"Content-Type": "application/json"}
    elif case == "old":
        headers = bridge.headers(body, timestamp=str(int(clock().timestamp()) - 301))
    else:
        headers = bridge.headers(body, timestamp=str(int(clock().timestamp()) + 301))
    response = client.post("/ingest/group-messages", data=body, headers=headers)
    assert response.status_code == 403
    assert inbound_rows() == []


def test_a_body_signed_then_changed_is_refused(bridge, client, group, echo_core):
    body = json.dumps({"messages": [msg(1, "原文")]}, ensure_ascii=False).encode()
    headers = bridge.headers(body)
    tampered = body.replace("原文".encode(), "篡改".encode())
    assert client.post("/ingest/group-messages", data=tampered, headers=headers).status_code == 403


@pytest.mark.parametrize("payload, field", [
    (b"{not json", None), (b"[]", None), (b'{"messages": {}}', "messages"), (b"", "body")])
def test_malformed_bodies_are_400(bridge, group, echo_core, payload, field):
    response = bridge.post("/ingest/group-messages", payload)
    assert response.status_code == 400
    if field:
        assert response.get_json()["error"]["field"] == field


def test_too_many_messages_is_400_and_a_huge_body_413(bridge, app, group, echo_core):
    app.config["INGEST_MAX_BATCH"] = 3
    response = bridge.deliver(*[msg(i) for i in range(4)])
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "messages"
    app.config["MAX_CONTENT_LENGTH"] = 2000
    assert bridge.deliver(msg(1, "x" * 3000)).status_code == 413
    assert inbound_rows() == []


def test_ingest_is_off_without_a_secret(bridge, app, group):
    app.config["INGEST_SECRET"] = ""
    assert bridge.deliver(msg(1)).status_code == 503


# ----------------------------------------------------------------- outbox pull + ack

def _queue(group, n: int, text: str = "值班人员回复：已派人处理") -> int:
    row = queue_message(channel="group", recipient_kind=TO_GROUP, recipient_id=group.chat_id, chat_id=group.chat_id,
                        group_id=group.id, community_id=group.community_id, text=f"{text}{n}",
                        idempotency_key=f"reply-{n}", enqueue=False)
    return row.id


def test_the_bridge_pulls_leases_and_acks_group_messages(bridge, group, redis_client):
    first, second = _queue(group, 1), _queue(group, 2)
    pulled = bridge.post("/ingest/outbox", {"limit": 10}).get_json()["messages"]
    assert [(m["id"], m["chat_id"], m["text"]) for m in pulled] == [
        (first, "chat-3", "值班人员回复：已派人处理1"), (second, "chat-3", "值班人员回复：已派人处理2")]
    assert 0 < redis_client.ttl(f"linli:outbox-lease:{first}") <= 120
    # leased: not offered again
    assert bridge.post("/ingest/outbox", {}).get_json()["messages"] == []
    acks = bridge.post("/ingest/outbox/ack", {"acks": [{"id": first, "status": "sent"},
                                                        {"id": second, "status": "failed", "error": "群已解散"}]})
    assert acks.get_json()["results"] == [{"id": first, "status": "sent"}, {"id": second, "status": "failed"}]
    sent, failed = outbound_rows()
    assert sent.status == "sent" and sent.delivered_at is not None
    assert (failed.status, failed.error, failed.error_code) == ("failed", "群已解散", "bridge")
    again = bridge.post("/ingest/outbox/ack", {"acks": [{"id": first, "status": "sent"}]}).get_json()
    assert again["results"] == [{"id": first, "status": "already_sent"}]


def test_an_unacked_lease_runs_out_and_the_message_is_offered_again(bridge, group, redis_client):
    message_id = _queue(group, 1)
    assert len(bridge.post("/ingest/outbox", {}).get_json()["messages"]) == 1
    redis_client.delete(f"linli:outbox-lease:{message_id}")   # what Redis does when the lease TTL ends
    [again] = bridge.post("/ingest/outbox", {}).get_json()["messages"]
    assert again["id"] == message_id
    assert outbound_rows()[0].handling["pulled"] == 2


def test_retry_ack_puts_the_message_back(bridge, group):
    message_id = _queue(group, 1)
    bridge.post("/ingest/outbox", {})
    result = bridge.post("/ingest/outbox/ack", {"acks": [{"id": message_id, "status": "retry"}]}).get_json()
    assert result["results"] == [{"id": message_id, "status": "requeued"}]
    assert [m["id"] for m in bridge.post("/ingest/outbox", {}).get_json()["messages"]] == [message_id]


def test_groups_with_a_robot_webhook_are_not_offered_to_the_bridge(bridge, group, session):
    group.webhook_url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"
    session.commit()
    _queue(group, 1)
    assert bridge.post("/ingest/outbox", {}).get_json()["messages"] == []


def test_bad_pull_and_ack_requests(bridge, group):
    assert bridge.post("/ingest/outbox", {"limit": 0}).status_code == 400
    assert bridge.post("/ingest/outbox", {"limit": "many"}).status_code == 400
    assert bridge.post("/ingest/outbox/ack", {"acks": []}).status_code == 400
    result = bridge.post("/ingest/outbox/ack", {"acks": [{"id": "x", "status": "sent"}, {"id": 99999,
                                                                                          "status": "sent"},
                                                          {"id": 1, "status": "maybe"}]}).get_json()
    assert [r["status"] for r in result["results"]] == ["invalid", "unknown", "invalid"]
    # An id past the database's 64-bit integers was a 500 (OverflowError binding it).
    result = bridge.post("/ingest/outbox/ack", {"acks": [{"id": 10**30, "status": "sent"},
                                                         {"id": -1, "status": "sent"}]})
    assert result.status_code == 200
    assert [(r["status"], r["field"]) for r in result.get_json()["results"]] == [("invalid", "id"), ("invalid", "id")]


def test_concurrent_pullers_get_disjoint_messages(app, bridge, group, clock):
    ids = {_queue(group, n) for n in range(12)}
    got: list[list[int]] = []
    barrier = threading.Barrier(3)

    def pull():
        client = app.test_client()
        puller = Bridge(client, clock)
        barrier.wait()
        got.append([m["id"] for m in puller.post("/ingest/outbox", {"limit": 12}).get_json()["messages"]])

    threads = [threading.Thread(target=pull) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [i for batch in got for i in batch]
    assert sorted(flat) == sorted(ids)          # every message offered exactly once
    assert len(flat) == len(set(flat))


def test_the_send_worker_leaves_bridge_messages_for_the_pull(app, bridge, group):
    message_id = _queue(group, 1)
    from workers.sends import deliver
    assert deliver(message_id) == "awaiting_pull"
    row = outbound_rows()[0]
    assert row.status == "queued" and row.handling["route"] == "bridge_outbox"
    assert [m["id"] for m in bridge.post("/ingest/outbox", {}).get_json()["messages"]] == [message_id]


def test_queued_group_messages_reach_the_bridge_even_through_the_worker(app, bridge, group):
    row = queue_message(channel="group", recipient_kind=TO_GROUP, recipient_id=group.chat_id, chat_id=group.chat_id,
                        group_id=group.id, text="通知：明天停水", idempotency_key="notice-1")
    build_worker(app, worker_class=SimpleWorker).work(burst=True)
    db.session.expire_all()
    assert [m["id"] for m in bridge.post("/ingest/outbox", {}).get_json()["messages"]] == [row.id]
