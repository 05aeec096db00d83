"""Booking, cancelling, rescheduling and the staff's work at the station (handlers)."""
from __future__ import annotations

from datetime import date, time, timedelta, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.handlers.proxy import bookings as b
from app.handlers.proxy import desk
from app.handlers.proxy.bookings import code_from_text
from app.handlers.proxy.chat_times import parse_choice, parse_when
from app.handlers.proxy.errors import BookingError
from app.models import AuditLog
from app.models.proxy import Case
from tests import factories as f
from tests.handlers.proxy.support import count_bookings, load, local, resident, setup_community

UTC = timezone.utc


def test_booking_takes_a_place_and_gets_a_readable_code(app, clock):
    s = setup_community()
    r = resident(s.community)
    start = local(2026, 11, 18, 9, 0)
    result = b.book(resident=r, item=s.item(), station=s.station, slot_start=start, idempotency_key="k1")
    booking = result.booking
    assert result.created and booking.status == "confirmed"
    assert booking.slot_start == start.astimezone(UTC) and booking.slot_end == start.astimezone(UTC) + timedelta(minutes=30)
    assert len(booking.code) == 6 and code_from_text(f"取消预约 {booking.code.lower()}") == booking.code
    assert set(booking.code) <= set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    assert load(s.station.id, booking.slot_start) == 1
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "booking.created")).one().entity_id == booking.id


def test_the_same_idempotency_key_returns_the_same_booking(app, clock):
    s = setup_community()
    r = resident(s.community)
    start = local(2026, 11, 18, 9, 0)
    first = b.book(resident=r, item=s.item(), station=s.station, slot_start=start, idempotency_key="same")
    again = b.book(resident=r, item=s.item(), station=s.station, slot_start=start, idempotency_key="same")
    assert again.booking.id == first.booking.id and again.created is False
    assert count_bookings() == 1 and load(s.station.id, first.booking.slot_start) == 1
    with pytest.raises(BookingError) as exc:
        b.book(resident=r, item=s.item(), station=s.station, slot_start=start + timedelta(minutes=30),
               idempotency_key="same")
    assert exc.value.code == "idempotency_mismatch" and exc.value.status == 409
    # Another resident's identical key is a different request.
    other = resident(s.community, name="李四")
    assert b.book(resident=other, item=s.item(), station=s.station, slot_start=start,
                  idempotency_key="same").created


def test_a_full_slot_refuses_and_writes_nothing(app, clock):
    s = setup_community(capacity=2)
    start = local(2026, 11, 18, 9, 0)
    for n in range(2):
        b.book(resident=resident(s.community, name=f"居民{n}"), item=s.item(), station=s.station,
               slot_start=start, idempotency_key="x")
    late = resident(s.community, name="王五")
    with pytest.raises(BookingError) as exc:
        b.book(resident=late, item=s.item(), station=s.station, slot_start=start, idempotency_key="x")
    assert exc.value.code == "slot_full" and exc.value.status == 409 and "已约满" in exc.value.message
    assert count_bookings() == 2 and load(s.station.id, start.astimezone(UTC)) == 2
    assert count_bookings(resident_id=late.id) == 0


@pytest.mark.parametrize("start, code", [
    (local(2026, 11, 16, 9, 0), "past"),
    (local(2026, 11, 22, 9, 0), "no_hours"),       # Sunday
    (local(2026, 11, 18, 12, 0), "outside_hours"),
    (local(2026, 11, 18, 9, 15), "not_aligned"),
    (local(2026, 12, 9, 9, 0), "beyond_horizon"),
])
def test_bad_times_are_refused_with_a_reason(app, clock, start, code):
    s = setup_community()
    r = resident(s.community)
    with pytest.raises(BookingError) as exc:
        b.book(resident=r, item=s.item(), station=s.station, slot_start=start, idempotency_key="k")
    assert exc.value.code == code and exc.value.message
    assert count_bookings() == 0


