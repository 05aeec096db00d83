"""Several nodes on one PostgreSQL and one Redis: exactly once still holds (issue 13, "Several nodes").

    .venv/bin/python bench/multinode.py [--messages 300] [--seconds 30] [--connections 8] [--clocks 8]

One command starts, on loopback: a private PostgreSQL (fsync on) and redis-server (tests/support/faults.py),
the fake WeChat/WeCom API of the tests (tests/support/fake_wechat.py), then with LINLI_ENV=production
settings (docs/reliability.md, README "生产部署"): 2 gunicorn processes on different ports (the README's
command: `gunicorn -c python:app.gunicorn_conf --workers 2 …`), 4 `linli worker` and 1 `linli cron` (with
the alert timer inside it).

(a) Load test. ``--messages`` signed WeChat text messages (bench/wechat_load.py's builder: own MsgId,
nonce and text each) are delivered to **both** nodes: wrk against each port at the same time, each serving
every message round-robin, then one more pass posting every message to both ports at the same moment (so each
message has reached both nodes, whatever wrk's timing, and its two copies raced). Checks: every MsgId stored exactly once, handled (its
``handling`` set), and handled once — at most one request or follow-up per message, at most one reply
queued for it, at most one customer-service send of each reply at the fake WeChat.

(b) Alert test. ``--clocks`` residents' group messages arrive through the signed ingest API, each posted to
both nodes; each opens a request with its reply clock (LINLI_REPLY_SLA_SECONDS=6, warning at 3 s) that
then falls due while the 4 workers and cron run. Checks: every recipient (3 on duty for the warning, the
same 3 and 2 admins for the breach alert) got each alert exactly once at the fake WeCom; latency after
the due time. Reuses bench/alert_latency.py's seeding and collection.

Exit code 0 only when every check holds. Prints a Markdown block for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Direction, Message, RequestEvent, ServiceRequest  # noqa: E402
from bench import alert_latency, wechat_load  # noqa: E402
from tests.support.fake_wechat import FakeWeChat  # noqa: E402
from tests.support.faults import PostgresServer, RedisServer, spare_port  # noqa: E402
from tests.support.fixtures import CREDENTIALS  # noqa: E402

WORKERS = 4
CUSTOM_SEND = "/cgi-bin/message/custom/send"


class Node:
    """An HTTP client of one gunicorn node, with the Flask test client's ``post`` shape."""

    class Answer:
        def __init__(self, status: int, body: bytes):
            self.status_code, self.data = status, body

        def get_json(self):
            return json.loads(self.data or b"null")

    def __init__(self, port: int):
        self.port = port

    def post(self, path: str, data: bytes, content_type: str, headers: dict | None = None) -> "Node.Answer":
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", path, body=data, headers={"Content-Type": content_type, **(headers or {})})
            answer = conn.getresponse()
            return Node.Answer(answer.status, answer.read())
        finally:
            conn.close()


