"""The finisher of reports answered in the callback: one job per batch, every id finished once, none lost.

app/handlers/messaging/to_finish.py and workers/inbound.py, through /wechat/mp on the
test's real database and Redis; jobs are taken from the real RQ queue and performed.
"""
from __future__ import annotations

import pytest
from rq import Queue
from sqlalchemy import select

from app.channels import recovery
from app.extensions import db, redis_ext
from app.handlers.messaging import to_finish
from app.handlers.requests import deferred
from app.jobs import QUEUE_DEFAULT
from app.models import Direction, Message
from app.models.requests import ServiceRequest
from tests.support.deferred_texts import CODE, DEFERRED_SETTINGS

pytest_plugins = ["tests.support.deferred_reports"]


@pytest.fixture
def app_overrides():
    return DEFERRED_SETTINGS


def report(sim, n: int) -> str:
    result = sim.post(sim.text_xml(f"o-batch-{n}", f"{n}号楼电梯坏了，困在里面出不来"))
    assert result.status == 200
    [code] = CODE.findall(result.reply_content)
    return code


def finisher_jobs():
    return [job for job in Queue(QUEUE_DEFAULT, connection=redis_ext.client).jobs
            if job.func_name == "workers.inbound.finish_message"]


def pending_ids() -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(select(Message.id).where(Message.direction == Direction.IN.value,
                                                            Message.pending_at.is_not(None))))


def codes() -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(ServiceRequest.code)))


def test_one_job_for_a_batch_and_every_report_finished_once(app, sim, clock):
    announced = [report(sim, n) for n in range(1, 6)]
    [job] = finisher_jobs()                       # five reports, one job
    assert len(to_finish.waiting()) == 5
    result = job.perform()
    assert len(result["message_ids"]) == 5 and len(result["request_ids"]) == 5
    assert codes() == sorted(announced) and pending_ids() == []
    assert to_finish.waiting() == [] and not redis_ext.client.exists(to_finish.FLAG_KEY)


def test_a_report_after_the_job_started_queues_the_next_job(app, sim, clock):
    report(sim, 1)
    [job] = finisher_jobs()
    Queue(QUEUE_DEFAULT, connection=redis_ext.client).empty()
    to_finish.finisher_started()                  # the job has begun: its flag is gone ...
    report(sim, 2)                                # ... so this report queues a job of its own
    [second] = finisher_jobs()
    assert second.id != job.id
    assert len(second.perform()["request_ids"]) == 2
    assert pending_ids() == []


def test_ids_taken_by_a_worker_that_died_are_finished_by_the_sweep(app, sim, clock):
    announced = [report(sim, n) for n in (1, 2)]
    assert len(to_finish.take()) == 2             # popped, then the work horse was killed
    assert to_finish.waiting() == [] and len(pending_ids()) == 2
    clock.advance(seconds=deferred.SETTLE_SECONDS + 1)
    assert recovery.sweep(app.instance_path)["finished"] == 2
    assert codes() == sorted(announced)


def test_a_message_another_finisher_holds_is_left_to_it(app, sim, clock):
    report(sim, 1)
    [row_id] = pending_ids()
    db.session.execute(Message.__table__.update().where(Message.id == row_id).values(claimed_at=clock()))
    db.session.commit()
    [job] = finisher_jobs()
    assert job.perform()["request_ids"] == []     # claimed by someone else: not this job's to finish
    assert pending_ids() == [row_id] and codes() == []


def test_a_backlog_queues_a_helper_job_for_another_worker(app, sim, clock):
    report(sim, 1)                                # a real one, and a backlog of ids with nothing pending
    redis_ext.client.rpush(to_finish.LIST_KEY, *range(10_000_000, 10_000_000 + 2 * to_finish.BATCH))
    [job] = finisher_jobs()
    Queue(QUEUE_DEFAULT, connection=redis_ext.client).empty()
    result = job.perform()
    assert len(result["message_ids"]) == 2 * to_finish.BATCH + 1 and len(result["request_ids"]) == 1
    assert len(finisher_jobs()) == 1              # the helper, queued once
