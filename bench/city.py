"""A city on one PostgreSQL: the staff's queries with 1,000 communities and 10 million messages.

    .venv/bin/python bench/city.py --database-url postgresql://postgres@127.0.0.1:55432/city \\
        [--communities 1000 --open-requests 100000 --open-clocks 10000 --done-requests 900000 \\
         --messages 10000000] [--samples 200] [--keep [--rebuild-rollup]]

Use a PostgreSQL of your own (the data takes ~5 GB): the schema ``linli_city`` is dropped, migrated
with the project's Alembic chain and filled by ``bench/city_data.py``; ``--keep`` leaves it for the
next run (which then skips the load when the counts match). Measured on random communities (and
streets), through the handlers the pages and the API call:

- the duty inbox (``inbox.open_clocks_query``, a page of 20 with its count, as the API pages it);
- the request list (a community admin's ``requests.visible_clause``, newest first, a page of 20 with
  its count; and the console's open requests by deadline);
- the board (``reports.board.board``: its items and its 30-day rates, the one-minute cache off);
- the SLA sweep (``sla.due_clock_ids``, and a whole ``sla.sweep()`` once the owed alerts are fired);
- the dashboard's 三率 for a street over a year (the overview, communities and grids) and the whole
  dashboard of that street and year, each from the rollup (``stats.numbers``: closed days from
  ``request_day`` / ``clock_day``, today live) and directly from the requests and clocks
  (``stats.numbers_direct``), the baseline of the same run; every sampled street is checked to give
  the same figures both ways.

Before the queries the rollup of the year is built (``rollup.rebuild``, what ``linli reports rollup``
runs; timed) unless a kept city has it, and the periodic job (``rollup.refresh``) is timed once.
The community queries are also run with index scans switched off (``enable_indexscan`` etc.) as
their baseline; every SQL statement each query sent is EXPLAINed: the bench fails when a big table
(message, service_request, request_event, reply_clock, request_day, clock_day, rollup_day) is read
by a sequential scan.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.city_data import BIG_TABLES, STAFF, City, generate  # noqa: E402

SCHEMA = "linli_city"
CHECKED = (*BIG_TABLES, "request_day", "clock_day", "rollup_day")  # no sequential scan of these


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    return (statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
            ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))])


class Recorder:
    """Every statement sent while ``on``: what gets EXPLAINed."""

    def __init__(self):
        self.on, self.statements = False, []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if self.on and statement.lstrip().upper().startswith("SELECT"):
            self.statements.append((statement, parameters))


def _engine_url(database_url: str) -> str:
    url = database_url.replace("postgres://", "postgresql://", 1)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _loaded(engine, city: City) -> bool:
    from sqlalchemy import text

    with engine.connect() as conn:
        if not conn.execute(text("SELECT to_regclass('message')")).scalar():
            return False
        counts = conn.execute(text("SELECT (SELECT count(*) FROM community), (SELECT max(id) FROM message), "
                                   "(SELECT max(id) FROM service_request)")).one()
    return tuple(counts) == (city.communities, city.messages, city.requests)


def prepare(base_url: str, city: City, keep: bool):
    from sqlalchemy import create_engine, text

    url = f"{base_url}{'&' if '?' in base_url else '?'}options={quote(f'-csearch_path={SCHEMA}')}"
    engine = create_engine(url)
    from app import create_app
    from app.db_setup import upgrade

    application = create_app("development", overrides={"DATABASE_URL": url, "REDIS_URL": "redis://127.0.0.1:1/0",
                                                       "LOG_LEVEL": "WARNING"})
    if keep and _loaded(engine, city):
        print("reusing the generated city in schema", SCHEMA)
        upgrade(application)  # new migrations (indexes) build on the kept data
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        return url, engine
    with create_engine(base_url).begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    upgrade(application)
    print(f"generating {city}")
    generate(engine, city)
    return url, engine


def explain(conn, recorder: Recorder) -> tuple[float, list[str], list[str]]:
    """Server time (planning + execution, ms) of the recorded statements, the scans in their plans,
    and the sequential scans of big tables among them."""
    import json

    server, lines, bad = 0.0, [], []
    raw = conn.connection.dbapi_connection
    for statement, parameters in recorder.statements:
        with raw.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON) " + statement, parameters)
            plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        server += plan[0]["Planning Time"] + plan[0]["Execution Time"]
        stack = [plan[0]["Plan"]]
        while stack:
            node = stack.pop()
            stack.extend(node.get("Plans", []))
            if node["Node Type"] == "Bitmap Index Scan":  # its heap scan above names the table
                lines.append(f"Bitmap Index Scan on {node['Index Name']}")
            if "Scan" in node["Node Type"] and "Relation Name" in node:
                index = f" using {node['Index Name']}" if node.get("Index Name") else ""
                lines.append(f"{node['Node Type']}{index} on {node['Relation Name']}")
                if node["Node Type"] == "Seq Scan" and node["Relation Name"] in CHECKED:
                    bad.append(f"Seq Scan on {node['Relation Name']} <- " + " ".join(statement.split())[:160])
    return server, lines, bad


def measure(name: str, fn, samples: list, recorder: Recorder, db, report: list, *, runs_off: int = 3,
            target: float | None = None) -> None:
    from sqlalchemy import text

    fn(samples[0])  # warm the connection and the cache of plans
    db.session.rollback()
    wall, cpu, server, lines, bad = [], [], [], set(), []
    for sample in samples:
        recorder.statements.clear()
        recorder.on = True
        start, start_cpu = time.perf_counter(), time.process_time()
        fn(sample)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        recorder.on = False
        spent, seen, wrong = explain(db.session.connection(), recorder)
        server.append(spent)
        lines.update(seen)
        bad += wrong
        db.session.rollback()
    for setting in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
        db.session.execute(text(f"SET {setting} = off"))
    off = []
    for sample in samples[:runs_off]:  # the baseline: the same without index scans
        start = time.perf_counter()
        fn(sample)
        off.append((time.perf_counter() - start) * 1000)
    db.session.rollback()
    for setting in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
        db.session.execute(text(f"RESET {setting}"))
    db.session.commit()
    row = {"name": name, "n": len(wall), "wall": percentiles(wall), "server": percentiles(server),
           "cpu": percentiles(cpu), "off": statistics.median(off) if off else None, "scans": sorted(lines),
           "bad": bad, "target": target}
    report.append(row)
    print(f"{name}: wall median {row['wall'][0]:.1f} p99 {row['wall'][2]:.1f} ms; server p99 {row['server'][2]:.1f};"
          f" client CPU p99 {row['cpu'][2]:.1f}"
          + (f"; without index scans {row['off']:.0f} ms" if off else "")
          + (f"; SEQUENTIAL SCANS: {bad[:3]}" if bad else ""), flush=True)


def operations(city: City):
    """name → (function of one sample, how to draw samples)."""
    from sqlalchemy import func, select

    from app.clock import now
    from app.extensions import db
    from app.handlers import inbox, sla
    from app.handlers import requests as flow
    from app.handlers.reports import board, stats
    from app.models import Community, Staff
    from app.models.requests import OPEN_STATUSES, ServiceRequest

    def page(statement, per_page=20):
        db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
        return db.session.scalars(statement.limit(per_page)).all()

    def duty_inbox(community_id):
        return page(inbox.open_clocks_query(community_id))

    def admin(community_id):
        return db.session.get(Staff, (community_id - 1) * STAFF + 1)

    def request_list(community_id):
        return page(select(ServiceRequest).where(flow.visible_clause(admin(community_id)))
                    .order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc()))

    def open_by_deadline(community_id):
        return page(select(ServiceRequest).where(flow.visible_clause(admin(community_id)),
                                                 ServiceRequest.status.in_(OPEN_STATUSES))
                    .order_by(ServiceRequest.due_at, ServiceRequest.id))

    def the_board(community_id):
        return board.board(community_id, now())

    def sweep_query(_):
        return sla.due_clock_ids(now())

    def year_of(street_id):
        communities = list(db.session.scalars(select(Community).where(Community.street_id == street_id)
                                              .order_by(Community.id)))
        today = (now() + timedelta(hours=8)).date()
        return communities, stats.period(today - timedelta(days=364), today, today)

    def rates(direct: bool):
        def street_rates(street_id, at=None):
            communities, span = year_of(street_id)
            ids = [c.id for c in communities]
            found = (stats.numbers_direct if direct else stats.numbers)(ids, span, at or now())
            total = stats.overview(ids, span, found)
            return total, stats.per_community(communities, found, total), stats.per_grid(ids, found)
        return street_rates

    def dashboard(direct: bool):
        def street_dashboard(street_id, at=None):
            communities, span = year_of(street_id)
            return stats.compute(communities, span, at or now(), direct=direct)
        return street_dashboard

    return [("duty inbox (a page of 20 and its count)", duty_inbox, "community", 50),
            ("request list, newest first (page of 20 and count)", request_list, "community", 50),
            ("request list, open by deadline (console)", open_by_deadline, "community", 50),
            ("board (items and 30-day rates, uncached)", the_board, "community", 50),
            ("SLA sweep query", sweep_query, "none", 100),
            ("三率 of a street over a year, from the rollup (overview, communities, grids)", rates(False),
             "street", 500),
            ("三率 of a street over a year, direct (baseline)", rates(True), "street", None),
            ("whole dashboard of a street over a year, from the rollup", dashboard(False), "street", None),
            ("whole dashboard of a street over a year, direct (baseline)", dashboard(True), "street", None)]


def build_rollup(city: City, db, *, force: bool = False) -> dict:
    """The year's rollup (what ``linli reports rollup --from … --to …`` runs), unless it is there; then
    the periodic job once (what every 5 minutes costs: the days changed since its last run)."""
    from sqlalchemy import func, select

    from app.clock import now
    from app.handlers.reports import rollup
    from app.localtime import local_date
    from app.models.reports import RollupDay, RollupState

    today = local_date(now())
    first = today - timedelta(days=364)
    state = db.session.get(RollupState, 1)
    days = db.session.scalar(select(func.count()).select_from(RollupDay).where(RollupDay.day >= first))
    result = {}
    if force or state is None or state.built_through != today - timedelta(days=1) \
            or days != city.communities * 364:
        start = time.perf_counter()
        done = rollup.rebuild(first, today)
        result["build"] = time.perf_counter() - start
        result["rows"] = done["rows"]
        print(f"rollup of {done['communities']} communities × {done['days']} days: {done['rows']:,} rows "
              f"in {result['build']:.1f} s", flush=True)
    start = time.perf_counter()
    done = rollup.refresh()
    result["refresh"] = time.perf_counter() - start
    result["refresh_pairs"] = done["pairs"]
    print(f"rollup job (refresh): {done} in {result['refresh']:.2f} s", flush=True)
    db.session.commit()
    return result


def same_figures(operations_list, streets: list[int], db) -> tuple[int, list[int]]:
    """Each street's 三率 and whole dashboard from the rollup and direct: (streets compared, differing)."""
    by_name = {name: fn for name, fn, _kind, _target in operations_list}
    pairs = [(by_name[a], by_name[b]) for a, b in (
        ("三率 of a street over a year, from the rollup (overview, communities, grids)",
         "三率 of a street over a year, direct (baseline)"),
        ("whole dashboard of a street over a year, from the rollup",
         "whole dashboard of a street over a year, direct (baseline)"))]
    from app.clock import now

    differing = []
    for street in sorted(set(streets)):
        at = now()
        if any(rolled(street, at) != direct(street, at) for rolled, direct in pairs):
            differing.append(street)
        db.session.rollback()
    return len(set(streets)), differing


