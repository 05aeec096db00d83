"""Reminders before events (RQ): scheduled with a deterministic id, sent once per confirmed
sign-up, never to cancelled or waiting ones, never twice; and the events sweep."""
from __future__ import annotations

import pytest
import redis
from rq import SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from app.extensions import db
from app.handlers.events.checkin import check_in
from app.handlers.events.lifecycle import cancel_event, publish_event, update_event
from app.handlers.events.reminders import remind_due, reminder_at, schedule_reminder
from app.handlers.events.signups import cancel_signup, signup_for
from app.models.events import Event, Signup
from tests import factories
from tests.handlers.events.support import local, make_event, outbound
from workers.events import events_sweep, send_event_reminder
from workers.runner import build_worker


@pytest.fixture
def community(app, clock):
    row = factories.community()
    db.session.commit()
    return row


def _resident(community, n):
    row = factories.resident(community_id=community.id, identities=[("mp", "openid", f"openid-{n}")])
    db.session.commit()
    return row


def _run_default_queue(app) -> None:
    # Only the default queue: the send queue's deliveries are the channels' business (and tests).
    build_worker(app, ["default"], worker_class=SimpleWorker).work(burst=True)


def _reminders() -> list:
    return [m for m in outbound() if m.text.startswith("【活动提醒】")]


def test_reminder_job_is_scheduled_once_per_event_with_a_deterministic_id(community, redis_client):
    event = make_event(community)
    job = Job.fetch(f"event-remind-{event.id}", connection=redis_client)
    assert job.func_name == "workers.events.send_event_reminder" and job.args == (event.id,)
    publish_event(event, None)  # publishing again does not add a second job
    schedule_reminder(event)
    registry = ScheduledJobRegistry("default", connection=redis_client)
    assert registry.get_job_ids() == [f"event-remind-{event.id}"]


def test_reminders_go_to_confirmed_sign_ups_only(app, community, clock):
    event = make_event(community, capacity=2, place="社区卫生服务站")
    kept, cancelled, promoted, waiting = (_resident(community, n) for n in range(4))
    signup_for(event.id, resident=kept)
    gone = signup_for(event.id, resident=cancelled).signup
    signup_for(event.id, resident=promoted, waitlist=True)
    signup_for(event.id, resident=waiting, waitlist=True)
    cancel_signup(gone.id)  # `promoted` gets the place (and was told then); `waiting` still waits

    clock.set(local(2026, 11, 23, 8, 30))  # the reminder time: 24 hours before
    send_event_reminder.enqueue(event.id)
    _run_default_queue(app)
    reminders = _reminders()
    assert sorted(m.resident_id for m in reminders) == sorted([kept.id, promoted.id])
    first = next(m for m in reminders if m.resident_id == kept.id)
    assert first.recipient_id == "openid-0" and first.handling["recipient_kind"] == "user"
    assert "将于明天（11月24日（周二））08:30开始" in first.text and "社区卫生服务站" in first.text
    assert not [m for m in outbound(resident_id=cancelled.id)]
    assert not [m for m in outbound(resident_id=waiting.id)]


def test_a_job_run_twice_and_the_sweep_send_nothing_new(app, community, clock):
    event = make_event(community, capacity=5)
    residents = [_resident(community, n) for n in range(3)]
    for resident in residents:
        signup_for(event.id, resident=resident)
    clock.set(local(2026, 11, 23, 9, 0))
    assert send_event_reminder(event.id) == 3
    assert send_event_reminder(event.id) == 0
    send_event_reminder.enqueue(event.id)
    events_sweep.enqueue()
    _run_default_queue(app)
    assert sorted(m.resident_id for m in _reminders()) == sorted(r.id for r in residents)
    assert all(s.reminded_at is not None for s in db.session.scalars(select(Signup)))


