"""Archiving the messages of a city: how long `linli messages archive` takes on the generated city
(bench/city_data.py, 10 million messages) and what it does to the staff's queries meanwhile.

    .venv/bin/python bench/city_archive.py --database-url postgresql://postgres@127.0.0.1:55432/city \\
        [--older-than 180] [--batch-size 2000] [--max-batches N] [--samples 100]

Uses (and keeps) the city that ``bench/city.py --keep`` generated in the same database (generates it if
missing: ~8–20 minutes). Steps: upgrade the schema (migration 0007 builds its indexes on the kept data:
timed), ``--dry-run`` (timed), the duty inbox / request list / open by deadline / board queries on random
communities with nothing else running (the baseline), the same queries in a loop while the archive
command runs as its own process, and once more after it. Each query's wall time and the bench process's
CPU time per call are reported as median / p99, with the ratio against the baseline of the same run.
The archive moves rows: a second run finds only what the first left (run bench/city.py without --keep
to generate the city again).
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.city import _engine_url, operations, percentiles, prepare  # noqa: E402
from bench.city_data import City  # noqa: E402

QUERIES = ("duty inbox", "request list, newest first", "request list, open by deadline", "board")


def timed(fns, draws, db, budget: int | None = None, until=None) -> dict[str, tuple[list, list]]:
    """Each query on each drawn community (``until``: keep cycling until it returns True)."""
    out = {name: ([], []) for name, _ in fns}
    i = 0
    while True:
        community = draws[i % len(draws)]
        for name, fn in fns:
            start, cpu = time.perf_counter(), time.process_time()
            fn(community)
            out[name][0].append((time.perf_counter() - start) * 1000)
            out[name][1].append((time.process_time() - cpu) * 1000)
            db.session.rollback()
        i += 1
        if until is None and i >= len(draws):
            return out
        if until is not None and until():
            return out


def line(name: str, wall: list, cpu: list, base: tuple | None = None) -> str:
    w, c = percentiles(wall), percentiles(cpu)
    ratio = f" | {w[2] / base[2]:.2f}×" if base else " | 1.00×"
    return f"| {name} | {len(wall)} | {w[0]:.1f} / {w[2]:.1f} | {c[0]:.1f} / {c[2]:.1f}{ratio} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="postgresql://… of a server of your own")
    parser.add_argument("--older-than", type=int, default=180, help="days (default 180)")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--max-batches", type=int, default=None)
    parser.add_argument("--samples", type=int, default=100, help="random communities per query (default 100)")
    args = parser.parse_args()
    city = City()
    started = time.perf_counter()
    url, engine = prepare(_engine_url(args.database_url), city, True)
    setup = time.perf_counter() - started
    print(f"prepare (incl. pending migrations): {setup:.0f} s", flush=True)

    from sqlalchemy import text

    from app import create_app
    from app.extensions import db

    application = create_app("development", overrides={"DATABASE_URL": url, "REDIS_URL": "redis://127.0.0.1:1/0",
                                                       "LOG_LEVEL": "ERROR"})
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env.update({"LINLI_ENV": "development", "LINLI_DATABASE_URL": url, "LINLI_REDIS_URL": "redis://127.0.0.1:1/0",
                "LINLI_LOG_LEVEL": "WARNING", "LINLI_INSTANCE_PATH": str(ROOT / "instance" / "bench-archive")})
    command = [sys.executable, "-m", "app.cli", "messages", "archive", "--older-than", f"{args.older_than}d",
               "--batch-size", str(args.batch_size)]
    if args.max_batches:
        command += ["--max-batches", str(args.max_batches)]
    rng = random.Random(11)
    draws = [rng.randint(1, city.communities) for _ in range(args.samples)]
    with application.app_context():
        fns = [(name, fn) for name, fn, kind in operations(city) if kind == "community"]
        fns = [(short, fn) for short, (_, fn) in zip(QUERIES, fns, strict=True)]
        size = lambda: db.session.execute(text(  # noqa: E731
            "SELECT (SELECT count(*) FROM message), (SELECT count(*) FROM message_archive), "
            "pg_size_pretty(pg_total_relation_size('message')), "
            "pg_size_pretty(pg_total_relation_size('message_archive'))")).one()
        before = size()
        db.session.rollback()
        print(f"before: message {before[0]:,} rows ({before[2]}), archive {before[1]:,} ({before[3]})", flush=True)
        start = time.perf_counter()
        dry = subprocess.run([*command, "--dry-run"], cwd=ROOT, env=env, capture_output=True, text=True)
        dry_seconds = time.perf_counter() - start
        print(f"dry run ({dry_seconds:.1f} s): {dry.stdout.strip()} {dry.stderr.strip()}", flush=True)
        timed(fns, draws[:5], db)  # warm
        baseline = timed(fns, draws, db)
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        during = timed(fns, draws, db, until=lambda: proc.poll() is not None)
        output = proc.communicate()[0]
        seconds = time.perf_counter() - start
        after_rows = size()
        db.session.rollback()
        after = timed(fns, draws, db)
    moved = after_rows[1] - before[1]
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    load = os.getloadavg()
    print()
    print(f"City: {city.communities:,} communities, {before[0]:,} messages ({before[2]}). Archive "
          f"`--older-than {args.older_than}d --batch-size {args.batch_size}`: **{moved:,} rows in {seconds:.0f} s "
          f"({moved / seconds:,.0f} rows/s)**, exit {proc.returncode} ({summary}); afterwards message "
          f"{after_rows[0]:,} rows ({after_rows[2]}), message_archive {after_rows[1]:,} ({after_rows[3]}). "
          f"Dry run {dry_seconds:.0f} s. Setup incl. pending migrations {setup:.0f} s. Load average "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; measured {datetime.now():%Y-%m-%d %H:%M}.")
    print()
    print("| query | phase | calls | wall ms, median / p99 | client CPU ms, median / p99 | p99 wall vs before |")
    print("|---|---|---:|---:|---:|---:|")
    for name in QUERIES:
        base = percentiles(baseline[name][0])
        for phase, data in (("before", baseline), ("while archiving", during), ("after", after)):
            row = line(name, *data[name], None if phase == "before" else base)
            print(row.replace(f"| {name} |", f"| {name} | {phase} |", 1))
    return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
