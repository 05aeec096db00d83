"""No overselling under real concurrency: threads, each with its own app context, session and
database connection, on whichever database the suite runs against (SQLite or PostgreSQL)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.extensions import db
from app.handlers.events.checkin import CheckResult, check_in, make_checkin_code
from app.handlers.events.errors import EventError
from app.handlers.events.signups import SignupResult, cancel_signup, signup_for
from app.models import Resident
from app.models.events import CheckIn, EventCapacity, Signup
from tests import factories
from tests.handlers.events.support import local, make_event

THREADS = 16


def run_in_threads(app, count: int, fn) -> list:
    """Start ``count`` threads at once (a barrier), each in its own app context; results or exceptions."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = fn(index)
            except Exception as exc:  # noqa: BLE001 - collected and asserted on by the test
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a sign-up thread hung"
    return results


@pytest.fixture
def community(app, clock):
    row = factories.community()
    db.session.commit()
    return row


def _residents(community, count: int) -> list[int]:
    ids = []
    for n in range(count):
        ids.append(factories.resident(community_id=community.id, name=f"居民{n}").id)
    db.session.commit()
    return ids


def test_concurrent_sign_ups_never_oversell_and_queue_in_distinct_order(app, community):
    event = make_event(community, capacity=5)
    resident_ids = _residents(community, THREADS)

    def sign_up(index: int):
        resident = db.session.get(Resident, resident_ids[index])
        return signup_for(event.id, resident=resident, idempotency_key=f"k{index}", waitlist=True)

    results = run_in_threads(app, THREADS, sign_up)
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    db.session.expire_all()
    signups = db.session.scalars(select(Signup).where(Signup.event_id == event.id)).all()
    assert len(signups) == THREADS
    confirmed = [s for s in signups if s.status == "confirmed"]
    waiting = sorted((s for s in signups if s.status == "waiting"), key=lambda s: s.position)
    assert len(confirmed) == 5
    assert [s.position for s in waiting] == list(range(1, THREADS - 5 + 1))
    counter = db.session.get(EventCapacity, event.id)
    assert (counter.confirmed, counter.waiting_seq) == (5, THREADS - 5)


def test_one_person_signing_up_from_many_devices_at_once_gets_one_place(app, community):
    event = make_event(community, capacity=5)
    (resident_id,) = _residents(community, 1)

    def sign_up(index: int):
        return signup_for(event.id, resident=db.session.get(Resident, resident_id),
                          idempotency_key=f"device-{index}", waitlist=True)

    results = run_in_threads(app, 8, sign_up)
    successes = [r for r in results if isinstance(r, SignupResult)]
    refusals = [r for r in results if isinstance(r, EventError)]
    assert len(successes) == 1 and len(refusals) == 7, results
    assert {r.code for r in refusals} == {"already_signed_up"}
    db.session.expire_all()
    assert len(db.session.scalars(select(Signup).where(Signup.event_id == event.id)).all()) == 1
    assert db.session.get(EventCapacity, event.id).confirmed == 1


def test_the_same_request_retried_concurrently_is_one_sign_up(app, community):
    event = make_event(community, capacity=5)
    (resident_id,) = _residents(community, 1)

    def sign_up(index: int):
        return signup_for(event.id, resident=db.session.get(Resident, resident_id), idempotency_key="same-key")

    results = run_in_threads(app, 6, sign_up)
    assert all(isinstance(r, SignupResult) for r in results), results
    assert sum(1 for r in results if not r.replay) == 1
    assert len({r.signup.id for r in results}) == 1


def test_cancellations_racing_new_sign_ups_give_places_to_the_waiting_list_first(app, community):
    event = make_event(community, capacity=3)
    ids = _residents(community, 12)
    holders = [signup_for(event.id, resident=db.session.get(Resident, i)).signup.id for i in ids[:3]]
    queued = [signup_for(event.id, resident=db.session.get(Resident, i), waitlist=True).signup.id
              for i in ids[3:6]]
    newcomers = ids[6:]

    def act(index: int):
        if index < 3:
            return cancel_signup(holders[index])
        resident = db.session.get(Resident, newcomers[index - 3])
        return signup_for(event.id, resident=resident, idempotency_key=f"new-{index}", waitlist=True)

    results = run_in_threads(app, 3 + len(newcomers), act)
    assert not [r for r in results if isinstance(r, Exception)], results
    db.session.expire_all()
    rows = {s.id: s for s in db.session.scalars(select(Signup).where(Signup.event_id == event.id))}
    # A freed place goes to the head of the waiting list in the same transaction, never to a newcomer.
    assert sorted(s.id for s in rows.values() if s.status == "confirmed") == sorted(queued)
    assert all(rows[i].status == "cancelled" for i in holders)
    assert sum(1 for s in rows.values() if s.status == "waiting") == len(newcomers)
    assert db.session.get(EventCapacity, event.id).confirmed == 3


def test_the_same_check_in_code_scanned_concurrently_counts_once(app, community, clock):
    event = make_event(community, capacity=5)
    (resident_id,) = _residents(community, 1)
    signup = signup_for(event.id, resident=db.session.get(Resident, resident_id)).signup
    staff_id = factories.staff(community=community, roles=("duty",)).id
    db.session.commit()
    clock.set(local(2026, 11, 24, 8, 20))
    code = make_checkin_code(signup)["code"]

    def scan(index: int):
        from app.models import Staff
        return check_in(db.session.get(type(event), event.id), db.session.get(Staff, staff_id), code=code)

    results = run_in_threads(app, 6, scan)
    assert all(isinstance(r, CheckResult) for r in results), results
    assert sum(1 for r in results if not r.replay) == 1
    db.session.expire_all()
    assert len(db.session.scalars(select(CheckIn)).all()) == 1
