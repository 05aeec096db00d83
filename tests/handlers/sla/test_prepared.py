"""The timer's prepared alerts (app/handlers/sla/prepared.py): the same rows as the job, exactly once with it.

Prepared before the due time with nothing written; fired at it with one transaction. A clock answered
in between sends nothing; a timer that died after preparing leaves the job and the sweep to send,
once; whichever of timer, job and sweep comes second finds nothing owed.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue
from sqlalchemy import func, select

from app.extensions import db, redis_ext
from app.handlers import sla
from app.handlers.messaging.outbox import delivering_inline
from app.handlers.sla.prepared import fire_prepared, prepare_clock_alert
from app.models import Alert, AlertRecipient, Message
from app.models.sla import ReplyClock
from tests.handlers.sla.support import alert_messages, alerts, cover_day, make_world, resident_message, start
from workers.sends import deliver
from workers.sla import fire_prepared_alert, fire_reply_alert, prepare_reply_alert

TEXT = "3号楼2单元楼道灯坏了，晚上看不见"


def rows_written() -> tuple[int, int, int]:
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in (Alert, AlertRecipient,
                                                                                          Message))


def shape(clock_id: int) -> dict:
    """What an alert of a clock wrote, without what differs between two clocks (ids, keys)."""
    db.session.expire_all()
    found = {}
    for alert in db.session.scalars(select(Alert).where(Alert.clock_id == clock_id)):
        recipients = sorted((r.staff_id or 0, r.role, r.target, r.channel or "", r.state) for r in alert.recipients)
        messages = sorted((m.recipient_id, m.text, m.status, m.handling["recipient_kind"], m.handling["alert_kind"],
                           tuple(m.handling.get("mentioned_mobile_list", ())))
                          for m in db.session.scalars(select(Message).where(
                              Message.id.in_([r.message_id for r in alert.recipients if r.message_id]))))
        found[alert.kind] = {"text": alert.text, "recipients": recipients, "messages": messages,
                             "dispatched": alert.dispatched_at is not None}
    return found


@pytest.mark.parametrize("duty_wework", [True, False], ids=["wecom", "duty-group"])
def test_a_prepared_alert_writes_what_the_job_writes(app, clock, duty_wework):
    world = make_world(duty_wework=duty_wework)
    cover_day(world, clock() - timedelta(hours=2))
    by_job = start(world, resident_message(world, TEXT))
    by_timer = start(world, resident_message(world, TEXT))
    clock.advance(minutes=44, seconds=58)
    warn = prepare_clock_alert(by_timer.id, "warn")
    assert rows_written() == (0, 0, 2)                              # only the two residents' messages so far
    clock.advance(seconds=2)
    fire_reply_alert(by_job.id, "warn")
    assert fire_prepared(warn) is not None
    clock.advance(minutes=14, seconds=58)
    breach = prepare_clock_alert(by_timer.id, "breach")
    clock.advance(seconds=2)
    fire_reply_alert(by_job.id, "breach")
    assert fire_prepared(breach) is not None
    assert shape(by_timer.id) == shape(by_job.id) and set(shape(by_job.id)) == {"warn", "breach"}
    assert [a.related["fired_by"] for a in alerts() if a.clock_id == by_timer.id] == ["timer", "timer"]
    db.session.expire_all()
    row = db.session.get(ReplyClock, by_timer.id)
    assert row.warned_at == row.warn_at and row.breached_at == row.due_at and row.next_alert_at is None


def test_a_clock_answered_between_preparing_and_the_due_time_sends_nothing(app, world, clock):
    clock_row = start(world)
    clock.advance(minutes=59, seconds=58)
    prepared = prepare_reply_alert(clock_row.id, "breach")
    assert prepared is not None
    sla.record_staff_reply(community_id=world.community.id, staff_id=world.duty.id, group_id=world.group.id)
    clock.advance(seconds=2)
    sent: list[int] = []
    with delivering_inline(sent.append):
        assert fire_prepared_alert(prepared) == "nothing owed"
    assert sent == [] and alerts() == [] and alert_messages() == []
    assert sla.sweep() == {"warned": 0, "breached": 0, "redispatched": 0}


def test_a_timer_that_died_after_preparing_leaves_the_job_and_the_sweep_to_send_once(app, world, clock):
    clock_row = start(world)
    clock.advance(minutes=44, seconds=58)
    prepare_clock_alert(clock_row.id, "warn")                     # … and the timer is killed -9 here
    assert rows_written() == (0, 0, 1)
    clock.advance(seconds=2)
    assert sla.sweep()["warned"] == 1
    clock.advance(minutes=14, seconds=58)
    late = prepare_clock_alert(clock_row.id, "breach")              # a second timer prepares the breach …
    clock.advance(seconds=2)
    assert fire_reply_alert(clock_row.id, "breach") == f"raised {clock_row.id}:breach"   # … the job is first
    assert fire_prepared(late) is None and sla.sweep()["breached"] == 0
    assert [(a.kind, a.related["fired_by"]) for a in alerts()] == [("warn", "sweep"), ("breach", "job")]
    assert len(alert_messages(":warn:")) == 2 and len(alert_messages(":breach:")) == 3


def test_after_the_timer_fired_the_job_and_the_sweep_find_nothing_owed(app, world, clock):
    clock_row = start(world)
    clock.advance(minutes=59, seconds=59)
    prepared = prepare_clock_alert(clock_row.id, "breach")
    clock.advance(seconds=1)
    assert len(fire_prepared(prepared)) == 3
    assert fire_reply_alert(clock_row.id, "breach") == "nothing owed"
    assert fire_reply_alert(clock_row.id, "warn") == "nothing owed"     # too late for a warning
    assert sla.sweep() == {"warned": 0, "breached": 0, "redispatched": 0}
    assert fire_prepared(prepare_clock_alert(clock_row.id, "breach") or prepared) is None
    assert len(alert_messages()) == 3


def test_a_warning_prepared_but_fired_after_the_deadline_leaves_it_to_the_breach(app, world, clock):
    clock_row = start(world)
    clock.advance(minutes=44, seconds=59)
    warn = prepare_clock_alert(clock_row.id, "warn")
    clock.advance(minutes=16)                                       # the timer was stalled past the deadline
    assert fire_prepared(warn) is None and alerts() == []
    assert sla.sweep()["breached"] == 1


def test_a_prepared_alert_is_never_fired_early(app, world, clock):
    clock_row = start(world)
    clock.advance(minutes=59)
    prepared = prepare_clock_alert(clock_row.id, "breach")
    with pytest.raises(ValueError):
        fire_prepared(prepared)
    assert alerts() == []


def test_nothing_is_prepared_for_a_stopped_clock_or_an_alert_already_fired(app, world, clock):
    clock_row = start(world)
    clock.advance(minutes=45)
    fire_reply_alert(clock_row.id, "warn")
    assert prepare_clock_alert(clock_row.id, "warn") is None
    sla.record_staff_reply(community_id=world.community.id, staff_id=world.duty.id, group_id=world.group.id)
    assert prepare_clock_alert(clock_row.id, "breach") is None
    with pytest.raises(ValueError):
        prepare_clock_alert(clock_row.id, "later")


def test_the_fired_messages_go_through_the_outbox_states(app, world, clock, fake_wechat):
    clock_row = start(world)
    clock.advance(minutes=59, seconds=59)
    prepared = prepare_clock_alert(clock_row.id, "breach")
    clock.advance(seconds=1)
    handed: list[int] = []
    with delivering_inline(handed.append):
        ids = fire_prepared(prepared)
    assert sorted(handed) == sorted(ids)
    db.session.expire_all()
    assert {db.session.get(Message, i).status for i in ids} == {"queued"}
    assert {deliver(i) for i in ids} == {"sent"}
    assert {deliver(i) for i in ids} == {"sent"}                     # a second delivery sends nothing
    assert len(fake_wechat.delivered("/cgi-bin/message/send")) == 3


def test_outside_the_timer_the_fired_messages_go_to_rq(app, world, clock):
    clock_row = start(world)
    clock.advance(minutes=60)
    prepared = prepare_clock_alert(clock_row.id, "breach")
    ids = fire_prepared(prepared)
    queued = set(Queue("send", connection=redis_ext.client).get_job_ids())
    assert {f"send-{i}" for i in ids} <= queued
