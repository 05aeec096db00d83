"""Weekly events: a series head and the occurrences materialised ahead of it.

A weekly event is a series head (see app.models.events); its later occurrences are
their own events, created up to ``LINLI_EVENT_SERIES_HORIZON_DAYS`` ahead on create
and publish and by the events sweep. Materialising is idempotent (unique per start).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.events.capacity import new_event
from app.handlers.events.reminders import schedule_reminder
from app.localtime import to_local
from app.models.events import Event, EventStatus, Recurrence


def future_occurrences(head: Event) -> list[Event]:
    return list(db.session.scalars(select(Event).where(
        Event.series_id == head.id, Event.starts_at > clock_now()).order_by(Event.starts_at)))


def _occurrence(head: Event, starts_at: datetime, ends_at: datetime, deadline_before: timedelta | None) -> Event:
    return new_event(
        community_id=head.community_id, series_id=head.id, project_id=head.project_id, title=head.title,
        kind=head.kind, description=head.description, place=head.place, starts_at=starts_at, ends_at=ends_at,
        recurrence=Recurrence.WEEKLY.value, capacity=head.capacity,
        signup_deadline=starts_at - deadline_before if deadline_before is not None else None,
        audience=head.audience, volunteer_minutes=head.volunteer_minutes, aliases=list(head.aliases or []),
        status=head.status, published_at=clock_now() if head.status == EventStatus.PUBLISHED.value else None,
        created_by_staff_id=head.created_by_staff_id)


def materialise_series(head: Event, until: datetime | None = None, *, commit: bool = True) -> list[Event]:
    """Create the weekly occurrences of a series up to ``until`` (default: the horizon). Idempotent.

    ``commit=False`` (the demo seeding, which runs in one transaction) only flushes and leaves the
    reminders to the sweep.
    """
    if not head.is_series_head or head.status == EventStatus.CANCELLED.value:
        return []
    horizon = until or clock_now() + timedelta(days=current_app.config["EVENT_SERIES_HORIZON_DAYS"])
    if head.recurrence_until is not None:
        horizon = min(horizon, head.recurrence_until)
    have = set(db.session.scalars(select(Event.starts_at).where(Event.series_id == head.id)))
    start_local, end_local = to_local(head.starts_at), to_local(head.ends_at)
    deadline_before = head.starts_at - head.signup_deadline if head.signup_deadline else None
    created: list[Event] = []
    week = 0
    while True:
        week += 1
        # Aware arithmetic in the local zone keeps the wall-clock time: "every Tuesday 08:30" stays 08:30.
        starts_at = start_local + timedelta(weeks=week)
        if starts_at > horizon:
            break
        if starts_at <= clock_now() or starts_at in have:
            continue
        occurrence = _occurrence(head, starts_at, end_local + timedelta(weeks=week), deadline_before)
        if not commit:
            db.session.flush()
            created.append(occurrence)
            continue
        try:
            db.session.commit()
        except IntegrityError:  # another process materialised it first
            db.session.rollback()
            continue
        created.append(occurrence)
        if occurrence.status == EventStatus.PUBLISHED.value:
            schedule_reminder(occurrence)
    return created


def materialise_all() -> int:
    heads = db.session.scalars(select(Event).where(
        Event.recurrence == Recurrence.WEEKLY.value, Event.series_id.is_(None),
        Event.status != EventStatus.CANCELLED.value,
        or_(Event.recurrence_until.is_(None), Event.recurrence_until > clock_now()))).all()
    return sum(len(materialise_series(head)) for head in heads)
