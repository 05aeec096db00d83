"""Free slots: weekly plans with breaks, holidays, 调休 make-up days, closures, capacity, the clock."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from app.extensions import db
from app.handlers.proxy import availability, stations
from app.handlers.proxy.availability import check_slot, day_slots, free_slots
from app.handlers.proxy.errors import SlotError
from app.handlers.proxy.stations import parse_hours_spec, validate_hours
from app.models.calendar import CalendarDay
from app.models.proxy import MAKEUP_WEEKDAY, SlotLoad, StationClosure
from app.workcal import WorkCalendar
from tests.handlers.proxy.support import local, setup_community


def starts(slot_list) -> list[str]:
    return [s.start.astimezone(local(2026, 1, 1).tzinfo).strftime("%m-%d %H:%M") for s in slot_list]


def test_a_working_day_has_slots_in_both_intervals_and_none_in_the_lunch_break(app, clock):
    s = setup_community()
    plan, found = day_slots(s.station, date(2026, 11, 18), now=clock())  # Wednesday
    assert plan.open and plan.kind == availability.WORKDAY
    labels = [x[-5:] for x in starts(found)]
    assert labels[:2] == ["08:30", "09:00"] and labels[5] == "11:00"
    assert "11:30" not in labels and "12:00" not in labels and "13:30" not in labels
    assert labels[6] == "14:00" and labels[-1] == "17:00"
    assert len(found) == 6 + 7
    assert all(x.capacity == 2 and x.free == 2 for x in found)
    assert found[0].end - found[0].start == timedelta(minutes=30)


def test_slots_in_the_past_and_inside_the_lead_time_are_not_offered(app, clock):
    s = setup_community()
    clock.set(local(2026, 11, 17, 9, 50))  # lead time 15 minutes: 10:00 is still bookable, 09:30 is not
    _, found = day_slots(s.station, date(2026, 11, 17), now=clock())
    assert starts(found)[0] == "11-17 10:30"
    clock.set(local(2026, 11, 17, 9, 40))
    _, found = day_slots(s.station, date(2026, 11, 17), now=clock())
    assert starts(found)[0] == "11-17 10:00"
    with pytest.raises(SlotError) as exc:
        check_slot(s.station, local(2026, 11, 17, 9, 30), now=clock())
    assert exc.value.code == "past"
    clock.set(local(2026, 11, 17, 9, 50))
    with pytest.raises(SlotError) as exc:
        check_slot(s.station, local(2026, 11, 17, 10, 0), now=clock())
    assert exc.value.code == "too_soon" and "15分钟" in exc.value.message


def test_public_holidays_are_closed_even_on_weekends_inside_them(app, clock):
    s = setup_community()
    clock.set(local(2026, 9, 28, 9, 0))
    for day in (date(2026, 10, 1), date(2026, 10, 5), date(2026, 10, 3)):  # Thu, Mon, Sat (has Saturday hours)
        plan, found = day_slots(s.station, day, now=clock())
        assert not plan.open and found == []
        assert plan.closed_reason == "holiday" and "国庆节" in plan.message
    with pytest.raises(SlotError) as exc:
        check_slot(s.station, local(2026, 10, 2, 9, 0), now=clock())
    assert exc.value.code == "holiday" and "10月2日" in exc.value.message and "国庆节" in exc.value.message


def test_make_up_working_days_open_with_the_weekday_plan(app, clock):
    s = setup_community()
    clock.set(local(2026, 9, 18, 9, 0))
    # 2026-09-20 is a Sunday worked for National Day (调休): the station opens with the Monday plan.
    plan, found = day_slots(s.station, date(2026, 9, 20), now=clock())
    assert plan.kind == availability.MAKEUP and plan.open
    assert starts(found)[0] == "09-20 08:30" and starts(found)[-1] == "09-20 17:00"
    # An ordinary Sunday is closed; an ordinary Saturday has its own (morning) plan.
    plan, _ = day_slots(s.station, date(2026, 9, 13), now=clock())
    assert plan.kind == availability.WEEKEND and not plan.open and plan.closed_reason == "no_hours"
    plan, found = day_slots(s.station, date(2026, 9, 19), now=clock())
    assert plan.open and starts(found) == ["09-19 09:00", "09-19 09:30", "09-19 10:00", "09-19 10:30",
                                           "09-19 11:00"]
    assert {x.capacity for x in found} == {1}


def test_a_station_specific_make_up_plan_wins(app, clock):
    s = setup_community(hours=["mon-fri 08:30-11:30,14:00-17:30", "makeup 09:00-12:00"])
    clock.set(local(2026, 10, 8, 9, 0))
    plan, found = day_slots(s.station, date(2026, 10, 10), now=clock())  # Saturday 调休
    assert plan.kind == availability.MAKEUP
    assert starts(found) == [f"10-10 {h}" for h in ("09:00", "09:30", "10:00", "10:30", "11:00", "11:30")]


def test_free_slots_skip_the_holiday_week_and_resume_after_it(app, clock):
    s = setup_community()
    clock.set(local(2026, 9, 30, 17, 20))  # the last bookable moment before National Day has passed
    found = free_slots([s.station], now=clock())
    assert starts(found)[0] == "10-08 08:30"
    assert not any(x.start.astimezone(local(2026, 1, 1).tzinfo).date() in
                   {date(2026, 10, d) for d in range(1, 8)} for x in found)
    assert any(starts([x])[0].startswith("10-10") for x in found)  # the make-up Saturday is bookable


def test_operator_calendar_overrides_are_respected(app, clock):
    s = setup_community()
    db.session.add_all([CalendarDay(day=date(2026, 11, 19), is_workday=False, note="地方假日"),
                        CalendarDay(day=date(2026, 11, 22), is_workday=True, note="调休上班")])
    db.session.commit()
    plan, _ = day_slots(s.station, date(2026, 11, 19), now=clock())
    assert plan.closed_reason == "holiday" and not plan.open
    plan, found = day_slots(s.station, date(2026, 11, 22), now=clock())  # a Sunday made a working day
    assert plan.kind == availability.MAKEUP and len(found) == 13


def test_closures_block_the_day_with_their_reason(app, clock):
    s = setup_community()
    db.session.add(StationClosure(station_id=s.station.id, day=date(2026, 11, 20), reason="工作人员培训"))
    db.session.commit()
    plan, found = day_slots(s.station, date(2026, 11, 20), now=clock())
    assert not plan.open and found == [] and plan.closed_reason == "closure"
    with pytest.raises(SlotError) as exc:
        check_slot(s.station, local(2026, 11, 20, 9, 0), now=clock())
    assert "工作人员培训" in exc.value.message and "11月20日" in exc.value.message
    assert all(x.start.astimezone(local(2026, 1, 1).tzinfo).date() != date(2026, 11, 20)
               for x in free_slots([s.station], now=clock()))


def test_capacity_minus_load_and_full_slots_are_not_free(app, clock):
    s = setup_community(capacity=2)
    start = local(2026, 11, 18, 9, 0).astimezone(timezone.utc)
    db.session.add(SlotLoad(station_id=s.station.id, slot_start=start, booked=2))
    db.session.add(SlotLoad(station_id=s.station.id, slot_start=start + timedelta(minutes=30), booked=1))
    db.session.commit()
    _, found = day_slots(s.station, date(2026, 11, 18), now=clock())
    by_start = {x.start: x for x in found}
    assert by_start[start].free == 0
    assert by_start[start + timedelta(minutes=30)].free == 1
    free = free_slots([s.station], now=clock(), first_day=date(2026, 11, 18), last_day=date(2026, 11, 18))
    assert start not in {x.start for x in free}
    assert start + timedelta(minutes=30) in {x.start for x in free}


def test_booking_horizon_and_alignment_are_checked(app, clock):
    s = setup_community()
    with pytest.raises(SlotError) as exc:
        check_slot(s.station, local(2026, 12, 8, 9, 0), now=clock())  # 21 days ahead
    assert exc.value.code == "beyond_horizon"
    with pytest.raises(SlotError) as exc:
        check_slot(s.station, local(2026, 11, 18, 9, 10), now=clock())
    assert exc.value.code == "not_aligned" and "30分钟" in exc.value.message
    with pytest.raises(SlotError) as exc:
        check_slot(s.station, local(2026, 11, 18, 12, 0), now=clock())
    assert exc.value.code == "outside_hours" and "08:30–11:30" in exc.value.message
    with pytest.raises(SlotError) as exc:
        check_slot(s.station, datetime(2026, 11, 18, 9, 0), now=clock())
    assert exc.value.code == "invalid"
    ok = check_slot(s.station, local(2026, 11, 18, 9, 0), now=clock())
    assert ok.start == local(2026, 11, 18, 9, 0).astimezone(timezone.utc) and ok.free == 2
    last = free_slots([s.station], now=clock())[-1]
    assert last.start.astimezone(local(2026, 1, 1).tzinfo).date() == date(2026, 12, 1)


def test_an_inactive_station_has_no_slots(app, clock):
    s = setup_community()
    s.station.active = False
    db.session.commit()
    plan, found = day_slots(s.station, date(2026, 11, 18), now=clock())
    assert not plan.open and found == []
    assert free_slots([s.station], now=clock()) == []


def test_spread_prefers_one_slot_per_half_day(app, clock):
    s = setup_community()
    chosen = availability.spread(free_slots([s.station], now=clock()), 3)
    assert starts(chosen) == ["11-17 10:00", "11-17 14:00", "11-18 08:30"]


def test_hours_specs_parse_and_bad_plans_are_refused():
    rows = parse_hours_spec("mon-fri 08:30-11:30,14:00-17:30")
    assert len(rows) == 10 and rows[0] == {"weekday": 0, "opens": time(8, 30), "closes": time(11, 30),
                                           "capacity": None}
    assert parse_hours_spec("周六 09:00-11:30x1")[0]["capacity"] == 1
    assert parse_hours_spec("调休 08:30-11:30")[0]["weekday"] == MAKEUP_WEEKDAY
    assert [r["weekday"] for r in parse_hours_spec("sat/sun 09:00-10:00")] == [5, 6]
    for bad in ("someday 08:30-11:30", "mon 8.30-11.30", "mon 25:00-26:00", "08:30-11:30"):
        with pytest.raises(SlotError):
            parse_hours_spec(bad)
    with pytest.raises(SlotError, match="重叠"):
        validate_hours(parse_hours_spec("mon 08:30-11:30,11:00-12:00"), 30)
    with pytest.raises(SlotError, match="短于一个时段"):
        validate_hours(parse_hours_spec("mon 08:30-08:45"), 30)
    with pytest.raises(SlotError, match="晚于"):
        validate_hours([{"weekday": 0, "opens": "11:00", "closes": "09:00"}], 30)
    with pytest.raises(SlotError, match="weekday"):
        validate_hours([{"weekday": 9, "opens": "09:00", "closes": "11:00"}], 30)


def test_hours_summary_reads_like_a_notice(app, clock):
    s = setup_community()
    assert stations.hours_summary(s.station) == "周一至周五 08:30–11:30、14:00–17:30；周六 09:00–11:30"


def test_day_kind_for_years_the_package_does_not_know_falls_back_to_weekends():
    calendar = WorkCalendar()
    assert availability.day_kind(calendar, date(2031, 3, 3)) == (availability.WORKDAY, None)   # a Monday
    assert availability.day_kind(calendar, date(2031, 3, 8)) == (availability.WEEKEND, None)   # a Saturday
    assert availability.day_kind(calendar, date(2026, 2, 17)) == (availability.HOLIDAY, "春节")
