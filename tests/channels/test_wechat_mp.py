"""/wechat/mp: official account and mini-program pushes, as the WeChat server sends them."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from rq import SimpleWorker

from app.handlers.messaging import inbound as inbound_module
from app.handlers.messaging.inbound import HELP_TEXT, Reply
from tests import factories
from tests.channels.conftest import WECHAT_AES_KEY, WECHAT_TOKEN, inbound_rows, outbound_rows
from tests.support.fixtures import CREDENTIALS
from tests.support.wechat_sim import WeChatSimulator
from workers.runner import build_worker

APPID = CREDENTIALS["WECHAT_APPID"]
MINI_APPID = CREDENTIALS["WECHAT_MINI_APPID"]


@pytest.fixture
def sim(client, clock):
    return WeChatSimulator(client, token=WECHAT_TOKEN, aes_key=WECHAT_AES_KEY, appid=APPID)


# ----------------------------------------------------------------- URL verification

def test_url_verification_echoes_echostr(sim):
    result = sim.verify_url("8413982371284")
    assert result.status == 200
    assert result.text == "8413982371284"


def test_url_verification_with_a_wrong_signature_is_refused(sim):
    result = sim.verify_url("8413982371284", signature="0" * 40)
    assert result.status == 403
    assert "8413982371284" not in result.text


# ----------------------------------------------------------------- plaintext and safe mode

def test_plaintext_text_message_is_stored_and_answered_with_the_help_text(sim, help_core):
    result = sim.post(sim.text_xml("o-resident-1", "你好", msg_id=24001))
    assert result.status == 200
    assert result.reply["MsgType"] == "text"
    assert result.reply["Content"] == HELP_TEXT
    assert result.reply["ToUserName"] == "o-resident-1"
    assert result.reply["FromUserName"] == sim.account_id
    [row] = inbound_rows()
    assert (row.channel, row.sender_id, row.text, row.dedupe_key) == ("mp", "o-resident-1", "你好", "msg:24001")
    assert row.handling["handled_by"] == "help"
    assert row.sent_at is not None and row.sent_at.tzinfo is not None


def test_safe_mode_reply_is_encrypted_signed_and_for_our_appid(sim, echo_core):
    result = sim.post(sim.text_xml("o-resident-2", "3栋楼道灯坏了"), aes=True)
    assert result.status == 200
    assert "<Encrypt>" in result.text and "3栋" not in result.text   # nothing in clear
    # the simulator verified MsgSignature and decrypted with our AppID
    assert result.reply["Content"] == "收到：3栋楼道灯坏了"
    assert inbound_rows()[0].text == "3栋楼道灯坏了"


def test_safe_mode_with_a_wrong_msg_signature_is_refused_and_nothing_stored(sim, echo_core):
    result = sim.post(sim.text_xml("o-resident-2", "hi"), aes=True,
                      query_overrides={"msg_signature": "f" * 40})
    assert result.status == 403
    assert inbound_rows() == []


def test_safe_mode_message_for_another_appid_is_refused(sim, echo_core):
    result = sim.post(sim.text_xml("o-resident-2", "hi"), aes=True, appid="wx-someone-else")
    assert result.status == 400
    assert inbound_rows() == []


def test_reply_containing_a_cdata_terminator_stays_valid_xml(sim, monkeypatch):
    monkeypatch.setitem(inbound_module._handler, "fn",
                        lambda message, inbound: Reply(text="a]]>b<c>&d", handled_by="test"))
    assert sim.post(sim.text_xml("o-1", "x")).reply["Content"] == "a]]>b<c>&d"
    assert sim.post(sim.text_xml("o-1", "y"), aes=True).reply["Content"] == "a]]>b<c>&d"


# ----------------------------------------------------------------- exactly once

def test_a_repeat_delivery_gets_the_same_answer_and_is_stored_once(sim, echo_core):
    xml = sim.text_xml("o-resident-3", "漏水了", msg_id=24100)
    first = sim.post(xml)
    second = sim.post(xml)          # WeChat's retry (new nonce)
    assert first.reply["Content"] == second.reply["Content"] == "收到：漏水了"
    assert len(inbound_rows()) == 1
    assert len(echo_core) == 1      # handled once


def test_wechat_retry_with_the_same_nonce_and_body_is_answered_not_refused(sim, echo_core):
    xml = sim.text_xml("o-resident-3", "重试", msg_id=24101)
    first = sim.post(xml, nonce="55501", timestamp=sim.query()["timestamp"])
    again = sim.post(xml, nonce="55501", timestamp=first.response.request.args["timestamp"])
    assert again.status == 200 and again.reply["Content"] == "收到：重试"
    assert len(inbound_rows()) == 1


def test_events_are_deduplicated_by_sender_create_time_and_event(sim, help_core):
    xml = sim.event_xml("o-new", "subscribe", create_time=1794886200)
    first = sim.post(xml)
    second = sim.post(xml)
    assert first.reply["Content"] == second.reply["Content"] == HELP_TEXT
    [row] = inbound_rows()
    assert row.dedupe_key == "evt:o-new:1794886200:subscribe"
    assert row.msg_type == "event"


def test_background_events_are_stored_but_never_answered(sim, help_core):
    result = sim.post(sim.event_xml("o-1", "LOCATION"))
    assert result.status == 200 and result.text == "success"
    [row] = inbound_rows()
    assert row.handling == {"handled_by": "channel", "replied": False, "reason": "event location is not answered"}


# ----------------------------------------------------------------- replay

def test_an_old_timestamp_is_refused_and_nothing_stored(sim, clock, echo_core):
    old = str(int(clock().timestamp()) - 301)
    result = sim.post(sim.text_xml("o-1", "old"), timestamp=old)
    assert result.status == 403
    assert json.loads(result.body)["error"]["code"] == "replay"
    future = str(int(clock().timestamp()) + 301)
    assert sim.post(sim.text_xml("o-1", "future"), timestamp=future).status == 403
    assert inbound_rows() == []


def test_a_timestamp_inside_the_window_is_accepted(sim, clock, echo_core):
    result = sim.post(sim.text_xml("o-1", "ok"), timestamp=str(int(clock().timestamp()) - 290))
    assert result.status == 200


def test_a_nonce_reused_with_another_body_is_refused(sim, echo_core):
    ts = sim.query()["timestamp"]
    assert sim.post(sim.text_xml("o-1", "first"), nonce="777", timestamp=ts).status == 200
    forged = sim.post(sim.text_xml("o-1", "forged"), nonce="777", timestamp=ts)
    assert forged.status == 403
    assert [r.text for r in inbound_rows()] == ["first"]


def test_a_nonce_is_forgotten_after_the_window(sim, clock, redis_client, echo_core):
    ts = sim.query()["timestamp"]
    sim.post(sim.text_xml("o-1", "a"), nonce="888", timestamp=ts)
    ttl = redis_client.ttl(f"linli:nonce:mp:{ts}:888")
    assert 600 <= ttl <= 610


# ----------------------------------------------------------------- signatures

def test_a_wrong_signature_is_refused_and_nothing_stored(sim, echo_core):
    result = sim.post(sim.text_xml("o-1", "hi"), query_overrides={"signature": "0" * 40})
    assert result.status == 403
    assert inbound_rows() == []


def test_a_missing_signature_is_refused(client, sim, echo_core):
    response = client.post("/wechat/mp?timestamp=1&nonce=2", data=sim.text_xml("o-1", "hi"),
                           content_type="text/xml")
    assert response.status_code == 403
    assert inbound_rows() == []


def test_unconfigured_channel_answers_503(client, app):
    app.config["WECHAT_TOKEN"] = ""
    assert client.post("/wechat/mp", data="<xml/>").status_code == 503


# ----------------------------------------------------------------- hostile and odd input

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o-x</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o-x</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>2</MsgId></xml>"""


