"""Running RQ workers, their scheduler and the cron scheduler for a linli app, so that each comes back
by itself after Redis went away (docs/reliability.md, "Every process heals itself").

RQ alone leaves three gaps, closed here with its own classes:

- a worker whose Redis restarted empty keeps working but is no longer listed (`Worker.all`), so the
  health check says "workers: down" until it is restarted: ``LinliWorker`` registers again;
- its scheduler process dies on the first connection error and RQ tries to start it again only at
  the next maintenance run (every 10 minutes), and after a quick restart the new scheduler waits
  that long for the lock the old one held: ``LinliScheduler`` rides out outages, dies with its
  worker (releasing its locks), takes over a lock whose holder is dead on this host, and asks for
  missing locks every few seconds;
- `CronScheduler.start` exits on the first connection error: ``LinliCron`` waits for Redis with
  backoff and records every pass in ``app.status.CRON_KEY`` for the health check.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import time
from typing import Iterable

import redis
from flask import Flask
from rq import Queue, Worker, worker_registration
from rq.cron import CronScheduler
from rq.exceptions import StopRequested
from rq.scheduler import RQScheduler
from rq.scripts import release_lock
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from app import status
from app.embedded_redis import die_with_parent
from app.extensions import db, redis_ext
from workers.jobs import ALL_QUEUES, set_worker_app

log = logging.getLogger(__name__)

REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)
# Longest wait between two tries to reach Redis again (each process starts at 1 s and doubles).
RECONNECT_MAX_SECONDS = 10.0
# The worker's blocking wait for a job, so it checks its registration and its scheduler this often.
# RQ derives it from the worker's TTL (TTL - 15 s); its own default is 405 s.
WORKER_TTL = 20
# How often a scheduler missing some queue locks asks for them again (RQ: every 2 to 10 minutes).
LOCK_RETRY_SECONDS = 5.0


class Backoff:
    """1 s, 2 s, 4 s … up to ``RECONNECT_MAX_SECONDS``; one log line when Redis goes and one when it is back."""

    def __init__(self, who: str, what: str = "Redis"):
        self.who, self.what = who, what
        self.delay = 1.0
        self.down_since: float | None = None

    def failed(self, exc: BaseException) -> float:
        if self.down_since is None:
            self.down_since = time.monotonic()
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.error("%s: %s unreachable (%s); retrying with backoff up to %ds", self.who, self.what, reason,
                      RECONNECT_MAX_SECONDS)
        delay, self.delay = self.delay, min(self.delay * 2, RECONNECT_MAX_SECONDS)
        return delay

    def succeeded(self) -> bool:
        """True once after an outage (the caller then re-registers what Redis may have lost)."""
        if self.down_since is None:
            return False
        log.warning("%s: %s is back after %.0f s", self.who, self.what, time.monotonic() - self.down_since)
        self.down_since, self.delay = None, 1.0
        return True


class LinliScheduler(RQScheduler):
    """RQ's scheduler process, made to outlive Redis outages and to die with its worker."""

    def start(self):
        self._parent_pid = os.getpid()
        return super().start()

    @property
    def should_reacquire_locks(self) -> bool:
        if self._queue_names == self.acquired_locks:
            return False
        last = self.lock_acquisition_time
        return last is None or (time.time() - last.timestamp()) > LOCK_RETRY_SECONDS

    def acquire_locks(self, auto_start: bool = False):
        for name in self._queue_names - self.acquired_locks:
            self._release_if_holder_dead(name)
        return super().acquire_locks(auto_start=auto_start)

    def _release_if_holder_dead(self, queue: str) -> None:
        # A scheduler killed with -9 (with its worker's whole process group) keeps its lock for
        # 61 s; one that ran on this host under a pid that no longer runs will never refresh it.
        key = self.get_locking_key(queue)
        holder = self.connection.get(key)
        if holder is None:
            return
        holder = holder.decode() if isinstance(holder, bytes) else holder
        if holder == self.name:
            return
        info = {k.decode(): v.decode() for k, v in self.connection.hgetall(f"rq:scheduler:{holder}").items()}
        if info.get("hostname") != socket.gethostname() or not info.get("pid", "").isdigit():
            return
        pid = int(info["pid"])
        if pid != os.getpid() and _pid_alive(pid):
            return
        if release_lock(self.connection, key, holder):
            log.warning("scheduler: took over the %s lock of scheduler %s (pid %d is gone)", queue, holder, pid)

    def work(self):
        parent = getattr(self, "_parent_pid", None)
        if parent:
            # SIGTERM when the worker dies, even by kill -9: the locks are released at once,
            # so the next worker's scheduler starts now, not when they expire.
            die_with_parent(parent)()
        self._install_signal_handlers()
        backoff = Backoff(f"scheduler {self.name[:8]}")
        registered = False
        while not self._stop_requested:
            try:
                self.connection.ping()
                if backoff.succeeded() or not registered:  # Redis may have come back empty
                    self.register_birth()
                    registered = True
                if self.should_reacquire_locks:
                    self.acquire_locks()
                self.heartbeat()
                self.enqueue_scheduled_jobs()
                delay = self.interval
            except REDIS_ERRORS as exc:
                delay = backoff.failed(exc)
            deadline = time.monotonic() + delay
            while not self._stop_requested and time.monotonic() < deadline:
                time.sleep(min(0.5, delay))
        try:
            self.stop()
        except REDIS_ERRORS:
            log.info("scheduler: stopped while Redis was unreachable; its locks expire by themselves")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LinliWorker(Worker):
    """RQ's worker, registering again when Redis lost it and keeping its scheduler running."""

    max_connection_wait_time = RECONNECT_MAX_SECONDS
    scheduler_class = LinliScheduler

    def work(self, burst: bool = False, logging_level: str | None = None, with_scheduler: bool = False,
             **kwargs) -> bool:
        if with_scheduler and not burst:
            # Started by the first heartbeat, after RQ set up logging; restarted the same way.
            self.scheduler = self.scheduler_class(self.queues, connection=self.connection,
                                                  logging_level=logging_level or "INFO", serializer=self.serializer)
            with_scheduler = False
        return super().work(burst=burst, logging_level=logging_level, with_scheduler=with_scheduler, **kwargs)

    def heartbeat(self, timeout: int | None = None, pipeline=None):
        super().heartbeat(timeout, pipeline)
        if pipeline is None and not self.is_horse and self._shutdown_requested_date is None:
            self._heal()

    def _heal(self) -> None:
        if self.birth_date is not None and not self.connection.sismember(self.redis_workers_keys, self.key):
            # Redis restarted without our keys (or someone flushed it): be listed again.
            with self.connection.pipeline() as pipeline:
                pipeline.hset(self.key, mapping=self.serialize())
                worker_registration.register(self, pipeline)
                pipeline.expire(self.key, self.worker_ttl + 60)
                pipeline.execute()
            log.warning("worker %s: registered again (Redis had lost its registration)", self.name)
        scheduler = self.scheduler
        if scheduler is not None and (scheduler._process is None or not scheduler._process.is_alive()):
            if scheduler._process is not None:
                log.warning("worker %s: scheduler process exited (code %s); starting it again", self.name,
                            scheduler._process.exitcode)
                scheduler._process.join()
            scheduler.start()