def test_no_reminder_before_its_time_or_after_the_start_or_for_cancelled_events(community, clock):
    event = make_event(community)
    signup_for(event.id, resident=_resident(community, 1))
    assert send_event_reminder(event.id) == 0  # a week early
    clock.set(local(2026, 11, 24, 8, 31))
    assert send_event_reminder(event.id) == 0  # already started
    other = make_event(community, title="四点半课堂", kind="class", starts_at=local(2026, 11, 26, 16, 30))
    signup_for(other.id, resident=_resident(community, 2))
    cancel_event(other, None)
    clock.set(local(2026, 11, 25, 17, 0))
    assert send_event_reminder(other.id) == 0
    assert _reminders() == []


def test_sign_ups_after_the_reminder_time_are_not_reminded_again(community, clock):
    event = make_event(community)
    early = _resident(community, 1)
    signup_for(event.id, resident=early)
    clock.set(local(2026, 11, 23, 20, 0))
    late = _resident(community, 2)
    update_event(event, None, {"signup_deadline": None})
    signup_for(event.id, resident=late)  # after the reminder time: the confirmation said it all
    assert remind_due() == 1
    assert [m.resident_id for m in _reminders()] == [early.id]


def test_a_new_time_is_reminded_again(community, clock):
    event = make_event(community)
    resident = _resident(community, 1)
    signup_for(event.id, resident=resident)
    clock.set(local(2026, 11, 23, 9, 0))
    assert send_event_reminder(event.id) == 1
    update_event(event, None, {"starts_at": local(2026, 11, 24, 14, 0), "ends_at": local(2026, 11, 24, 16, 0)})
    clock.set(local(2026, 11, 23, 14, 0))
    assert send_event_reminder(event.id) == 1
    texts = [m.text for m in _reminders()]
    assert len(texts) == 2 and "08:30开始" in texts[0] and "14:00开始" in texts[1]


def test_sweep_materialises_series_and_marks_absentees(app, community, clock):
    head = make_event(community, recurrence="weekly")
    present, absent = _resident(community, 1), _resident(community, 2)
    staff = factories.staff(community=community)
    db.session.commit()
    here = signup_for(head.id, resident=present).signup
    away = signup_for(head.id, resident=absent).signup
    clock.set(local(2026, 11, 24, 8, 40))
    check_in(head, staff, signup_id=here.id)
    clock.set(local(2026, 11, 25, 0, 0))
    before = db.session.scalar(select(func.count()).select_from(Event))
    result = events_sweep()
    assert result["closed"] == 1 and result["materialised"] == 1
    assert db.session.scalar(select(func.count()).select_from(Event)) == before + 1
    db.session.refresh(here)
    db.session.refresh(away)
    assert (here.status, away.status) == ("attended", "absent")
    assert events_sweep()["closed"] == 0


def test_reminders_off(app, community, clock):
    app.config["EVENT_REMINDER_MINUTES"] = 0
    event = make_event(community)
    signup_for(event.id, resident=_resident(community, 1))
    clock.set(local(2026, 11, 24, 8, 0))
    assert send_event_reminder(event.id) == 0 and remind_due() == 0
    assert reminder_at(event) is None


def test_with_redis_down_events_still_publish_and_cancel_and_the_sweep_reminds(app, community, clock, redis_client):
    state = app.extensions["linli.redis"]
    working = state["client"]
    state["client"] = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        event = make_event(community)  # publishing schedules the reminder: Redis refuses, the event stands
        other = make_event(community, title="四点半课堂", kind="class", starts_at=local(2026, 11, 26, 16, 30))
        cancel_event(other, None)  # and un-scheduling its reminder too
    finally:
        state["client"] = working
    assert (event.status, other.status) == ("published", "cancelled")
    assert ScheduledJobRegistry("default", connection=redis_client).get_job_ids() == []
    signup_for(event.id, resident=_resident(community, 1))
    clock.set(local(2026, 11, 23, 8, 30))
    assert remind_due() == 1  # the sweep does what the lost job would have done
    assert len(_reminders()) == 1
