"""Fixtures for reports on /wechat/mp answered at once (app/handlers/requests/deferred.py, conversation/express.py).

A test module uses them with ``pytest_plugins = ["tests.support.deferred_reports"]`` and returns
``tests.support.deferred_texts.DEFERRED_SETTINGS`` from its own ``app_overrides``: the deployment's only
community (committed, so the callback's own connection sees it) and a simulator that signs and encrypts as WeChat does.
"""
from __future__ import annotations

import pytest

from app.extensions import db
from tests import factories
from tests.channels.conftest import WECHAT_AES_KEY, WECHAT_TOKEN
from tests.support.fixtures import CREDENTIALS
from tests.support.wechat_sim import WeChatSimulator


@pytest.fixture
def community(app):
    row = factories.community()   # the deployment's only one: a 1:1 chat belongs to it
    db.session.commit()           # seen by the callback's own connection (conversation/express.py)
    return row


@pytest.fixture
def sim(client, community):
    return WeChatSimulator(client, token=WECHAT_TOKEN, aes_key=WECHAT_AES_KEY, appid=CREDENTIALS["WECHAT_APPID"])
