"""An event's places: the ``EventCapacity`` counter every sign-up change goes through.

Concurrency: every change to an event's sign-ups starts by updating the event's
counter row (``lock``). On PostgreSQL that takes the row lock; on SQLite (whose
driver opens the transaction at the first write) it takes the database write
lock. Everything after it — the duplicate check, the conditional
``confirmed < capacity`` increment, the waiting-list ticket, promotions — runs
serialised per event and commits or rolls back as one.
"""
from __future__ import annotations

from sqlalchemy import func, or_, select, update

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.audit import record
from app.handlers.events.errors import refusal
from app.models.events import Event, EventCapacity, EventStatus, Signup, SignupStatus


def new_event(**values) -> Event:
    """An event row born with its counter (the caller flushes or commits)."""
    event = Event(**values)
    event.counter = EventCapacity(capacity=values.get("capacity"), confirmed=0, waiting_seq=0, lock_version=0)
    db.session.add(event)
    return event


def lock(event_id: int) -> None:
    """Take the event's sign-up lock for the rest of the transaction (see the module docstring)."""
    result = db.session.execute(
        update(EventCapacity).where(EventCapacity.event_id == event_id)
        .values(lock_version=EventCapacity.lock_version + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise refusal("没有找到这个活动", "not_found", 404)


def take_place(event_id: int) -> bool:
    """The conditional update: one more confirmed place if there is room."""
    result = db.session.execute(
        update(EventCapacity).where(
            EventCapacity.event_id == event_id,
            or_(EventCapacity.capacity.is_(None), EventCapacity.confirmed < EventCapacity.capacity))
        .values(confirmed=EventCapacity.confirmed + 1).execution_options(synchronize_session=False))
    return result.rowcount == 1


def release_place(event_id: int) -> None:
    db.session.execute(update(EventCapacity).where(EventCapacity.event_id == event_id, EventCapacity.confirmed > 0)
                       .values(confirmed=EventCapacity.confirmed - 1).execution_options(synchronize_session=False))


def next_ticket(event_id: int) -> int:
    db.session.execute(update(EventCapacity).where(EventCapacity.event_id == event_id)
                       .values(waiting_seq=EventCapacity.waiting_seq + 1).execution_options(synchronize_session=False))
    return counter(event_id).waiting_seq


def counter(event_id: int) -> EventCapacity:
    return db.session.scalars(select(EventCapacity).where(EventCapacity.event_id == event_id)
                              .execution_options(populate_existing=True)).one()


def reload_event(event_id: int) -> Event:
    return db.session.scalars(select(Event).where(Event.id == event_id)
                              .execution_options(populate_existing=True)).one()


def places_left(event: Event) -> int | None:
    return counter(event.id).places_left


def waiting_count(event_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Signup).where(
        Signup.event_id == event_id, Signup.status == SignupStatus.WAITING.value)) or 0


def waiting_rank(signup: Signup) -> int | None:
    """1 for the first on the waiting list."""
    if signup.status != SignupStatus.WAITING.value or signup.position is None:
        return None
    ahead = db.session.scalar(select(func.count()).select_from(Signup).where(
        Signup.event_id == signup.event_id, Signup.status == SignupStatus.WAITING.value,
        Signup.position < signup.position)) or 0
    return ahead + 1


def counts_for(event_ids: list[int]) -> tuple[dict[int, EventCapacity], dict[int, int]]:
    """The counters and waiting-list lengths of many events in two queries (lists, the CLI)."""
    if not event_ids:
        return {}, {}
    counters = {c.event_id: c for c in db.session.scalars(select(EventCapacity).where(
        EventCapacity.event_id.in_(event_ids)).execution_options(populate_existing=True))}
    waiting = dict(db.session.execute(select(Signup.event_id, func.count()).where(
        Signup.event_id.in_(event_ids), Signup.status == SignupStatus.WAITING.value).group_by(Signup.event_id)).all())
    return counters, waiting


def promote_waiting(event: Event) -> list[Signup]:
    """Fill free places from the waiting list, in order (call with the lock held)."""
    promoted: list[Signup] = []
    if event.status != EventStatus.PUBLISHED.value or clock_now() >= event.starts_at:
        return promoted
    while True:
        first = db.session.scalars(select(Signup).where(
            Signup.event_id == event.id, Signup.status == SignupStatus.WAITING.value)
            .order_by(Signup.position, Signup.id).limit(1).execution_options(populate_existing=True)).first()
        if first is None or not take_place(event.id):
            return promoted
        moment = clock_now()
        first.status = SignupStatus.CONFIRMED.value
        first.confirmed_at = moment
        first.promoted_at = moment
        first.promotions = (first.promotions or 0) + 1
        db.session.flush()
        record("system", None, "event.signup.promote", first, community_id=event.community_id,
               detail={"event_id": event.id, "position": first.position})
        promoted.append(first)
