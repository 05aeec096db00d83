"""/healthz/live, /healthz/ready and /healthz/full (docs/reliability.md, "Health checks and metrics").

Real parts: the test's database and Redis, a registered RQ worker, a real scheduler holding its
locks, a cron pass recorded by the same function `linli cron` calls, a reply clock gone late.
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from app import clock, create_app, status
from app.clock import FrozenClock, set_app_clock
from app.extensions import redis_ext
from tests.handlers.sla.support import cover_day, make_world, start
from workers import ALL_QUEUES
from workers.runner import LinliScheduler, build_worker

FULL_PARTS = {"web", "database", "redis", "workers", "scheduler", "cron", "alerts"}


def _broken_app(tmp_path, database_url=None):
    return create_app("test", overrides={
        "DATABASE_URL": database_url or "postgresql://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0", "INSTANCE_PATH": str(tmp_path)})


@pytest.fixture
def everything_up(app):
    """A worker on every queue, its scheduler's locks, and a cron pass just now."""
    connection = redis_ext.client_for(app)
    worker = build_worker(app)
    worker.register_birth()
    scheduler = LinliScheduler(ALL_QUEUES, connection=connection)
    scheduler.acquire_locks()
    status.record_cron_sweep(connection, "test-cron")
    yield
    scheduler.release_locks()
    worker.register_death()


def test_live_answers_whatever_is_down(tmp_path):
    response = _broken_app(tmp_path).test_client().get("/healthz/live")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_ready_needs_the_database_only(tmp_path, database_url):
    # Redis down and no worker: the WeChat callbacks still store deliveries, so the web tier is ready.
    ready = _broken_app(tmp_path, database_url).test_client().get("/healthz/ready")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["database"]["status"] == "ok"
    assert _broken_app(tmp_path).test_client().get("/healthz/ready").status_code == 503


def test_full_is_503_while_a_worker_is_missing_and_names_every_part(client):
    response = client.get("/healthz/full")
    assert response.status_code == 503
    body = response.get_json()
    assert FULL_PARTS <= set(body)
    assert body["workers"]["status"] == "down"
    assert body["scheduler"]["status"] == "down"
    assert body["cron"] == {"status": "down", "error": "no sweep recorded"}
    assert body["alerts"]["status"] == "ok" and body["alerts"]["due"] == 0
    assert set(body["queues"]) == set(ALL_QUEUES)
    # The web tier itself is fine: live and ready say so.
    assert client.get("/healthz/live").status_code == 200
    assert client.get("/healthz/ready").status_code == 200


def test_full_is_200_when_everything_runs(client, everything_up):
    response = client.get("/healthz/full")
    body = response.get_json()
    assert response.status_code == 200, body
    assert all(body[part]["status"] == "ok" for part in FULL_PARTS)
    assert body["cron"]["age_seconds"] < status.CRON_STALE_AFTER
    assert client.get("/healthz?full=1").get_json().keys() == body.keys()
    # /healthz keeps its old answer: database, Redis, workers.
    plain = client.get("/healthz").get_json()
    assert {"database", "redis", "workers", "calendar"} <= set(plain) and "cron" not in plain


def test_full_says_when_cron_stopped_sweeping(app, client, everything_up):
    connection = redis_ext.client_for(app)
    connection.hset(status.CRON_KEY, "at", f"{time.time() - status.CRON_STALE_AFTER - 30:.3f}")
    response = client.get("/healthz/full")
    assert response.status_code == 503
    cron = response.get_json()["cron"]
    assert cron["status"] == "down" and cron["error"].startswith("no sweep for")


def test_full_reports_the_oldest_due_but_unsent_alert(app, client, everything_up):
    world = make_world()
    cover_day(world, clock.now() - timedelta(hours=1))
    clock_row = start(world)
    set_app_clock(app, FrozenClock(clock_row.due_at + timedelta(minutes=10)))
    response = client.get("/healthz/full")
    assert response.status_code == 503
    alerts = response.get_json()["alerts"]
    assert alerts["status"] == "late" and alerts["due"] == 1 and alerts["late"] == 1
    warn_or_due = clock_row.warn_at or clock_row.due_at
    assert alerts["oldest_due_seconds"] == pytest.approx(
        (clock_row.due_at + timedelta(minutes=10) - warn_or_due).total_seconds(), abs=1)


def test_full_with_redis_down_says_so_for_every_part_that_lives_there(tmp_path, database_url):
    body = _broken_app(tmp_path, database_url).test_client().get("/healthz/full").get_json()
    assert body["database"]["status"] == "ok"
    for part in ("redis", "workers", "scheduler", "cron"):
        assert body[part]["status"] == "down", part