@pytest.mark.parametrize("body", [XXE, BILLION_LAUGHS], ids=["xxe", "billion-laughs"])
@pytest.mark.parametrize("aes", [False, True], ids=["plain", "aes"])
def test_xml_with_entities_is_refused_with_400_and_never_expanded(sim, echo_core, body, aes):
    result = sim.post(body, aes=aes)
    assert result.status == 400
    assert b"root:" not in result.body and b"lollol" not in result.body
    assert inbound_rows() == []


@pytest.mark.parametrize("body", [b"<xml><MsgType>text</MsgType", b"not xml at all", b"", b"<xml></xml>",
                                  b"<xml><FromUserName>o</FromUserName></xml>",
                                  b"<xml><MsgType>text</MsgType><CreateTime>1</CreateTime></xml>"],
                         ids=["truncated", "garbage", "empty", "no-fields", "no-type", "no-sender"])
def test_malformed_xml_is_a_400_never_a_500(sim, echo_core, body):
    assert sim.post(body).status == 400
    assert inbound_rows() == []


def test_malformed_json_from_the_mini_program_is_a_400(sim, echo_core):
    assert sim.post(b'{"MsgType": "text", ', as_json=True).status == 400
    assert sim.post(b'["a list"]', as_json=True).status == 400


def test_control_characters_are_stripped_from_text(sim, echo_core):
    xml = sim.text_xml("o-1", "3\x01栋\x07灯\x7f坏了\u202e\u200b\ufeff").encode()
    result = sim.post(xml)
    assert result.status == 200
    assert inbound_rows()[0].text == "3栋灯坏了"
    assert result.reply["Content"] == "收到：3栋灯坏了"


