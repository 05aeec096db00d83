"""The WeChat and WeCom HTTP APIs linli calls, with access tokens shared through Redis.

Access tokens
    One token per account (official account, mini-program, WeCom app) lives in
    Redis under ``linli:token:...`` for its lifetime minus a margin, so every web
    and worker process uses the same one. WeChat tokens come from the
    ``stable_token`` API (POST /cgi-bin/stable_token), which, unlike
    /cgi-bin/token, does not invalidate the token other processes hold. Only
    one process fetches at a time (a Redis lock); the others wait and read the
    cached value. A call answered with an expired/invalid-token error (40001,
    40014, 42001) refreshes the token once — unless another process already
    did — and is retried once.

Nothing here logs a URL with its query: access tokens, secrets, webhook keys
and login codes travel in query strings.
"""
from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

import requests
from flask import current_app
from redis.exceptions import LockError

from app.extensions import redis_ext

log = logging.getLogger(__name__)

# errcodes meaning "this access token is no good": invalid credential, invalid token, expired.
EXPIRED_TOKEN_CODES = frozenset({40001, 40014, 42001})
TOKEN_MARGIN_SECONDS = 300   # stable_token renews 5 minutes before expiry; so do we


class WeChatError(Exception):
    """The API answered with a non-zero errcode (or our configuration is incomplete)."""

    def __init__(self, code: int | str, message: str = ""):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class TransportError(Exception):
    """No usable answer (network error, timeout, 5xx, not JSON): worth retrying later.

    ``uncertain``: the request may have reached WeChat and been acted on (the answer timed out), so a
    repeat could deliver the message twice unless the API dedupes it.
    """

    def __init__(self, message: str, *, uncertain: bool = False):
        super().__init__(message)
        self.uncertain = uncertain


class _RedactQueryStrings(logging.Filter):
    """urllib3 logs request lines (with their query strings) at DEBUG: mask the credentials."""

    _pattern = re.compile(r"((?:access_token|secret|corpsecret|key|js_code|response_code|code)=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self._pattern.sub(r"\1***", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


_urllib3_log = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(f, _RedactQueryStrings) for f in _urllib3_log.filters):
    _urllib3_log.addFilter(_RedactQueryStrings())

_session_local = threading.local()


def _session() -> requests.Session:
    # requests.Session is not guaranteed thread-safe: one per thread (and per process).
    session = getattr(_session_local, "session", None)
    if session is None:
        session = requests.Session()
        session.trust_env = False  # no proxy or .netrc surprises for API calls
        _session_local.session = session
    return session


@dataclass(frozen=True)
class Account:
    kind: str            # "wechat" (official account / mini-program) or "wework"
    app_id: str          # appid, or corp id for WeCom
    secret: str
    base: str
    agent_id: str = ""

    @property
    def cache_key(self) -> str:
        return f"linli:token:{self.kind}:{self.app_id}:{self.agent_id or '-'}"


def wechat_account(channel: str) -> Account:
    """The account behind an mp or miniprogram channel."""
    config = current_app.config
    base = config["WECHAT_API_BASE"].rstrip("/")
    if channel == "miniprogram":
        if config.get("WECHAT_MINI_APPID"):
            appid, secret = config["WECHAT_MINI_APPID"], config.get("WECHAT_MINI_SECRET", "")
        elif config.get("WECHAT_ACCOUNT") == "miniprogram":
            appid, secret = config.get("WECHAT_APPID", ""), config.get("WECHAT_SECRET", "")
        else:
            raise WeChatError("not_configured", "no mini-program configured (LINLI_WECHAT_MINI_APPID)")
    else:
        if config.get("WECHAT_ACCOUNT") == "miniprogram":
            raise WeChatError("not_configured", "no official account configured (LINLI_WECHAT_ACCOUNT=miniprogram)")
        appid, secret = config.get("WECHAT_APPID", ""), config.get("WECHAT_SECRET", "")
    if not appid or not secret:
        raise WeChatError("not_configured", f"AppID/AppSecret for {channel} are not set")
    return Account("wechat", appid, secret, base)


def wework_account() -> Account:
    config = current_app.config
    if not config.get("WEWORK_CORP_ID") or not config.get("WEWORK_SECRET"):
        raise WeChatError("not_configured", "LINLI_WEWORK_CORP_ID / LINLI_WEWORK_SECRET are not set")
    return Account("wework", config["WEWORK_CORP_ID"], config["WEWORK_SECRET"],
                   config["WEWORK_API_BASE"].rstrip("/"), str(config.get("WEWORK_AGENT_ID") or ""))


# ---------------------------------------------------------------- HTTP

