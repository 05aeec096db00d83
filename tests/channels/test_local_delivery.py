"""Development with nothing configured: outbound messages land in the local sent-messages record.

Production and the test settings keep the real senders (a bridge group waits for its pull)."""
from __future__ import annotations

from app.channels.senders import BridgeOutbox, CustomerService, LocalDelivery, Target, WeComApp, choose
from app.handlers.messaging.outbox import TO_GROUP, TO_STAFF, TO_USER

NOTHING = {"INGEST_SECRET": "", "WEWORK_CORP_ID": "", "WEWORK_SECRET": "", "WECHAT_APPID": "", "WECHAT_SECRET": "",
           "WECHAT_MINI_APPID": ""}


def test_development_without_credentials_delivers_locally(app):
    app.config.update(ENV="development", **NOTHING)
    assert isinstance(choose(Target("group", TO_GROUP, "g1", chat_id="g1")), LocalDelivery)
    assert isinstance(choose(Target("wework", TO_STAFF, "wangxiuying")), LocalDelivery)
    assert isinstance(choose(Target("mp", TO_USER, "openid-1")), LocalDelivery)
    outcome = choose(Target("group", TO_GROUP, "g1", chat_id="g1")).send(None, "hi")
    assert outcome.status == "sent" and outcome.detail == {"instead_of": "bridge_outbox"}


def test_development_with_credentials_uses_the_real_senders(app):
    app.config.update(ENV="development", INGEST_SECRET="s" * 32, WEWORK_CORP_ID="corp", WEWORK_SECRET="sec",
                      WECHAT_APPID="wx1", WECHAT_SECRET="sec")
    assert isinstance(choose(Target("group", TO_GROUP, "g1", chat_id="g1")), BridgeOutbox)
    assert isinstance(choose(Target("wework", TO_STAFF, "wangxiuying")), WeComApp)
    assert isinstance(choose(Target("mp", TO_USER, "openid-1")), CustomerService)


def test_other_settings_classes_keep_the_real_senders(app):
    for env in ("test", "production"):
        app.config.update(ENV=env, **NOTHING)
        assert isinstance(choose(Target("group", TO_GROUP, "g1", chat_id="g1")), BridgeOutbox)
        assert isinstance(choose(Target("wework", TO_STAFF, "wangxiuying")), WeComApp)
