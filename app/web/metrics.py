"""GET /metrics: the service in Prometheus text format (docs/reliability.md, "Health checks and metrics").

Two kinds of numbers:

- what this web tier did: deliveries answered on the WeChat/WeCom callbacks and group ingest, by
  channel and HTTP status, and how long each took (WeChat waits 5 s for an answer). Counted with
  prometheus_client in each web process; with several gunicorn processes set
  ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's own variable; `linli serve` does) so a scrape
  adds up all of them;
- the state of the service, read at scrape time from the database and Redis (so any web process
  answers for all of them): reply clocks open, alerts due and late, the oldest due-but-unsent alert,
  outbound messages by status (sends failed), queue depth, workers, scheduler locks, cron's last sweep.
"""
from __future__ import annotations

import time

from flask import Blueprint, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from app import clock, status
from app.extensions import db, redis_ext
from app.jobs import ALL_QUEUES

bp = Blueprint("metrics", __name__)

# The blueprints that take deliveries from WeChat, WeCom and the group bridge.
CHANNELS = {"wechat_mp": "wechat_mp", "wework": "wework", "ingest": "ingest"}

DELIVERIES = Counter("linli_deliveries", "Deliveries answered on the channel callbacks, by channel and HTTP status.",
                     ["channel", "code"], registry=None)
HANDLING = Histogram("linli_delivery_handling_seconds", "Time from a delivery's arrival to its answer.",
                     ["channel"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 10), registry=None)


@bp.before_app_request
def _start_timer():
    if request.blueprint in CHANNELS:
        g.linli_delivery_started = time.perf_counter()


@bp.after_app_request
def _count_delivery(response):
    started = g.pop("linli_delivery_started", None)
    if started is not None:
        channel = CHANNELS[request.blueprint]
        DELIVERIES.labels(channel, str(response.status_code)).inc()
        HANDLING.labels(channel).observe(time.perf_counter() - started)
    return response


def _gauge(name: str, doc: str, value: float, labels: dict[str, str] | None = None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), value)
    return family


class ServiceCollector:
    """The service's state, computed when Prometheus scrapes."""

    def collect(self):
        database = status.database_ok()["status"] == "ok"
        client = self._redis()
        up = GaugeMetricFamily("linli_up", "1 when the part answers.", labels=["part"])
        up.add_metric(["database"], 1.0 if database else 0.0)
        up.add_metric(["redis"], 1.0 if client is not None else 0.0)
        yield up
        if database:
            yield from self._from_database()
        if client is not None:
            yield from self._from_redis(client)

    @staticmethod
    def _redis():
        try:
            client = redis_ext.client
            client.ping()
            return client
        except Exception:  # noqa: BLE001 - reported as linli_up{part="redis"} 0
            return None

    @staticmethod
    def _from_database():
        try:
            backlog = status.alert_backlog(clock.now())
            clocks_open = status.reply_clocks_open()
            outbound = status.outbound_counts()
        except Exception:  # noqa: BLE001 - the database went away mid-scrape; linli_up says so next time
            db.session.rollback()
            return
        yield _gauge("linli_reply_clocks_open", "Reply clocks running (resident waiting for staff).", clocks_open)
        yield _gauge("linli_alerts_due", "Alerts whose time has come and that are not sent yet.", backlog["due"])
        yield _gauge("linli_alerts_late", f"Of those, due more than {int(status.ALERT_LATE_AFTER)} s ago.",
                     backlog["late"])
        yield _gauge("linli_alert_oldest_due_seconds", "How long the oldest due-but-unsent alert has waited.",
                     backlog["oldest_due_seconds"])
        messages = GaugeMetricFamily("linli_outbound_messages", "Outbound messages not sent, by status "
                                     "(queued, sending, unknown, failed, rejected).", labels=["status"])
        for state, count in sorted(outbound.items()):
            messages.add_metric([state], count)
        yield messages
        yield _gauge("linli_sends_failed", "Outbound messages given up on (failed) or refused (rejected).",
                     outbound.get("failed", 0) + outbound.get("rejected", 0))

    @staticmethod
    def _from_redis(client):
        try:
            depths = status.queue_depths(client)
            workers = status.workers_state(client)
            scheduler = status.scheduler_state(client)
            cron = status.cron_state(client)
        except Exception:  # noqa: BLE001 - Redis went away mid-scrape
            return
        jobs = GaugeMetricFamily("linli_queue_jobs", "Jobs in each RQ queue: waiting, or scheduled for later.",
                                 labels=["queue", "state"])
        for queue, counts in depths.items():
            for state, count in counts.items():
                jobs.add_metric([queue, state], count)
        yield jobs
        yield _gauge("linli_workers", "RQ workers registered.", workers["count"])
        missing = set(scheduler.get("queues_without_scheduler", []))
        locks = GaugeMetricFamily("linli_scheduler_up", "1 when a scheduler holds the queue's lock.",
                                  labels=["queue"])
        for queue in ALL_QUEUES:
            locks.add_metric([queue], 0.0 if queue in missing else 1.0)
        yield locks
        if "age_seconds" in cron:
            yield _gauge("linli_cron_last_sweep_age_seconds", "Seconds since `linli cron` last swept.",
                         cron["age_seconds"])


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    try:
        # Several web processes: add up what each wrote to the shared folder.
        MultiProcessCollector(registry)
    except ValueError:  # PROMETHEUS_MULTIPROC_DIR not set: this process's own counts
        registry.register(DELIVERIES)
        registry.register(HANDLING)
    registry.register(ServiceCollector())
    return registry


@bp.get("/metrics")
def metrics():
    return Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