def test_holidays_are_refused(app, clock):
    s = setup_community()
    clock.set(local(2026, 9, 28, 9, 0))
    with pytest.raises(BookingError) as exc:
        b.book(resident=resident(s.community), item=s.item(), station=s.station, slot_start=local(2026, 10, 2, 9, 0),
               idempotency_key="k")
    assert exc.value.code == "holiday" and "国庆节" in exc.value.message


def test_one_booking_per_item_and_a_limit_of_upcoming_bookings(app, clock):
    s = setup_community()
    r = resident(s.community)
    first = b.book(resident=r, item=s.item(), station=s.station, slot_start=local(2026, 11, 18, 9, 0),
                   idempotency_key="a").booking
    with pytest.raises(BookingError) as exc:
        b.book(resident=r, item=s.item(), station=s.station, slot_start=local(2026, 11, 19, 9, 0),
               idempotency_key="b")
    assert exc.value.code == "already_booked" and first.code in exc.value.message
    for n, key in enumerate(["dibao", "juzhuzheng"]):
        b.book(resident=r, item=s.item(key), station=s.station, slot_start=local(2026, 11, 19, 9 + n, 0),
               idempotency_key=key)
    with pytest.raises(BookingError) as exc:
        b.book(resident=r, item=s.item("shebaoka"), station=s.station, slot_start=local(2026, 11, 20, 9, 0),
               idempotency_key="c")
    assert exc.value.code == "too_many"
    assert count_bookings(resident_id=r.id) == 3


def test_scope_inactive_items_and_other_communities(app, clock):
    s = setup_community()
    other = setup_community(name="别的社区")
    r = resident(s.community)
    with pytest.raises(BookingError) as exc:
        b.book(resident=r, item=other.item(), station=other.station, slot_start=local(2026, 11, 18, 9, 0),
               idempotency_key="k")
    assert exc.value.code == "wrong_community"
    with pytest.raises(BookingError) as exc:
        b.book(resident=r, item=other.item(), station=s.station, slot_start=local(2026, 11, 18, 9, 0),
               idempotency_key="k")
    assert exc.value.code == "wrong_station"
    item = s.item()
    item.active = False
    db.session.commit()
    with pytest.raises(BookingError) as exc:
        b.book(resident=r, item=item, station=s.station, slot_start=local(2026, 11, 18, 9, 0), idempotency_key="k")
    assert exc.value.code == "inactive_item"
    assert count_bookings() == 0


def test_cancel_frees_the_place_only_for_the_owner_and_only_once(app, clock):
    s = setup_community(capacity=1)
    owner, stranger = resident(s.community), resident(s.community, name="陈明")
    booking = b.book(resident=owner, item=s.item(), station=s.station, slot_start=local(2026, 11, 18, 9, 0),
                     idempotency_key="k").booking
    with pytest.raises(BookingError) as exc:
        b.cancel_booking(booking, by="resident", resident=stranger)
    assert exc.value.code == "not_found" and exc.value.status == 404
    b.cancel_booking(booking, by="resident", resident=owner)
    assert booking.status == "cancelled" and booking.cancelled_by == "resident" and booking.cancelled_at == clock()
    assert load(s.station.id, booking.slot_start) == 0
    with pytest.raises(BookingError) as exc:
        b.cancel_booking(booking, by="resident", resident=owner)
    assert exc.value.code == "bad_state"
    # The freed place can be booked by someone else.
    assert b.book(resident=stranger, item=s.item(), station=s.station, slot_start=local(2026, 11, 18, 9, 0),
                  idempotency_key="k").created


def test_residents_cannot_cancel_after_the_start(app, clock):
    s = setup_community()
    r = resident(s.community)
    booking = b.book(resident=r, item=s.item(), station=s.station, slot_start=local(2026, 11, 17, 10, 0),
                     idempotency_key="k").booking
    clock.set(local(2026, 11, 17, 10, 5))
    with pytest.raises(BookingError) as exc:
        b.cancel_booking(booking, by="resident", resident=r)
    assert exc.value.code == "started"
    assert b.cancel_booking(booking, by="staff", staff=s.duty, reason="居民电话取消").status == "cancelled"


