"""The WeChat callback when things break (issue 16: failures 1, 6, 7, 8; issue 13: resends).

Each test breaks a real server of its own (tests/support/faults.py: a private
redis-server or PostgreSQL killed with SIGKILL) or sends hostile input, and
counts what was stored and answered. docs/reliability.md names these tests.
"""
from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlencode

import pytest

from app.channels import intake, spool
from app.channels.security import ingest_signature
from app.extensions import db
from app.handlers.messaging import inbound as inbound_module
from app.handlers.messaging.inbound import Reply
from app.models import Message
from tests.channels.conftest import (
    AIBOT_AES_KEY,
    AIBOT_TOKEN,
    INGEST_SECRET,
    WECHAT_AES_KEY,
    WECHAT_TOKEN,
    WEWORK_AES_KEY,
    WEWORK_TOKEN,
    inbound_rows,
    outbound_rows,
)
from tests.support.fixtures import CREDENTIALS
from tests.support.wechat_sim import AibotSimulator, WeChatSimulator, WeComSimulator, signature

pytest_plugins = ["tests.support.faults"]


def _sim(client) -> WeChatSimulator:
    return WeChatSimulator(client, token=WECHAT_TOKEN, aes_key=WECHAT_AES_KEY, appid=CREDENTIALS["WECHAT_APPID"])


# ---------------------------------------------------------------- 1. Redis down at the callback

class TestRedisDown:
    @pytest.fixture
    def redis_url(self, private_redis):
        return private_redis.url

    def test_every_delivery_is_stored_and_answered(self, app, client, private_redis):
        sim = _sim(client)
        with private_redis.down():
            results = [sim.post(sim.text_xml(f"o-redis-{n}", f"{n}号楼楼道灯坏了"), aes=n % 2 == 1)
                       for n in range(20)]
        assert [r.status for r in results] == [200] * 20
        assert all(r.reply_content for r in results), [r.text for r in results]
        rows = inbound_rows()
        assert len(rows) == 20
        assert all(row.handling and row.handling.get("handled_by") != "error" for row in rows)

    def test_a_repeat_is_still_stored_once(self, app, client, private_redis):
        sim = _sim(client)
        xml = sim.text_xml("o-redis-repeat", "垃圾没人收", msg_id=88001)
        with private_redis.down():
            first, again = sim.post(xml), sim.post(xml)
        assert first.status == again.status == 200
        assert first.reply_content and again.reply_content == first.reply_content
        assert len(inbound_rows()) == 1


# ---------------------------------------------------------------- 6. PostgreSQL down at the callback

class TestPostgresDown:
    @pytest.fixture
    def database_url(self, private_postgres):
        return private_postgres.url

    def _drain_until(self, app, count: int) -> list[Message]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            spool.drain(intake.store_spooled, app.instance_path)
            if len(inbound_rows()) >= count and not spool.pending(app.instance_path):
                break
            time.sleep(0.2)
        return inbound_rows()

    def test_deliveries_are_answered_spooled_and_stored_when_it_returns(self, app, client, private_postgres):
        sim = _sim(client)
        with private_postgres.down():
            results = [sim.post(sim.text_xml(f"o-pg-{n}", f"{n}栋电梯坏了", msg_id=77000 + n), aes=n % 2 == 0)
                       for n in range(8)]
            assert [r.status for r in results] == [200] * 8
            assert [r.reply_content for r in results] == [intake.RECEIVED_TEXT] * 8
            assert spool.pending(app.instance_path)
        rows = self._drain_until(app, 8)
        assert sorted(r.channel_msg_id for r in rows) == [str(77000 + n) for n in range(8)]
        assert all(row.handling for row in rows)
        # The resident got "已收到" as the passive reply; the real answer goes out as 客服消息.
        replies = [r for r in outbound_rows() if r.in_reply_to_id is not None]
        assert sorted(r.in_reply_to_id for r in replies) == sorted(r.id for r in rows)
        # A WeChat retry of a spooled delivery after the drain is a repeat, not a second message.
        again = sim.post(sim.text_xml("o-pg-0", "0栋电梯坏了", msg_id=77000))
        assert again.status == 200 and len(inbound_rows()) == 8

    def test_the_spool_keeps_the_arrival_time(self, app, client, private_postgres):
        sim = _sim(client)
        with private_postgres.down():
            before = time.time()
            sim.post(sim.text_xml("o-pg-time", "路灯不亮", msg_id=77100))
        time.sleep(1.1)
        [row] = self._drain_until(app, 1)
        assert row.received_at.timestamp() == pytest.approx(before, abs=1.0)

    def test_wecom_deliveries_are_answered_and_spooled_too(self, app, client, private_postgres):
        wecom = WeComSimulator(client, token=WEWORK_TOKEN, aes_key=WEWORK_AES_KEY,
                               corp_id=CREDENTIALS["WEWORK_CORP_ID"])
        bot = AibotSimulator(client, token=AIBOT_TOKEN, aes_key=AIBOT_AES_KEY)
        with private_postgres.down():
            app_result = wecom.post(wecom.text_xml("zhangsan", "3号楼电梯停了", msg_id=76001))
            bot_result = bot.post({"msgid": "76002", "msgtype": "text", "chattype": "single",
                                   "from": {"userid": "lisi"}, "text": {"content": "路灯坏了"}})
        assert app_result.status == 200 and app_result.reply["Content"] == intake.RECEIVED_TEXT
        assert bot_result.status == 200
        rows = self._drain_until(app, 2)
        assert sorted(r.channel_msg_id for r in rows) == ["76001", "76002"]

    def test_a_restart_between_deliveries_is_not_an_outage(self, app, client, private_postgres):
        # No pre-ping: the pooled connection is dead after the restart; the callback finds out at
        # its first statement and tries once more on a new connection instead of spooling.
        sim = _sim(client)
        first = sim.post(sim.text_xml("o-pg-stale", "1栋路灯不亮", msg_id=77300))
        private_postgres.kill()
        private_postgres.start()
        again = sim.post(sim.text_xml("o-pg-stale", "2栋路灯不亮", msg_id=77301))
        assert first.status == again.status == 200
        assert again.reply_content and again.reply_content != intake.RECEIVED_TEXT
        assert not spool.pending(app.instance_path)
        assert [r.channel_msg_id for r in inbound_rows()] == ["77300", "77301"]

    def test_the_api_answers_503_json(self, app, client, private_postgres):
        with private_postgres.down():
            response = client.get("/api/v1/me", headers={"Authorization": "Bearer x" * 3})
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "unavailable"

    def test_the_spool_is_drained_by_the_process_itself(self, app, client, private_postgres, monkeypatch):
        monkeypatch.setattr(spool, "RETRY_DELAYS", (0.1,))
        sim = _sim(client)
        with private_postgres.down():
            assert sim.post(sim.text_xml("o-pg-thread", "水管爆了", msg_id=77200)).status == 200
        deadline = time.monotonic() + 60
        while not inbound_rows() and time.monotonic() < deadline:
            time.sleep(0.2)   # the drainer thread started by the spooled delivery stores it
        assert [r.channel_msg_id for r in inbound_rows()] == ["77200"]


