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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--aes", action="store_true")
    parser.add_argument("--empty", action="store_true", help="no demo community (the reply: 'no community')")
    parser.add_argument("--profile", action="store_true", help="cProfile the measured messages (top 30)")
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
            "WECHAT_AES_KEY": AES_KEY, "WECHAT_APPID": APPID})
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

        @event.listens_for(engine, "commit")
        def _commit(conn):
            counts["sql:COMMIT"] += 1

        @event.listens_for(engine, "begin")
        def _begin(conn):
            counts["sql:BEGIN"] += 1

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
        for path, body in build_requests(args.messages, args.aes, 1):
            client.post(path, data=body, content_type="text/xml")
        counts.clear()
        shapes.clear()
        before = redis_calls(redis_client)
        failures = 0
        import cProfile
        import pstats
        profiler = cProfile.Profile()
        if args.profile:
            profiler.enable()
        for path, body in build_requests(args.messages, args.aes, 2):
            response = client.post(path, data=body, content_type="text/xml")
            failures += response.status_code != 200 or not response.data.startswith(b"<xml>")
        profiler.disable()
        if args.profile:
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        redis_used = redis_calls(redis_client) - before
        redis_used.pop("info", None)
        n = args.messages
        sql = {k[4:]: v / n for k, v in sorted(counts.items()) if k.startswith("sql:")}
        # psycopg 3 sends BEGIN as a command of its own before a transaction's first statement, and
        # waits for it: a round trip like the statements, COMMIT and the pre-ping.
        sql_trips = sum(sql.values())
        print(f"mode {'aes' if args.aes else 'plain'}, {n} new messages after {n} warm-up, failures {failures}")
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
