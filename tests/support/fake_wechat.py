"""A fake WeChat / WeCom HTTP API on loopback: the external service, so linli's real HTTP code runs.

It speaks the calls linli makes, with WeChat's token rules:

- POST /cgi-bin/stable_token      {grant_type, appid, secret, force_refresh} → access_token
- GET  /cgi-bin/gettoken          ?corpid&corpsecret → access_token (WeCom)
- GET  /sns/jscode2session        ?appid&secret&js_code&grant_type → openid, session_key[, unionid]
- POST /wxa/business/getuserphonenumber?access_token=  {code} → phone_info (one use per code)
- POST /cgi-bin/message/custom/send, /cgi-bin/message/send, /cgi-bin/appchat/send (?access_token)
- POST /cgi-bin/webhook/send?key=  (20 per minute per key, like WeCom; more → 45009)
- POST /cgi-bin/aibot/response?response_code=   (one use per code)

Every request is recorded (``calls``); ``script(path, {...})`` makes the next
calls to a path answer with given bodies (e.g. ``{"errcode": 45015}``);
``expire_tokens()`` makes every issued token answer 42001 from then on.

WeCom's duplicate check on /cgi-bin/message/send: a request with
``enable_duplicate_check: 1`` whose JSON equals one accepted within its
``duplicate_check_interval`` (default 1800 s) is answered ok but not delivered
again (``delivered()`` lists what a member really received). ``hold(path)``
keeps the answers to a path pending (the request already carried out) until
``release()``: a worker killed -9 meanwhile never learns the result.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    at: float = field(default_factory=time.monotonic)
    wall: float = field(default_factory=time.time)   # when it arrived, on the wall clock (latency benches)
    accepted: bool = False   # the fake answered errcode 0
    duplicate: bool = False  # accepted, but WeCom's duplicate check kept it from the member

    @property
    def text(self) -> str | None:
        """The text content of a send call, whatever the API."""
        if not isinstance(self.body, dict):
            return None
        for key in ("text", "markdown"):
            if isinstance(self.body.get(key), dict):
                return self.body[key].get("content")
        return None


class FakeWeChat:
    WEBHOOK_LIMIT = 20

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.calls: list[Call] = []
        self.accounts: dict[str, str] = {}          # appid / corpid → secret
        self.tokens: dict[str, str] = {}            # appid / corpid → current token
        self.expired: set[str] = set()
        self.token_fetches: dict[str, int] = defaultdict(int)
        self.scripted: dict[str, deque] = defaultdict(deque)
        self.sessions: dict[str, dict] = {}         # js_code → jscode2session answer
        self.used_codes: set[str] = set()
        self.phone_codes: dict[str, str] = {}       # getPhoneNumber code → phone number
        self.used_response_codes: set[str] = set()
        self.webhook_sends: dict[str, deque] = defaultdict(deque)
        self.delay = 0.0                            # seconds before each answer
        self.held: dict[str, threading.Event] = {}  # path → answers wait until set
        self.seen: dict[str, float] = {}            # duplicate check: request JSON → when accepted
        self.now = time.monotonic                   # the webhook limit's clock (tests may pass the app's)
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # ------------------------------------------------------------ control

    def start(self) -> "FakeWeChat":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _handle(self, method: str):
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                status, answer = fake.answer(method, parts.path, query, body)
                payload = json.dumps(answer, ensure_ascii=False).encode("utf-8")
                if fake.delay:
                    time.sleep(fake.delay)
                gate = fake.held.get(parts.path)
                if gate is not None:
                    gate.wait(120)
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-wechat", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def add_account(self, app_id: str, secret: str) -> None:
        with self.lock:
            self.accounts[app_id] = secret

    def script(self, path: str, *answers: dict) -> None:
        """The next len(answers) calls to ``path`` answer these bodies (after the token check)."""
        with self.lock:
            self.scripted[path].extend(answers)

    def expire_tokens(self) -> None:
        with self.lock:
            self.expired.update(self.tokens.values())

    def add_session(self, js_code: str, openid: str, session_key: str = "c2Vzc2lvbi1rZXk=", unionid: str | None = None):
        answer = {"openid": openid, "session_key": session_key}
        if unionid:
            answer["unionid"] = unionid
        with self.lock:
            self.sessions[js_code] = answer

    def add_phone(self, phone_code: str, phone: str) -> None:
        with self.lock:
            self.phone_codes[phone_code] = phone

    def webhook_url(self, key: str) -> str:
        return f"{self.base_url}/cgi-bin/webhook/send?key={key}"

    def aibot_response_url(self, code: str) -> str:
        return f"{self.base_url}/cgi-bin/aibot/response?response_code={code}"

    def hold(self, path: str) -> None:
        """Carry out requests to ``path`` but keep their answers pending until ``release``."""
        with self.lock:
            self.held.setdefault(path, threading.Event())

    def release(self) -> None:
        with self.lock:
            for gate in self.held.values():
                gate.set()
            self.held.clear()

    def delivered(self, path: str) -> list[Call]:
        """Sends a recipient really received: accepted and not dropped by the duplicate check."""
        with self.lock:
            return [c for c in self.calls if c.path == path and c.accepted and not c.duplicate]

    def calls_to(self, path: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.path == path]

    def sent(self, path: str) -> list[Call]:
        """Calls to a send API that the fake accepted (errcode 0)."""
        with self.lock:
            return [c for c in self.calls if c.path == path and c.accepted]

    # ------------------------------------------------------------ the API

    def _issue(self, app_id: str, force: bool) -> str:
        current = self.tokens.get(app_id)
        if force or current is None or current in self.expired:
            if current:
                self.expired.add(current)
            current = f"TOKEN-{uuid.uuid4().hex}"
            self.tokens[app_id] = current
        self.token_fetches[app_id] += 1
        return current

    def _token_ok(self, query: dict, wework: bool) -> dict | None:
        token = query.get("access_token")
        if token and token in self.expired:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        if not token or token not in self.tokens.values():
            return {"errcode": 40014 if wework else 40001, "errmsg": "invalid credential, access_token is invalid"}
        return None

    def answer(self, method: str, path: str, query: dict, body: Any) -> tuple[int, dict]:
        with self.lock:
            call = Call(method, path, query, body)
            self.calls.append(call)
            result = self._answer(method, path, query, body)
            call.accepted = result[1].get("errcode", 0) == 0
            if call.accepted and path == "/cgi-bin/message/send":
                call.duplicate = self._duplicate(body)
            return result

    def _duplicate(self, body: Any) -> bool:
        if not isinstance(body, dict) or body.get("enable_duplicate_check") != 1:
            return False
        key = json.dumps(body, sort_keys=True, ensure_ascii=False)
        interval = float(body.get("duplicate_check_interval") or 1800)
        clock = time.monotonic()
        first = self.seen.get(key)
        if first is not None and clock - first < interval:
            return True
        self.seen[key] = clock
        return False

    def _answer(self, method: str, path: str, query: dict, body: Any) -> tuple[int, dict]:
        if path == "/cgi-bin/stable_token" and method == "POST":
            body = body if isinstance(body, dict) else {}
            if body.get("grant_type") != "client_credential":
                return 200, {"errcode": 40002, "errmsg": "invalid grant_type"}
            if self.accounts.get(body.get("appid")) != body.get("secret"):
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            return 200, {"access_token": self._issue(body["appid"], bool(body.get("force_refresh"))),
                         "expires_in": 7200}
        if path == "/cgi-bin/gettoken" and method == "GET":
            if self.accounts.get(query.get("corpid")) != query.get("corpsecret"):
                return 200, {"errcode": 40001, "errmsg": "invalid secret"}
            return 200, {"errcode": 0, "errmsg": "ok",
                         "access_token": self._issue(query["corpid"], False), "expires_in": 7200}
        if path == "/sns/jscode2session" and method == "GET":
            if self.accounts.get(query.get("appid")) != query.get("secret"):
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            code = query.get("js_code")
            if code in self.used_codes:
                return 200, {"errcode": 40163, "errmsg": "code been used"}
            if code not in self.sessions:
                return 200, {"errcode": 40029, "errmsg": "invalid code"}
            self.used_codes.add(code)
            return 200, dict(self.sessions[code])
        if path == "/cgi-bin/webhook/send" and method == "POST":
            key = query.get("key") or ""
            window = self.webhook_sends[key]
            clock = self.now()
            while window and clock - window[0] > 60:
                window.popleft()
            if len(window) >= self.WEBHOOK_LIMIT:
                return 200, {"errcode": 45009, "errmsg": "api freq out of limit"}
            scripted = self._scripted(path)
            if scripted is not None:
                return 200, scripted
            if not _text_ok(body):
                return 200, {"errcode": 44004, "errmsg": "empty content"}
            window.append(clock)
            return 200, {"errcode": 0, "errmsg": "ok"}
        if path == "/wxa/business/getuserphonenumber" and method == "POST":
            return 200, self._phone(query, body)
        if path == "/cgi-bin/aibot/response" and method == "POST":
            code = query.get("response_code") or ""
            if code in self.used_response_codes:
                return 200, {"errcode": 40058, "errmsg": "response_code already used"}
            self.used_response_codes.add(code)
            return 200, self._scripted(path) or {"errcode": 0, "errmsg": "ok"}
        if path in ("/cgi-bin/message/custom/send", "/cgi-bin/message/send", "/cgi-bin/appchat/send") \
                and method == "POST":
            problem = self._token_ok(query, wework=path != "/cgi-bin/message/custom/send")
            if problem:
                return 200, problem
            scripted = self._scripted(path)
            if scripted is not None:
                return 200, scripted
            if not _text_ok(body):
                return 200, {"errcode": 44004, "errmsg": "empty content"}
            if path == "/cgi-bin/message/send":
                return 200, {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": uuid.uuid4().hex}
            return 200, {"errcode": 0, "errmsg": "ok"}
        return 404, {"errcode": 404, "errmsg": f"fake has no {method} {path}"}

    def _phone(self, query: dict, body: Any) -> dict:
        problem = self._token_ok(query, wework=False)
        if problem:
            return problem
        scripted = self._scripted("/wxa/business/getuserphonenumber")
        if scripted is not None:
            return scripted
        code = body.get("code") if isinstance(body, dict) else None
        if code in self.used_codes or code not in self.phone_codes:
            return {"errcode": 40029, "errmsg": "invalid code"}
        self.used_codes.add(code)
        phone = self.phone_codes[code]
        app_id = next((a for a, t in self.tokens.items() if t == query.get("access_token")), "")
        return {"errcode": 0, "errmsg": "ok", "phone_info": {
            "phoneNumber": phone, "purePhoneNumber": phone, "countryCode": "86",
            "watermark": {"timestamp": int(time.time()), "appid": app_id}}}

    def _scripted(self, path: str) -> dict | None:
        queue = self.scripted.get(path)
        return queue.popleft() if queue else None


def _text_ok(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    for key in ("text", "markdown"):
        part = body.get(key)
        if isinstance(part, dict) and isinstance(part.get("content"), str) and part["content"]:
            return True
    return False
