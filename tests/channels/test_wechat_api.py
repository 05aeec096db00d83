"""Access tokens (stable_token, Redis-shared, refreshed once) and the API calls, against the fake WeChat."""
from __future__ import annotations

import logging
import threading

import pytest

from app import create_app
from app.channels import wechat_api
from app.channels.wechat_api import TransportError, WeChatError
from tests.support.fixtures import CREDENTIALS

APPID = CREDENTIALS["WECHAT_APPID"]
MINI = CREDENTIALS["WECHAT_MINI_APPID"]
CORP = CREDENTIALS["WEWORK_CORP_ID"]


def test_the_token_is_fetched_with_stable_token_once_and_cached_in_redis(app, fake_wechat, redis_client):
    wechat_api.custom_send("mp", "o-1", "第一条")
    wechat_api.custom_send("mp", "o-1", "第二条")
    [fetch] = fake_wechat.calls_to("/cgi-bin/stable_token")
    assert fetch.body == {"grant_type": "client_credential", "appid": APPID,
                          "secret": CREDENTIALS["WECHAT_SECRET"], "force_refresh": False}
    token = redis_client.get(f"linli:token:wechat:{APPID}:-").decode()
    assert [c.query["access_token"] for c in fake_wechat.sent("/cgi-bin/message/custom/send")] == [token, token]
    assert 6800 <= redis_client.ttl(f"linli:token:wechat:{APPID}:-") <= 6900


def test_another_process_uses_the_same_token(app, fake_wechat, database_url, redis_url, tmp_path):
    wechat_api.custom_send("mp", "o-1", "来自进程一")
    other = create_app("test", overrides={**{k: app.config[k] for k in CREDENTIALS}, "DATABASE_URL": database_url,
                                          "REDIS_URL": redis_url, "INSTANCE_PATH": str(tmp_path / "other"),
                                          "WECHAT_API_BASE": fake_wechat.base_url})
    with other.app_context():
        wechat_api.custom_send("mp", "o-1", "来自进程二")
    assert fake_wechat.token_fetches[APPID] == 1


def test_concurrent_first_use_fetches_the_token_once(app, fake_wechat):
    fake_wechat.delay = 0.2   # a slow token server widens the race
    barrier = threading.Barrier(8)
    tokens, errors = [], []

    def use():
        with app.app_context():
            barrier.wait()
            try:
                tokens.append(wechat_api.access_token(wechat_api.wechat_account("mp")))
            except Exception as exc:  # noqa: BLE001 # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(tokens)) == 1 and len(tokens) == 8
    assert fake_wechat.token_fetches[APPID] == 1


def test_an_expired_token_is_refreshed_once_and_the_call_retried(app, fake_wechat):
    wechat_api.custom_send("mp", "o-1", "a")
    fake_wechat.expire_tokens()
    wechat_api.custom_send("mp", "o-1", "b")
    sends = fake_wechat.calls_to("/cgi-bin/message/custom/send")
    assert [c.accepted for c in sends] == [True, False, True]
    assert fake_wechat.token_fetches[APPID] == 2


def test_a_token_rejected_but_still_current_is_force_refreshed(app, fake_wechat):
    wechat_api.custom_send("mp", "o-1", "a")
    fake_wechat.script("/cgi-bin/message/custom/send", {"errcode": 40001, "errmsg": "invalid credential"})
    wechat_api.custom_send("mp", "o-1", "b")
    fetches = fake_wechat.calls_to("/cgi-bin/stable_token")
    assert [f.body["force_refresh"] for f in fetches] == [False, False, True]
    assert fake_wechat.sent("/cgi-bin/message/custom/send")[-1].text == "b"


def test_a_second_token_rejection_is_an_error_not_a_loop(app, fake_wechat):
    fake_wechat.script("/cgi-bin/message/custom/send", {"errcode": 42001, "errmsg": "expired"},
                       {"errcode": 42001, "errmsg": "expired"})
    with pytest.raises(WeChatError) as info:
        wechat_api.custom_send("mp", "o-1", "c")
    assert info.value.code == 42001
    assert len(fake_wechat.calls_to("/cgi-bin/message/custom/send")) == 2


def test_another_process_refresh_is_reused_instead_of_refreshing_again(app, fake_wechat, redis_client):
    account = wechat_api.wechat_account("mp")
    stale = wechat_api.access_token(account)
    redis_client.set(account.cache_key, "TOKEN-refreshed-elsewhere", ex=600)
    assert wechat_api._refresh(account, stale=stale) == "TOKEN-refreshed-elsewhere"
    assert fake_wechat.token_fetches[APPID] == 1


def test_wrong_credentials_are_an_error_with_the_code(app, fake_wechat):
    app.config["WECHAT_SECRET"] = "not-the-secret"
    with pytest.raises(WeChatError) as info:
        wechat_api.custom_send("mp", "o-1", "x")
    assert info.value.code == 40125


def test_mini_program_and_official_account_have_separate_tokens(app, fake_wechat):
    wechat_api.custom_send("mp", "o-1", "x")
    wechat_api.custom_send("miniprogram", "o-2", "y")
    assert fake_wechat.token_fetches[APPID] == 1 and fake_wechat.token_fetches[MINI] == 1


