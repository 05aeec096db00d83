"""The pages' text filters: what staff read of a handler's or a sender's English-glossed text."""
from __future__ import annotations

import pytest

from app.web.filters import people_message, send_reason


@pytest.mark.parametrize("reason,shown", [
    ("没有可用的发送渠道 (no way to reach this recipient): no group messages on channel mp", "没有可用的发送渠道"),
    ("超出48小时回复时限 (customer-service window expired)", "超出48小时回复时限"),
    ("openid 无效 (invalid openid): invalid openid rid: 6f1c", "openid 无效"),
    ("errcode 99999: something new", "errcode 99999: something new"),   # unknown: all there is
    (None, ""),
])
def test_a_send_reason_shows_staff_the_chinese_label(reason, shown):
    assert send_reason(reason) == shown


def test_a_handler_message_loses_its_english_tail_only():
    assert people_message("没有这条诉求 (no such clock)") == "没有这条诉求"
    assert people_message("") == "操作未完成"