def _request(method: str, url: str, *, what: str, params: dict | None = None, body: Any = None,
             acts: bool = False) -> dict:
    """One HTTP call; returns the JSON object. ``what`` names the call in logs (never the URL).

    ``acts``: the call does something (sends a message), so a timed-out answer leaves it uncertain.
    """
    timeout = current_app.config.get("WECHAT_HTTP_TIMEOUT_SECONDS", 10)
    data = None
    headers = {}
    if body is not None:
        # ensure_ascii=False: WeChat counts text limits in UTF-8 bytes and shows \\u escapes literally.
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers["Content-Type"] = "application/json; charset=utf-8"
    try:
        response = _session().request(method, url, params=params, data=data, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        log.warning("%s: %s", what, type(exc).__name__)
        # A read timeout is the one failure after which the request may have been carried out;
        # refused or unreachable connections never sent it.
        raise TransportError(f"{what}: {type(exc).__name__}",
                             uncertain=acts and isinstance(exc, requests.ReadTimeout)) from None
    if response.status_code >= 500:
        raise TransportError(f"{what}: HTTP {response.status_code}")
    try:
        payload = response.json()
    except ValueError:
        if response.status_code >= 400:
            raise WeChatError(f"http_{response.status_code}", f"{what} answered HTTP {response.status_code}")
        raise TransportError(f"{what}: answer is not JSON") from None
    if not isinstance(payload, dict):
        raise TransportError(f"{what}: answer is not a JSON object")
    return payload


def _errcode(payload: dict) -> int:
    try:
        return int(payload.get("errcode") or 0)
    except (TypeError, ValueError):
        return -1


def _check(payload: dict) -> dict:
    code = _errcode(payload)
    if code == -1:
        # -1 is "system busy" on both platforms: transient.
        raise TransportError(f"system busy: {str(payload.get('errmsg', ''))[:200]}")
    if code:
        raise WeChatError(code, str(payload.get("errmsg", ""))[:300])
    return payload


# ---------------------------------------------------------------- tokens

def _fetch_token(account: Account, force: bool = False) -> tuple[str, int]:
    if account.kind == "wechat":
        payload = _request("POST", f"{account.base}/cgi-bin/stable_token", what="stable_token", body={
            "grant_type": "client_credential", "appid": account.app_id, "secret": account.secret,
            "force_refresh": bool(force)})
    else:
        payload = _request("GET", f"{account.base}/cgi-bin/gettoken", what="gettoken",
                           params={"corpid": account.app_id, "corpsecret": account.secret})
    _check(payload)
    token = payload.get("access_token")
    if not token or not isinstance(token, str):
        raise TransportError("token answer without access_token")
    try:
        expires_in = int(payload.get("expires_in") or 7200)
    except (TypeError, ValueError):
        expires_in = 7200
    return token, expires_in


def _store(account: Account, token: str, expires_in: int) -> None:
    ttl = max(60, expires_in - TOKEN_MARGIN_SECONDS)
    redis_ext.client.set(account.cache_key, token, ex=ttl)


def access_token(account: Account) -> str:
    """The account's current token: from Redis, or fetched once under a lock."""
    client = redis_ext.client
    cached = client.get(account.cache_key)
    if cached:
        return cached.decode()
    return _refresh(account, stale=None)


def _refresh(account: Account, stale: str | None) -> str:
    """Fetch a new token unless another process already replaced ``stale`` (or filled an empty cache)."""
    client = redis_ext.client
    lock = client.lock(account.cache_key + ":lock", timeout=30, blocking_timeout=15)
    try:
        acquired = lock.acquire()
    except LockError:
        acquired = False
    if not acquired:
        raise TransportError("access token refresh is taking too long")
    try:
        cached = client.get(account.cache_key)
        if cached and cached.decode() != stale:
            return cached.decode()  # someone refreshed while we waited
        token, expires_in = _fetch_token(account)
        if stale is not None and token == stale and account.kind == "wechat":
            # stable_token's normal mode returns the token WeChat still considers valid; when the API
            # rejected exactly that one, only force_refresh (20/day) replaces it.
            log.info("stable_token returned the rejected token again; forcing a refresh for %s", account.app_id)
            token, expires_in = _fetch_token(account, force=True)
        _store(account, token, expires_in)
        return token
    finally:
        try:
            lock.release()
        except LockError:
            pass


def call(account: Account, method: str, path: str, *, what: str, body: Any = None,
         params: dict | None = None) -> dict:
    """Call an API that takes ``access_token``; refresh it and retry once when it is rejected."""
    token = access_token(account)
    for attempt in (1, 2):
        payload = _request(method, f"{account.base}{path}", what=what, body=body,
                           params={**(params or {}), "access_token": token}, acts=True)
        if _errcode(payload) in EXPIRED_TOKEN_CODES and attempt == 1:
            log.info("%s: access token rejected (%s), refreshing once", what, _errcode(payload))
            token = _refresh(account, stale=token)
            continue
        return _check(payload)
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------- the calls linli makes

def custom_send(channel: str, openid: str, text: str) -> dict:
    """客服消息: a text to an mp / mini-program user (only within 48 h of their last message)."""
    return call(wechat_account(channel), "POST", "/cgi-bin/message/custom/send", what="custom_send",
                body={"touser": openid, "msgtype": "text", "text": {"content": text}})


def duplicate_check_seconds() -> int:
    """WeCom's duplicate check interval for app messages (0: off)."""
    return int(current_app.config.get("WEWORK_DUPLICATE_CHECK_SECONDS") or 0)


def wework_message_send(userid: str, text: str) -> dict:
    """WeCom app message to a member (staff).

    With ``enable_duplicate_check`` WeCom delivers an identical request (the same JSON) only once
    within the interval: a send repeated after a crash, with the same body, reaches the member once.
    """
    account = wework_account()
    try:
        agent_id = int(account.agent_id)
    except ValueError:
        raise WeChatError("not_configured", "LINLI_WEWORK_AGENT_ID must be the app's numeric AgentId") from None
    body: dict[str, Any] = {"touser": userid, "msgtype": "text", "agentid": agent_id, "text": {"content": text},
                            "safe": 0}
    interval = duplicate_check_seconds()
    if interval:
        body.update(enable_duplicate_check=1, duplicate_check_interval=interval)
    payload = call(account, "POST", "/cgi-bin/message/send", what="message_send", body=body)
    # errcode 0 with the user listed as invalid means nobody received it.
    invalid = str(payload.get("invaliduser") or "")
    if userid in invalid.split("|"):
        raise WeChatError("invaliduser", "WeCom does not know this userid (or it is outside the app's scope)")
    return payload


def appchat_send(chatid: str, text: str) -> dict:
    """A text into an internal group chat created by the app (appchat)."""
    return call(wework_account(), "POST", "/cgi-bin/appchat/send", what="appchat_send", body={
        "chatid": chatid, "msgtype": "text", "text": {"content": text}, "safe": 0})


def webhook_allowed(url: str) -> bool:
    """Group robot webhooks may only point at the WeCom API (no requests to arbitrary hosts)."""
    base = current_app.config["WEWORK_API_BASE"].rstrip("/")
    return url.startswith(base + "/cgi-bin/webhook/send?")


def webhook_send(url: str, text: str) -> dict:
    """WeCom group robot (消息推送) webhook: the key is in the URL, no access token."""
    if not webhook_allowed(url):
        raise WeChatError("webhook_url_not_allowed", "webhook URL is not a WeCom group robot URL")
    return _check(_request("POST", url, what="webhook_send", body={"msgtype": "text", "text": {"content": text}},
                           acts=True))


def aibot_respond(response_url: str, text: str) -> dict:
    """Answer an intelligent-robot message through its one-time response_url (valid 1 hour)."""
    base = current_app.config["WEWORK_API_BASE"].rstrip("/")
    if not response_url.startswith(base + "/cgi-bin/aibot/response?"):
        raise WeChatError("response_url_not_allowed", "response_url is not a WeCom aibot URL")
    return _check(_request("POST", response_url, what="aibot_response",
                           body={"msgtype": "markdown", "markdown": {"content": text}}, acts=True))


def code2session(js_code: str) -> dict:
    """Mini-program login: exchange wx.login()'s code for openid, session_key and (maybe) unionid.

    Raises WeChatError (e.g. 40029 invalid code, 40163 code already used) or TransportError.
    """
    if not js_code or not isinstance(js_code, str) or len(js_code) > 256:
        raise WeChatError(40029, "invalid code")
    account = wechat_account("miniprogram")
    payload = _check(_request("GET", f"{account.base}/sns/jscode2session", what="jscode2session", params={
        "appid": account.app_id, "secret": account.secret, "js_code": js_code,
        "grant_type": "authorization_code"}))
    if not payload.get("openid") or not payload.get("session_key"):
        raise TransportError("jscode2session answer without openid/session_key")
    result = {"openid": payload["openid"], "session_key": payload["session_key"]}
    if payload.get("unionid"):
        result["unionid"] = payload["unionid"]
    return result


def phone_number(phone_code: str) -> dict:
    """Mini-program 手机号快速验证: exchange getPhoneNumber's one-time code for the user's number
    (POST /wxa/business/getuserphonenumber). Returns {"phone", "country_code"}.

    Raises WeChatError (40029 invalid or used code) or TransportError.
    """
    if not phone_code or not isinstance(phone_code, str) or len(phone_code) > 256:
        raise WeChatError(40029, "invalid code")
    payload = call(wechat_account("miniprogram"), "POST", "/wxa/business/getuserphonenumber",
                   what="getuserphonenumber", body={"code": phone_code})
    info = payload.get("phone_info")
    number = info.get("purePhoneNumber") or info.get("phoneNumber") if isinstance(info, dict) else None
    if not number or not isinstance(number, str):
        raise TransportError("getuserphonenumber answer without phone_info")
    return {"phone": number, "country_code": str(info.get("countryCode") or "86")}
