"""The one job decorator every RQ job uses.

Jobs take ids, not rows: the decorator runs the function inside an app
context (the worker's app, created once per process), and the job reloads
what it needs and commits explicitly.
"""
from __future__ import annotations

import functools
import os
from datetime import datetime, timedelta
from typing import Any, Callable

from flask import Flask, current_app, has_app_context
from rq import Retry
from rq.job import Job

QUEUE_SLA = "sla"          # reply-clock warnings and breaches: highest priority
QUEUE_SEND = "send"        # outbound messages to WeChat/WeCom
QUEUE_DEFAULT = "default"  # everything else (reminders, sweeps, slow handling)
ALL_QUEUES = (QUEUE_SLA, QUEUE_SEND, QUEUE_DEFAULT)

_worker_app: dict[str, Any] = {"app": None, "pid": None}


def set_worker_app(app: Flask) -> None:
    """Called by `linli worker` so jobs run in the app it configured."""
    _worker_app.update(app=app, pid=os.getpid())


def _app_for_job() -> Flask:
    app = _worker_app["app"]
    if app is None:
        from app import create_app
        app = create_app()
        set_worker_app(app)
    elif _worker_app["pid"] != os.getpid():
        # A forked work horse must not share the parent's database connections.
        from app.extensions import db
        with app.app_context():
            db.engine.dispose(close=False)
        _worker_app["pid"] = os.getpid()
    return app


def _load_job(module: str, name: str) -> "JobFunction":
    import importlib
    return getattr(importlib.import_module(module), name)


class JobFunction:
    """A function that runs as an RQ job in an app context."""

    def __init__(self, fn: Callable, queue: str, retry: Retry | None, timeout: int | None):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.queue_name = queue
        self.retry = retry
        self.timeout = timeout

    def __call__(self, *args, **kwargs):
        # Inline in the caller's app context (tests, SimpleWorker) -- but not in a work horse
        # forked from `linli worker`: it inherits the CLI's app context, whose session and
        # pooled connections belong to the parent process (a shared PostgreSQL socket).
        forked = _worker_app["app"] is not None and _worker_app["pid"] != os.getpid()
        if has_app_context() and not forked:
            return self.fn(*args, **kwargs)
        with _app_for_job().app_context():
            return self.fn(*args, **kwargs)

    def __reduce__(self):
        # Pickle by reference to the module attribute (this object). RQ pickles the callable
        # when it is given one rather than a path (rq cron does): pickling ``fn`` itself
        # fails because the module attribute of that name is this wrapper, not ``fn``.
        return (_load_job, (self.fn.__module__, self.fn.__name__))

    @property
    def path(self) -> str:
        return f"{self.fn.__module__}.{self.fn.__name__}"

    def _queue(self):
        from app.extensions import queues
        return queues.queue(self.queue_name, current_app._get_current_object())

    def _options(self, job_id: str | None, **extra) -> dict:
        options = {"job_id": job_id, "retry": self.retry, "job_timeout": self.timeout}
        options.update(extra)
        return {k: v for k, v in options.items() if v is not None}

    def enqueue(self, *args, job_id: str | None = None, **kwargs) -> Job:
        """Run as soon as a worker is free."""
        return self._queue().enqueue(self.path, args=args, kwargs=kwargs, **self._options(job_id))

    def enqueue_at(self, when: datetime, *args, job_id: str | None = None, **kwargs) -> Job:
        """Run at ``when`` (aware). With a deterministic ``job_id`` re-scheduling replaces the job."""
        queue = self._queue()
        if job_id:
            cancel(job_id, queue.connection)
        return queue.enqueue_at(when, self.path, args=args, kwargs=kwargs, **self._options(job_id))

    def enqueue_in(self, delay: timedelta, *args, job_id: str | None = None, **kwargs) -> Job:
        from app.clock import now
        return self.enqueue_at(now() + delay, *args, job_id=job_id, **kwargs)


def job_id(*parts: object) -> str:
    """A deterministic job id from parts, e.g. job_id("sla", "warn", 42) → "sla-warn-42".

    RQ accepts only letters, digits, "_" and "-" in ids.
    """
    import re
    text = "-".join(str(p) for p in parts)
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)


def job(queue: str = QUEUE_DEFAULT, *, retry: Retry | None = None, timeout: int | None = None):
    """Declare an RQ job: ``@job(QUEUE_SEND, retry=Retry(max=5, interval=[5, 30, 120]))``."""
    if queue not in ALL_QUEUES:
        raise ValueError(f"unknown queue {queue!r}")

    def decorate(fn: Callable) -> JobFunction:
        return JobFunction(fn, queue, retry, timeout)

    return decorate


def cancel(job_id: str, connection) -> bool:
    """Cancel and delete a scheduled or queued job; True if there was one."""
    from rq.exceptions import NoSuchJobError
    try:
        existing = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return False
    existing.delete(remove_from_queue=True)
    return True