def build_worker(app: Flask, queues: Iterable[str] = ALL_QUEUES, *, name: str | None = None,
                 worker_class: type[Worker] = LinliWorker) -> Worker:

    set_worker_app(app)
    connection = redis_ext.client_for(app)
    # Queue order is priority order: SLA alerts before sends before the rest.
    return worker_class([Queue(q, connection=connection) for q in queues], connection=connection, name=name,
                        worker_ttl=WORKER_TTL)


def wait_for_redis(connection, who: str) -> None:
    """Block until Redis answers, with backoff and one line when it does not."""
    backoff = Backoff(who)
    while True:
        try:
            connection.ping()
            backoff.succeeded()
            return
        except REDIS_ERRORS as exc:
            time.sleep(backoff.failed(exc))


def wait_for_database(app: Flask, who: str) -> None:
    """Block until the database answers, with backoff and one line when it does not."""
    backoff = Backoff(who, "the database")
    while True:
        with app.app_context():
            try:
                db.session.execute(text("SELECT 1"))
                backoff.succeeded()
                return
            except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
                delay = backoff.failed(getattr(exc, "orig", None) or exc)
            finally:
                db.session.remove()
        time.sleep(delay)


def run_worker(app: Flask, queues: Iterable[str] = ALL_QUEUES, *, burst: bool = False,
               with_scheduler: bool = True, name: str | None = None) -> bool:
    level = str(app.config.get("LOG_LEVEL", "INFO")).upper()
    queues = tuple(queues)
    while True:
        worker = build_worker(app, queues, name=name)
        try:
            worked = worker.work(burst=burst, with_scheduler=with_scheduler, logging_level=level)
            error: BaseException | None = None
        except REDIS_ERRORS as exc:
            worked, error = False, exc
        if burst or worker._shutdown_requested_date is not None:
            if error is not None:
                raise error
            return worked
        # RQ's loop rides out outages while it waits for a job; one that hits it elsewhere (finishing
        # a job, its maintenance) ends work() although nobody asked it to stop: start a new one.
        log.error("worker %s: stopped working (%s); starting a new worker", worker.name,
                  error or "see the lines above")
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)  # RQ's handlers talk to Redis; nothing to clean up here
        wait_for_redis(redis_ext.client_for(app), "worker")
        time.sleep(1.0)


class LinliCron(CronScheduler):
    """RQ's cron scheduler, waiting for Redis instead of exiting, recording each pass for /healthz."""

    def start(self):
        self.log.info("CronScheduler %s: starting...", self.name)
        self._install_signal_handlers()
        backoff = Backoff("cron")
        registered = False
        try:
            while True:
                try:
                    self.connection.ping()
                    if backoff.succeeded() or not registered:  # Redis may have come back empty
                        self.register_birth()
                        registered = True
                    if self.enqueue_jobs():
                        self.save()
                    self.heartbeat()
                    status.record_cron_sweep(self.connection, self.name)
                    delay = self.calculate_sleep_interval()
                except REDIS_ERRORS as exc:
                    delay = backoff.failed(exc)
                if delay > 0:
                    time.sleep(delay)
        except KeyboardInterrupt:
            self.log.info("CronScheduler %s: received KeyboardInterrupt", self.name)
        except StopRequested:
            self.log.info("CronScheduler %s: stop requested", self.name)
        finally:
            try:
                self.register_death()
            except REDIS_ERRORS:
                pass  # its registry entry expires by itself
            self.log.info("CronScheduler %s: shutdown complete", self.name)


def run_cron(app: Flask) -> None:
    """Run the periodic jobs declared in workers.cron, through any number of Redis outages."""
    set_worker_app(app)
    scheduler = LinliCron(connection=redis_ext.client_for(app),
                          logging_level=str(app.config.get("LOG_LEVEL", "INFO")).upper())
    scheduler.load_config_from_file("workers.cron")
    scheduler.start()
