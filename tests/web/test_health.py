from datetime import date, datetime, timedelta, timezone

from rq import Worker

from app import create_app
from app.clock import FrozenClock, set_app_clock
from app.extensions import redis_ext
from app.handlers.calendar import overrides
from workers import ALL_QUEUES


def test_healthz_is_503_without_workers(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"]["status"] == "ok"
    assert body["redis"]["status"] == "ok"
    assert body["workers"]["status"] == "down"


def test_healthz_is_ok_with_a_worker_on_every_queue(app, client):
    from workers.runner import build_worker

    worker = build_worker(app)
    worker.register_birth()
    try:
        response = client.get("/healthz")
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["status"] == "ok"
        assert body["workers"]["count"] == 1
    finally:
        worker.register_death()


def test_healthz_reports_a_worker_missing_a_queue(app, client):
    connection = redis_ext.client_for(app)
    from rq import Queue
    worker = Worker([Queue(ALL_QUEUES[0], connection=connection)], connection=connection)
    worker.register_birth()
    try:
        body = client.get("/healthz").get_json()
        assert body["workers"]["status"] == "down"
        assert set(body["workers"]["queues_without_worker"]) == set(ALL_QUEUES[1:])
    finally:
        worker.register_death()


def test_healthz_reports_database_and_redis_down(tmp_path):
    broken = create_app("test", overrides={
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "INSTANCE_PATH": str(tmp_path)})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"]["status"] == "down"
    assert body["redis"]["status"] == "down"
    assert body["workers"]["status"] == "down"


def test_healthz_says_from_1_november_that_next_years_notice_is_missing(app, client):
    clock = FrozenClock(datetime(2026, 10, 31, 12, 0, tzinfo=timezone(timedelta(hours=8))))
    set_app_clock(app, clock)
    assert client.get("/healthz").get_json()["calendar"] == {"status": "ok", "missing_years": []}
    clock.advance(days=1)
    calendar = client.get("/healthz").get_json()["calendar"]
    assert calendar["status"] == "missing" and calendar["missing_years"] == [2027]
    assert calendar["command"] == "linli calendar import FILE"
    assert "holiday notice for 2027 is not loaded" in calendar["message"]
    overrides.set_day(date(2027, 1, 1), "holiday", "元旦")
    assert client.get("/healthz").get_json()["calendar"]["status"] == "ok"


def test_a_missing_notice_does_not_make_the_service_unhealthy(app, client):
    from workers.runner import build_worker

    set_app_clock(app, FrozenClock(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)))
    worker = build_worker(app)
    worker.register_birth()
    try:
        response = client.get("/healthz")
        assert response.status_code == 200
        body = response.get_json()
        assert body["status"] == "ok" and body["calendar"]["status"] == "missing"
    finally:
        worker.register_death()


def test_healthz_calendar_is_unknown_when_the_database_is_down(tmp_path):
    broken = create_app("test", overrides={
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "INSTANCE_PATH": str(tmp_path)})
    body = broken.test_client().get("/healthz").get_json()
    assert body["calendar"]["status"] == "unknown"
