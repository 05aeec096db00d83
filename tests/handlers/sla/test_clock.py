"""The reply clock: starting (once, at the right time, with a no-duty alert) and stopping (by staff only)."""
from __future__ import annotations

import math
from datetime import timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from app.extensions import db
from app.handlers import sla
from app.handlers.messaging.outbox import TO_GROUP, queue_message
from app.models import Direction, Message
from app.models.sla import ReplyClock
from tests.handlers.sla.support import alert_messages, alerts, cover_day, make_world, resident_message, start
from workers.jobs import QUEUE_SLA

# ---- starting -----------------------------------------------------------------------------------

def test_clock_is_due_an_hour_later_and_warns_fifteen_minutes_before(world, clock, redis_client):
    clock_row = start(world)
    assert clock_row.started_at == clock()
    assert clock_row.due_at == clock() + timedelta(hours=1)
    assert clock_row.warn_at == clock() + timedelta(minutes=45)
    assert clock_row.next_alert_at == clock_row.warn_at
    registry = ScheduledJobRegistry(QUEUE_SLA, connection=redis_client)
    warn_id, breach_id = f"sla-warn-{clock_row.id}", f"sla-breach-{clock_row.id}"
    assert set(registry.get_job_ids()) == {warn_id, breach_id}
    # Scheduled on the whole second at or after the time, never before it.
    assert registry.get_scheduled_time(warn_id).timestamp() == math.ceil(clock_row.warn_at.timestamp())
    assert registry.get_scheduled_time(breach_id).timestamp() == math.ceil(clock_row.due_at.timestamp())


def test_clock_runs_around_the_clock_at_night_and_on_holidays(world, clock):
    # 2026-10-01 23:40 Shanghai, National Day: still due one hour later.
    clock.set(clock().replace(year=2026, month=10, day=1, hour=15, minute=40))
    cover_day(world, clock() - timedelta(hours=1))
    clock_row = start(world)
    assert clock_row.due_at - clock_row.started_at == timedelta(hours=1)


def test_start_is_idempotent_per_message_and_attaches_the_request_later(world, clock, redis_client):
    message = resident_message(world)
    first = start(world, message)
    clock.advance(seconds=5)
    again = sla.start_reply_clock(community_id=world.community.id, message_id=message.id, request_id=77)
    assert again.id == first.id
    assert again.request_id == 77
    assert again.started_at == first.started_at  # a repeat does not restart the hour
    by_request = sla.start_reply_clock(community_id=world.community.id, request_id=77)
    assert by_request.id == first.id
    assert db.session.scalar(select(func.count()).select_from(ReplyClock)) == 1
    assert len(ScheduledJobRegistry(QUEUE_SLA, connection=redis_client).get_job_ids()) == 2


def test_a_clock_needs_a_message_or_a_request(world):
    with pytest.raises(ValueError):
        sla.start_reply_clock(community_id=world.community.id)
    assert sla.start_reply_clock(community_id=None, message_id=1) is None


def test_warnings_can_be_switched_off(app, clock):
    app.config["REPLY_WARN_SECONDS"] = 0
    w = make_world()
    cover_day(w, clock() - timedelta(hours=1))
    clock_row = start(w)
    assert clock_row.warn_at is None
    assert clock_row.next_alert_at == clock_row.due_at
    clock.advance(minutes=50)
    assert sla.sweep()["warned"] == 0
    clock.advance(minutes=10)
    assert sla.sweep()["breached"] == 1


def test_nobody_on_duty_alerts_the_admin_at_once(app, clock):
    w = make_world()  # no shifts at all
    clock_row = start(w)
    [alert] = alerts("no_duty")
    assert alert.key == f"{clock_row.id}:no_duty"
    assert [r.staff_id for r in alert.recipients] == [w.admin.id]
    [message] = alert_messages()
    assert message.recipient_id == w.admin.wework_userid
    assert message.handling["recipient_kind"] == "staff"
    assert "无人值班" in message.text and "楼道灯" in message.text
    assert "赵大妈" not in message.text  # the resident's name is masked
    # Idempotent start: no second no-duty alert.
    start_again = sla.start_reply_clock(community_id=w.community.id, message_id=clock_row.message_id)
    assert start_again.id == clock_row.id
    assert len(alerts("no_duty")) == 1


