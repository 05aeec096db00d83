"""/wechat/work/aibot: the WeCom intelligent robot (智能机器人) in API mode."""
from __future__ import annotations

import pytest
from rq import SimpleWorker

from app.channels.senders import aibot_response_key
from app.handlers.messaging.inbound import HELP_TEXT
from app.handlers.messaging.outbox import TO_GROUP, queue_message
from tests.channels.conftest import AIBOT_AES_KEY, AIBOT_TOKEN, inbound_rows, outbound_rows
from tests.support.wechat_sim import AibotSimulator
from workers.runner import build_worker


@pytest.fixture
def sim(client, clock):
    return AibotSimulator(client, token=AIBOT_TOKEN, aes_key=AIBOT_AES_KEY)


def test_url_verification_decrypts_echostr_with_an_empty_receive_id(sim):
    result = sim.verify_url("8843201934")
    assert result.status == 200 and result.text == "8843201934"


def test_group_mention_is_answered_with_a_finished_stream(sim, echo_core, redis_client):
    result = sim.post(sim.message("zhangsan", "@社区助手 3栋电梯坏了", chatid="wrGROUP1",
                                  response_url="https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=R1"))
    assert result.status == 200
    [row] = inbound_rows()
    assert result.reply == {"msgtype": "stream", "stream": {"id": f"linli-{row.id}", "finish": True,
                                                            "content": "收到：@社区助手 3栋电梯坏了"}}
    assert (row.chat_id, row.sender_id, row.channel) == ("wrGROUP1", "zhangsan", "wework")
    assert echo_core[0].chat_type == "group" and echo_core[0].mentioned is True
    assert redis_client.get(aibot_response_key(row.id)).decode().endswith("response_code=R1")


def test_single_chat_message_and_its_repeat(sim, echo_core):
    data = sim.message("lisi", "你好", msgid="MSG-FIXED-1")
    first, second = sim.post(data), sim.post(data)
    assert first.reply == second.reply
    assert len(inbound_rows()) == 1 and inbound_rows()[0].chat_id is None


def test_stream_refresh_gets_the_finished_content(sim, echo_core):
    sim.post(sim.message("lisi", "查进度"))
    [row] = inbound_rows()
    refresh = sim.post({"msgid": "REFRESH1", "aibotid": "AIBOTID", "chattype": "single",
                        "from": {"userid": "lisi"}, "msgtype": "stream", "stream": {"id": f"linli-{row.id}"}})
    assert refresh.reply["stream"] == {"id": f"linli-{row.id}", "finish": True, "content": "收到：查进度"}
    assert len(inbound_rows()) == 1


def test_enter_chat_gets_a_text_welcome_and_other_events_an_empty_answer(sim, help_core):
    welcome = sim.post({"msgid": "EV1", "aibotid": "AIBOTID", "chattype": "single", "from": {"userid": "lisi"},
                        "msgtype": "event", "create_time": 1794886200, "event": {"eventtype": "enter_chat"}})
    assert welcome.reply == {"msgtype": "text", "text": {"content": HELP_TEXT}}
    feedback = sim.post({"msgid": "EV2", "aibotid": "AIBOTID", "chattype": "single", "from": {"userid": "lisi"},
                         "msgtype": "event", "event": {"eventtype": "feedback_event"}})
    assert feedback.status == 200 and feedback.reply is None
    assert [r.msg_type for r in inbound_rows()] == ["event", "event"]


def test_mixed_message_text_parts_are_joined(sim, echo_core):
    sim.post({"msgid": "MIX1", "aibotid": "A", "chattype": "single", "from": {"userid": "u1"}, "msgtype": "mixed",
              "mixed": {"msg_item": [{"msgtype": "text", "text": {"content": "楼道"}},
                                     {"msgtype": "image", "image": {"url": "https://wework/img.png"}},
                                     {"msgtype": "text", "text": {"content": "堆物"}}]}})
    [row] = inbound_rows()
    assert row.text == "楼道\n堆物" and row.media == {"images": ["https://wework/img.png"]}


def test_bad_signature_and_malformed_bodies(client, sim, echo_core):
    assert client.post("/wechat/work/aibot?msg_signature=x&timestamp=1&nonce=1",
                       json={"encrypt": "abc"}).status_code == 403
    assert client.post("/wechat/work/aibot?msg_signature=x&timestamp=1&nonce=1", data=b"{oops",
                       content_type="application/json").status_code == 400
    assert inbound_rows() == []


def test_a_later_answer_uses_the_response_url_once(app, sim, fake_wechat, echo_core):
    result = sim.post(sim.message("zhangsan", "@助手 有人在吗", chatid="wrGROUP2",
                                  response_url=fake_wechat.aibot_response_url("CODE9")))
    assert result.status == 200
    [row] = inbound_rows()
    queue_message(channel="wework", recipient_kind=TO_GROUP, recipient_id="wrGROUP2", chat_id="wrGROUP2",
                  text="值班人员已看到，稍后回复您。", idempotency_key="later-1", in_reply_to_id=row.id)
    build_worker(app, worker_class=SimpleWorker).work(burst=True)
    [call] = fake_wechat.sent("/cgi-bin/aibot/response")
    assert call.body == {"msgtype": "markdown", "markdown": {"content": "值班人员已看到，稍后回复您。"}}
    [out] = outbound_rows()
    assert out.status == "sent" and out.handling["route"] == "aibot_response"
