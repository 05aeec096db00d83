from rq import Worker

from app import create_app
from app.extensions import redis_ext
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