def sweep_whole(db, report: list) -> None:
    from app.handlers import sla

    start = time.perf_counter()
    fired = sla.sweep()
    first = (time.perf_counter() - start) * 1000
    times = []
    for _ in range(20):
        start = time.perf_counter()
        sla.sweep()
        times.append((time.perf_counter() - start) * 1000)
    report.append({"name": "whole SLA sweep, nothing owed (every 30 s)", "n": len(times), "wall": percentiles(times),
                   "server": None, "cpu": None, "off": None, "scans": [], "bad": []})
    print(f"first sweep fired {fired} in {first:.0f} ms; steady sweep p99 {percentiles(times)[2]:.1f} ms")


def _age(db) -> timedelta:
    """A kept city is measured as of when it was generated: the app's clock runs, set back by the data's
    age (the newest open clock), so the sweep owes the generated alerts, not every open clock's breach."""
    from sqlalchemy import text

    from app.clock import set_app_clock, system_now

    newest = db.session.execute(text("SELECT max(started_at) FROM reply_clock WHERE stopped_at IS NULL")).scalar()
    db.session.rollback()
    age = max(timedelta(0), system_now() - newest) if newest is not None else timedelta(0)
    if age > timedelta(minutes=1):
        from flask import current_app

        set_app_clock(current_app._get_current_object(), lambda: system_now() - age)
        print(f"the city is {age} old: the app's clock is set back by that much", flush=True)
    return age


