"""GET /metrics: Prometheus text format, parsed back with prometheus_client's own parser."""
from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from app import clock, create_app, status
from app.clock import FrozenClock, set_app_clock
from app.extensions import redis_ext
from tests.handlers.sla.support import cover_day, make_world, start
from workers import ALL_QUEUES
from workers.runner import build_worker


def _scrape(client) -> dict[str, list]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    return {family.name: family.samples for family in text_string_to_metric_families(response.get_data(as_text=True))}


def _value(samples, **labels) -> float:
    return next(s.value for s in samples if all(s.labels.get(k) == v for k, v in labels.items()))


def test_metrics_describe_the_service(app, client):
    worker = build_worker(app)
    worker.register_birth()
    status.record_cron_sweep(redis_ext.client_for(app), "test-cron")
    try:
        families = _scrape(client)
    finally:
        worker.register_death()
    assert _value(families["linli_up"], part="database") == 1
    assert _value(families["linli_up"], part="redis") == 1
    assert _value(families["linli_workers"]) == 1
    assert {s.labels["queue"] for s in families["linli_queue_jobs"]} == set(ALL_QUEUES)
    assert {s.labels["queue"] for s in families["linli_scheduler_up"]} == set(ALL_QUEUES)
    assert 0 <= _value(families["linli_cron_last_sweep_age_seconds"]) < status.CRON_STALE_AFTER
    for name in ("linli_reply_clocks_open", "linli_alerts_due", "linli_alerts_late", "linli_sends_failed",
                 "linli_alert_oldest_due_seconds"):
        assert _value(families[name]) == 0, name


def test_metrics_count_open_clocks_late_alerts_and_queued_jobs(app, client):
    world = make_world()
    cover_day(world, clock.now() - timedelta(hours=1))
    clock_row = start(world)
    set_app_clock(app, FrozenClock(clock_row.due_at + timedelta(minutes=10)))
    families = _scrape(client)
    assert _value(families["linli_reply_clocks_open"]) == 1
    assert _value(families["linli_alerts_late"]) == 1
    assert _value(families["linli_alert_oldest_due_seconds"]) > 600
    # The clock's warning and breach jobs wait in the scheduled registry of the sla queue.
    assert _value(families["linli_queue_jobs"], queue="sla", state="scheduled") >= 1


def test_a_delivery_is_counted_with_its_status_and_handling_time(client):
    before = _scrape(client)
    client.post("/wechat/mp?signature=bad&timestamp=1&nonce=2", data=b"<xml></xml>",
                content_type="text/xml")
    after = _scrape(client)

    def count(families):
        return sum(s.value for s in families.get("linli_deliveries", []) if s.name == "linli_deliveries_total"
                   and s.labels["channel"] == "wechat_mp")

    assert count(after) == count(before) + 1
    handled = [s for s in after["linli_delivery_handling_seconds"]
               if s.name.endswith("_count") and s.labels["channel"] == "wechat_mp"]
    assert handled and handled[0].value >= 1


def test_metrics_answer_with_redis_and_the_database_down(tmp_path):
    broken = create_app("test", overrides={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
                                           "REDIS_URL": "redis://127.0.0.1:1/0", "INSTANCE_PATH": str(tmp_path)})
    families = _scrape(broken.test_client())
    assert _value(families["linli_up"], part="database") == 0
    assert _value(families["linli_up"], part="redis") == 0
    assert "linli_workers" not in families


def test_failed_and_unsettled_sends_are_counted(client):
    from app.extensions import db
    from app.models import Direction, Message

    for n, state in enumerate(("failed", "rejected", "unknown", "sent", "sent")):
        db.session.add(Message(direction=Direction.OUT.value, channel="wework", dedupe_key=f"m-{n}", status=state))
    db.session.commit()
    families = _scrape(client)
    assert _value(families["linli_sends_failed"]) == 2
    assert _value(families["linli_outbound_messages"], status="unknown") == 1
    assert _value(families["linli_outbound_messages"], status="queued") == 0
    assert "sent" not in {s.labels["status"] for s in families["linli_outbound_messages"]}
