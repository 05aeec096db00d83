"""/wechat/work (WeCom app callback), including WeCom's official sample vectors."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode

import pytest

from tests import factories
from tests.channels.conftest import CHANNEL_SETTINGS, WEWORK_AES_KEY, WEWORK_TOKEN, inbound_rows, outbound_rows
from tests.support.wechat_sim import WeComSimulator, aes_key_bytes, signature, xml_fields

# WeCom's documented sample (加解密方案说明 / WXBizMsgCrypt samples): token, EncodingAESKey, corp id,
# the URL-verification request and an encrypted text message.
OFFICIAL = {
    "token": "QDG6eK",
    "aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "corp_id": "wx5823bf96d3bd56c7",
    "verify": {"msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "timestamp": "1409659589",
               "nonce": "263014780",
               "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="},
    "verify_plain": "1616140317555161061",
    "message": {"msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6", "timestamp": "1409659813",
                "nonce": "1372623149"},
    "message_body": (
        "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA["
        "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/"
        "sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZ"
        "fJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3L"
        "AVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn"
        "28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></Encrypt></xml>"),
}


@pytest.fixture
def app_overrides():
    return {**CHANNEL_SETTINGS, "WEWORK_CORP_ID": OFFICIAL["corp_id"]}


@pytest.fixture
def sim(client, clock):
    return WeComSimulator(client, token=WEWORK_TOKEN, aes_key=WEWORK_AES_KEY, corp_id=OFFICIAL["corp_id"])


def _at(clock, unix: str) -> None:
    clock.set(datetime.fromtimestamp(int(unix), tz=timezone.utc))


def test_settings_are_the_official_sample(app):
    assert (WEWORK_TOKEN, WEWORK_AES_KEY) == (OFFICIAL["token"], OFFICIAL["aes_key"])


def test_official_url_verification_vector(client, clock):
    _at(clock, OFFICIAL["verify"]["timestamp"])
    response = client.get("/wechat/work?" + urlencode(OFFICIAL["verify"]))
    assert response.status_code == 200
    assert response.get_data(as_text=True) == OFFICIAL["verify_plain"]


def test_official_url_verification_vector_with_one_digit_changed_is_refused(client, clock):
    _at(clock, OFFICIAL["verify"]["timestamp"])
    query = {**OFFICIAL["verify"], "nonce": "263014781"}
    assert client.get("/wechat/work?" + urlencode(query)).status_code == 403


def test_official_encrypted_message_vector(client, clock, echo_core):
    _at(clock, OFFICIAL["message"]["timestamp"])
    response = client.post("/wechat/work?" + urlencode(OFFICIAL["message"]), data=OFFICIAL["message_body"],
                           content_type="text/xml")
    assert response.status_code == 200
    [row] = inbound_rows()
    assert (row.channel, row.sender_id, row.text, row.channel_msg_id) == (
        "wework", "mycreate", "hello", "4561255354251345929")
    # the passive reply is encrypted for the corp and signed with the token
    fields = xml_fields(response.get_data(as_text=True))
    assert fields["MsgSignature"] == signature(OFFICIAL["token"], fields["TimeStamp"], fields["Nonce"],
                                               fields["Encrypt"])
    from wechatpy.enterprise.crypto import PrpCrypto
    reply = xml_fields(PrpCrypto(aes_key_bytes(OFFICIAL["aes_key"])).decrypt(fields["Encrypt"], OFFICIAL["corp_id"]))
    assert reply["Content"] == "收到：hello"
    assert reply["ToUserName"] == "mycreate" and reply["AgentID"] == "218"


def test_official_message_outside_the_replay_window_is_refused(client, clock, echo_core):
    # the sample is from 2014: with today's clock it is a replay
    response = client.post("/wechat/work?" + urlencode(OFFICIAL["message"]), data=OFFICIAL["message_body"],
                           content_type="text/xml")
    assert response.status_code == 403
    assert inbound_rows() == []


def test_simulated_staff_message_is_marked_staff_and_answered(sim, echo_core, session):
    factories.staff(wework_userid="zhangsan")
    session.commit()
    result = sim.post(sim.text_xml("zhangsan", "今天谁值班"))
    assert result.status == 200
    assert result.reply["Content"] == "收到：今天谁值班"
    [row] = inbound_rows()
    assert row.is_staff is True and row.channel == "wework"


def test_repeat_is_stored_once_with_the_same_answer(sim, echo_core):
    xml = sim.text_xml("lisi", "重复", msg_id=7100)
    assert sim.post(xml).reply == sim.post(xml).reply
    assert len(inbound_rows()) == 1


def test_enter_agent_is_answered_and_contact_changes_are_not(sim, help_core):
    entered = sim.post(sim.event_xml("lisi", "enter_agent", create_time=1794886200))
    assert entered.reply is not None
    changed = sim.post(sim.event_xml("lisi", "change_contact"))
    assert changed.status == 200 and changed.reply is None
    first, second = inbound_rows()
    assert first.dedupe_key == "evt:lisi:1794886200:enter_agent"
    assert second.handling["replied"] is False


def test_wrong_signature_is_refused(client, sim, echo_core):
    response = client.post("/wechat/work?msg_signature=abc&timestamp=1&nonce=1",
                           data=f"<xml><Encrypt>{'A' * 64}</Encrypt></xml>", content_type="text/xml")
    assert response.status_code == 403
    assert inbound_rows() == []


def test_entities_inside_the_encrypted_payload_are_refused(sim, echo_core):
    evil = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            "<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><Content>&e;</Content>"
            "<CreateTime>1</CreateTime><MsgId>1</MsgId></xml>")
    assert sim.post(evil).status == 400
    assert inbound_rows() == []


def test_long_answers_go_out_as_app_messages(sim, monkeypatch):
    from app.handlers.messaging import inbound as inbound_module
    from app.handlers.messaging.inbound import Reply
    monkeypatch.setitem(inbound_module._handler, "fn",
                        lambda message, inbound: Reply(text="长" * 1000, handled_by="test"))
    result = sim.post(sim.text_xml("wangwu", "给我看全部"))
    assert result.status == 200 and result.body == b""
    [out] = outbound_rows()
    assert (out.channel, out.recipient_id, out.handling["recipient_kind"]) == ("wework", "wangwu", "user")
