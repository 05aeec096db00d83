"""Server-side render time of each web page at the demo's size (target: ≤ 50 ms).

    .venv/bin/python bench/web_pages.py [--runs 30] [--requests 300]

A scratch instance (embedded SQLite and Redis in a temporary folder): the demo community
(`seed-demo`) plus a month of history — ``--requests`` requests spread over the last 30 days
with their reply clocks, most answered (some late), some dispatched, resolved and rated — and
20 open ones in the inbox. Each page is fetched ``--runs`` times through the Flask test client
(the whole request: routing, session, queries, Jinja; no network), median and p95 in ms.
The baseline in the same run: a route that renders a one-line template, i.e. what Flask, the
session cookie and the template engine cost before any query.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ["/", "/board", "/console/inbox", "/console/requests", "/console/requests/{request_id}", "/console/desk",
         "/console/events", "/console/roster", "/console/alerts", "/console/sent", "/dashboard",
         "/dashboard/export/grids.xlsx", "/try", "/map", "/map?service=blood_pressure&building={building_id}",
         "/console/resources", "/console/needs", "/console/needs/{need_id}", "/console/projects",
         "/console/projects/{project_id}", "/console/topics", "/console/topics/{topic_id}", "/console/suggestions",
         "/console/suggestions/{suggestion_id}", "/console/stations", "/console/stations/{station_id}"]
TEXTS = ["楼道灯坏了，晚上很黑", "下水道堵了，污水漫出来", "楼下电动车乱停，挡住消防通道", "楼上装修太吵", "垃圾桶满了没人清",
         "屋顶漏水，天花板滴水", "小区门口路灯不亮", "停车位被占", "水管爆了", "邻居家狗一直叫"]


COLD = ("/board", "/dashboard", "/dashboard/export/grids.xlsx")


def forget() -> None:
    """Drop the reports' one-minute cache (app/handlers/reports/cache.py)."""
    from app.extensions import redis_ext
    from app.handlers.reports.cache import PREFIX

    client = redis_ext.client
    keys = list(client.scan_iter(PREFIX + "*"))
    if keys:
        client.delete(*keys)


def timed(fn, runs: int) -> tuple[float, float, float]:
    """Wall-clock median and p95, and the median CPU time of this process (ms).

    The CPU time is what the page costs the server (SQLite runs in-process); on a machine shared
    with other work it moves far less than the wall clock, which also counts waiting for a core.
    """
    samples, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    samples.sort()
    return (statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))],
            statistics.median(cpu))


def history(app, count: int) -> int:
    """A month of requests; returns the id of one with a long timeline."""
    from app.clock import FrozenClock, now, set_app_clock
    from app.extensions import db
    from app.handlers import requests as flow
    from app.handlers import sla
    from app.handlers.demo import seed_demo
    from app.models import Staff

    summary = seed_demo()
    real = now()
    clock = FrozenClock(real - timedelta(days=30))
    set_app_clock(app, clock)
    staff = db.session.scalars(select(Staff).where(Staff.community_id == summary.community_id)).all()
    rng = random.Random(11)
    rich = None
    for index in range(count):
        clock.current = real - timedelta(days=30) + timedelta(minutes=index * (30 * 24 * 60 - 120) // count)
        row = flow.create_request(community_id=summary.community_id, text=rng.choice(TEXTS), channel="group",
                                  source="chat", building=str(rng.randint(1, 36)))
        sla.start_reply_clock(community_id=summary.community_id, request_id=row.id)
        member = rng.choice(staff[:6])
        if rng.random() < 0.9:
            clock.advance(minutes=rng.choice([5, 20, 40, 75]))
            flow.reply_publicly(row, member, "收到，马上安排。")
            if rng.random() < 0.7:
                flow.start(row, member)
                clock.advance(hours=rng.choice([3, 30, 100]))
                flow.resolve(row, member, note="已处理完毕。")
                if rng.random() < 0.6:
                    flow.rate(row, None, rating=rng.choice(["satisfied", "satisfied", "basically", "unsatisfied"]))
                rich = row.id
    set_app_clock(app, lambda: real)
    for index in range(20):
        row = flow.create_request(community_id=summary.community_id, text=TEXTS[index % len(TEXTS)], channel="group",
                                  source="chat")
        sla.start_reply_clock(community_id=summary.community_id, request_id=row.id)
    return rich


def governance_ids(community_id: int) -> dict[str, int]:
    """The demo's richest need, project and topic (the finished 3栋 charging shed), a building, its first
    suggestion (answered) and station (the party centre)."""
    from app.extensions import db
    from app.models import Building, MapStation, Need, Project, Suggestion, Topic

    first = {"need_id": Need, "project_id": Project, "topic_id": Topic, "building_id": Building,
             "suggestion_id": Suggestion, "station_id": MapStation}
    return {name: db.session.scalars(select(model.id).where(model.community_id == community_id)
                                     .order_by(model.id)).first() for name, model in first.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--requests", type=int, default=300, help="requests in the month of history")
    args = parser.parse_args()

    from flask import Blueprint, render_template_string

    from app import create_app, embedded_redis
    from app.extensions import db
    from app.models import Staff
    from app.web.demo import demo_duty_staff

    folder = Path(tempfile.mkdtemp(prefix="linli-bench-web-"))
    redis_proc = embedded_redis.start(folder, persist=False)
    try:
        app = create_app("development", overrides={"INSTANCE_PATH": str(folder)})
        baseline = Blueprint("bench_baseline", __name__)
        baseline.add_url_rule("/bench-baseline", "baseline", lambda: render_template_string("<p>{{ 1 + 1 }}</p>"))
        app.register_blueprint(baseline)
        with app.app_context():
            db.create_all()
            request_id = history(app, args.requests)
            admin = db.session.scalars(select(Staff).where(Staff.name == "王秀英")).one()
            duty = demo_duty_staff()
            client = app.test_client()
            with client.session_transaction() as session:
                session["staff_id"] = admin.id
            rows = [("baseline: one-line template", *timed(lambda: client.get("/bench-baseline"), args.runs))]
            ids = {"request_id": request_id, **governance_ids(admin.community_id)}
            for page in PAGES:
                url = page.format(**ids)
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                rows.append((url, *timed(lambda url=url: client.get(url), args.runs)))
                if url in COLD:
                    rows.append((url + " (first view in the minute: numbers computed)",
                                 *timed(lambda url=url: (forget(), client.get(url)), args.runs)))
        print(f"demo community + {args.requests} requests over 30 days + 20 open; staff {admin.name} "
              f"(community admin, also on the rota; on duty now: {duty.name if duty else '-'}); {args.runs} runs each")
        print("| page | median ms | p95 ms | CPU median ms |\n|---|---:|---:|---:|")
        for name, median, p95, cpu in rows:
            print(f"| `{name}` | {median:.1f} | {p95:.1f} | {cpu:.1f} |")
    finally:
        embedded_redis.stop(redis_proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
