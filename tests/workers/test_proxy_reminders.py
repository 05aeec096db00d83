"""Booking reminders as RQ jobs: the day before and an hour before, exactly once, none when cancelled.

Jobs are run with a SimpleWorker in burst mode after moving the jobs scheduled
up to the frozen clock's "now" into their queue (tests/handlers/proxy/support.py).
"""
from __future__ import annotations

from datetime import timezone

from app.extensions import db, redis_ext
from app.handlers.proxy import bookings as b
from app.handlers.proxy import desk
from app.handlers.proxy.reminders import due_reminders, send_reminder
from tests.handlers.proxy.support import local, outbound, resident, run_due_jobs, scheduled, setup_community
from workers.jobs import QUEUE_DEFAULT

UTC = timezone.utc


def reminders(booking_id: int | None = None):
    rows = [m for m in outbound() if m.dedupe_key.startswith("proxy:remind:")]
    return [m for m in rows if booking_id is None or m.dedupe_key.startswith(f"proxy:remind:{booking_id}:")]


def _book(s, r, start, key="k"):
    return b.book(resident=r, item=s.item(), station=s.station, slot_start=start, idempotency_key=key).booking


def test_both_reminders_are_scheduled_with_deterministic_ids(app, clock):
    s = setup_community()
    booking = _book(s, resident(s.community), local(2026, 11, 18, 9, 0))
    jobs = scheduled()
    assert jobs == {f"proxy-remind-{booking.id}-day_before": local(2026, 11, 17, 18, 0).astimezone(UTC),
                    f"proxy-remind-{booking.id}-hour_before": local(2026, 11, 18, 8, 0).astimezone(UTC)}


def test_each_reminder_is_sent_once_at_its_time(app, clock):
    s = setup_community()
    r = resident(s.community)
    booking = _book(s, r, local(2026, 11, 18, 9, 0))
    clock.set(local(2026, 11, 17, 17, 59))
    assert run_due_jobs(app, clock) == 0 and reminders() == []
    clock.set(local(2026, 11, 17, 18, 0))
    assert run_due_jobs(app, clock) == 1
    (evening,) = reminders()
    assert evening.recipient_id == r.identities[0].value and evening.channel == "mp"
    assert evening.handling["recipient_kind"] == "user" and evening.resident_id == r.id
    assert "明天 11月18日（周三） 上午 09:00–09:30" in evening.text and booking.code in evening.text
    assert "· 老人身份证原件及复印件" in evening.text
    # The same job run again (a retry, a duplicate) sends nothing new.
    from workers.proxy import send_booking_reminder
    send_booking_reminder.enqueue(booking.id, "day_before", int(booking.slot_start.timestamp()))
    run_due_jobs(app, clock)
    assert len(reminders()) == 1
    clock.set(local(2026, 11, 18, 8, 0))
    assert run_due_jobs(app, clock) == 1
    day_before, hour_before = reminders()
    assert hour_before.dedupe_key.endswith(":hour_before:" + str(int(booking.slot_start.timestamp())))
    assert "09:00开始" in hour_before.text
    assert scheduled() == {}


def test_no_reminder_for_a_cancelled_booking(app, clock):
    s = setup_community()
    r = resident(s.community)
    booking = _book(s, r, local(2026, 11, 18, 9, 0))
    b.cancel_booking(booking, by="resident", resident=r)
    assert scheduled() == {}  # cancelled with the booking
    # Even a job that survived the cancellation (another process scheduled it) sends nothing.
    from workers.proxy import send_booking_reminder
    send_booking_reminder.enqueue(booking.id, "day_before", int(booking.slot_start.timestamp()))
    clock.set(local(2026, 11, 17, 18, 0))
    run_due_jobs(app, clock)
    assert reminders() == []
    assert send_reminder(booking.id, "hour_before") == "skipped:cancelled"


def test_a_rescheduled_booking_is_reminded_of_its_new_time_only(app, clock):
    s = setup_community()
    r = resident(s.community)
    booking = _book(s, r, local(2026, 11, 18, 9, 0))
    old_stamp = int(booking.slot_start.timestamp())
    clock.set(local(2026, 11, 17, 18, 0))
    run_due_jobs(app, clock)
    assert len(reminders()) == 1
    clock.set(local(2026, 11, 17, 19, 0))
    b.reschedule(booking, slot_start=local(2026, 11, 20, 14, 0), resident=r)
    assert scheduled() == {f"proxy-remind-{booking.id}-day_before": local(2026, 11, 19, 18, 0).astimezone(UTC),
                           f"proxy-remind-{booking.id}-hour_before": local(2026, 11, 20, 13, 0).astimezone(UTC)}
    assert send_reminder(booking.id, "hour_before", old_stamp) == "skipped:rescheduled"
    clock.set(local(2026, 11, 20, 13, 0))
    run_due_jobs(app, clock)
    texts = [m.text for m in reminders()]
    assert len(texts) == 3 and "11月20日" in texts[1] and "14:00开始" in texts[2]


def test_a_booking_made_late_gets_only_the_reminders_still_ahead(app, clock):
    s = setup_community()
    clock.set(local(2026, 11, 17, 20, 0))
    booking = _book(s, resident(s.community), local(2026, 11, 18, 9, 0))
    assert list(scheduled()) == [f"proxy-remind-{booking.id}-hour_before"]
    # The backstop sweep does not send the evening reminder the booking was made after.
    assert due_reminders() == []
    clock.set(local(2026, 11, 18, 8, 30))
    assert due_reminders() == [(booking.id, "hour_before", int(booking.slot_start.timestamp()))]


def test_the_sweep_sends_reminders_whose_jobs_were_lost_and_never_twice(app, clock):
    from workers.proxy import proxy_sweep

    s = setup_community()
    booking = _book(s, resident(s.community), local(2026, 11, 18, 9, 0))
    redis_ext.client.flushdb()  # Redis lost its scheduled jobs
    clock.set(local(2026, 11, 17, 18, 5))
    proxy_sweep.enqueue()
    run_due_jobs(app, clock)
    assert len(reminders(booking.id)) == 1
    proxy_sweep.enqueue()
    run_due_jobs(app, clock)
    assert len(reminders(booking.id)) == 1
    clock.set(local(2026, 11, 18, 9, 5))  # started: nothing more
    proxy_sweep.enqueue()
    run_due_jobs(app, clock)
    assert len(reminders(booking.id)) == 1


def test_the_sweep_raises_overdue_case_alerts(app, clock):
    from sqlalchemy import select

    from app.models.alerts import Alert
    from workers.proxy import proxy_sweep

    s = setup_community()
    r = resident(s.community)
    booking = _book(s, r, local(2026, 11, 17, 10, 0))
    case = desk.complete(booking, staff=s.duty)
    clock.set(local(2026, 12, 2, 0, 5))
    job = proxy_sweep.enqueue()
    run_due_jobs(app, clock)
    assert job.get_status(refresh=True) == "finished"
    assert job.return_value()["overdue_alerts"] == 1
    assert [a.key for a in db.session.scalars(select(Alert))] == [f"case:{case.id}:overdue"]


def test_the_sweep_is_registered_as_a_periodic_job():
    from workers.cron import PERIODIC
    assert ("proxy.sweep", 300) in PERIODIC
    from workers.proxy import proxy_sweep
    assert proxy_sweep.queue_name == QUEUE_DEFAULT