def test_huge_text_is_stored_truncated_and_answered(sim, app, echo_core):
    text = "漏" * 20000
    result = sim.post(sim.text_xml("o-1", text))
    assert result.status == 200
    [row] = inbound_rows()
    assert len(row.text) == app.config["MESSAGE_MAX_TEXT_LENGTH"]
    assert row.media == {"truncated": True, "original_length": 20000}


def test_a_body_over_the_limit_is_413(sim, app, echo_core):
    app.config["CALLBACK_MAX_BODY_BYTES"] = 1000
    result = sim.post(sim.text_xml("o-1", "x" * 2000))
    assert result.status == 413
    assert inbound_rows() == []


def test_empty_content_is_stored_and_answered_safely(sim, help_core):
    result = sim.post(sim.text_xml("o-1", ""))
    assert result.status == 200 and result.reply["Content"] == HELP_TEXT
    assert inbound_rows()[0].text is None


def test_unknown_message_types_are_stored_and_answered_safely(sim, help_core):
    result = sim.post(sim.raw_xml("o-1", "hologram", "<Beam><![CDATA[<script>]]></Beam><Nested><A>1</A></Nested>"))
    assert result.status == 200 and result.reply["Content"] == HELP_TEXT
    [row] = inbound_rows()
    assert row.msg_type == "hologram"
    assert row.media == {"fields": ["Beam", "CreateTime", "FromUserName", "MsgId", "MsgType", "Nested",
                                    "ToUserName"]}


def test_image_and_location_messages_keep_their_media(sim, help_core):
    sim.post(sim.raw_xml("o-1", "image", "<PicUrl><![CDATA[http://mmbiz/1.jpg]]></PicUrl>"
                                         "<MediaId><![CDATA[m1]]></MediaId>"))
    sim.post(sim.raw_xml("o-1", "location", "<Location_X>31.2</Location_X><Location_Y>121.4</Location_Y>"
                                            "<Scale>15</Scale><Label><![CDATA[幸福小区3栋]]></Label>"))
    image, location = inbound_rows()
    assert image.media == {"pic_url": "http://mmbiz/1.jpg", "media_id": "m1"}
    assert location.text == "幸福小区3栋" and location.media["x"] == "31.2"


def test_a_failing_core_never_gives_a_500(sim, monkeypatch):
    def broken(message, inbound):
        raise RuntimeError("bug in a handler")

    monkeypatch.setitem(inbound_module._handler, "fn", broken)
    result = sim.post(sim.text_xml("o-1", "hello", msg_id=24900))
    assert result.status == 200
    assert "已收到" in result.reply["Content"]
    [row] = inbound_rows()
    assert row.handling["handled_by"] == "error"
    again = sim.post(sim.text_xml("o-1", "hello", msg_id=24900))
    assert again.reply["Content"] == result.reply["Content"]   # the repeat is not handled again


