"""The reply clock: start, stop, alerts at the right time to the right people, exactly once."""
from __future__ import annotations

import itertools
import math
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from app.extensions import db
from app.handlers import sla
from app.handlers.alerts import dispatch_alert, raise_alert, record_alert
from app.handlers.messaging.outbox import TO_GROUP, queue_message
from app.models import Direction, GroupKind, Message
from app.models.sla import Alert, AlertRecipient, ReplyClock
from tests import factories as f
from workers.jobs import QUEUE_SLA
from workers.sla import fire_reply_alert, sweep_reply_clocks

_seq = itertools.count(1)


def make_world(*, duty_wework=True, with_duty_group=True):
    """A community with a resident group, a duty group, an admin, a lead and a duty member on shift."""
    community = f.community(name=f"富强新村{next(_seq)}")
    group = f.group(community=community, name="3号楼居民群")
    duty_group = f.group(community=community, name="值班群", kind=GroupKind.DUTY.value,
                         chat_id=f"duty-{next(_seq)}") if with_duty_group else None
    admin = f.staff(roles=("community_admin",), community=community, name="王书记",
                    wework_userid=f"wangsj{next(_seq)}")
    lead = f.staff(roles=("duty",), community=community, name="李值班长", wework_userid=f"lizbz{next(_seq)}")
    duty = f.staff(roles=("duty",), community=community, name="张值班",
                   wework_userid=f"zhang{next(_seq)}" if duty_wework else None)
    resident = f.resident(community_id=community.id, name="赵大妈", phone="13812345678")
    db.session.commit()
    return SimpleNamespace(community=community, group=group, duty_group=duty_group, admin=admin, lead=lead,
                           duty=duty, resident=resident)


def cover_day(world, start):
    """Duty member and lead on shift for 24 hours from ``start``."""
    f.shift(world.duty, start, start + timedelta(hours=24))
    f.shift(world.lead, start, start + timedelta(hours=24), is_lead=True)
    db.session.commit()


def resident_message(world, text="3号楼2单元楼道灯坏了，晚上看不见", at=None):
    n = next(_seq)
    row = Message(direction=Direction.IN.value, channel=world.group.channel, dedupe_key=f"in-{n}",
                  chat_id=world.group.chat_id, group_id=world.group.id, community_id=world.community.id,
                  sender_id=f"resident-{world.resident.id}", sender_name=world.resident.name,
                  resident_id=world.resident.id, text=text)
    if at is not None:
        row.received_at = at
    db.session.add(row)
    db.session.commit()
    return row


def start(world, message=None, **kw):
    message = message or resident_message(world)
    return sla.start_reply_clock(community_id=world.community.id, message_id=message.id, group_id=world.group.id,
                                 resident_id=world.resident.id, **kw)


def alert_messages(key_part=""):
    return db.session.scalars(select(Message).where(
        Message.direction == Direction.OUT.value, Message.dedupe_key.like(f"alert:%{key_part}%"))
        .order_by(Message.id)).all()


def alerts(kind=None):
    statement = select(Alert).order_by(Alert.id)
    if kind:
        statement = statement.where(Alert.kind == kind)
    return db.session.scalars(statement).all()


@pytest.fixture
def world(app, clock):
    w = make_world()
    cover_day(w, clock() - timedelta(hours=2))
    return w


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


# ---- alerts -------------------------------------------------------------------------------------

def test_warning_goes_to_the_people_on_duty(world, clock):
    clock_row = start(world)
    clock.advance(minutes=45)
    assert fire_reply_alert(clock_row.id, "warn") == f"raised {clock_row.id}:warn"
    [alert] = alerts("warn")
    assert {(r.staff_id, r.role) for r in alert.recipients} == {(world.duty.id, "duty"), (world.lead.id, "lead")}
    assert "还有15分钟" in alert.text and "10:30" in alert.text
    db.session.refresh(clock_row)
    assert clock_row.warned_at == clock()
    assert clock_row.next_alert_at == clock_row.due_at
    assert len(alert_messages()) == 2


def test_breach_goes_to_duty_lead_and_admin_and_is_recorded(world, clock):
    clock_row = start(world)
    clock.advance(hours=1)
    fire_reply_alert(clock_row.id, "breach")
    [alert] = alerts("breach")
    assert {(r.staff_id, r.role) for r in alert.recipients} == {
        (world.duty.id, "duty"), (world.lead.id, "lead"), (world.admin.id, "admin")}
    assert "已超过1小时未公开回复" in alert.text and "张值班" in alert.text
    db.session.refresh(clock_row)
    assert clock_row.breached_at == clock()
    assert clock_row.next_alert_at is None
    assert sorted(m.recipient_id for m in alert_messages()) == sorted(
        [world.duty.wework_userid, world.lead.wework_userid, world.admin.wework_userid])


