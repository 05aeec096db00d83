"""How long the reply-clock sweep takes with 10,000 open clocks (target: < 100 ms on PostgreSQL).

    .venv/bin/python bench/sla_sweep.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/linli_h5 --redis-url redis://127.0.0.1:6379/5

Everything happens in a scratch PostgreSQL schema (``linli_bench_sla``, dropped
and recreated; the database's other schemas are untouched). The data: 10,000
open clocks started during the last hour (``--due`` of them owing an alert
now), plus 100,000 answered clocks of the past months, as a community's
history would have them. Measured, each as the median of ``--runs`` runs:

1. the sweep's query (``app.handlers.sla.due_clock_ids``) with its partial index;
2. the whole ``sweep()`` in the steady state (nothing owed), as run every 30 s;
3. one ``sweep()`` that fires the owed alerts (recorded, claimed and handed to
   the outbox; the send jobs go to --redis-url, which is flushed at the end);
4. baselines in the same run: the same query after dropping the partial index,
   and the "scan the open tickets" query helpdesks run (open and past due).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCHEMA = "linli_bench_sla"
SECTION = "## SLA sweep"


def timed(fn, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="postgresql://… (a scratch schema is used)")
    parser.add_argument("--redis-url", required=True, help="redis://… for the send jobs of fired alerts")
    parser.add_argument("--open", type=int, default=10_000, help="open clocks (default 10000)")
    parser.add_argument("--closed", type=int, default=100_000, help="answered clocks (default 100000)")
    parser.add_argument("--due", type=int, default=50, help="open clocks owing an alert now (default 50)")
    parser.add_argument("--runs", type=int, default=50, help="runs per measurement (default 50)")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        parser.error("--database-url must be a PostgreSQL URL (the target is measured on PostgreSQL)")

    from sqlalchemy import create_engine, insert, select, text

    import app.models  # noqa: F401
    from app.models.base import Base

    base_url = args.database_url.replace("postgres://", "postgresql://", 1)
    if base_url.startswith("postgresql://"):
        base_url = "postgresql+psycopg://" + base_url[len("postgresql://"):]
    admin_engine = create_engine(base_url)
    with admin_engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    admin_engine.dispose()
    separator = "&" if "?" in base_url else "?"
    url = f"{base_url}{separator}options={quote(f'-csearch_path={SCHEMA}')}"

    from app import create_app
    from app.extensions import db, redis_ext
    from app.handlers import sla
    from app.models import Community, Street
    from app.models.sla import ReplyClock

    application = create_app("development", overrides={"DATABASE_URL": url, "REDIS_URL": args.redis_url,
                                                       "LOG_LEVEL": "WARNING"})
    with application.app_context():
        Base.metadata.create_all(db.engine)
        street = Street(name="基准街道")
        db.session.add(street)
        db.session.flush()
        community = Community(street_id=street.id, name="基准社区")
        db.session.add(community)
        db.session.commit()

        now = datetime.now(timezone.utc)
        hour, warn = timedelta(hours=1), timedelta(minutes=15)
        rows = []
        for i in range(args.open):
            if i < args.due:
                started = now - hour - timedelta(seconds=1 + i)           # past due: owes the breach
            else:
                started = now - timedelta(seconds=(i * 2879) % 2640 + 1)  # inside the first 44 minutes
            rows.append({"community_id": community.id, "started_at": started, "warn_at": started + hour - warn,
                         "due_at": started + hour, "next_alert_at": started + hour - warn, "created_at": started})
        for i in range(args.closed):
            started = now - timedelta(days=1 + i % 180, seconds=i)
            rows.append({"community_id": community.id, "started_at": started, "warn_at": started + hour - warn,
                         "due_at": started + hour, "next_alert_at": None, "stopped_at": started + timedelta(minutes=9),
                         "created_at": started})
        for chunk in range(0, len(rows), 5000):
            db.session.execute(insert(ReplyClock), rows[chunk:chunk + 5000])
        db.session.commit()
        db.session.execute(text("ANALYZE reply_clock"))
        db.session.commit()

        owed = len(sla.due_clock_ids(now + timedelta(seconds=1)))
        plan = "\n".join(r[0] for r in db.session.execute(text(
            "EXPLAIN ANALYZE SELECT id FROM reply_clock WHERE next_alert_at <= now() "
            "ORDER BY next_alert_at LIMIT 500")))
        query_ms = timed(lambda: sla.due_clock_ids(datetime.now(timezone.utc)), args.runs)

        start = time.perf_counter()
        fired = sla.sweep()
        firing_ms = (time.perf_counter() - start) * 1000
        steady_ms = timed(lambda: sla.sweep(), args.runs)

        def helpdesk_scan():
            at = datetime.now(timezone.utc)
            return db.session.scalars(select(ReplyClock.id).where(
                ReplyClock.stopped_at.is_(None), ReplyClock.breached_at.is_(None),
                ReplyClock.warn_at <= at)).all()

        db.session.execute(text("DROP INDEX ix_reply_clock_next_alert"))
        db.session.execute(text("ANALYZE reply_clock"))
        db.session.commit()
        no_index_ms = timed(lambda: sla.due_clock_ids(datetime.now(timezone.utc)), args.runs)
        scan_ms = timed(helpdesk_scan, args.runs)
        db.session.remove()
        redis_ext.client_for(application).flushdb()

    with create_engine(base_url).begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))

    print(f"{SECTION}\n")
    print(f"{args.open:,} open clocks ({owed} owing an alert), {args.closed:,} answered; median (p95) of "
          f"{args.runs} runs.\n")
    print("| measurement | ms | vs. the indexed query |")
    print("|---|---|---|")
    print(f"| sweep query, partial index `ix_reply_clock_next_alert` | {query_ms[0]:.2f} ({query_ms[1]:.2f}) | 1.0 |")
    print(f"| whole `sweep()`, nothing owed (every 30 s) | {steady_ms[0]:.2f} ({steady_ms[1]:.2f}) | "
          f"{steady_ms[0] / query_ms[0]:.1f} |")
    print(f"| one `sweep()` firing {fired['breached']} breach alerts | {firing_ms:.1f} | "
          f"{firing_ms / query_ms[0]:.0f} |")
    print(f"| baseline: same query without the index | {no_index_ms[0]:.2f} ({no_index_ms[1]:.2f}) | "
          f"{no_index_ms[0] / query_ms[0]:.1f} |")
    print(f"| baseline: scan open clocks past their warning (helpdesk style) | {scan_ms[0]:.2f} ({scan_ms[1]:.2f}) | "
          f"{scan_ms[0] / query_ms[0]:.1f} |")
    print("\nPlan of the sweep query:\n\n```\n" + plan + "\n```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
