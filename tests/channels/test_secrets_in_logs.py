"""No channel secret, access token, webhook key or login code in the logs — whatever happens."""
from __future__ import annotations

import json
import logging

from rq import SimpleWorker

from app.handlers.messaging.outbox import TO_GROUP, TO_STAFF, TO_USER, queue_message
from app.logging_setup import RedactSecrets, secret_values
from tests import factories
from tests.channels.conftest import CHANNEL_SETTINGS, WECHAT_AES_KEY, WECHAT_TOKEN
from tests.support.fixtures import CREDENTIALS
from tests.support.wechat_sim import WeChatSimulator
from workers.runner import build_worker

SECRET_SETTINGS = ["WECHAT_TOKEN", "WECHAT_AES_KEY", "WECHAT_SECRET", "WECHAT_MINI_SECRET", "WEWORK_TOKEN",
                   "WEWORK_AES_KEY", "WEWORK_SECRET", "WEWORK_AIBOT_TOKEN", "WEWORK_AIBOT_AES_KEY", "INGEST_SECRET"]


def test_channel_secrets_are_declared_secret_and_fed_to_the_log_redactor(app):
    values = secret_values(app.config)
    for key in SECRET_SETTINGS:
        assert CHANNEL_SETTINGS[key] in values, key
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token=%s key=%s",
                               (CHANNEL_SETTINGS["WECHAT_TOKEN"], CHANNEL_SETTINGS["INGEST_SECRET"]), None)
    RedactSecrets(values).filter(record)
    assert record.getMessage() == "token=*** key=***"


def test_a_full_day_of_traffic_logs_no_secret(app, client, clock, caplog, fake_wechat, session, monkeypatch):
    caplog.set_level(logging.DEBUG)
    group = factories.group(channel="group", chat_id="chat-log", webhook_url=fake_wechat.webhook_url("HOOKSECRET77"))
    session.commit()
    sim = WeChatSimulator(client, token=WECHAT_TOKEN, aes_key=WECHAT_AES_KEY, appid=CREDENTIALS["WECHAT_APPID"])
    sim.post(sim.text_xml("o-1", "你好"), aes=True)
    sim.post(sim.text_xml("o-1", "bad"), query_overrides={"signature": "0" * 40})        # refused
    sim.post(b"<!DOCTYPE x [<!ENTITY a 'b'>]><xml/>")                                     # refused

    def broken(message, inbound):
        raise RuntimeError("handler bug")

    from app.handlers.messaging import inbound as inbound_module
    monkeypatch.setitem(inbound_module._handler, "fn", broken)
    sim.post(sim.text_xml("o-2", "崩溃"))                                                # logged exception
    queue_message(channel="mp", recipient_kind=TO_USER, recipient_id="o-1", text="a", idempotency_key="l1")
    queue_message(channel="wework", recipient_kind=TO_STAFF, recipient_id="zs", text="b", idempotency_key="l2")
    queue_message(channel="group", recipient_kind=TO_GROUP, recipient_id="chat-log", chat_id="chat-log",
                  group_id=group.id, text="c", idempotency_key="l3")
    fake_wechat.script("/cgi-bin/message/send", {"errcode": 40014, "errmsg": "invalid access_token"},
                       {"errcode": 40014, "errmsg": "invalid access_token"})
    build_worker(app, worker_class=SimpleWorker).work(burst=True)
    body = json.dumps({"messages": []}).encode()
    client.post("/ingest/group-messages", data=body, headers={"X-Linli-Timestamp": "1", "X-Linli-Signature": "x"})

    text = caplog.text
    assert "handler bug" in text          # the logs are there ...
    leaks = [CHANNEL_SETTINGS[k] for k in SECRET_SETTINGS] + ["HOOKSECRET77", *fake_wechat.tokens.values(),
                                                               *fake_wechat.expired]
    for secret in leaks:                  # ... but none of these
        assert secret not in text, secret