def test_a_job_that_runs_early_reschedules_itself_and_alerts_nothing(world, clock, redis_client):
    clock_row = start(world)
    clock.advance(minutes=30)
    assert fire_reply_alert(clock_row.id, "warn") == "nothing owed"
    assert alerts() == []
    assert f"sla-warn-{clock_row.id}" in ScheduledJobRegistry(QUEUE_SLA, connection=redis_client).get_job_ids()


def test_an_answered_clock_never_alerts(world, clock):
    clock_row = start(world)
    clock.advance(minutes=50)
    sla.record_staff_reply(community_id=world.community.id, staff_id=world.duty.id, group_id=world.group.id)
    clock.advance(minutes=20)
    assert fire_reply_alert(clock_row.id, "warn") == "nothing owed"
    assert fire_reply_alert(clock_row.id, "breach") == "nothing owed"
    assert sla.sweep() == {"warned": 0, "breached": 0, "redispatched": 0}
    assert alerts() == []


def test_a_warning_too_late_is_skipped_and_only_the_breach_goes_out(world, clock):
    clock_row = start(world)
    clock.advance(minutes=61)  # the worker was down through the warning time
    assert fire_reply_alert(clock_row.id, "warn") == "nothing owed"
    assert sla.sweep()["breached"] == 1
    assert [a.kind for a in alerts()] == ["breach"]


def test_staff_without_wework_are_named_in_one_duty_group_message(app, clock):
    w = make_world(duty_wework=False)
    w.lead.wework_userid = None
    db.session.commit()
    cover_day(w, clock() - timedelta(hours=1))
    clock_row = start(w)
    clock.advance(minutes=45)
    fire_reply_alert(clock_row.id, "warn")
    [alert] = alerts("warn")
    [message] = alert_messages()
    assert message.handling["recipient_kind"] == "group"
    assert message.recipient_id == w.duty_group.chat_id and message.group_id == w.duty_group.id
    assert "@张值班" in message.text and "@李值班长" in message.text
    assert {r.message_id for r in alert.recipients} == {message.id}


def test_an_alert_nobody_can_receive_is_still_recorded(app, clock):
    w = make_world(duty_wework=False, with_duty_group=False)
    w.lead.wework_userid = None
    db.session.commit()
    cover_day(w, clock() - timedelta(hours=1))
    clock_row = start(w)
    clock.advance(minutes=45)
    fire_reply_alert(clock_row.id, "warn")
    [alert] = alerts("warn")
    assert {r.staff_id: r.state for r in alert.recipients} == {w.duty.id: "no_channel", w.lead.id: "no_channel"}
    assert alert.dispatched_at is not None
    assert alert_messages() == []


# ---- exactly once -------------------------------------------------------------------------------

def test_the_same_job_run_twice_alerts_once(world, clock):
    clock_row = start(world)
    clock.advance(minutes=45)
    fire_reply_alert(clock_row.id, "warn")
    fire_reply_alert(clock_row.id, "warn")
    clock.advance(minutes=15)
    fire_reply_alert(clock_row.id, "breach")
    fire_reply_alert(clock_row.id, "breach")
    assert [a.kind for a in alerts()] == ["warn", "breach"]
    assert len(alert_messages(":warn:")) == 2
    assert len(alert_messages(":breach:")) == 3


def test_sweep_and_job_both_firing_alert_once(world, clock):
    clock_row = start(world)
    clock.advance(minutes=45)
    assert sla.sweep()["warned"] == 1
    fire_reply_alert(clock_row.id, "warn")
    assert sla.sweep()["warned"] == 0
    clock.advance(minutes=15)
    fire_reply_alert(clock_row.id, "breach")
    assert sla.sweep()["breached"] == 0
    assert [a.kind for a in alerts()] == ["warn", "breach"]
    assert len(alert_messages()) == 5