def test_someone_on_duty_means_no_no_duty_alert(world):
    start(world)
    assert alerts() == []


# ---- stopping -----------------------------------------------------------------------------------

def test_a_staff_message_in_the_group_stops_the_open_clocks_asked_before_it(world, clock, redis_client):
    first = start(world)
    clock.advance(minutes=3)
    second = start(world)
    clock.advance(minutes=7)
    stopped = sla.record_staff_reply(community_id=world.community.id, staff_id=world.duty.id,
                                     group_id=world.group.id, at=clock() - timedelta(minutes=8))
    assert [c.id for c in stopped] == [first.id]  # the later question was asked after that reply
    assert first.stopped_at == clock() - timedelta(minutes=8)
    assert first.stopped_by_staff_id == world.duty.id
    assert first.next_alert_at is None
    registry = ScheduledJobRegistry(QUEUE_SLA, connection=redis_client)
    assert set(registry.get_job_ids()) == {f"sla-warn-{second.id}", f"sla-breach-{second.id}"}
    stopped = sla.record_staff_reply(community_id=world.community.id, staff_id=world.duty.id,
                                     group_id=world.group.id)
    assert [c.id for c in stopped] == [second.id]
    assert registry.get_job_ids() == []


def test_the_bots_acknowledgement_does_not_stop_the_clock(world):
    clock_row = start(world)
    ack = queue_message(channel=world.group.channel, recipient_kind=TO_GROUP, recipient_id=world.group.chat_id,
                        text="已收到您反映的问题，值班人员会尽快回复。", idempotency_key="bot-ack-1",
                        community_id=world.community.id, group_id=world.group.id, enqueue=False)
    assert sla.record_staff_reply(community_id=world.community.id, group_id=world.group.id,
                                  message_id=ack.id) == []
    assert sla.record_staff_reply(community_id=world.community.id, group_id=world.group.id) == []
    db.session.refresh(clock_row)
    assert clock_row.stopped_at is None


def test_a_staff_message_seen_by_the_group_bridge_stops_the_clock(world, clock):
    clock_row = start(world)
    clock.advance(minutes=20)
    staff_message = Message(direction=Direction.IN.value, channel=world.group.channel, dedupe_key="staff-1",
                            chat_id=world.group.chat_id, group_id=world.group.id, community_id=world.community.id,
                            sender_id="bridge-staff", is_staff=True, text="已联系物业，今晚修好", received_at=clock())
    db.session.add(staff_message)
    db.session.commit()
    stopped = sla.record_staff_reply(community_id=world.community.id, group_id=world.group.id,
                                     message_id=staff_message.id, at=clock())
    assert [c.id for c in stopped] == [clock_row.id]
    assert clock_row.stop_message_id == staff_message.id
    assert clock_row.reply_seconds() == 20 * 60


def test_a_reply_to_a_request_stops_only_that_requests_clock(world):
    one = start(world)
    sla.start_reply_clock(community_id=world.community.id, message_id=one.message_id, request_id=501)
    other = start(world)
    stopped = sla.record_staff_reply(community_id=world.community.id, staff_id=world.duty.id, request_id=501)
    assert [c.id for c in stopped] == [one.id]
    db.session.refresh(other)
    assert other.stopped_at is None


def test_another_communitys_staff_reply_stops_nothing(world):
    clock_row = start(world)
    stranger = make_world()
    assert sla.record_staff_reply(community_id=stranger.community.id, staff_id=stranger.duty.id,
                                  group_id=world.group.id) == []
    db.session.refresh(clock_row)
    assert clock_row.stopped_at is None
