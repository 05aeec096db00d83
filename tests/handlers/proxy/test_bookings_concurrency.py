"""No overbooking under concurrency, with real threads and real processes, on SQLite and PostgreSQL.

Each thread pushes its own app context (its own session and connection), as a
web worker thread would. Run the module against PostgreSQL with
LINLI_TEST_DATABASE_URL (see tests/conftest.py); embedded it runs on SQLite.
"""
from __future__ import annotations

import multiprocessing
import queue
import threading
from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.clock import FrozenClock, set_app_clock
from app.extensions import db
from app.models import Resident
from app.models.proxy import Booking, BookingStatus, ServiceItem, Station
from tests.handlers.proxy.support import count_bookings, load, local, resident, setup_community

UTC = timezone.utc
SLOT = local(2026, 11, 18, 9, 0)


def _attempt(app, resident_id: int, item_id: int, station_id: int, key: str, start: datetime) -> str:
    """One booking attempt in its own app context; returns an outcome label."""
    from app.handlers.proxy.bookings import book
    from app.handlers.proxy.errors import BookingError

    with app.app_context():
        try:
            result = book(resident=db.session.get(Resident, resident_id), item=db.session.get(ServiceItem, item_id),
                          station=db.session.get(Station, station_id), slot_start=start, idempotency_key=key)
            return f"ok:{result.booking.id}"
        except BookingError as exc:
            return exc.code
        except Exception as exc:  # noqa: BLE001 - anything else is a failure the test reports
            return f"error:{type(exc).__name__}:{exc}"


def _run_threads(targets) -> list[str]:
    barrier = threading.Barrier(len(targets))
    results: list[str] = [""] * len(targets)

    def run(index, fn):
        barrier.wait()
        results[index] = fn()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_fifty_concurrent_bookings_for_five_places_confirm_exactly_five(app, clock):
    s = setup_community(capacity=5)
    item_id, station_id = s.item().id, s.station.id
    residents = [resident(s.community, name=f"居民{n:02d}").id for n in range(50)]
    outcomes = _run_threads([
        (lambda rid=rid: _attempt(app, rid, item_id, station_id, f"key-{rid}", SLOT)) for rid in residents])
    kinds = Counter(o.split(":")[0] for o in outcomes)
    assert kinds == {"ok": 5, "slot_full": 45}, outcomes
    db.session.expire_all()
    assert count_bookings(status=BookingStatus.CONFIRMED.value) == 5
    assert load(station_id, SLOT.astimezone(UTC)) == 5


def test_the_same_request_sent_ten_times_at_once_books_once(app, clock):
    s = setup_community(capacity=5)
    r = resident(s.community).id
    item_id, station_id = s.item().id, s.station.id
    outcomes = _run_threads([(lambda: _attempt(app, r, item_id, station_id, "retry-me", SLOT)) for _ in range(10)])
    assert len(set(outcomes)) == 1 and outcomes[0].startswith("ok:"), outcomes
    db.session.expire_all()
    assert count_bookings() == 1 and load(station_id, SLOT.astimezone(UTC)) == 1


def test_one_resident_tapping_twice_with_different_keys_gets_one_booking(app, clock):
    s = setup_community(capacity=5)
    r = resident(s.community).id
    item_id, station_id = s.item().id, s.station.id
    outcomes = _run_threads([(lambda n=n: _attempt(app, r, item_id, station_id, f"tap-{n}", SLOT))
                             for n in range(8)])
    assert Counter(o.split(":")[0] for o in outcomes) == {"ok": 1, "already_booked": 7}, outcomes
    db.session.expire_all()
    assert count_bookings() == 1 and load(station_id, SLOT.astimezone(UTC)) == 1


def test_concurrent_reschedules_into_one_slot_respect_its_capacity(app, clock):
    from app.handlers.proxy.bookings import book, reschedule
    from app.handlers.proxy.errors import BookingError

    s = setup_community(capacity=3)
    target = local(2026, 11, 19, 14, 0)
    from datetime import date

    from app.handlers.proxy.availability import day_slots
    _, wednesday = day_slots(s.station, date(2026, 11, 18), now=clock())
    ids = [book(resident=resident(s.community, name=f"改约{n}"), item=s.item(), station=s.station,
                slot_start=wednesday[n].start, idempotency_key="k").booking.id for n in range(12)]

    def move(booking_id):
        with app.app_context():
            booking = db.session.get(Booking, booking_id)
            try:
                reschedule(booking, slot_start=target, resident=db.session.get(Resident, booking.resident_id))
                return "ok"
            except BookingError as exc:
                return exc.code
            except Exception as exc:  # noqa: BLE001
                return f"error:{type(exc).__name__}:{exc}"

    outcomes = _run_threads([(lambda i=i: move(i)) for i in ids])
    assert Counter(outcomes) == {"ok": 3, "slot_full": 9}, outcomes
    db.session.expire_all()
    assert load(s.station.id, target.astimezone(UTC)) == 3
    assert count_bookings(slot_start=target.astimezone(UTC)) == 3
    # Every booking still holds exactly one place: loads add up to the number of bookings.
    from sqlalchemy import func, select

    from app.models.proxy import SlotLoad
    assert db.session.scalar(select(func.sum(SlotLoad.booked))) == 12


# ---- processes ------------------------------------------------------------------------------------

def process_worker(settings: dict, now_iso: str, jobs: list, go, results) -> None:
    """A separate Python process with its own app, booking on several threads at once."""
    from app import create_app

    application = create_app("test", overrides=settings)
    set_app_clock(application, FrozenClock(datetime.fromisoformat(now_iso)))
    with application.app_context():
        db.session.execute(select(Station.id)).all()  # connect before the start signal
    go.wait(60)
    outcomes = _run_threads([(lambda job=job: _attempt(application, *job)) for job in jobs])
    with application.app_context():
        db.engine.dispose()
    results.put(outcomes)


@pytest.mark.slow
def test_bookings_from_several_processes_never_overbook(app, clock):
    s = setup_community(capacity=5)
    item_id, station_id = s.item().id, s.station.id
    residents = [resident(s.community, name=f"进程{n:02d}").id for n in range(40)]
    settings = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": app.config["REDIS_URL"],
                "INSTANCE_PATH": app.instance_path}
    ctx = multiprocessing.get_context("spawn")
    go, results = ctx.Event(), ctx.Queue()
    per_process = 8
    processes = []
    for p in range(len(residents) // per_process):
        jobs = [(rid, item_id, station_id, f"p-{rid}", SLOT)
                for rid in residents[p * per_process:(p + 1) * per_process]]
        process = ctx.Process(target=process_worker, args=(settings, clock().isoformat(), jobs, go, results))
        process.start()
        processes.append(process)
    go.set()
    outcomes: list[str] = []
    received = 0
    while received < len(processes):
        try:
            outcomes.extend(results.get(timeout=1))
            received += 1
        except queue.Empty:
            dead = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
            assert not dead, f"a booking process failed: exit codes {dead}"
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    kinds = Counter(o.split(":")[0] for o in outcomes)
    assert kinds == {"ok": 5, "slot_full": 35}, outcomes
    db.session.expire_all()
    assert count_bookings(status=BookingStatus.CONFIRMED.value) == 5
    assert load(station_id, SLOT.astimezone(UTC)) == 5
