"""The one job decorator every RQ job uses.

Jobs take ids, not rows: the decorator runs the function inside an app
context (the worker's app, created once per process), and the job reloads
what it needs and commits explicitly. Queue, retry and timeout come from the
job's entry in ``app.jobs.JOBS``; handlers schedule jobs by that name and
never import this package.
"""
from __future__ import annotations

import functools
import importlib
import os
from datetime import datetime, timedelta
from typing import Any, Callable

from flask import Flask, has_app_context
from rq.job import Job

from app import jobs
from app.clock import now
from app.extensions import db
from app.jobs import ALL_QUEUES, QUEUE_DEFAULT, QUEUE_SEND, QUEUE_SLA, cancel  # noqa: F401 - re-exported

_worker_app: dict[str, Any] = {"app": None, "pid": None}


def set_worker_app(app: Flask) -> None:
    """Called by `linli worker` so jobs run in the app it configured."""
    _worker_app.update(app=app, pid=os.getpid())


def _app_for_job() -> Flask:
    app = _worker_app["app"]
    if app is None:
        from app import create_app  # the factory sits above the jobs it runs: built once per process
        app = create_app()
        set_worker_app(app)
    elif _worker_app["pid"] != os.getpid():
        # A forked work horse must not share the parent's database connections.
        with app.app_context():
            db.engine.dispose(close=False)
        _worker_app["pid"] = os.getpid()
    return app


def _load_job(module: str, name: str) -> "JobFunction":
    return getattr(importlib.import_module(module), name)


class JobFunction:
    """A function that runs as an RQ job in an app context."""

    def __init__(self, fn: Callable, name: str, spec: jobs.JobSpec):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = name
        self.spec = spec

    @property
    def queue_name(self) -> str:
        return self.spec.queue

    @property
    def retry(self):
        return self.spec.retry

    @property
    def timeout(self) -> int | None:
        return self.spec.timeout

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

    def enqueue(self, *args, job_id: str | None = None, **kwargs) -> Job:
        """Run as soon as a worker is free."""
        return jobs.enqueue(self.name, *args, job_id=job_id, **kwargs)

    def enqueue_at(self, when: datetime, *args, job_id: str | None = None, **kwargs) -> Job:
        """Run at ``when`` (aware). With a deterministic ``job_id`` re-scheduling replaces the job."""
        return jobs.enqueue_at(self.name, when, *args, job_id=job_id, **kwargs)

    def enqueue_in(self, delay: timedelta, *args, job_id: str | None = None, **kwargs) -> Job:
        return self.enqueue_at(now() + delay, *args, job_id=job_id, **kwargs)


def job(name: str):
    """Declare the RQ job registered as ``name`` in ``app.jobs.JOBS``: ``@job("sla.fire_alert")``.

    Raises at import time when the registry names another function, so a renamed
    job cannot leave the jobs waiting in Redis pointing at nothing.
    """
    spec = jobs.spec(name)

    def decorate(fn: Callable) -> JobFunction:
        path = f"{fn.__module__}.{fn.__name__}"
        if spec.path != path:
            raise RuntimeError(f"job {name!r} is registered as {spec.path}, not {path}")
        return JobFunction(fn, name, spec)

    return decorate
