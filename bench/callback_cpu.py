"""CPU per request of /wechat/mp under wrk, split by process: the app (gunicorn), PostgreSQL, Redis.

    .venv/bin/python bench/callback_cpu.py [--also GIT_REF] [--concurrency 16] [--seconds 10]

For this tree (and, with --also, the tree of a git ref, exported with git archive) in turn:
a private PostgreSQL (fsync on) and redis-server, the demo community, gunicorn with 2 sync
workers on linli's wsgi:app, a warm-up, then wrk (bench/wechat_load.py's pre-built signed
messages, every one a new resident's new report) for --seconds. User + system CPU of each
process tree over the wrk run (/proc), divided by the requests served: on a shared machine a
steadier figure than requests/s, and it says which process the time goes to.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import wechat_load as w  # noqa: E402


def measure(tree: Path, args, tmp: Path) -> dict:
    from tests.support.faults import PostgresServer, RedisServer
    pg = PostgresServer(Path(tempfile.mkdtemp(prefix="linli-pg-")), fsync=True).start()
    redis_server = RedisServer(Path(tempfile.mkdtemp(prefix="linli-redis-"))).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env.update({"LINLI_ENV": "development", "LINLI_INSTANCE_PATH": str(tmp / "instance"), "LINLI_LOG_LEVEL": "WARNING",
                "LINLI_WECHAT_TOKEN": w.TOKEN, "LINLI_WECHAT_AES_KEY": w.AES_KEY, "LINLI_WECHAT_APPID": w.APPID,
                "PYTHONPATH": str(tree), "LINLI_DATABASE_URL": pg.url, "LINLI_REDIS_URL": redis_server.url})
    proc = None
    try:
        w.prepare_database(env)
        port = w.free_port()
        proc = w.gunicorn("wsgi:app", port, args.workers, env, tree)
        w.wait_ready(port, proc)
        w.run_load(port, w.build_requests(args.warmup, False, 1, args.senders), 4, 120)
        parts = {"app (gunicorn)": [proc.pid], "PostgreSQL": [pg.proc.pid], "Redis": [redis_server.proc.pid]}
        before = {name: w.tree_cpu(pids) for name, pids in parts.items()}
        total, errors, seconds, p50, p99 = w.run_wrk(port, w.build_requests(args.requests, False, 2, args.senders),
                                                     args.concurrency, args.seconds, tmp)
        cpu = {name: 1000 * (w.tree_cpu(pids) - before[name]) / max(total, 1) for name, pids in parts.items()}
        return {"requests": total, "errors": errors, "rate": total / seconds, "p50": p50, "p99": p99, "cpu": cpu}
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        redis_server.kill()
        pg.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--also", metavar="GIT_REF", default=None, help="also measure the tree of this git ref")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--senders", type=int, default=10 ** 9, help="distinct residents (default: all new)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="linli-cpu-"))
    try:
        trees = {"this tree": ROOT}
        if args.also:
            trees[args.also] = w.export_ref(args.also, tmp)
        load = os.getloadavg()[0]
        rows = {name: measure(tree, args, tmp) for name, tree in trees.items()}
        print(f"wrk {args.concurrency} connections, {args.seconds:.0f} s, gunicorn {args.workers} workers; "
              f"load (1 min) {load:.1f} -> {os.getloadavg()[0]:.1f}")
        print("| tree | req/s | p50 (ms) | p99 (ms) | CPU per request (ms): app | PostgreSQL | Redis |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, r in rows.items():
            cpu = r["cpu"]
            print(f"| {name} | {r['rate']:.0f} | {r['p50']:.0f} | {r['p99']:.0f} | {cpu['app (gunicorn)']:.1f} "
                  f"| {cpu['PostgreSQL']:.1f} | {cpu['Redis']:.2f} |" + (f" ({r['errors']} errors)" if r["errors"] else ""))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