def test_a_duplicate_job_in_the_queue_runs_but_alerts_once(world, clock, app):
    from rq import SimpleWorker

    from workers.runner import build_worker

    clock_row = start(world)
    clock.advance(minutes=45)
    fire_reply_alert.enqueue(clock_row.id, "warn")
    fire_reply_alert.enqueue(clock_row.id, "warn")
    sweep_reply_clocks.enqueue()
    build_worker(app, queues=[QUEUE_SLA], worker_class=SimpleWorker).work(burst=True)
    assert [a.kind for a in alerts()] == ["warn"]
    assert len(alert_messages()) == 2


def test_crash_after_the_alert_was_recorded_is_repaired_by_the_sweep(world, clock):
    clock_row = start(world)
    clock.advance(hours=1)
    # The worker recorded the breach (claim + alert in one transaction) and died before sending.
    recipients, roles, duty_staff = sla._recipients(clock_row, "breach", clock())
    db.session.execute(
        ReplyClock.__table__.update().where(ReplyClock.id == clock_row.id)
        .values(breached_at=clock(), next_alert_at=None))
    record_alert(key=f"{clock_row.id}:breach", kind="breach", community_id=world.community.id,
                 text=sla.alert_text(clock_row, "breach", clock(), duty_staff), recipients=recipients,
                 clock_id=clock_row.id, roles=roles)
    db.session.commit()
    assert alert_messages() == []
    # A retried job finds the clock breached and does nothing; the sweep finishes the delivery.
    assert fire_reply_alert(clock_row.id, "breach") == "nothing owed"
    assert sla.sweep() == {"warned": 0, "breached": 0, "redispatched": 1}
    assert len(alert_messages()) == 3
    assert sla.sweep()["redispatched"] == 0
    assert len(alert_messages()) == 3
    [alert] = alerts()
    assert all(r.state == "queued" and r.message_id for r in alert.recipients)


def test_crash_half_way_through_the_sends_gives_each_recipient_one_message(world, clock):
    clock_row = start(world)
    clock.advance(hours=1)
    recipients, roles, duty_staff = sla._recipients(clock_row, "breach", clock())
    alert = record_alert(key=f"{clock_row.id}:breach", kind="breach", community_id=world.community.id,
                         text="【超时未回复】测试", recipients=recipients, clock_id=clock_row.id, roles=roles)
    db.session.commit()
    # The first recipient's message went to the outbox, then the worker died.
    first = alert.recipients[0]
    staff = db.session.get(type(world.duty), first.staff_id)
    queue_message(channel="wework", recipient_kind="staff", recipient_id=staff.wework_userid, text=alert.text,
                  idempotency_key=f"alert:{alert.key}:staff:{staff.id}", staff_id=staff.id)
    sla.sweep()
    sla.sweep()
    messages = alert_messages()
    assert len(messages) == 3
    assert len({m.recipient_id for m in messages}) == 3


def test_raise_alert_is_exactly_once_per_key(world):
    first = raise_alert(key="request:9:overdue", kind="overdue", community_id=world.community.id,
                        text="【超期督办】诉求#9 已超过办理时限", recipients=[world.admin, world.admin])
    second = raise_alert(key="request:9:overdue", kind="overdue", community_id=world.community.id,
                         text="【超期督办】诉求#9 已超过办理时限", recipients=[world.admin])
    assert first is not None and second is None
    assert len(first.recipients) == 1
    assert len(alert_messages()) == 1
    dispatch_alert(first)
    assert len(alert_messages()) == 1


def test_racing_threads_alert_once(world, clock, app):
    clock_row = start(world)
    clock.advance(hours=1)
    barrier = threading.Barrier(4)
    results, errors = [], []

    def fire(use_sweep: bool):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                if use_sweep:
                    results.append(sla.sweep()["breached"])
                else:
                    results.append(1 if sla.fire_clock_alert(clock_row.id, "breach") else 0)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=fire, args=(i % 2 == 0,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sum(results) == 1
    assert len(alerts("breach")) == 1
    assert db.session.scalar(select(func.count()).select_from(AlertRecipient)) == 3
    assert len(alert_messages()) == 3


def test_the_sweep_query_uses_the_partial_index(world, clock):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the PostgreSQL plan is measured in bench/sla_sweep.py")
    from sqlalchemy import text
    plan = db.session.execute(text("EXPLAIN QUERY PLAN SELECT id FROM reply_clock WHERE next_alert_at <= :at "
                                   "ORDER BY next_alert_at LIMIT 500"), {"at": "2030-01-01"}).all()
    assert any("ix_reply_clock_next_alert" in str(row) for row in plan)
