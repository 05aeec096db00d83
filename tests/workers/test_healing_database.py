"""A real `linli worker` against a PostgreSQL server of the test's own (tests/support/faults.py), killed
with -9 and started again: the worker waits for it at start-up and outlives an outage while running
(docs/reliability.md, section 3)."""
from __future__ import annotations

import pytest
from rq import Queue
from rq.job import Job, JobStatus

from tests.workers.test_healing import _lines, _registered, _wait, spawn  # noqa: F401 - spawn is a fixture

pytestmark = pytest.mark.slow
pytest_plugins = ["tests.support.faults"]


@pytest.fixture
def redis_url(private_redis):
    return private_redis.url


@pytest.fixture
def database_url(private_postgres):
    return private_postgres.url


@pytest.fixture
def connection(private_redis):
    import redis
    return redis.Redis.from_url(private_redis.url, socket_timeout=5)


def _sweep_runs(connection, log) -> JobStatus:
    """The reply-clock sweep, which reads the database, run by the worker; its final status."""
    job = Queue("sla", connection=connection).enqueue("workers.sla.sweep_reply_clocks")
    return _wait(lambda: (status := Job.fetch(job.id, connection=connection).get_status())
                 in (JobStatus.FINISHED, JobStatus.FAILED) and status, "the sweep job to end", log=log)


def test_a_worker_waits_for_the_database_and_outlives_its_outage(private_postgres, connection, spawn):  # noqa: F811
    private_postgres.kill()
    proc, log = spawn("worker")
    _wait(lambda: _lines(log, "worker: the database unreachable"), "the worker to say the database is down",
          log=log)
    assert proc.poll() is None
    private_postgres.start()
    _wait(lambda: _registered(connection, proc.pid), "the worker to register once the database is back", log=log)
    assert _lines(log, "worker: the database is back")
    assert _sweep_runs(connection, log) == JobStatus.FINISHED

    # While it runs: a job that needs the database fails, the worker does not; after the outage it works.
    private_postgres.kill()
    assert _sweep_runs(connection, log) == JobStatus.FAILED
    private_postgres.start()
    assert _sweep_runs(connection, log) == JobStatus.FINISHED
    assert proc.poll() is None and _registered(connection, proc.pid)
