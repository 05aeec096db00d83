"""Running RQ workers and the cron scheduler for a linli app."""
from __future__ import annotations

import logging
from typing import Iterable

from flask import Flask
from rq import Queue, Worker

from app.extensions import redis_ext
from workers.jobs import ALL_QUEUES, set_worker_app

log = logging.getLogger(__name__)


def build_worker(app: Flask, queues: Iterable[str] = ALL_QUEUES, *, name: str | None = None,
                 worker_class: type[Worker] = Worker) -> Worker:

    set_worker_app(app)
    connection = redis_ext.client_for(app)
    # Queue order is priority order: SLA alerts before sends before the rest.
    return worker_class([Queue(q, connection=connection) for q in queues], connection=connection, name=name)


def run_worker(app: Flask, queues: Iterable[str] = ALL_QUEUES, *, burst: bool = False,
               with_scheduler: bool = True, name: str | None = None) -> bool:
    worker = build_worker(app, queues, name=name)
    return worker.work(burst=burst, with_scheduler=with_scheduler,
                       logging_level=str(app.config.get("LOG_LEVEL", "INFO")).upper())


def run_cron(app: Flask) -> None:
    """Run RQ's cron scheduler with the periodic jobs declared in workers.cron."""
    from rq.cron import CronScheduler


    set_worker_app(app)
    scheduler = CronScheduler(connection=redis_ext.client_for(app),
                              logging_level=str(app.config.get("LOG_LEVEL", "INFO")).upper())
    scheduler.load_config_from_file("workers.cron")
    scheduler.start()