# ---------------------------------------------------------------- 7. Untrusted nesting

DEEP_XML = "<a>" * 5000 + "</a>" * 5000


def test_a_spool_file_gone_between_listing_and_reading_is_not_pending(tmp_path):
    """Another drainer removed the file after the listing: the check says so, it does not raise
    (it once ended the drainer thread). A dangling link is such a file, deterministically."""
    base = spool.folder(tmp_path)
    base.mkdir()
    (base / "inbound.gone").symlink_to(base / "removed-meanwhile")
    assert spool.pending(tmp_path) is False
    (base / "inbound.kept").write_text("{}\n")
    assert spool.pending(tmp_path) is True
    assert spool.pending(tmp_path / "no-such-instance") is False


@pytest.mark.parametrize("aes", [False, True])
def test_deeply_nested_xml_is_refused_with_400(app, client, aes):
    result = _sim(client).post("<xml>" + DEEP_XML + "</xml>", aes=aes)
    assert result.status == 400 and "nested" in result.response.get_json()["error"]["message"]
    assert inbound_rows() == []


@pytest.mark.parametrize("depth", [40, 500, 5000])
@pytest.mark.parametrize("aes", [False, True])
def test_deeply_nested_json_is_refused_with_400(app, client, aes, depth):
    nested = "[" * depth + "]" * depth
    body = ('{"ToUserName":"gh","FromUserName":"o-deep","CreateTime":1,"MsgType":"text","MsgId":1,'
            f'"Content":{nested}}}')
    result = _sim(client).post(body, aes=aes, as_json=True)
    assert result.status == 400, result.text
    assert inbound_rows() == []


@pytest.mark.parametrize("depth", [40, 5000])
def test_deeply_nested_json_to_the_bridge_and_the_robot_is_refused(app, client, depth):
    nested = "[" * depth + "]" * depth
    body = ('{"messages":[{"chat_id":"c1","msg_id":"m1","sender_id":"s1","text":"x","media":%s}]}'
            % nested).encode()
    stamp = str(int(time.time()))
    response = client.post("/ingest/group-messages", data=body, content_type="application/json",
                           headers={"X-Linli-Timestamp": stamp,
                                    "X-Linli-Signature": ingest_signature(INGEST_SECRET, stamp, body)})
    assert response.status_code == 400
    bot = AibotSimulator(client, token=AIBOT_TOKEN, aes_key=AIBOT_AES_KEY)
    result = bot.post({"msgid": "m2", "msgtype": "text", "from": {"userid": "u"}, "text": {"content": "hi"},
                       "extra": json.loads("[" * 40 + "]" * 40)})
    assert result.status == 400
    assert inbound_rows() == []


# ---------------------------------------------------------------- 8. Redeliveries during handling