def markdown(report: list, city: City, setup: str) -> str:
    def cell(values) -> str:
        return f"{values[0]:.1f} / {values[2]:.1f}" if values else "—"

    out = [f"{city.communities:,} communities ({city.streets} streets), {city.requests:,} requests "
           f"({city.open_requests:,} open), {city.open_clocks:,} open clocks, {city.messages:,} messages. {setup}",
           "", "| query | target p99 ms | samples | wall ms, median / p99 | server ms, median / p99 "
           "| client CPU ms, median / p99 | baseline: no index scans, ms | ratio |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report:
        off = f"{r['off']:.0f}" if r["off"] is not None else "—"
        ratio = f"{r['off'] / r['wall'][0]:.0f}×" if r["off"] is not None and r["wall"][0] else "—"
        target = "—" if r.get("target") is None else (
            f"{r['target']} ({'met' if r['wall'][2] <= r['target'] else 'missed'} on wall)")
        out.append(f"| {r['name']} | {target} | {r['n']} | {cell(r['wall'])} | {cell(r['server'])} "
                   f"| {cell(r['cpu'])} | {off} | {ratio} |")
    out += ["", "Scans in the plans (EXPLAIN ANALYZE of every statement each one sent):", "", "```"]
    for r in report:
        if r["scans"]:
            out.append(f"{r['name']}:")
            out += [f"    {line}" for line in r["scans"]]
    out.append("```")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="postgresql://… of a server of your own")
    parser.add_argument("--communities", type=int, default=1000)
    parser.add_argument("--open-requests", type=int, default=100_000)
    parser.add_argument("--open-clocks", type=int, default=10_000)
    parser.add_argument("--done-requests", type=int, default=900_000)
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--samples", type=int, default=200, help="random communities per query (default 200)")
    parser.add_argument("--street-samples", type=int, default=20, help="random streets (default 20)")
    parser.add_argument("--keep", action="store_true", help="keep the data (and reuse it when it matches)")
    parser.add_argument("--rebuild-rollup", action="store_true",
                        help="build the kept city's rollup again (to time it)")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        parser.error("--database-url must be a PostgreSQL URL")
    city = City(communities=args.communities, open_requests=args.open_requests, open_clocks=args.open_clocks,
                done_requests=args.done_requests, messages=args.messages)
    if not (city.open_clocks <= city.open_requests and city.requests <= city.messages):
        parser.error("need open clocks ≤ open requests and requests ≤ messages")
    base_url = _engine_url(args.database_url)
    started = time.perf_counter()
    url, engine = prepare(base_url, city, args.keep)
    load = time.perf_counter() - started

    from sqlalchemy import event, text

    from app import create_app
    from app.extensions import db

    application = create_app("development", overrides={"DATABASE_URL": url, "REDIS_URL": "redis://127.0.0.1:1/0",
                                                       "LOG_LEVEL": "ERROR"})
    recorder = Recorder()
    rng = random.Random(7)
    report: list = []
    with application.app_context():
        age = _age(db)
        event.listen(db.engine, "before_cursor_execute", recorder)
        size = db.session.execute(text("SELECT pg_size_pretty(pg_database_size(current_database())), "
                                       "pg_size_pretty(pg_total_relation_size('message'))")).one()
        version = db.session.execute(text("SHOW server_version")).scalar()
        draws = {"community": [rng.randint(1, city.communities) for _ in range(args.samples)],
                 "street": [rng.randint(1, city.streets) for _ in range(args.street_samples)],
                 "none": [None] * args.samples}
        built = build_rollup(city, db, force=args.rebuild_rollup)
        listed = operations(city)
        for name, fn, kind, target in listed:
            # Streets: the baseline is the direct computation; without index scans it would not finish
            # (the live part's 吹哨 probe per request becomes a sequential scan of the timeline).
            measure(name, fn, draws[kind], recorder, db, report, runs_off=0 if kind == "street" else 3,
                    target=target)
        sweep_whole(db, report)
        compared, differing = same_figures(listed, draws["street"], db)
        print(f"same figures from the rollup and direct: {compared - len(differing)} of {compared} streets"
              + (f"; DIFFERENT: {differing}" if differing else ""), flush=True)
        db.session.remove()
    if not args.keep:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    rolled = (f"rollup built in {built['build']:.0f} s ({built['rows']:,} rows); " if "build" in built else "")
    setup = (f"PostgreSQL {version}, database {size[0]} (messages {size[1]} with indexes); "
             f"setup {load:.0f} s; {rolled}rollup job (refresh) recomputing {built['refresh_pairs']:,} changed "
             f"community-days {built['refresh']:.2f} s; "
             f"same figures from the rollup and direct for {compared - len(differing)} of {compared} streets; "
             f"app clock set back {age.total_seconds() / 60:.0f} min (the data's age); "
             f"measured {datetime.now():%Y-%m-%d}.")
    print()
    print(markdown(report, city, setup))
    bad = [line for r in report for line in r["bad"]]
    if differing:
        return 1
    if bad:
        print("\nsequential scans of big tables:\n" + "\n".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
