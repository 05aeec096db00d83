"""Properties of the input checks: whatever arrives, a clean value or a 4xx — never a crash."""
from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.channels.security import BadPayload, clean_text, parse_xml
from app.channels.senders import split_text
from tests.channels.conftest import WECHAT_TOKEN, inbound_rows
from tests.support.wechat_sim import signature

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")


@given(st.text())
def test_clean_text_never_returns_control_characters(value):
    text, info = clean_text(value, max_length=50)
    assert text is not None and not CONTROL.search(text)
    assert len(text) <= 50
    if info:
        assert info["truncated"] is True and info["original_length"] > 50 and len(text) == 50


@given(st.binary(max_size=400))
def test_parse_xml_returns_fields_or_refuses_with_bad_payload(body):
    try:
        fields = parse_xml(body)
    except BadPayload:
        return
    assert isinstance(fields, dict)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=3000),
       st.integers(min_value=16, max_value=2048))
def test_split_text_keeps_every_character_within_the_byte_limit(text, limit):
    parts = split_text(text, limit)
    assert all(len(p.encode("utf-8")) <= limit for p in parts)
    # nothing but whitespace at the cuts may go missing
    assert re.sub(r"\s", "", "".join(parts)) == re.sub(r"\s", "", text)


@pytest.fixture
def signed_post(client, clock):
    counter = [0]

    def post(body: bytes):
        counter[0] += 1
        ts, nonce = str(int(clock().timestamp())), str(counter[0])
        query = {"signature": signature(WECHAT_TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
        return client.post(f"/wechat/mp?{urlencode(query)}", data=body, content_type="text/xml")
    return post


XML_PIECES = st.sampled_from([
    b"<xml>", b"</xml>", b"<MsgType>text</MsgType>", b"<MsgType>event</MsgType>", b"<Event>subscribe</Event>",
    b"<FromUserName>o-fuzz</FromUserName>", b"<CreateTime>1794886200</CreateTime>", b"<CreateTime>x</CreateTime>",
    b"<MsgId>42</MsgId>", b"<MsgId></MsgId>", b"<Content><![CDATA[\x01\xe6\xbc\x8f]]></Content>", b"<Content>",
    b"<!DOCTYPE a>", b"&amp;", b"&bogus;", b"\x00", b"\xff\xfe", b"<ToUserName><A>1</A><A>2</A></ToUserName>",
    b"<MsgType>image</MsgType><PicUrl/>", b"<MsgType></MsgType>", b"{", b"]]>"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(XML_PIECES, max_size=12))
def test_signed_garbage_gets_200_or_400_never_500(signed_post, help_core, pieces):
    response = signed_post(b"".join(pieces))
    assert response.status_code in (200, 400), response.data


def test_the_fuzzed_messages_that_were_accepted_are_clean(signed_post, help_core):
    signed_post(b"<xml><FromUserName>o-fuzz</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
                b"<Content><![CDATA[\x01\xe6\xbc\x8f\x7f]]></Content><MsgId>7</MsgId></xml>")
    assert [r.text for r in inbound_rows()] == ["漏"]


def test_deeply_nested_xml_is_a_400_not_a_crash(signed_post, help_core):
    # 5,000 nested elements (~40 KB, under the body limit) once recursed out of the stack: a 500.
    body = b"<xml>" + b"<a>" * 5000 + b"x" + b"</a>" * 5000 + b"</xml>"
    response = signed_post(body)
    assert response.status_code == 400
    assert inbound_rows() == []


def test_a_wechat_shaped_nested_document_still_parses():
    fields = parse_xml(b"<xml><Articles><item><Title>t</Title></item><item><Title>u</Title></item></Articles></xml>")
    assert fields["Articles"]["item"] == [{"Title": "t"}, {"Title": "u"}]
