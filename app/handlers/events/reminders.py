"""Reminders before an event, and closing events that ended (absentees).

A published event has one scheduled job, ``events.remind`` with the id
``event-remind-<id>``, at (start − ``LINLI_EVENT_REMINDER_MINUTES``); rescheduling
replaces it. The events sweep (``remind_due``) is the backstop for a lost job or a
Redis that was down when it was scheduled: ``send_reminders`` may run any number of
times and reminds each confirmed sign-up once.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from app import jobs
from app.clock import now as clock_now
from app.extensions import db
from app.handlers.events import capacity
from app.handlers.events.notices import notify
from app.localtime import clock_text, day_label, local_date, to_local
from app.models.events import Event, EventStatus, Signup, SignupStatus

# Signed-up residents absent at the end are marked "absent" this long after the end.
ABSENT_AFTER = timedelta(hours=12)


def reminder_at(event: Event) -> datetime | None:
    minutes = current_app.config["EVENT_REMINDER_MINUTES"]
    if not minutes:
        return None
    return event.starts_at - timedelta(minutes=minutes)


def reminder_job_id(event_id: int) -> str:
    return jobs.job_id("event", "remind", event_id)


def schedule_reminder(event: Event) -> bool:
    """Schedule the reminder job (deterministic id: rescheduling replaces it); False when none is due."""
    when = reminder_at(event)
    if when is None or event.status != EventStatus.PUBLISHED.value or when <= clock_now():
        unschedule_reminder(event)
        return False
    return jobs.schedule("events.remind", when, event.id, job_id=reminder_job_id(event.id))


def unschedule_reminder(event: Event) -> None:
    jobs.unschedule(reminder_job_id(event.id))


def reminder_text(event: Event) -> str:
    return (f"【活动提醒】您报名的“{event.title}”将于{relative_day(event.starts_at)}{clock_text(event.starts_at)}开始。"
            + (f"\n地点：{event.place}" if event.place else "")
            + "\n请准时参加；如不能参加，请回复“取消报名”，把名额让给候补的居民。")


def send_reminders(event_id: int) -> int:
    """Remind every confirmed sign-up once. Safe to run any number of times (sweep and job)."""
    event = db.session.get(Event, event_id)
    if event is None or event.status != EventStatus.PUBLISHED.value:
        return 0
    when = reminder_at(event)
    moment = clock_now()
    if when is None or moment < when - timedelta(minutes=1) or moment >= event.starts_at:
        return 0
    # Who signed up (or was promoted) after the reminder time already got every detail then.
    candidates = db.session.scalars(select(Signup).where(
        Signup.event_id == event.id, Signup.status == SignupStatus.CONFIRMED.value, Signup.reminded_at.is_(None),
        func.coalesce(Signup.promoted_at, Signup.created_at) <= when).order_by(Signup.id)).all()
    sent = 0
    text = reminder_text(event)
    stamp = to_local(event.starts_at).strftime("%Y%m%d%H%M")
    for signup in candidates:
        # Re-read under the row's latest state: a cancellation since the query must not be reminded.
        fresh = db.session.scalars(select(Signup).where(Signup.id == signup.id)
                                   .execution_options(populate_existing=True)).one()
        if fresh.status != SignupStatus.CONFIRMED.value or fresh.reminded_at is not None:
            continue
        fresh.reminded_at = moment
        message = notify(fresh, text, f"event:{event.id}:remind:{fresh.id}:{stamp}")
        db.session.commit()
        if message is not None:
            sent += 1
    return sent


def relative_day(value: datetime) -> str:
    """今天, 明天（11月24日（周二））, or the date."""
    today = local_date(clock_now())
    day = local_date(value)
    if day == today:
        return "今天"
    if day == today + timedelta(days=1):
        return f"明天（{day_label(value)}）"
    return day_label(value)


def remind_due() -> int:
    """Backstop for lost scheduled jobs: events whose reminder time has passed and that have not started."""
    minutes = current_app.config["EVENT_REMINDER_MINUTES"]
    if not minutes:
        return 0
    moment = clock_now()
    events = db.session.scalars(select(Event.id).where(
        Event.status == EventStatus.PUBLISHED.value, Event.starts_at > moment,
        Event.starts_at <= moment + timedelta(minutes=minutes))).all()
    return sum(send_reminders(event_id) for event_id in events)


def close_ended_events() -> int:
    """Mark confirmed sign-ups of ended events that never checked in as absent."""
    moment = clock_now()
    events = db.session.scalars(select(Event).where(
        Event.status == EventStatus.PUBLISHED.value, Event.closed_at.is_(None),
        Event.ends_at <= moment - ABSENT_AFTER)).all()
    for event in events:
        capacity.lock(event.id)
        db.session.execute(update(Signup).where(
            Signup.event_id == event.id, Signup.status == SignupStatus.CONFIRMED.value)
            .values(status=SignupStatus.ABSENT.value).execution_options(synchronize_session=False))
        event.closed_at = moment
        db.session.commit()
    return len(events)
