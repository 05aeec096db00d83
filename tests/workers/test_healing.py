"""Every process heals itself: real `linli cron` and `linli worker` processes against a Redis server of
the test's own on a spare port (tests/support/faults.py), which the test kills and starts again
(empty, as after a crash without persistence). docs/reliability.md, sections 2 and 3.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from rq import Queue, Worker
from rq.job import Job, JobStatus

from app import status

pytestmark = pytest.mark.slow
pytest_plugins = ["tests.support.faults"]

ROOT = Path(__file__).resolve().parents[2]
WITHIN = 40.0  # generous: these wait for something to happen at all, they do not measure speed


def _wait(predicate, what: str, within: float = WITHIN, log: Path | None = None):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"gave up waiting for {what}" + (f":\n{log.read_text(errors='replace')}" if log else ""))


@pytest.fixture
def redis_url(private_redis):
    return private_redis.url


@pytest.fixture
def connection(private_redis):
    return redis.Redis.from_url(private_redis.url, socket_timeout=5)


@pytest.fixture
def spawn(app, tmp_path):
    """Start `python -m app.cli <command>` on the test's database and private Redis."""
    started: list[subprocess.Popen] = []

    def _spawn(*command: str, label: str | None = None) -> tuple[subprocess.Popen, Path]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
        env.update({"LINLI_ENV": "development", "LINLI_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                    "LINLI_REDIS_URL": app.config["REDIS_URL"], "LINLI_LOG_LEVEL": "INFO",
                    "LINLI_INSTANCE_PATH": str(tmp_path / "instance"), "PYTHONUNBUFFERED": "1"})
        log_path = tmp_path / f"{label or command[0]}-{len(started)}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "app.cli", *command], cwd=ROOT, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        started.append(proc)
        return proc, log_path

    yield _spawn
    for proc in started:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _lines(log: Path, text: str) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if text in line]


def _outage(server, proc: subprocess.Popen, log: Path, noticed: str) -> None:
    """Redis gone until the process noticed (its next wake-up) and tried again a few times, then back
    empty on the same port, as after a crash without persistence."""
    server.kill()
    _wait(lambda: _lines(log, noticed), f"the process to notice the outage ({noticed!r})", log=log)
    time.sleep(4)
    assert proc.poll() is None, f"the process exited during the Redis outage:\n{log.read_text()}"
    server.start()


# -- cron ---------------------------------------------------------------------------------------------

def test_cron_waits_out_a_redis_outage_and_sweeps_again(private_redis, connection, spawn):
    proc, log = spawn("cron")
    first = _wait(lambda: status.cron_state(connection)["status"] == "ok" and status.cron_state(connection),
                  "cron's first sweep", log=log)
    assert Queue("sla", connection=connection).count >= 1  # the reply-clock sweep, waiting for a worker

    _outage(private_redis, proc, log, "cron: Redis unreachable")

    # The restarted Redis is empty: a sweep recorded and a sweep job queued now are cron's new work.
    again = _wait(lambda: status.cron_state(connection)["status"] == "ok" and status.cron_state(connection),
                  "cron to sweep again after the outage", log=log)
    assert again["last_sweep"] > first["last_sweep"] and again["pid"] == proc.pid
    _wait(lambda: Queue("sla", connection=connection).count >= 1, "a sweep job queued again", log=log)
    assert proc.poll() is None
    assert len(_lines(log, "cron: Redis unreachable")) == 1, log.read_text()
    assert len(_lines(log, "cron: Redis is back")) == 1, log.read_text()
    assert "Traceback" not in log.read_text()


def test_cron_started_while_redis_is_down_waits_for_it(private_redis, connection, spawn):
    private_redis.kill()
    proc, log = spawn("cron")
    _wait(lambda: _lines(log, "cron: Redis unreachable"), "cron to say Redis is unreachable", log=log)
    assert proc.poll() is None
    private_redis.start()
    _wait(lambda: status.cron_state(connection)["status"] == "ok", "cron's first sweep", log=log)


# -- worker and its scheduler ----------------------------------------------------------------------------

def _registered(connection, pid: int) -> Worker | None:
    return next((w for w in Worker.all(connection=connection) if w.pid == pid), None)


def _scheduling(connection) -> bool:
    return status.scheduler_state(connection)["status"] == "ok"


def _timed_job_runs(connection, log: Path) -> None:
    """A job scheduled 1 s ahead is enqueued by the scheduler and run by the worker."""
    job = Queue("default", connection=connection).enqueue_in(timedelta(seconds=1), "os.getpid")
    _wait(lambda: Job.fetch(job.id, connection=connection).get_status() == JobStatus.FINISHED,
          "the timed job to run", log=log)


def _start_worker(spawn, connection) -> tuple[subprocess.Popen, Path, Worker]:
    proc, log = spawn("worker")
    worker = _wait(lambda: _registered(connection, proc.pid), "the worker to register", log=log)
    _wait(lambda: _scheduling(connection), "the worker's scheduler to hold every queue's lock", log=log)
    return proc, log, worker


def test_worker_is_listed_again_and_schedules_again_after_a_redis_outage(private_redis, connection, spawn):
    proc, log, before = _start_worker(spawn, connection)

    _outage(private_redis, proc, log, "could not connect to Redis")

    after = _wait(lambda: _registered(connection, proc.pid), "the worker to register again", log=log)
    assert after.name == before.name  # the same process, listed again (not a restart)
    assert set(after.queue_names()) == set(before.queue_names())
    _wait(lambda: _scheduling(connection), "the scheduler to take its locks again", log=log)
    _timed_job_runs(connection, log)
    assert status.workers_state(connection)["status"] == "ok"
    assert len(_lines(log, "registered again")) == 1, log.read_text()


def _scheduler_of(connection) -> tuple[str, int]:
    holder = connection.get("rq:scheduler-lock:default").decode()
    return holder, int(connection.hget(f"rq:scheduler:{holder}", "pid"))


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0); it no longer runs.
    return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_a_worker_killed_9_leaves_no_scheduler_lock_behind(connection, spawn):
    proc, log, worker = _start_worker(spawn, connection)
    old_holder, scheduler_pid = _scheduler_of(connection)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    # The scheduler dies with its worker and gives its locks back, instead of holding them for a minute.
    _wait(lambda: _gone(scheduler_pid), "the scheduler to stop with its worker", log=log)
    assert not connection.exists("rq:scheduler-lock:default")

    proc2, log2, _worker2 = _start_worker(spawn, connection)
    assert _scheduler_of(connection)[0] != old_holder
    _timed_job_runs(connection, log2)


def test_a_new_worker_takes_over_the_lock_of_a_scheduler_killed_9(connection, spawn):
    proc, log, worker = _start_worker(spawn, connection)
    old_holder, scheduler_pid = _scheduler_of(connection)
    os.killpg(proc.pid, signal.SIGKILL)  # worker and scheduler at once: nobody releases the locks
    proc.wait(10)
    _wait(lambda: _gone(scheduler_pid), "the scheduler to die", log=log)
    assert connection.get("rq:scheduler-lock:default").decode() == old_holder

    proc2, log2, _worker2 = _start_worker(spawn, connection)
    _wait(lambda: _scheduler_of(connection)[0] != old_holder, "the new scheduler to take the lock", log=log2)
    assert _lines(log2, f"lock of scheduler {old_holder}"), log2.read_text()
    _timed_job_runs(connection, log2)
