"""Round trips per new message on /wechat/mp: PostgreSQL statements, commits, pool pings and Redis commands.

    .venv/bin/python bench/callback_roundtrips.py [--messages 200] [--aes]

Starts a private PostgreSQL and redis-server (tests/support/faults.py), builds
the full app (wsgi's create_app) against them, posts --messages new signed text
messages (bench/wechat_load.py's build_requests: 500 senders, "3栋2单元楼道灯坏了 #n")
through the Flask test client after a warm-up of the same size, and counts per
message what went to the database (SQLAlchemy's cursor events, commits and the
pool's pre-ping) and to Redis (the server's own INFO commandstats, before/after).
Counts, not timings: they do not depend on the machine's load.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from wechat_load import AES_KEY, APPID, TOKEN, build_requests  # noqa: E402


def redis_calls(client) -> Counter:
    stats = client.info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()})


# (label, file fragment, function): cumulative time of these frames, outermost call only.
PROFILE_PARTS = [
    ("all: the callback (Flask test client post)", "werkzeug/test.py", "post"),
    ("waiting for PostgreSQL (psycopg wait)", "psycopg/", "wait"),
    ("PostgreSQL statements (SQLAlchemy execute)", "sqlalchemy/engine/base.py", "_execute_context"),
    ("Redis commands (redis-py execute)", "redis/", "execute_command"),
    ("Redis pipelines (redis-py)", "redis/client.py", "execute"),
    ("the bot (Bot.understand)", "app/bot/", "understand"),
    ("the router (handle_message)", "app/handlers/conversation/router.py", "handle_message"),
    ("creating the request (create_request)", "app/handlers/requests/intake.py", "create_request"),
    ("enqueueing the job (rq enqueue)", "rq/queue.py", "enqueue"),
    ("signature, decryption, XML (wechat_mp._decode_delivery)", "app/channels/wechat_mp.py", "_decode_delivery"),
]


def profile_summary(stats) -> dict[str, float]:
    out: dict[str, float] = {}
    for label, fragment, name in PROFILE_PARTS:
        total = 0.0
        for (filename, _, function), (_, _, _, cumulative, callers) in stats.stats.items():
            if function != name or fragment not in filename:
                continue
            # outermost calls only: skip frames whose caller is the same function (recursion, wrappers)
            total += cumulative if not any(c[2] == name and fragment in c[0] for c in callers) else 0.0
        out[label] = total
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--aes", action="store_true")
    parser.add_argument("--empty", action="store_true", help="no demo community (the reply: 'no community')")
    parser.add_argument("--profile", action="store_true", help="cProfile the measured messages (top 30)")
    parser.add_argument("--pyinstrument", metavar="HTML", default=None,
                        help="sample the measured messages with pyinstrument (a statistical profiler: it does not "
                             "inflate Python-heavy frames as cProfile does); text tree printed, HTML written here")
    parser.add_argument("--senders", type=int, default=500,
                        help="distinct residents (500: mostly follow-ups; more than 2 × --messages: all new reports)")
    parser.add_argument("--inline", action="store_true",
                        help="LINLI_INBOUND_DEFER_REPORTS off: a new report's request created in the callback")
    parser.add_argument("--verbose", action="store_true", help="also list the statements")
    args = parser.parse_args()

    from sqlalchemy import event

    from tests.support.faults import PostgresServer, RedisServer

    pg = PostgresServer(Path(tempfile.mkdtemp(prefix="linli-pg-"))).start()
    redis_server = RedisServer(Path(tempfile.mkdtemp(prefix="linli-redis-"))).start()
    try:
        pg.create_schema()
        from app import create_app
        from app.extensions import redis_ext
        app = create_app("development", {
            "DATABASE_URL": pg.url, "REDIS_URL": redis_server.url, "REDIS_EMBEDDED": False,
            "INSTANCE_PATH": tempfile.mkdtemp(prefix="linli-rt-"), "WECHAT_TOKEN": TOKEN,
            "WECHAT_AES_KEY": AES_KEY, "WECHAT_APPID": APPID, "INBOUND_DEFER_REPORTS": not args.inline})
        with app.app_context():
            if not args.empty:
                from app.handlers.demo import seed_demo
                seed_demo()
            engine = app.extensions["linli.db"]
            redis_client = redis_ext.client
        counts: Counter = Counter()
        shapes: Counter = Counter()

        @event.listens_for(engine, "before_cursor_execute")
        def _statement(conn, cursor, statement, parameters, context, executemany):
            counts["sql:" + statement.split(None, 1)[0].upper()] += 1
            if args.verbose:
                shapes[" ".join(statement.split())[:110]] += 1

        def autocommit(conn) -> bool:
            # In autocommit psycopg sends neither BEGIN nor COMMIT, though SQLAlchemy's events still fire.
            return bool(getattr(conn.connection.dbapi_connection, "autocommit", False))

        @event.listens_for(engine, "commit")
        def _commit(conn):
            counts["sql:COMMIT"] += not autocommit(conn)

        @event.listens_for(engine, "begin")
        def _begin(conn):
            counts["sql:BEGIN"] += not autocommit(conn)

        dialect = engine.dialect
        plain_ping = dialect.do_ping

        def counted_ping(dbapi_connection):
            counts["sql:PING"] += 1
            return plain_ping(dbapi_connection)

        dialect.do_ping = counted_ping
        import redis.connection
        plain_send = redis.connection.Connection.send_packed_command

        def counted_send(self, command, check_health=True):
            counts["redis:round trips"] += 1   # a pipeline sends all its commands in one packet
            return plain_send(self, command, check_health)

        redis.connection.Connection.send_packed_command = counted_send
        client = app.test_client()
        for path, body in build_requests(args.messages, args.aes, 1, args.senders):
            client.post(path, data=body, content_type="text/xml")
        counts.clear()
        shapes.clear()
        before = redis_calls(redis_client)
        failures = 0
        import cProfile
        import pstats
        profiler = cProfile.Profile()
        sampler = None
        if args.pyinstrument:
            from pyinstrument import Profiler
            sampler = Profiler(interval=0.0005)
            sampler.start()
        if args.profile:
            profiler.enable()
        import time
        wall, cpu = time.perf_counter(), time.process_time()
        for path, body in build_requests(args.messages, args.aes, 2, args.senders):
            response = client.post(path, data=body, content_type="text/xml")
            failures += response.status_code != 200 or not response.data.startswith(b"<xml>")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        profiler.disable()
        if sampler is not None:
            sampler.stop()
            print(sampler.output_text(unicode=True, color=False, show_all=False))
            Path(args.pyinstrument).write_text(sampler.output_html(), encoding="utf-8")
        if args.profile:
            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(30)
            print("where the time goes (cumulative seconds, per message in ms):")
            for label, total in profile_summary(stats).items():
                print(f"  {label:44} {total:7.2f} s  {1000 * total / args.messages:7.2f} ms")
        redis_used = redis_calls(redis_client) - before
        redis_used.pop("info", None)
        n = args.messages
        sql = {k[4:]: v / n for k, v in sorted(counts.items()) if k.startswith("sql:")}
        # psycopg 3 sends BEGIN as a command of its own before a transaction's first statement, and
        # waits for it: a round trip like the statements, COMMIT and the pre-ping.
        sql_trips = sum(sql.values())
        print(f"mode {'aes' if args.aes else 'plain'}, {n} new messages after {n} warm-up, {args.senders} senders, "
              f"{'inline' if args.inline else 'deferred'} reports, failures {failures}")
        print(f"per message in this process (Flask test client): {1000 * wall / n:.1f} ms wall, "
              f"{1000 * cpu / n:.1f} ms CPU (the build of the signed deliveries included)")
        print(f"PostgreSQL round trips per message: {sql_trips:.2f}  "
              + "  ".join(f"{k} {v:.2f}" for k, v in sql.items()))
        print(f"Redis round trips per message: {counts['redis:round trips'] / n:.2f}; "
              f"commands per message: {sum(redis_used.values()) / n:.2f}  "
              + "  ".join(f"{k} {v / n:.2f}" for k, v in sorted(redis_used.items())))
        for shape, count in shapes.most_common():
            print(f"  {count / n:5.2f}  {shape}")
        print(f"(database {urlsplit(pg.url).scheme}, redis-server {redis_server.url})")
    finally:
        redis_server.kill()
        pg.remove()


if __name__ == "__main__":
    main()
