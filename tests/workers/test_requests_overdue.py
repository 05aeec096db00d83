"""督办: the exact job at each request's deadline, the periodic backstop, exactly one alert."""
from __future__ import annotations

from datetime import timedelta

import pytest
from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from app.extensions import db
from app.handlers import requests as flow
from app.models import Direction, Message
from app.models.alerts import Alert
from app.models.requests import RequestEvent, ServiceRequest
from tests.factories.requests import build_world, kinds, report
from workers.jobs import QUEUE_DEFAULT
from workers.requests import check_request_overdue, sweep_overdue_requests
from workers.runner import build_worker


@pytest.fixture
def world(app, clock):
    return build_world()


def overdue_alerts(request: ServiceRequest) -> list[Alert]:
    return db.session.scalars(select(Alert).where(Alert.key == f"request:{request.id}:overdue")).all()


def alert_messages(request: ServiceRequest) -> list[Message]:
    return db.session.scalars(select(Message).where(
        Message.direction == Direction.OUT.value,
        Message.dedupe_key.like(f"alert:request:{request.id}:overdue%"))).all()


def scheduled(redis_client) -> dict[str, object]:
    registry = ScheduledJobRegistry(QUEUE_DEFAULT, connection=redis_client)
    return {job_id: registry.get_scheduled_time(job_id) for job_id in registry.get_job_ids()}


def test_an_exact_job_is_scheduled_at_the_deadline_and_follows_it(world, redis_client, clock):
    clock.advance(microseconds=250_000)
    _, request = report(world, "3号楼停水了", category="utilities")
    job_id = f"request-overdue-{request.id}"
    # RQ keeps whole seconds: the job is rounded up, never early.
    assert scheduled(redis_client)[job_id] == request.due_at.replace(microsecond=0) + timedelta(seconds=1)
    flow.reclassify(request, world.duty, urgency="emergency")
    jobs = scheduled(redis_client)
    assert [j for j in jobs if j.startswith("request-overdue")] == [job_id]  # same id: replaced, not added
    assert request.due_at == request.created_at + timedelta(hours=2)
    assert jobs[job_id] == request.due_at.replace(microsecond=0) + timedelta(seconds=1)
    flow.reclassify(request, world.duty, urgency="general")  # day-based: due at 23:59:59 exactly
    assert scheduled(redis_client)[job_id] == request.due_at
    flow.resolve(request, world.duty, note="已恢复供水")
    assert job_id not in scheduled(redis_client)


def test_supervision_goes_out_exactly_once_when_the_job_and_the_sweep_both_fire(world, clock):
    _, request = report(world, "3号楼停水了", category="utilities")
    flow.dispatch(request, world.duty)
    clock.set(request.due_at + timedelta(seconds=1))
    assert check_request_overdue(request.id) is True
    assert check_request_overdue(request.id) is False  # the job ran twice
    assert sweep_overdue_requests() == {"supervised": 0, "closed_unrated": 0}
    assert flow.supervise_overdue(request.id) is None
    alerts = overdue_alerts(request)
    assert len(alerts) == 1 and alerts[0].kind == "overdue"
    assert alerts[0].text.startswith(f"【督办】诉求{request.code}")
    assert "承办人：王网格" in alerts[0].text and "24小时" in alerts[0].text
    assert alerts[0].related["request_id"] == request.id
    assert {r.staff_id for r in alerts[0].recipients} == {world.admin.id, world.worker.id}
    assert sorted(m.recipient_id for m in alert_messages(request)) == ["wang-grid", "zhao-admin"]
    db.session.refresh(request)
    assert request.supervised_at == clock()
    assert kinds(request).count("supervised") == 1