def test_reschedule_moves_the_place_and_keeps_the_code(app, clock):
    s = setup_community(capacity=1)
    r = resident(s.community)
    booking = b.book(resident=r, item=s.item(), station=s.station, slot_start=local(2026, 11, 18, 9, 0),
                     idempotency_key="k").booking
    code, old = booking.code, booking.slot_start
    b.reschedule(booking, slot_start=local(2026, 11, 20, 14, 0), resident=r)
    assert booking.code == code and booking.slot_start == local(2026, 11, 20, 14, 0).astimezone(UTC)
    assert booking.reschedule_count == 1
    assert load(s.station.id, old) == 0 and load(s.station.id, booking.slot_start) == 1
    # The original request replayed still returns the (moved) booking.
    assert b.book(resident=r, item=s.item(), station=s.station, slot_start=local(2026, 11, 18, 9, 0),
                  idempotency_key="k").booking.id == booking.id
    with pytest.raises(BookingError) as exc:
        b.reschedule(booking, slot_start=local(2026, 11, 20, 14, 0), resident=r)
    assert exc.value.code == "same_slot"


def test_reschedule_into_a_full_slot_changes_nothing(app, clock):
    s = setup_community(capacity=1)
    r, other = resident(s.community), resident(s.community, name="赵磊")
    mine = b.book(resident=r, item=s.item(), station=s.station, slot_start=local(2026, 11, 18, 9, 0),
                  idempotency_key="k").booking
    b.book(resident=other, item=s.item(), station=s.station, slot_start=local(2026, 11, 19, 9, 0),
           idempotency_key="k")
    with pytest.raises(BookingError) as exc:
        b.reschedule(mine, slot_start=local(2026, 11, 19, 9, 0), resident=r)
    assert exc.value.code == "slot_full"
    db.session.expire_all()
    assert mine.slot_start == local(2026, 11, 18, 9, 0).astimezone(UTC) and mine.reschedule_count == 0
    assert load(s.station.id, mine.slot_start) == 1 and load(s.station.id, local(2026, 11, 19, 9, 0)) == 1
    with pytest.raises(BookingError) as exc:
        b.reschedule(mine, slot_start=local(2026, 10, 1, 9, 0), resident=r)
    assert exc.value.code == "past"
    with pytest.raises(BookingError) as exc:
        b.reschedule(mine, slot_start=local(2026, 11, 20, 9, 0), resident=other)
    assert exc.value.code == "not_found"


def test_staff_check_in_no_show_hand_over_and_complete_into_a_case(app, clock):
    s = setup_community()
    r = resident(s.community)
    today = b.book(resident=r, item=s.item(), station=s.station, slot_start=local(2026, 11, 17, 10, 0),
                   idempotency_key="t").booking
    tomorrow = b.book(resident=r, item=s.item("dibao"), station=s.station, slot_start=local(2026, 11, 18, 9, 0),
                      idempotency_key="m").booking
    with pytest.raises(BookingError) as exc:
        desk.check_in(tomorrow, staff=s.duty)
    assert exc.value.code == "not_today"
    with pytest.raises(BookingError) as exc:
        desk.mark_no_show(today, staff=s.duty)
    assert exc.value.code == "too_early"
    assert [x.id for x in desk.station_bookings(s.station, date(2026, 11, 17))] == [today.id]

    desk.check_in(today, staff=s.duty)
    assert today.status == "checked_in" and today.checked_in_by_staff_id == s.duty.id
    desk.hand_over(today, staff=s.duty, to_staff=s.admin, note="王书记接手")
    assert today.handed_over_to_staff_id == s.admin.id
    outsider = f.staff(roles=("duty",))
    with pytest.raises(BookingError) as exc:
        desk.hand_over(today, staff=s.duty, to_staff=outsider)
    assert exc.value.code == "unknown_staff"

    case = desk.complete(today, staff=s.duty)
    assert today.status == "completed" and case.booking_id == today.id
    assert case.code == today.code and case.status == "submitted"
    assert case.responsible_staff_id == s.admin.id  # the staff member it was handed to
    assert case.department == s.item().department
    # 10 working days after Tue 17 Nov 2026 (18,19,20,23…27,30 Nov, 1 Dec): Tue 1 Dec, end of day, local.
    assert case.due_at == local(2026, 12, 1, 23, 59).replace(second=59).astimezone(UTC)
    with pytest.raises(BookingError) as exc:
        desk.complete(today, staff=s.duty)
    assert exc.value.code == "bad_state"

    clock.set(local(2026, 11, 18, 9, 20))
    desk.mark_no_show(tomorrow, staff=s.duty)
    assert tomorrow.status == "no_show"
    desk.check_in(tomorrow, staff=s.duty)  # came late after all
    assert tomorrow.status == "checked_in"


