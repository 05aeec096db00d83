"""Simulators of the WeChat / WeCom servers calling linli's callbacks.

They sign and encrypt exactly as WeChat does — the encryption is wechatpy's
(``PrpCrypto``: AES-256-CBC, random(16) + length + message + AppID/corp id,
PKCS#7, base64; signatures are sha1 of the sorted token, timestamp, nonce and
ciphertext) — and check what comes back: a safe-mode reply must carry a valid
MsgSignature and decrypt for the right AppID, or the simulator fails the test.

Timestamps come from the app's clock, so tests with a FrozenClock stay in the
replay window.
"""
from __future__ import annotations

import base64
import json
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from wechatpy.crypto import PrpCrypto as MpPrpCrypto
from wechatpy.enterprise.crypto import PrpCrypto as WeComPrpCrypto
from wechatpy.utils import WeChatSigner, to_text

from app.clock import now


def signature(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def aes_key_bytes(aes_key: str) -> bytes:
    return base64.b64decode(aes_key + "=")


def xml_fields(text: str) -> dict[str, str | None]:
    root = ET.fromstring(text)
    return {child.tag: child.text for child in root}


@dataclass
class SimResult:
    status: int
    body: bytes
    reply: dict[str, Any] | None      # decoded (and, in safe mode, verified + decrypted) reply, None if empty
    response: Any

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def reply_content(self) -> str | None:
        if not self.reply:
            return None
        return self.reply.get("Content")


class WeChatSimulator:
    """The official account / mini-program message push, plaintext or safe mode, XML or JSON."""

    def __init__(self, client, *, token: str, aes_key: str | None = None, appid: str | None = None,
                 path: str = "/wechat/mp", account_id: str = "gh_linli0test"):
        self.client, self.token, self.aes_key, self.appid, self.path = client, token, aes_key, appid, path
        self.account_id = account_id
        self._msg_id = 24000000000000000

    # ----------------------------------------------------------- building messages

    def next_msg_id(self) -> int:
        self._msg_id += 1
        return self._msg_id

    def text_xml(self, openid: str, content: str, msg_id: int | None = None, create_time: int | None = None) -> str:
        return ("<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{fr}]]></FromUserName>"
                "<CreateTime>{ct}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                "<Content><![CDATA[{content}]]></Content><MsgId>{mid}</MsgId></xml>").format(
            to=self.account_id, fr=openid, ct=create_time or int(now().timestamp()), content=content,
            mid=msg_id or self.next_msg_id())

    def event_xml(self, openid: str, event: str, key: str | None = None, create_time: int | None = None) -> str:
        key_xml = f"<EventKey><![CDATA[{key}]]></EventKey>" if key is not None else ""
        return ("<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{fr}]]></FromUserName>"
                "<CreateTime>{ct}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
                "<Event><![CDATA[{event}]]></Event>{key}</xml>").format(
            to=self.account_id, fr=openid, ct=create_time or int(now().timestamp()), event=event, key=key_xml)

    def raw_xml(self, openid: str, msg_type: str, extra: str = "", msg_id: int | None = None) -> str:
        return ("<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{fr}]]></FromUserName>"
                "<CreateTime>{ct}</CreateTime><MsgType><![CDATA[{mt}]]></MsgType>{extra}<MsgId>{mid}</MsgId></xml>"
                ).format(to=self.account_id, fr=openid, ct=int(now().timestamp()), mt=msg_type, extra=extra,
                         mid=msg_id or self.next_msg_id())

    # ----------------------------------------------------------- sending

    def query(self, *, timestamp: str | None = None, nonce: str | None = None, extra: dict | None = None) -> dict:
        timestamp = timestamp or str(int(now().timestamp()))
        nonce = nonce or str(secrets.randbelow(10 ** 9))
        return {"signature": signature(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                **(extra or {})}

    def verify_url(self, echostr: str = "linli-echo-12345", **query_overrides) -> SimResult:
        query = {**self.query(), "echostr": echostr, **query_overrides}
        response = self.client.get(f"{self.path}?{urlencode(query)}")
        return SimResult(response.status_code, response.data, None, response)

    def encrypt(self, plaintext: str, appid: str | None = None) -> str:
        return to_text(MpPrpCrypto(aes_key_bytes(self.aes_key)).encrypt(plaintext, appid or self.appid))

    def post(self, payload: str | bytes, *, aes: bool = False, timestamp: str | None = None,
             nonce: str | None = None, appid: str | None = None, as_json: bool = False,
             query_overrides: dict | None = None, raw_body: bytes | None = None) -> SimResult:
        """Deliver a message as WeChat does. ``payload`` is the plaintext XML (or JSON text)."""
        query = self.query(timestamp=timestamp, nonce=nonce, extra={"openid": "o-sim"})
        if aes:
            plaintext = payload.decode() if isinstance(payload, bytes) else payload
            encrypt = self.encrypt(plaintext, appid)
            query.update(encrypt_type="aes", msg_signature=signature(self.token, query["timestamp"],
                                                                     query["nonce"], encrypt))
            if as_json:
                body = json.dumps({"ToUserName": self.account_id, "Encrypt": encrypt}).encode()
            else:
                body = (f"<xml><ToUserName><![CDATA[{self.account_id}]]></ToUserName>"
                        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>").encode()
        else:
            body = payload.encode() if isinstance(payload, str) else payload
        if raw_body is not None:
            body = raw_body
        query.update(query_overrides or {})
        response = self.client.post(f"{self.path}?{urlencode(query)}", data=body,
                                    content_type="application/json" if as_json else "text/xml")
        return SimResult(response.status_code, response.data, self._decode_reply(response, aes, appid), response)

    def _decode_reply(self, response, aes: bool, appid: str | None) -> dict | None:
        text = response.data.decode("utf-8", "replace").strip()
        if response.status_code != 200 or not text.startswith("<xml>"):
            return None
        fields = xml_fields(text)
        if not aes:
            assert "Encrypt" not in fields, "plaintext request answered in safe mode"
            return fields
        expected = signature(self.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
        assert fields["MsgSignature"] == expected, "reply MsgSignature does not verify"
        plaintext = MpPrpCrypto(aes_key_bytes(self.aes_key)).decrypt(fields["Encrypt"], appid or self.appid)
        return xml_fields(plaintext)


class WeComSimulator:
    """The WeCom self-built app callback: always encrypted XML, receive id = corp id."""

    def __init__(self, client, *, token: str, aes_key: str, corp_id: str, agent_id: str = "1000002",
                 path: str = "/wechat/work"):
        self.client, self.token, self.aes_key, self.corp_id, self.agent_id, self.path = (
            client, token, aes_key, corp_id, agent_id, path)
        self._msg_id = 7000000000000000000

    def text_xml(self, userid: str, content: str, msg_id: int | None = None) -> str:
        self._msg_id += 1
        return ("<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
                "<CreateTime>{ct}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                "<Content><![CDATA[{content}]]></Content><MsgId>{mid}</MsgId><AgentID>{agent}</AgentID></xml>"
                ).format(corp=self.corp_id, user=userid, ct=int(now().timestamp()), content=content,
                         mid=msg_id or self._msg_id, agent=self.agent_id)

    def event_xml(self, userid: str, event: str, create_time: int | None = None) -> str:
        return ("<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
                "<CreateTime>{ct}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
                "<Event><![CDATA[{event}]]></Event><AgentID>{agent}</AgentID></xml>").format(
            corp=self.corp_id, user=userid, ct=create_time or int(now().timestamp()), event=event,
            agent=self.agent_id)

    def post(self, plaintext: str, *, timestamp: str | None = None, nonce: str | None = None) -> SimResult:
        timestamp = timestamp or str(int(now().timestamp()))
        nonce = nonce or str(secrets.randbelow(10 ** 9))
        encrypt = to_text(WeComPrpCrypto(aes_key_bytes(self.aes_key)).encrypt(plaintext, self.corp_id))
        query = {"msg_signature": signature(self.token, timestamp, nonce, encrypt), "timestamp": timestamp,
                 "nonce": nonce}
        body = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
                f"<AgentID><![CDATA[{self.agent_id}]]></AgentID></xml>")
        response = self.client.post(f"{self.path}?{urlencode(query)}", data=body, content_type="text/xml")
        return SimResult(response.status_code, response.data, self._decode(response), response)

    def _decode(self, response) -> dict | None:
        text = response.data.decode("utf-8", "replace").strip()
        if response.status_code != 200 or not text:
            return None
        fields = xml_fields(text)
        expected = signature(self.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
        assert fields["MsgSignature"] == expected, "reply MsgSignature does not verify"
        return xml_fields(WeComPrpCrypto(aes_key_bytes(self.aes_key)).decrypt(fields["Encrypt"], self.corp_id))


class AibotSimulator:
    """The WeCom intelligent robot (智能机器人) API-mode callback: encrypted JSON, receive id ""."""

    def __init__(self, client, *, token: str, aes_key: str, path: str = "/wechat/work/aibot"):
        self.client, self.token, self.aes_key, self.path = client, token, aes_key, path
        self._n = 0

    def message(self, userid: str, content: str, *, chatid: str | None = None, msgid: str | None = None,
                response_url: str | None = None) -> dict:
        self._n += 1
        data = {"msgid": msgid or f"AIBOTMSG{self._n:06d}", "aibotid": "AIBOTID", "chattype":
                "group" if chatid else "single", "from": {"userid": userid}, "msgtype": "text",
                "text": {"content": content}}
        if chatid:
            data["chatid"] = chatid
        if response_url:
            data["response_url"] = response_url
        return data

    def post(self, data: dict, *, timestamp: str | None = None, nonce: str | None = None) -> SimResult:
        timestamp = timestamp or str(int(now().timestamp()))
        nonce = nonce or str(secrets.randbelow(10 ** 9))
        plaintext = json.dumps(data, ensure_ascii=False)
        encrypt = to_text(WeComPrpCrypto(aes_key_bytes(self.aes_key)).encrypt(plaintext, ""))
        query = {"msg_signature": signature(self.token, timestamp, nonce, encrypt), "timestamp": timestamp,
                 "nonce": nonce}
        response = self.client.post(f"{self.path}?{urlencode(query)}", data=json.dumps({"encrypt": encrypt}),
                                    content_type="application/json")
        return SimResult(response.status_code, response.data, self._decode(response, nonce), response)

    def verify_url(self, echo: str = "1616140317555161061") -> SimResult:
        timestamp, nonce = str(int(now().timestamp())), str(secrets.randbelow(10 ** 9))
        echostr = to_text(WeComPrpCrypto(aes_key_bytes(self.aes_key)).encrypt(echo, ""))
        query = {"msg_signature": signature(self.token, timestamp, nonce, echostr), "timestamp": timestamp,
                 "nonce": nonce, "echostr": echostr}
        response = self.client.get(f"{self.path}?{urlencode(query)}")
        return SimResult(response.status_code, response.data, None, response)

    def _decode(self, response, nonce: str) -> dict | None:
        if response.status_code != 200 or not response.data.strip():
            return None
        wrapper = json.loads(response.data)
        assert set(wrapper) == {"encrypt", "msgsignature", "timestamp", "nonce"}, wrapper
        assert wrapper["nonce"] == nonce
        expected = signature(self.token, wrapper["timestamp"], wrapper["nonce"], wrapper["encrypt"])
        assert wrapper["msgsignature"] == expected, "reply msgsignature does not verify"
        return json.loads(WeComPrpCrypto(aes_key_bytes(self.aes_key)).decrypt(wrapper["encrypt"], ""))
