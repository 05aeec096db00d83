"""The reply clock's alerts: at the right time, to the right people, exactly once."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select, text

from app.extensions import db
from app.handlers import sla
from app.handlers.alerts import dispatch_alert, raise_alert, record_alert
from app.handlers.messaging.outbox import queue_message
from app.handlers.sla import alerting
from app.models import AlertRecipient
from app.models.sla import ReplyClock
from tests.handlers.sla.support import alert_messages, alerts, cover_day, make_world, start
from workers.jobs import QUEUE_SLA
from workers.runner import build_worker
from workers.sla import fire_reply_alert, sweep_reply_clocks

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
    recipients, roles, duty_staff = alerting.alert_recipients(clock_row, "breach", clock())
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
    recipients, roles, duty_staff = alerting.alert_recipients(clock_row, "breach", clock())
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
    plan = db.session.execute(text("EXPLAIN QUERY PLAN SELECT id FROM reply_clock WHERE next_alert_at <= :at "
                                   "ORDER BY next_alert_at LIMIT 500"), {"at": "2030-01-01"}).all()
    assert any("ix_reply_clock_next_alert" in str(row) for row in plan)