def test_a_case_cannot_be_created_twice_for_one_booking(app, clock):
    s = setup_community()
    r = resident(s.community)
    booking = b.book(resident=r, item=s.item(), station=s.station, slot_start=local(2026, 11, 17, 10, 0),
                     idempotency_key="t").booking
    desk.complete(booking, staff=s.duty)
    from app.handlers.proxy.cases import create_case
    from app.handlers.proxy.errors import CaseError
    with pytest.raises(CaseError) as exc:
        create_case(community_id=s.community.id, item=s.item(), resident_id=r.id, responsible=s.duty,
                    actor=s.duty, booking=booking)
    assert exc.value.code == "exists"
    assert db.session.query(Case).count() == 1


@pytest.mark.parametrize("text, expected", [
    ("明天上午", (date(2026, 11, 18), "morning", None)),
    ("周五下午", (date(2026, 11, 20), "afternoon", None)),
    ("星期二", (date(2026, 11, 17), None, None)),
    ("下周二下午三点", (date(2026, 11, 24), "afternoon", time(15, 0))),
    ("11月20日9点半", (date(2026, 11, 20), "morning", time(9, 30))),
    ("十一月二十号 上午十点", (date(2026, 11, 20), "morning", time(10, 0))),
    ("后天 15:00", (date(2026, 11, 19), "afternoon", time(15, 0))),
    ("2026-11-25 8:30", (date(2026, 11, 25), "morning", time(8, 30))),
    ("3点", (None, "afternoon", time(15, 0))),
    ("能早一点吗", (None, None, None)),
    ("25号", (date(2026, 11, 25), None, None)),
    ("3号", (date(2026, 12, 3), None, None)),
    ("1月5日", (date(2027, 1, 5), None, None)),
])
def test_parse_when_reads_chinese_times(app, clock, text, expected):
    when = parse_when(text, clock())
    assert (when.day, when.period, when.clock) == expected
    assert when.invalid is None


@pytest.mark.parametrize("text, bad", [("明天下午八十点", "八十点"), ("25:00", "25:00"), ("2月30日上午", "2月30日"),
                                       ("明天13点61分", "13点61分")])
def test_parse_when_reports_impossible_times(app, clock, text, bad):
    assert parse_when(text, clock()).invalid == bad


def test_choices_and_codes_in_messages():
    assert parse_choice("1") == 1 and parse_choice("２") == 2 and parse_choice("第三个") == 3
    assert parse_choice("选2") == 2 and parse_choice("1号") == 1
    assert parse_choice("12") is None and parse_choice("明天") is None
    assert code_from_text("取消预约 d7k3q9 谢谢") == "D7K3Q9"
    assert code_from_text("cancel booking please") is None
    assert code_from_text("电话13812345678") is None
