"""Deferred reports fully handled per second with 1, 2 and 4 `linli worker` processes (issue 13 §1).

    .venv/bin/python bench/inbound_workers.py [--messages 600] [--workers 1 2 4]

Starts a private PostgreSQL (fsync on) and redis-server (tests/support/faults.py), builds the
full app against them with the demo community, and for each worker count:

1. posts --messages new signed reports through /wechat/mp (the Flask test client, in this process;
   bench/wechat_load.py's build_requests with a new sender each, so every message is a new report),
   with RQ's workers suspended: each is answered with its number and left pending, handed to the
   finisher (app/handlers/messaging/to_finish.py: one ``inbound.finish`` job queued for the batch; a
   job that meets a backlog queues one more, so several workers share it);
2. starts that many `python -m app.cli worker` processes, waits until all are registered, and resumes;
3. polls the database until no message is pending. The rate is the messages finished between the first
   poll that saw one finished and the last one, over that time (a worker's start-up and RQ's one-second
   suspension poll are outside it). "Fully handled" = the request, its timeline, its 督办 job and its
   reply clock with its alerts scheduled (what the callback no longer does), exactly once: the script
   checks one request per message, with the code the passive reply named.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from wechat_load import AES_KEY, APPID, TOKEN, build_requests  # noqa: E402

CODE = re.compile(rb"R\d{8}-\d{4,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600, help="new reports per worker count")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()

    from rq import Worker
    from rq.suspension import resume, suspend
    from sqlalchemy import func, select

    from tests.support.faults import PostgresServer, RedisServer

    load_start = os.getloadavg()[0]
    pg = PostgresServer(Path(tempfile.mkdtemp(prefix="linli-pg-")), fsync=True).start()
    redis_server = RedisServer(Path(tempfile.mkdtemp(prefix="linli-redis-"))).start()
    instance = tempfile.mkdtemp(prefix="linli-iw-")
    procs: list[subprocess.Popen] = []
    rows = []
    try:
        pg.create_schema()
        from app import create_app
        from app.extensions import db, redis_ext
        from app.models import Message
        from app.models.requests import ServiceRequest
        settings = {"DATABASE_URL": pg.url, "REDIS_URL": redis_server.url, "REDIS_EMBEDDED": False,
                    "INSTANCE_PATH": instance, "WECHAT_TOKEN": TOKEN, "WECHAT_AES_KEY": AES_KEY,
                    "WECHAT_APPID": APPID, "INBOUND_DEFER_REPORTS": True}
        app = create_app("development", settings)
        env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
        env.update({"LINLI_ENV": "development", "LINLI_DATABASE_URL": pg.url, "LINLI_REDIS_URL": redis_server.url,
                    "LINLI_INSTANCE_PATH": instance, "LINLI_LOG_LEVEL": "WARNING"})
        with app.app_context():
            from app.handlers.demo import seed_demo
            seed_demo()
            connection = redis_ext.client
            client = app.test_client()
            for run, count in enumerate(args.workers, start=1):
                suspend(connection)
                codes = []
                for path, body in build_requests(args.messages, False, 1000 + run, senders=10 ** 9):
                    response = client.post(path, data=body, content_type="text/xml")
                    found = CODE.search(response.data)
                    if response.status_code != 200 or found is None:
                        raise SystemExit(f"no number in the reply: {response.status_code} {response.data[:200]!r}")
                    codes.append(found.group().decode())
                pending = db.session.scalar(select(func.count()).where(Message.pending_at.is_not(None)))
                db.session.rollback()
                before = {w.name for w in Worker.all(connection=connection)}
                started = [subprocess.Popen([sys.executable, "-m", "app.cli", "worker", "--no-scheduler"], cwd=ROOT,
                                            env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL) for _ in range(count)]
                procs.extend(started)
                deadline = time.monotonic() + 120
                while len({w.name for w in Worker.all(connection=connection)} - before) < count:
                    if time.monotonic() > deadline:
                        raise SystemExit("workers did not register")
                    time.sleep(0.1)
                resume(connection)
                first = None
                while True:
                    left = db.session.scalar(select(func.count()).where(Message.pending_at.is_not(None)))
                    db.session.rollback()
                    at = time.perf_counter()
                    if first is None and left < pending:
                        first = (at, left)
                    if left == 0:
                        break
                    time.sleep(0.05)
                seconds = at - first[0]
                rate = first[1] / seconds if seconds > 0 else float("nan")
                made = list(db.session.scalars(select(ServiceRequest.code).where(ServiceRequest.code.in_(codes))))
                db.session.rollback()
                exact = len(made) == len(set(made)) == len(codes)
                rows.append((count, pending, first[1], seconds, rate, exact))
                print(f"{count} worker(s): {pending} pending, {first[1]} finished in {seconds:.2f} s = {rate:.1f} "
                      f"messages/s; one request per message with its number: {exact}", flush=True)
                for proc in started:
                    os.killpg(proc.pid, signal.SIGTERM)
                for proc in started:
                    proc.wait(30)
        load_end = os.getloadavg()[0]
        base = rows[0][4] if rows else 0
        print()
        print(f"Command: `python bench/inbound_workers.py {' '.join(sys.argv[1:])}`".replace("  ", " "))
        print(f"Machine: {os.cpu_count()} CPUs; load average (1 min) at start/end: {load_start:.1f} / {load_end:.1f}")
        print()
        print("| `linli worker` processes | reports finished | seconds | messages/s | vs 1 worker | one request each, "
              "with its number |")
        print("|---:|---:|---:|---:|---:|---|")
        for count, _, finished, seconds, rate, exact in rows:
            print(f"| {count} | {finished} | {seconds:.2f} | {rate:.1f} | {rate / base:.2f}× | "
                  f"{'yes' if exact else 'NO'} |")
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        redis_server.kill()
        pg.remove()


if __name__ == "__main__":
    main()
