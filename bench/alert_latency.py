"""How late do reply-clock alerts reach WeCom? End to end, through the API, with real worker processes.

    .venv/bin/python bench/alert_latency.py [--clocks 8] [--rounds 2] [--database-url URL]

Each round: residents' messages arrive through the signed group-ingest API (POST /ingest/group-messages,
the bot turns each into a request with its one-hour clock, here shortened to LINLI_REPLY_SLA_SECONDS=6
with the warning at 3 s); the warnings go to the 3 staff on duty, the breach alerts to them and the
2 community admins; a fake WeCom API on loopback (tests/support/fake_wechat.py) records when each
message arrives. Latency = arrival at WeCom − the alert's due time, for every recipient's message.

Modes, alternated round by round in one run:
  baseline  `linli worker` alone: RQ's scheduler (whole seconds, polled every second), one send job
            per recipient run one after another — the path before the timer;
  timer     `linli worker` + `linli timer`: the alert runs at its due time and its messages are sent
            side by side.

Private Redis (redis-server on a spare port) and, by default, a SQLite file; --database-url runs it on
a PostgreSQL database (it is emptied). Prints a Markdown table (--write-docs: nothing is written; paste
it into docs/benchmarks.md).
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from app import create_app, jobs  # noqa: E402
from app.extensions import db, redis_ext  # noqa: E402
from app.models import Direction, Message  # noqa: E402
from app.models.sla import ReplyClock  # noqa: E402
from tests import factories as f  # noqa: E402
from tests.support.fake_wechat import FakeWeChat  # noqa: E402
from tests.support.fixtures import CREDENTIALS  # noqa: E402

SLA, WARN = 6, 3
SECRET = "bench-ingest-secret"
SEND = "/cgi-bin/message/send"
TEXTS = ["{n}号楼2单元楼道灯坏了，晚上看不见", "{n}号楼门口的下水道堵了，污水冒出来", "{n}号楼电梯又停了，老人下不了楼",
         "{n}号楼楼顶漏水，家里墙都湿了"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    import redis
    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            return proc, url
        except redis.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def settings(database_url: str, redis_url: str, fake: FakeWeChat, instance: Path) -> dict:
    return {**CREDENTIALS, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(instance),
            "REPLY_SLA_SECONDS": SLA, "REPLY_WARN_SECONDS": WARN, "INGEST_SECRET": SECRET,
            "WECHAT_API_BASE": fake.base_url, "WEWORK_API_BASE": fake.base_url, "LOG_LEVEL": "INFO"}


def start(command: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "app.cli", command], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)


def seed(round_no: int):
    community = f.community(name=f"测速社区{round_no}")
    group = f.group(community=community, name="1号楼居民群", channel="group", chat_id=f"bench-chat-{round_no}")
    now = datetime.now(timezone.utc)
    for n, name in enumerate(["张值班", "李值班", "赵值班"]):
        staff = f.staff(roles=("duty",), community=community, name=name, wework_userid=f"duty{n}-r{round_no}")
        f.shift(staff, now - timedelta(hours=1), now + timedelta(hours=2), is_lead=n == 0)
    for n, name in enumerate(["王书记", "陈主任"]):
        f.staff(roles=("community_admin",), community=community, name=name, wework_userid=f"admin{n}-r{round_no}")
    db.session.commit()
    return community, group


def post(client, entries: list[dict]) -> None:
    body = json.dumps({"messages": entries}, ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    signature = "sha256=" + hmac.new(SECRET.encode(), stamp.encode() + body, hashlib.sha256).hexdigest()
    answer = client.post("/ingest/group-messages", data=body, content_type="application/json",
                         headers={"X-Linli-Timestamp": stamp, "X-Linli-Signature": signature})
    assert answer.status_code == 200 and answer.get_json()["stored"] == len(entries), answer.get_json()


def wait_ready(mode: str, timeout: float = 120) -> None:
    """The worker registered (and its scheduler holds the SLA lock); the timer subscribed to its wake-ups."""
    from rq import Worker
    connection = redis_ext.client
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = Worker.all(connection=connection)
        scheduler = connection.exists("rq:scheduler-lock:sla")
        timer = dict(connection.pubsub_numsub(jobs.TIMER_WAKE)).get(jobs.TIMER_WAKE.encode(), 0)
        if workers and scheduler and (mode != "timer" or timer):
            time.sleep(1)
            return
        time.sleep(0.2)
    raise SystemExit(f"{mode}: processes did not get ready in {timeout} s")


def one_round(app, client, fake, env, logs: Path, mode: str, round_no: int, clocks: int) -> dict:
    redis_ext.client.delete(jobs.TIMER_DUE, jobs.TIMER_JOBS)
    community, group = seed(round_no)
    procs = [start("worker", env, logs / f"{mode}-{round_no}-worker.log")]
    if mode == "timer":
        procs.append(start("timer", env, logs / f"{mode}-{round_no}-timer.log"))
    wait_ready(mode)
    try:
        for n in range(clocks):
            post(client, [{"chat_id": group.chat_id, "msg_id": f"r{round_no}-m{n}", "sender_id": f"res-{n}",
                           "sender_name": "居民", "text": TEXTS[n % len(TEXTS)].format(n=n + 1)}])
            time.sleep(0.37)  # spread the due times over the second
        time.sleep(SLA)
        wait_settled(community.id, clocks * 8, timeout=120)
    finally:
        stop(procs)
    return collect(community.id, fake)


def wait_settled(community_id: int, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        rows = db.session.scalars(select(Message.status).where(Message.community_id == community_id,
                                                               Message.dedupe_key.like("alert:%"))).all()
        db.session.rollback()
        if len(rows) >= expected and all(status == "sent" for status in rows):
            time.sleep(2)  # the RQ twins of the timer's jobs run a second or two later: let them show up
            return
        time.sleep(0.5)
    print(f"warning: not all {expected} alert messages were sent within {timeout} s", file=sys.stderr)


def collect(community_id: int, fake: FakeWeChat) -> dict:
    db.session.expire_all()
    clocks = {c.id: c for c in db.session.scalars(select(ReplyClock).where(ReplyClock.community_id == community_id))}
    rows = db.session.scalars(select(Message).where(Message.direction == Direction.OUT.value,
                                                    Message.community_id == community_id,
                                                    Message.dedupe_key.like("alert:%"))).all()
    delivered = fake.delivered(SEND)
    latencies, copies = [], []
    for row in rows:
        clock_id, kind = row.dedupe_key.split(":")[1:3]
        clock = clocks[int(clock_id)]
        due = clock.warn_at if kind == "warn" else clock.due_at
        calls = [c for c in delivered if c.body.get("touser") == row.recipient_id and c.text == row.text]
        copies.append(len(calls))
        if calls:
            latencies.append(calls[0].wall - due.timestamp())
    expected = len(clocks) * (3 + 5)
    return {"latencies": latencies, "messages": len(rows), "expected": expected,
            "exactly_once": sum(1 for c in copies if c == 1), "clocks": len(clocks)}


def summary(results: list[dict]) -> dict:
    latencies = sorted(x for r in results for x in r["latencies"])
    return {"n": len(latencies), "expected": sum(r["expected"] for r in results),
            "once": sum(r["exactly_once"] for r in results), "median": statistics.median(latencies),
            "p95": latencies[int(0.95 * (len(latencies) - 1))], "max": latencies[-1], "min": latencies[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clocks", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="linli-alert-bench-"))
    redis_proc, redis_url = start_redis(work)
    fake = FakeWeChat().start()
    for app_id, secret in ((CREDENTIALS["WEWORK_CORP_ID"], CREDENTIALS["WEWORK_SECRET"]),
                           (CREDENTIALS["WECHAT_APPID"], CREDENTIALS["WECHAT_SECRET"])):
        fake.add_account(app_id, secret)
    database_url = args.database_url or f"sqlite:///{work / 'linli.db'}"
    values = settings(database_url, redis_url, fake, work / "instance")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env.update({f"LINLI_{k}": str(v) for k, v in values.items()}, LINLI_ENV="development")
    subprocess.run([sys.executable, "-m", "app.cli", "init-db"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    app = create_app("test", overrides=values)
    results: dict[str, list[dict]] = {"baseline": [], "timer": []}
    try:
        with app.app_context():
            client = app.test_client()
            round_no = 0
            for _ in range(args.rounds):
                for mode in ("baseline", "timer"):
                    round_no += 1
                    results[mode].append(one_round(app, client, fake, env, work, mode, round_no, args.clocks))
                    print(f"round {round_no} {mode}: {summary(results[mode][-1:])}", file=sys.stderr)
    finally:
        fake.stop()
        redis_proc.terminate()
    report(results, args, database_url)
    if not os.environ.get("LINLI_BENCH_KEEP"):
        shutil.rmtree(work, ignore_errors=True)


def report(results: dict, args, database_url: str) -> None:
    base, timer = summary(results["baseline"]), summary(results["timer"])
    storage = "PostgreSQL" if database_url.startswith("postgres") else "SQLite file"
    print(f"{args.rounds} round(s) per mode, {args.clocks} clocks per round, 3 warning + 5 breach recipients per "
          f"clock; {storage}, private redis-server; {os.cpu_count()} CPUs.\n")
    print("| path | messages | delivered exactly once | median (s) | p95 (s) | max (s) | median vs baseline |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, row in (("baseline: RQ scheduler + one send job per recipient", base),
                      ("timer: `linli timer`, recipients in parallel", timer)):
        print(f"| {name} | {row['n']}/{row['expected']} | {row['once']} | {row['median']:.3f} | {row['p95']:.3f} "
              f"| {row['max']:.3f} | {row['median'] / base['median']:.2f}× |")
    print(f"\nearliest: baseline {base['min']:+.3f} s, timer {timer['min']:+.3f} s (negative would be early)")


if __name__ == "__main__":
    main()