def test_exactly_once_through_a_real_worker_with_duplicated_jobs(app, world, clock):
    _, request = report(world, "小区大门道闸坏了", category="parking", slots={})
    clock.set(request.due_at + timedelta(minutes=1))
    check_request_overdue.enqueue(request.id)
    check_request_overdue.enqueue(request.id)  # enqueued twice
    sweep_overdue_requests.enqueue()
    worker = build_worker(app, [QUEUE_DEFAULT], worker_class=SimpleWorker)
    worker.work(burst=True)
    db.session.expire_all()
    assert len(overdue_alerts(request)) == 1
    # Nobody is assigned: the community admin is told.
    assert [r.staff_id for r in overdue_alerts(request)[0].recipients] == [world.admin.id]
    assert len(alert_messages(request)) == 1
    assert kinds(request).count("supervised") == 1


def test_nothing_before_the_deadline_or_after_resolution(world, clock):
    _, request = report(world)
    clock.set(request.due_at - timedelta(seconds=1))
    assert check_request_overdue(request.id) is False
    assert sweep_overdue_requests()["supervised"] == 0
    flow.resolve(request, world.duty, note="已处理")
    clock.set(request.due_at + timedelta(days=1))
    assert check_request_overdue(request.id) is False
    assert sweep_overdue_requests()["supervised"] == 0
    assert overdue_alerts(request) == []
    assert check_request_overdue(999999) is False


def test_the_sweep_catches_a_lost_job(world, clock, redis_client):
    _, first = report(world, "3号楼停水", category="utilities", chat_id="c1")
    _, second = report(world, "3号楼停电", category="utilities", chat_id="c2")
    _, later = report(world, "楼道堆物", category="environment", chat_id="c3")
    redis_client.flushdb()  # Redis restarted without persistence: the scheduled jobs are gone
    clock.advance(hours=25)
    assert sweep_overdue_requests()["supervised"] == 2
    assert sweep_overdue_requests()["supervised"] == 0
    assert len(overdue_alerts(first)) == 1 and len(overdue_alerts(second)) == 1
    assert overdue_alerts(later) == []


def test_department_staff_are_supervised_when_nobody_is_assigned(world, clock):
    _, request = report(world, "3号楼外墙脱落", category="safety")
    flow.escalate(request, world.duty, level="department", reason="需住建局排险", department_id=world.department.id)
    clock.advance(hours=3)
    assert check_request_overdue(request.id) is True
    assert {r.staff_id for r in overdue_alerts(request)[0].recipients} == {world.admin.id, world.dept_staff.id}


def test_a_reopened_request_gets_its_overdue_job_back(world, redis_client):
    _, request = report(world)
    flow.resolve(request, world.duty, note="已修")
    assert f"request-overdue-{request.id}" not in scheduled(redis_client)
    flow.rate(request, world.resident, rating="unsatisfied")
    assert f"request-overdue-{request.id}" in scheduled(redis_client)


def test_resolved_requests_never_rated_are_closed_after_the_wait(world, clock):
    _, request = report(world)
    flow.resolve(request, world.duty, note="已修")
    clock.advance(days=7, seconds=-1)
    assert sweep_overdue_requests()["closed_unrated"] == 0
    clock.advance(seconds=1)
    assert sweep_overdue_requests()["closed_unrated"] == 1
    db.session.refresh(request)
    assert request.status == "closed" and request.rating is None
    closed = db.session.scalars(select(RequestEvent).where(RequestEvent.kind == "closed")).one()
    assert closed.actor_type == "system" and closed.detail == {"reason": "no_rating", "waited_days": 7}


@pytest.mark.parametrize("app_overrides", [{"REQUEST_RATING_WAIT_DAYS": 0}])
def test_closing_unrated_requests_can_be_turned_off(world, clock):
    _, request = report(world)
    flow.resolve(request, world.duty, note="已修")
    clock.advance(days=100)
    assert sweep_overdue_requests()["closed_unrated"] == 0


def test_the_sweep_is_a_periodic_job():
    from workers.cron import PERIODIC, periodic_jobs
    assert ("requests.sweep", 60) in PERIODIC
    assert any(job is sweep_overdue_requests for job, _ in periodic_jobs())
