"""Shared fixtures for talking to (fake) WeChat. Loaded by tests/conftest.py for every test package.

``fake_wechat``: a FakeWeChat on loopback; the app's WECHAT_API_BASE / WEWORK_API_BASE point at
it and, unless a test set them, the app gets test credentials the fake knows (see CREDENTIALS).
Assert what was sent with ``fake_wechat.sent("/cgi-bin/message/custom/send")`` etc.
"""
from __future__ import annotations

import pytest

from tests.support.fake_wechat import FakeWeChat

CREDENTIALS = {
    "WECHAT_APPID": "wx00linli00mp0001",
    "WECHAT_SECRET": "fake-mp-app-secret-0001",
    "WECHAT_MINI_APPID": "wx00linli00mini002",
    "WECHAT_MINI_SECRET": "fake-mini-app-secret-0002",
    "WEWORK_CORP_ID": "ww00linli00corp003",
    "WEWORK_SECRET": "fake-wework-app-secret-0003",
    "WEWORK_AGENT_ID": "1000002",
}


@pytest.fixture
def fake_wechat(app):
    fake = FakeWeChat().start()
    app.config["WECHAT_API_BASE"] = fake.base_url
    app.config["WEWORK_API_BASE"] = fake.base_url
    for key, value in CREDENTIALS.items():
        if not app.config.get(key):
            app.config[key] = value
    fake.add_account(app.config["WECHAT_APPID"], app.config["WECHAT_SECRET"])
    fake.add_account(app.config["WECHAT_MINI_APPID"], app.config["WECHAT_MINI_SECRET"])
    fake.add_account(app.config["WEWORK_CORP_ID"], app.config["WEWORK_SECRET"])
    yield fake
    fake.stop()