def test_staff_openid_marks_the_message_as_staff(sim, echo_core, session):
    factories.staff(openid="o-staff-1")
    session.commit()
    sim.post(sim.text_xml("o-staff-1", "收到"))
    assert inbound_rows()[0].is_staff is True


# ----------------------------------------------------------------- mini-program

def _run_worker(app):
    build_worker(app, worker_class=SimpleWorker).work(burst=True)


def test_mini_program_json_push_answers_success_and_replies_by_customer_service(
        sim, app, fake_wechat, echo_core):
    payload = json.dumps({"ToUserName": "gh_mini", "FromUserName": "o-mini-1", "CreateTime": 1794886200,
                          "MsgType": "text", "Content": "预约代办", "MsgId": 24500}, ensure_ascii=False)
    result = sim.post(payload.encode(), as_json=True)
    assert result.status == 200 and result.text == "success"
    [row] = inbound_rows()
    assert row.channel == "miniprogram"
    [out] = outbound_rows()
    assert (out.channel, out.recipient_id, out.text, out.in_reply_to_id) == (
        "miniprogram", "o-mini-1", "收到：预约代办", row.id)
    _run_worker(app)
    [call] = fake_wechat.sent("/cgi-bin/message/custom/send")
    assert call.body == {"touser": "o-mini-1", "msgtype": "text", "text": {"content": "收到：预约代办"}}
    assert outbound_rows()[0].status == "sent"
    # the token was the mini-program's
    assert fake_wechat.token_fetches[MINI_APPID] == 1 and fake_wechat.token_fetches[APPID] == 0
    # a repeat does not queue a second answer
    assert sim.post(payload.encode(), as_json=True).text == "success"
    assert len(outbound_rows()) == 1


def test_mini_program_safe_mode_is_recognised_by_its_appid(sim, echo_core):
    result = sim.post(sim.text_xml("o-mini-2", "你好"), aes=True, appid=MINI_APPID)
    assert result.status == 200 and result.text == "success"
    assert inbound_rows()[0].channel == "miniprogram"
    assert outbound_rows()[0].channel == "miniprogram"


def test_encrypted_json_push_under_the_main_appid_is_answered_like_a_mini_program(sim, echo_core):
    # Only mini-programs push JSON: even when the main AppID decrypts it (a mini-program set
    # up as LINLI_WECHAT_APPID), the answer is "success" + 客服消息, never a passive XML reply
    # that the mini-program would drop.
    payload = json.dumps({"ToUserName": "gh_mini", "FromUserName": "o-mini-4", "CreateTime": 1794886200,
                          "MsgType": "text", "Content": "想预约代办尊老金", "MsgId": 24501}, ensure_ascii=False)
    result = sim.post(payload, aes=True, as_json=True, appid=APPID)
    assert result.status == 200 and result.text == "success"
    [row] = inbound_rows()
    assert (row.channel, row.text) == ("miniprogram", "想预约代办尊老金")
    [out] = outbound_rows()
    assert (out.channel, out.recipient_id, out.text) == ("miniprogram", "o-mini-4", "收到：想预约代办尊老金")


def test_mini_program_enter_session_event_gets_a_welcome_by_customer_service(sim, help_core):
    result = sim.post(sim.event_xml("o-mini-3", "user_enter_tempsession"))
    assert result.text == "success"
    assert outbound_rows()[0].text == HELP_TEXT


def test_a_long_official_account_answer_goes_out_as_customer_service_messages(sim, monkeypatch):
    monkeypatch.setitem(inbound_module._handler, "fn",
                        lambda message, inbound: Reply(text="通知：" + "很长的内容。" * 400, handled_by="test"))
    result = sim.post(sim.text_xml("o-1", "长"))
    assert result.text == "success"
    [out] = outbound_rows()
    assert out.channel == "mp" and out.recipient_id == "o-1"


def test_clock_moves_do_not_break_replay_checks_for_later_messages(sim, clock, echo_core):
    assert sim.post(sim.text_xml("o-1", "a")).status == 200
    clock.advance(hours=3)
    assert sim.post(sim.text_xml("o-1", "b")).status == 200
    assert [r.text for r in inbound_rows()] == ["a", "b"]
    assert inbound_rows()[1].received_at - inbound_rows()[0].received_at >= timedelta(hours=3)
