from datetime import timedelta

import pytest
from rq import SimpleWorker
from rq.job import Job

from app import jobs
from app.extensions import db
from app.jobs import QUEUE_DEFAULT, JobSpec, cancel
from app.models import AuditLog
from workers.jobs import job
from workers.runner import build_worker

jobs.register("test.record_audit", JobSpec(f"{__name__}.record_audit"))


@job("test.record_audit")
def record_audit(action: str) -> int:
    row = AuditLog(actor_type="system", action=action)
    db.session.add(row)
    db.session.commit()
    return row.id


def test_a_job_runs_in_a_worker_with_an_app_context(app):
    queued = record_audit.enqueue("job.ran")
    worker = build_worker(app, worker_class=SimpleWorker)
    worker.work(burst=True)
    assert queued.get_status(refresh=True) == "finished"
    assert db.session.query(AuditLog).filter_by(action="job.ran").count() == 1


def test_unknown_queue_is_refused():
    with pytest.raises(ValueError):
        JobSpec("tests.nope", queue="nope")


def test_an_unregistered_job_name_is_refused():
    with pytest.raises(KeyError):
        job("no.such.job")


def test_a_job_whose_registry_entry_names_another_function_is_refused():
    jobs.register("test.misnamed", JobSpec(f"{__name__}.somewhere_else"))

    with pytest.raises(RuntimeError, match="somewhere_else"):
        @job("test.misnamed")
        def misnamed() -> None:  # pragma: no cover - never defined
            pass


def test_scheduling_with_the_same_id_replaces_the_job(app, redis_client):
    first = record_audit.enqueue_in(timedelta(minutes=5), "a", job_id="audit-deterministic")
    second = record_audit.enqueue_in(timedelta(minutes=10), "b", job_id="audit-deterministic")
    assert first.id == second.id
    fetched = Job.fetch("audit-deterministic", connection=redis_client)
    assert fetched.args == ("b",)
    from rq.registry import ScheduledJobRegistry
    registry = ScheduledJobRegistry(QUEUE_DEFAULT, connection=redis_client)
    assert registry.get_job_ids() == ["audit-deterministic"]


def test_cancel_removes_a_scheduled_job(app, redis_client):
    record_audit.enqueue_in(timedelta(minutes=5), "a", job_id="audit-cancel-me")
    assert cancel("audit-cancel-me", redis_client) is True
    assert cancel("audit-cancel-me", redis_client) is False


def test_job_id_is_deterministic_and_valid():
    from app.jobs import job_id
    assert job_id("sla", "warn", 42) == "sla-warn-42"
    assert job_id("booking", "remind", "a:b c") == "booking-remind-a_b_c"
