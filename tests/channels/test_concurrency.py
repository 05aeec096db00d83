"""Exactly once under concurrency: the same delivery posted 3 times at once is stored once.

WeChat re-sends a delivery it got no answer for; with a slow first answer the
copies overlap. Threads share one process; the process test runs three separate
Python processes (own app, own connections) against the same database and Redis.
"""
from __future__ import annotations

import multiprocessing
import threading
import time
from urllib.parse import urlencode

from app import create_app
from tests.channels.conftest import CHANNEL_SETTINGS, WECHAT_AES_KEY, WECHAT_TOKEN, inbound_rows
from tests.support.fixtures import CREDENTIALS
from tests.support.wechat_sim import WeChatSimulator, signature


def _delivery(sim: WeChatSimulator, msg_id: int, *, aes: bool) -> tuple[str, bytes]:
    """One WeChat delivery, fixed bytes: (query string, body) — what each copy repeats."""
    # One resident per delivery: the same text from the same resident within seconds would be one
    # delivery resent with a new MsgId (tests/channels/test_faults.py).
    xml = sim.text_xml(f"o-busy-resident-{msg_id}", "楼上漏水了，急！", msg_id=msg_id, create_time=int(time.time()))
    timestamp, nonce = str(int(time.time())), f"3141{msg_id}"   # one nonce per delivery, repeated by its copies
    query = {"signature": signature(WECHAT_TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    body = xml.encode()
    if aes:
        encrypt = sim.encrypt(xml)
        query.update(encrypt_type="aes", msg_signature=signature(WECHAT_TOKEN, timestamp, nonce, encrypt))
        body = f"<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()
    return urlencode(query), body


def _slow_core(monkeypatch, delay: float = 0.3):
    from app.handlers.messaging import inbound as inbound_module
    from app.handlers.messaging.inbound import Reply
    calls = []

    def handler(message, inbound):
        calls.append(inbound.dedupe_key)
        time.sleep(delay)   # a slow first answer: WeChat's retries arrive meanwhile
        return Reply(text="已收到您的报修", handled_by="slow")

    monkeypatch.setitem(inbound_module._handler, "fn", handler)
    return calls


def test_three_simultaneous_copies_in_threads_store_one_message(app, client, monkeypatch):
    calls = _slow_core(monkeypatch)
    sim = WeChatSimulator(client, token=WECHAT_TOKEN, aes_key=WECHAT_AES_KEY, appid=CREDENTIALS["WECHAT_APPID"])
    for msg_id, aes in ((91001, False), (91002, True)):
        query, body = _delivery(sim, msg_id, aes=aes)
        barrier = threading.Barrier(3)
        responses = []

        def post(barrier=barrier, responses=responses, query=query, body=body):
            own = app.test_client()
            barrier.wait()
            responses.append(own.post(f"/wechat/mp?{query}", data=body, content_type="text/xml"))

        threads = [threading.Thread(target=post) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [r.status_code for r in responses] == [200, 200, 200], [r.data for r in responses]
        # the first gets the answer; copies get the same answer or an empty success
        answered = [r for r in responses if r.data != b"success"]
        assert answered, "someone must get the passive reply"
    rows = inbound_rows()
    assert [r.channel_msg_id for r in rows] == ["91001", "91002"]
    assert len(calls) == 2    # each delivery handled once


def _post_in_process(settings: dict, query: str, body: bytes, barrier, results) -> None:
    app = create_app("test", overrides=settings)
    client = app.test_client()
    barrier.wait()
    response = client.post(f"/wechat/mp?{query}", data=body, content_type="text/xml")
    results.put((response.status_code, response.data))


def test_three_simultaneous_copies_in_separate_processes_store_one_message(app, client, database_url, redis_url,
                                                                           tmp_path):
    sim = WeChatSimulator(client, token=WECHAT_TOKEN, aes_key=WECHAT_AES_KEY, appid=CREDENTIALS["WECHAT_APPID"])
    query, body = _delivery(sim, 92001, aes=True)
    settings = {**CHANNEL_SETTINGS, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
                "INSTANCE_PATH": str(tmp_path / "procs")}
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(3), context.Queue()
    processes = [context.Process(target=_post_in_process, args=(settings, query, body, barrier, results))
                 for _ in range(3)]
    for p in processes:
        p.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for p in processes:
        p.join(timeout=60)
    assert [status for status, _ in outcomes] == [200, 200, 200]
    [row] = inbound_rows()
    assert row.channel_msg_id == "92001" and row.text == "楼上漏水了，急！"