def test_wework_token_and_app_message(app, fake_wechat):
    wechat_api.wework_message_send("zhangsan", "有新的诉求")
    wechat_api.wework_message_send("lisi", "有新的诉求")
    [fetch] = fake_wechat.calls_to("/cgi-bin/gettoken")
    assert fetch.query == {"corpid": CORP, "corpsecret": CREDENTIALS["WEWORK_SECRET"]}
    first = fake_wechat.sent("/cgi-bin/message/send")[0]
    assert first.body == {"touser": "zhangsan", "msgtype": "text", "agentid": 1000002,
                          "text": {"content": "有新的诉求"}, "safe": 0,
                          "enable_duplicate_check": 1, "duplicate_check_interval": 1800}


def test_wework_duplicate_check_can_be_turned_off(app, fake_wechat):
    app.config["WEWORK_DUPLICATE_CHECK_SECONDS"] = 0
    wechat_api.wework_message_send("zhangsan", "有新的诉求")
    [call] = fake_wechat.sent("/cgi-bin/message/send")
    assert "enable_duplicate_check" not in call.body


def test_wework_invalid_user_is_an_error(app, fake_wechat):
    fake_wechat.script("/cgi-bin/message/send", {"errcode": 0, "errmsg": "ok", "invaliduser": "ghost"})
    with pytest.raises(WeChatError) as info:
        wechat_api.wework_message_send("ghost", "hi")
    assert info.value.code == "invaliduser"


def test_code2session(app, fake_wechat):
    fake_wechat.add_session("CODE-1", "o-mini-login", unionid="u-123")
    assert wechat_api.code2session("CODE-1") == {"openid": "o-mini-login", "session_key": "c2Vzc2lvbi1rZXk=",
                                                  "unionid": "u-123"}
    [call] = fake_wechat.calls_to("/sns/jscode2session")
    assert call.query["appid"] == MINI and call.query["grant_type"] == "authorization_code"
    with pytest.raises(WeChatError) as used:
        wechat_api.code2session("CODE-1")
    assert used.value.code == 40163
    with pytest.raises(WeChatError) as invalid:
        wechat_api.code2session("NOPE")
    assert invalid.value.code == 40029
    with pytest.raises(WeChatError):
        wechat_api.code2session("")


def test_code2session_uses_the_main_appid_when_it_is_a_mini_program(app, fake_wechat):
    app.config.update(WECHAT_MINI_APPID="", WECHAT_ACCOUNT="miniprogram")
    fake_wechat.add_session("CODE-2", "o-x")
    wechat_api.code2session("CODE-2")
    assert fake_wechat.calls_to("/sns/jscode2session")[0].query["appid"] == APPID


def test_missing_configuration_is_a_clear_error(app):
    app.config.update(WECHAT_APPID="", WECHAT_SECRET="", WECHAT_MINI_APPID="")
    with pytest.raises(WeChatError) as info:
        wechat_api.custom_send("mp", "o-1", "x")
    assert info.value.code == "not_configured"
    with pytest.raises(WeChatError):
        wechat_api.code2session("CODE")


def test_network_trouble_is_a_transport_error(app, fake_wechat):
    fake_wechat.stop()
    with pytest.raises(TransportError):
        wechat_api.custom_send("mp", "o-1", "x")


def test_webhooks_may_only_point_at_wecom(app, fake_wechat):
    with pytest.raises(WeChatError) as info:
        wechat_api.webhook_send("http://169.254.169.254/latest/meta-data?x=1", "x")
    assert info.value.code == "webhook_url_not_allowed"
    wechat_api.webhook_send(fake_wechat.webhook_url("K1"), "群通知")
    assert fake_wechat.sent("/cgi-bin/webhook/send")[0].body == {"msgtype": "text", "text": {"content": "群通知"}}


def test_no_secret_or_token_reaches_the_logs(app, fake_wechat, caplog, redis_client):
    caplog.set_level(logging.DEBUG)
    wechat_api.custom_send("mp", "o-1", "x")
    fake_wechat.expire_tokens()
    wechat_api.custom_send("mp", "o-1", "y")
    wechat_api.wework_message_send("zhangsan", "z")
    wechat_api.webhook_send(fake_wechat.webhook_url("WEBHOOK-KEY-SECRET-1"), "w")
    fake_wechat.add_session("LOGIN-CODE-SECRET", "o-2")
    wechat_api.code2session("LOGIN-CODE-SECRET")
    app.config["WECHAT_SECRET"] = "wrong-secret-value-123"
    redis_client.flushdb()
    with pytest.raises(WeChatError):
        wechat_api.custom_send("mp", "o-1", "x")
    fake_wechat.stop()
    with pytest.raises(TransportError):
        wechat_api.wework_message_send("zhangsan", "z")
    text = caplog.text
    assert "stable_token" in text or "custom/send" in text or "POST" in text   # something was logged
    secrets = [CREDENTIALS["WECHAT_SECRET"], CREDENTIALS["WEWORK_SECRET"], CREDENTIALS["WECHAT_MINI_SECRET"],
               "wrong-secret-value-123", "WEBHOOK-KEY-SECRET-1", "LOGIN-CODE-SECRET",
               *fake_wechat.tokens.values(), *fake_wechat.expired]
    for secret in secrets:
        assert secret not in text