class Both:
    """Posts each call to every node at the same time (a redelivery landing on the other node while the first
    copy is handled); answers with the first failure, else with the sum of what the nodes stored."""

    def __init__(self, nodes: list[Node]):
        self.nodes = nodes

    def post(self, *args, **kwargs) -> Node.Answer:
        answers: list[Node.Answer] = []
        threads = [threading.Thread(target=lambda n=node: answers.append(n.post(*args, **kwargs))) for node in self.nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        failed = [a for a in answers if a.status_code != 200]
        if failed:
            return failed[0]
        stored = sum(a.get_json()["stored"] for a in answers)
        return Node.Answer(200, json.dumps({"stored": stored}).encode())


def settings(pg: PostgresServer, redis: RedisServer, fake: FakeWeChat, instance: Path) -> dict[str, str]:
    values = {**alert_latency.settings(pg.url, redis.url, fake, instance),
              "SECRET_KEY": "multinode-bench-" + "x" * 40, "WECHAT_TOKEN": wechat_load.TOKEN, "LOG_LEVEL": "WARNING"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env.update({f"LINLI_{k}": str(v) for k, v in values.items()}, LINLI_ENV="production")
    return env


def start_node(port: int, env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:app.gunicorn_conf", "--workers", "2",
                                 "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"], cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def seed_residents(app, senders: int = 500) -> None:
    """The senders of wechat_load's messages (o-bench-0 … 499) as residents of one community, so each message
    is a report that opens a request or joins the sender's open one (a follow-up)."""
    from tests import factories as f

    with app.app_context():
        community = f.community(name="多节点测试社区")
        f.building(community=community, number="3", name="3栋")
        for n in range(senders):
            f.resident(community_id=community.id, name=f"居民{n}", identities=[("mp", "openid", f"o-bench-{n}")])
        db.session.commit()


def warm(ports: list[int], run_id: int) -> None:
    """Every gunicorn worker answers once before wrk starts: a cold worker (loading the bot) would eat wrk's
    whole run. These warm-up messages are not among the ones checked."""
    requests = wechat_load.build_requests(8 * len(ports), False, run_id)
    threads = [threading.Thread(target=Node(ports[i % len(ports)]).post, args=(path, body, "text/xml"))
               for i, (path, body) in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def load_test(app, ports: list[int], args, work: Path, fake: FakeWeChat) -> dict:
    run_id = int(time.time()) % 100_000
    seed_residents(app)
    warm(ports, run_id + 1)
    requests = wechat_load.build_requests(args.messages, False, run_id)
    results: dict[int, tuple] = {}

    def drive(port: int) -> None:
        folder = work / f"wrk-{port}"
        folder.mkdir()
        results[port] = wechat_load.run_wrk(port, requests, args.connections, args.seconds, folder)

    threads = [threading.Thread(target=drive, args=(port,)) for port in ports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Every message once more to both nodes at the same moment (four messages in flight): whatever wrk
    # reached, each message has now hit both nodes, and its two copies raced each other.
    def both(request: tuple[str, bytes]) -> int:
        with ThreadPoolExecutor(len(ports)) as pair:
            answers = list(pair.map(lambda port: Node(port).post(request[0], request[1], "text/xml"), ports))
        return sum(0 if a.status_code == 200 and a.data.startswith(b"<xml>") else 1 for a in answers)

    with ThreadPoolExecutor(4) as pool:
        bad_answers = sum(pool.map(both, requests))
    time.sleep(args.settle)
    msg_ids = {path_body[1].split(b"<MsgId>")[1].split(b"</MsgId>")[0].decode() for path_body in requests}
    with app.app_context():
        stored = dict(db.session.execute(
            select(Message.channel_msg_id, func.count()).where(Message.channel == "mp", Message.direction == "in")
            .group_by(Message.channel_msg_id)).all())
        rows = {m.id: m for m in db.session.scalars(select(Message).where(
            Message.channel == "mp", Message.direction == "in", Message.channel_msg_id.in_(msg_ids)))}
        opened = dict(db.session.execute(select(ServiceRequest.message_id, func.count()).where(
            ServiceRequest.message_id.in_(rows)).group_by(ServiceRequest.message_id)).all())
        follow = {}
        for event in db.session.scalars(select(RequestEvent).where(RequestEvent.kind == "follow_up")):
            key = (event.detail or {}).get("message_id")
            follow[key] = follow.get(key, 0) + 1
        replies = dict(db.session.execute(select(Message.in_reply_to_id, func.count()).where(
            Message.direction == Direction.OUT.value, Message.in_reply_to_id.in_(rows))
            .group_by(Message.in_reply_to_id)).all())
        handled_once = sum(1 for mid, m in rows.items() if m.handling is not None and opened.get(mid, 0)
                           + follow.get(mid, 0) <= 1 and replies.get(mid, 0) <= 1)
        into_requests = sum(1 for mid in rows if opened.get(mid, 0) + follow.get(mid, 0) == 1)
        db.session.rollback()
    sends: dict[tuple, int] = {}
    for call in fake.delivered(CUSTOM_SEND):
        key = (call.body.get("touser"), call.text)
        sends[key] = sends.get(key, 0) + 1
    return {"messages": len(msg_ids), "wrk": results, "bad_answers": bad_answers,
            "stored_once": sum(1 for key in msg_ids if stored.get(key) == 1),
            "missing": sum(1 for key in msg_ids if key not in stored),
            "stored_twice": sum(1 for key in msg_ids if stored.get(key, 0) > 1),
            "handled_once": handled_once, "into_requests": into_requests, "requests": sum(opened.values()),
            "follow_ups": sum(follow.get(mid, 0) for mid in rows), "replies": sum(replies.values()),
            "sends_repeated": sum(1 for n in sends.values() if n > 1), "sends": sum(sends.values())}


def alert_test(app, nodes: list[Node], args) -> dict:
    with app.app_context():
        community, group = alert_latency.seed(1)
        community_id, chat_id = community.id, group.chat_id
        both = Both(nodes)
        for n in range(args.clocks):
            alert_latency.post(both, [{"chat_id": chat_id, "msg_id": f"multi-m{n}", "sender_id": f"res-{n}",
                                       "sender_name": "居民", "text": alert_latency.TEXTS[n % 4].format(n=n + 1)}])
            time.sleep(0.37)
        time.sleep(alert_latency.SLA)
        alert_latency.wait_settled(community_id, args.clocks * 8, timeout=120)
        time.sleep(3)  # the RQ twins and the sweep get their chance to send twice
        return alert_latency.collect(community_id, args.fake)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=300, help="distinct WeChat messages (default 300)")
    parser.add_argument("--seconds", type=float, default=30, help="wrk duration per node (default 30)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections per node (default 8)")
    parser.add_argument("--settle", type=float, default=5, help="seconds for the workers to finish (default 5)")
    parser.add_argument("--clocks", type=int, default=8, help="reply clocks falling due in the alert test")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="linli-multinode-"))
    (work / "redis").mkdir()
    # Its own folder under /tmp: PostgreSQL runs as the postgres user, who cannot enter ``work`` (0700).
    pg = PostgresServer(Path(tempfile.mkdtemp(prefix="linli-multinode-pg-")), fsync=True).start()
    redis = RedisServer(work / "redis").start()
    fake = FakeWeChat().start()
    for key in ("WEWORK", "WECHAT"):
        fake.add_account(CREDENTIALS[f"{key}_CORP_ID" if key == "WEWORK" else f"{key}_APPID"],
                         CREDENTIALS[f"{key}_SECRET"])
    args.fake = fake
    env = settings(pg, redis, fake, work / "instance")
    procs: list[subprocess.Popen] = []
    try:
        subprocess.run([sys.executable, "-m", "app.cli", "init-db"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        ports = [spare_port(), spare_port()]
        procs += [start_node(port, env, work / f"web-{port}.log") for port in ports]
        procs += [alert_latency.start("worker", env, work / f"worker-{n}.log") for n in range(WORKERS)]
        procs.append(alert_latency.start("cron", env, work / "cron.log"))
        for proc, port in zip(procs, ports, strict=False):
            wechat_load.wait_ready(port, proc, timeout=180)
        app = create_app("production", overrides={k[6:]: v for k, v in env.items() if k.startswith("LINLI_")})
        with app.app_context():
            alert_latency.wait_ready("timer", timeout=180)
        load = load_test(app, ports, args, work, fake)
        alerts = alert_test(app, [Node(p) for p in ports], args)
        with app.app_context():
            version = db.session.execute(text("SHOW server_version")).scalar()
    finally:
        alert_latency.stop(procs)
        fake.stop()
        redis.kill()
        pg.remove()
    ok = report(load, alerts, args, load_start, version)
    if os.environ.get("LINLI_BENCH_KEEP"):
        print(f"logs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


def report(load: dict, alerts: dict, args, load_start: float, version: str) -> bool:
    wrk = list(load["wrk"].values())
    load_ok = (load["stored_once"] == load["messages"] and load["handled_once"] == load["messages"]
               and not load["sends_repeated"] and not load["bad_answers"])
    alert_ok = alerts["exactly_once"] == alerts["expected"] == alerts["messages"]
    latencies = sorted(alerts["latencies"])
    print(f"\nCommand: `python bench/multinode.py {' '.join(sys.argv[1:])}`".rstrip())
    print(f"\nMachine: {os.cpu_count()} CPUs, PostgreSQL {version} (fsync on) and redis-server private on loopback; "
          f"LINLI_ENV=production; 2 gunicorn nodes × 2 sync workers, {WORKERS} `linli worker`, 1 `linli cron`. "
          f"Load average (1 min) at start/end: {load_start:.1f} / {os.getloadavg()[0]:.1f}.\n")
    print("| check | result |")
    print("|---|---|")
    print(f"| (a) WeChat messages, each delivered to both nodes | {load['messages']} messages; wrk "
          + " + ".join(f"{t} req ({e} errors, {t / s:.0f} req/s, p99 {p99:.0f} ms)" for t, e, s, _p50, p99 in wrk)
          + f", then {2 * load['messages']} more (every message to both nodes at once: {load['bad_answers']} bad answers) |")
    print(f"| stored exactly once | {load['stored_once']}/{load['messages']} (missing {load['missing']}, "
          f"twice {load['stored_twice']}) |")
    print(f"| handled once | {load['handled_once']}/{load['messages']} (each opened a request or joined one exactly "
          f"once: {load['into_requests']}; {load['requests']} requests opened, "
          f"{load['follow_ups']} follow-ups, {load['replies']} replies queued; {load['sends']} customer-service sends, "
          f"{load['sends_repeated']} sent twice) |")
    print(f"| (b) alerts: {alerts['clocks']} clocks due while {WORKERS} workers + cron run, messages posted to both "
          f"nodes | {alerts['exactly_once']}/{alerts['expected']} recipient messages delivered exactly once "
          f"({alerts['messages']} outbound rows) |")
    if latencies:
        print(f"| alert latency after due time | median {statistics.median(latencies):.3f} s, max {latencies[-1]:.3f} s |")
    print(f"\nVerdict: load test {'exactly once' if load_ok else 'FAILED'}; alert test "
          f"{'exactly once' if alert_ok else 'FAILED'}.")
    return load_ok and alert_ok


if __name__ == "__main__":
    sys.exit(main())