def _slow_core(monkeypatch, delay: float):
    calls = []

    def handler(message, inbound):
        calls.append(inbound.dedupe_key)
        time.sleep(delay)
        return Reply(text=f"已登记：{inbound.text}", handled_by="slow")

    monkeypatch.setitem(inbound_module._handler, "fn", handler)
    return calls


def _fixed_delivery(msg_id: int, text: str) -> tuple[str, bytes]:
    stamp, nonce = str(int(time.time())), f"8{msg_id}"
    xml = (f"<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[o-r{msg_id}]]></FromUserName>"
           f"<CreateTime>{stamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>")
    query = {"signature": signature(WECHAT_TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce}
    return urlencode(query), xml.encode()


@pytest.mark.slow
def test_concurrent_redeliveries_get_the_real_reply(app, monkeypatch):
    calls = _slow_core(monkeypatch, 0.5)
    deliveries = [_fixed_delivery(66000 + n, f"{n}号楼漏水") for n in range(10)]
    answers: dict[int, list[bytes]] = {n: [] for n in range(10)}
    barrier = threading.Barrier(30)

    def post(n: int) -> None:
        query, body = deliveries[n]
        own = app.test_client()
        barrier.wait()
        answers[n].append(own.post(f"/wechat/mp?{query}", data=body, content_type="text/xml").data)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(10) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n in range(10):
        assert len(answers[n]) == 3
        assert all(f"已登记：{n}号楼漏水".encode() in body for body in answers[n]), answers[n]
    assert len(inbound_rows()) == 10 and len(calls) == 10


def test_a_repeat_that_outwaits_the_window_gets_received_not_empty(app, client, monkeypatch):
    monkeypatch.setattr(intake, "REPEAT_WAIT_SECONDS", 0.3)
    sim = _sim(client)
    xml = sim.text_xml("o-stuck", "门禁坏了", msg_id=65001)
    first = sim.post(xml)
    row = inbound_rows()[0]
    row.handling = None   # as if the first copy were still being handled
    db.session.commit()
    again = sim.post(xml)
    assert first.reply_content and again.reply_content == intake.RECEIVED_TEXT


# ---------------------------------------------------------------- resent with a new MsgId (issue 13)

def test_the_same_text_resent_with_a_new_msgid_is_one_delivery(app, client, monkeypatch):
    calls = _slow_core(monkeypatch, 0)
    sim = _sim(client)
    first = sim.post(sim.text_xml("o-resend", "小区东门路灯不亮", msg_id=64001))
    again = sim.post(sim.text_xml("o-resend", "小区东门路灯不亮", msg_id=64002))
    other = sim.post(sim.text_xml("o-resend", "小区西门路灯也不亮", msg_id=64003))
    assert first.reply_content == again.reply_content == "已登记：小区东门路灯不亮"
    assert other.reply_content == "已登记：小区西门路灯也不亮"
    assert [r.channel_msg_id for r in inbound_rows()] == ["64001", "64003"]
    assert len(calls) == 2


class TestResendWithRedisDown:
    @pytest.fixture
    def redis_url(self, private_redis):
        return private_redis.url

    def test_the_database_decides_within_the_window_only(self, app, client, clock, private_redis, monkeypatch):
        _slow_core(monkeypatch, 0)
        sim = _sim(client)
        with private_redis.down():
            sim.post(sim.text_xml("o-resend2", "楼道有烟味", msg_id=63001))
            clock.advance(seconds=intake.RESEND_WINDOW_SECONDS - 2)
            sim.post(sim.text_xml("o-resend2", "楼道有烟味", msg_id=63002))
            clock.advance(seconds=5)
            sim.post(sim.text_xml("o-resend2", "楼道有烟味", msg_id=63003))
        assert [r.channel_msg_id for r in inbound_rows()] == ["63001", "63003"]



# ---------------------------------------------------------------- the inbound sweep (backstop for 6)

def test_the_sweep_handles_a_stored_message_whose_handling_never_finished(app, clock, monkeypatch):
    from app.channels import recovery
    from app.handlers.messaging.inbound import InboundMessage, store_once

    calls = _slow_core(monkeypatch, 0)
    message, created = store_once(InboundMessage(channel="mp", dedupe_key="msg:62001", sender_id="o-cut",
                                                 text="消防通道被堵了", channel_msg_id="62001"))
    assert created and message.handling is None   # as if the database went away before the handling
    arrived = message.received_at
    assert recovery.handle_unhandled() == 0        # too young: it may still be in its first handler
    clock.advance(seconds=recovery.SETTLE_SECONDS + 1)
    assert recovery.sweep(app.instance_path) == {"spooled": 0, "handled": 1, "finished": 0}
    assert recovery.sweep(app.instance_path) == {"spooled": 0, "handled": 0, "finished": 0}
    [row] = inbound_rows()
    assert row.handling["reply_text"] == "已登记：消防通道被堵了" and len(calls) == 1
    [reply] = outbound_rows()
    assert reply.in_reply_to_id == row.id and reply.recipient_id == "o-cut"
    assert row.received_at.replace(tzinfo=None) == arrived.replace(tzinfo=None)
