"""The working-day calculator: known 调休 facts, and properties over make-up days, long holidays,
year boundaries, years the holiday package does not know, and operator overrides."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.workcal import WorkCalendar, load_calendar

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()

# Dates across the package's range, the years after it (weekday fallback), and around New Year.
any_day = st.dates(min_value=date(2018, 1, 1), max_value=date(2028, 12, 31))
year_end = st.builds(lambda year, offset: date(year, 12, 20) + timedelta(days=offset),
                     st.integers(2018, 2027), st.integers(0, 20))
long_holiday_eve = st.sampled_from([
    date(2024, 2, 8), date(2024, 9, 30), date(2025, 1, 27), date(2025, 9, 30), date(2026, 2, 13),
    date(2026, 9, 30), date(2023, 9, 28), date(2020, 1, 23)])
start_day = st.one_of(any_day, year_end, long_holiday_eve)
counts = st.integers(min_value=0, max_value=40)
overrides = st.dictionaries(st.dates(min_value=date(2024, 12, 1), max_value=date(2027, 2, 28)), st.booleans(),
                            max_size=30)


# ---- known facts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("day, workday", [
    (date(2024, 2, 4), True),    # Sunday, make-up working day before the 2024 Spring Festival
    (date(2024, 2, 12), False),  # Monday inside the Spring Festival holiday
    (date(2024, 10, 7), False),  # National Day week
    (date(2024, 10, 12), True),  # Saturday, make-up working day after National Day
    (date(2025, 1, 1), False),   # New Year's Day
    (date(2025, 1, 26), True),   # Sunday, make-up day
    (date(2025, 2, 8), True),    # Saturday, make-up day
    (date(2026, 2, 14), True),   # Saturday, make-up day
    (date(2026, 10, 10), True),  # Saturday, make-up day
    (date(2026, 11, 17), True),  # an ordinary Tuesday
    (date(2026, 11, 21), False),  # an ordinary Saturday
])
def test_known_days(day, workday):
    assert CAL.is_workday(day) is workday


def test_long_holidays_are_skipped_and_make_up_days_count():
    assert CAL.add_workdays(date(2024, 9, 30), 1) == date(2024, 10, 8)   # across National Day
    assert CAL.add_workdays(date(2024, 9, 28), 1) == date(2024, 9, 29)   # Sunday 9-29 was a make-up day
    assert CAL.add_workdays(date(2025, 1, 27), 1) == date(2025, 2, 5)    # across the Spring Festival
    assert CAL.add_workdays(date(2024, 12, 31), 1) == date(2025, 1, 2)   # across New Year's Day
    assert CAL.workdays_between(date(2024, 9, 30), date(2024, 10, 8)) == 1


def test_seven_working_days_deadline_across_national_day():
    # A general request (7 working days) received on the eve of the 2025 National Day week.
    # Off 10-01..10-08; then 10-09, 10-10, Saturday 10-11 (make-up day), 10-13 … 10-16.
    received = datetime(2025, 9, 30, 17, 0, tzinfo=SH)
    assert CAL.deadline(received, 7) == datetime(2025, 10, 16, 23, 59, 59, tzinfo=SH)
    # Sunday 2025-09-28 was a make-up working day: a request that day counts from Monday.
    assert CAL.deadline(datetime(2025, 9, 28, 10, tzinfo=SH), 1) == datetime(2025, 9, 29, 23, 59, 59, tzinfo=SH)


def test_a_request_received_at_night_utc_counts_from_its_local_day():
    # 2026-11-16 20:00 UTC is already Tuesday 04:00 in Shanghai.
    received = datetime(2026, 11, 16, 20, 0, tzinfo=timezone.utc)
    assert CAL.deadline(received, 1).date() == date(2026, 11, 18)


def test_years_the_package_does_not_know_skip_the_statutory_holidays_until_overridden():
    assert 2027 not in WorkCalendar().known_years()
    assert CAL.is_workday(date(2027, 1, 1)) is False   # 元旦, a Friday: computed from the law
    assert CAL.is_workday(date(2027, 2, 5)) is False   # 除夕 (2024 rules: 春节 starts on New Year's Eve)
    assert CAL.is_workday(date(2027, 1, 4)) is True    # an ordinary Monday
    assert CAL.is_workday(date(2027, 1, 2)) is False   # Saturday: no make-up day is ever guessed
    assert CAL.source(date(2027, 1, 1)) == "statutory" and CAL.source(date(2027, 1, 4)) == "weekday"
    fixed = WorkCalendar({date(2027, 1, 1): False, date(2027, 1, 2): True})
    assert fixed.is_workday(date(2027, 1, 1)) is False and fixed.is_workday(date(2027, 1, 2)) is True
    assert fixed.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 2)
    assert 2027 in fixed.known_years()
    assert fixed.source(date(2027, 1, 2)) == "override"


def test_a_three_day_limit_from_29_december_skips_new_years_day_before_any_notice():
    # The example: under bare Monday–Friday this was due on 元旦 2027-01-01.
    received = datetime(2026, 12, 29, 10, 0, tzinfo=SH)
    assert CAL.deadline(received, 3) == datetime(2027, 1, 4, 23, 59, 59, tzinfo=SH)


def test_fallback_years_and_provisional_ranges():
    assert CAL.is_fallback_year(2027) and not CAL.is_fallback_year(2026)
    assert CAL.fallback_years(date(2026, 12, 29), date(2028, 1, 3)) == [2027, 2028]
    assert CAL.fallback_years(date(2028, 1, 3), date(2026, 12, 29)) == [2027, 2028]  # either order
    assert not CAL.is_provisional(date(2026, 3, 1), date(2026, 12, 31))
    assert CAL.is_provisional(date(2026, 12, 29), date(2027, 1, 4))
    assert CAL.is_provisional(date(2027, 6, 1))
    received = datetime(2026, 12, 29, 10, 0, tzinfo=SH)
    assert CAL.deadline_is_provisional(received, CAL.deadline(received, 3))
    assert not CAL.deadline_is_provisional(received, CAL.deadline(received, 1))  # due 12-30, all in 2026
    # One override for 2027 (an imported notice, or a day entered by hand) loads the year.
    loaded = WorkCalendar({date(2027, 1, 1): False})
    assert not loaded.is_fallback_year(2027) and not loaded.is_provisional(date(2027, 6, 1))
    # Without the package every year is a fallback year unless overridden.
    assert WorkCalendar(use_package=False).is_fallback_year(2025)


def test_the_package_answers_its_own_years_even_against_the_law():
    # 2014 rules: 除夕 was no holiday, and the package (the 2014 notice) agrees: 2014-01-30 was worked.
    assert CAL.is_workday(date(2014, 1, 30)) is True
    # Without the package the statutory rule of the year applies, and it agrees.
    assert WorkCalendar(use_package=False).is_workday(date(2014, 1, 30)) is True
    assert WorkCalendar(use_package=False).is_workday(date(2025, 1, 28)) is False  # 除夕 2025 (2024 rules)


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        CAL.add_workdays(date(2026, 1, 5), -1)


def test_overrides_come_from_the_database(app):
    from app.extensions import db
    from app.models import CalendarDay
    db.session.add(CalendarDay(day=date(2027, 2, 6), is_workday=True, note="2027春节调休"))
    db.session.add(CalendarDay(day=date(2027, 2, 8), is_workday=False, note="2027春节"))
    db.session.commit()
    calendar = load_calendar()
    assert calendar.is_workday(date(2027, 2, 6)) and not calendar.is_workday(date(2027, 2, 8))


# ---- properties ----------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(start_day, counts)
def test_the_result_is_a_working_day_after_the_start(start, days):
    result = CAL.add_workdays(start, days)
    if days == 0:
        assert result == start
    else:
        assert result > start
        assert CAL.is_workday(result)


@settings(max_examples=300, deadline=None)
@given(start_day, counts, counts)
def test_more_days_never_end_earlier(start, a, b):
    low, high = sorted((a, b))
    assert CAL.add_workdays(start, low) <= CAL.add_workdays(start, high)
    if 0 < low < high:
        assert CAL.add_workdays(start, low) < CAL.add_workdays(start, high)


@settings(max_examples=300, deadline=None)
@given(start_day, st.integers(0, 30), counts)
def test_a_later_start_never_ends_earlier(start, shift, days):
    assert CAL.add_workdays(start, days) <= CAL.add_workdays(start + timedelta(days=shift), days)


@settings(max_examples=300, deadline=None)
@given(start_day, counts)
def test_counting_back_gives_the_same_number(start, days):
    end = CAL.add_workdays(start, days)
    assert CAL.workdays_between(start, end) == days
    # Every day strictly between two consecutive results is a day off.
    if days:
        previous = CAL.add_workdays(start, days - 1)
        gap = [previous + timedelta(days=i) for i in range(1, (end - previous).days)]
        assert not any(CAL.is_workday(d) for d in gap)


@settings(max_examples=300, deadline=None)
@given(start_day, st.integers(0, 60))
def test_workdays_between_agrees_with_add_workdays(start, span):
    end = start + timedelta(days=span)
    n = CAL.workdays_between(start, end)
    assert CAL.add_workdays(start, n) <= end
    assert CAL.add_workdays(start, n + 1) > end
    assert CAL.workdays_between(end, start) == 0 if span else n == 0


@settings(max_examples=200, deadline=None)
@given(overrides, st.dates(min_value=date(2024, 12, 1), max_value=date(2027, 1, 31)), counts)
def test_operator_overrides_are_respected(marked, start, days):
    calendar = WorkCalendar(marked)
    for day, workday in marked.items():
        assert calendar.is_workday(day) is workday
    result = calendar.add_workdays(start, days)
    if days:
        assert calendar.is_workday(result)
        assert marked.get(result, True) is True
    assert calendar.workdays_between(start, result) == days


@settings(max_examples=200, deadline=None)
@given(start_day, st.integers(0, 86399), st.integers(1, 15))
def test_the_deadline_is_the_end_of_a_working_day(start, second, days):
    received = datetime.combine(start, time(0), tzinfo=SH) + timedelta(seconds=second)
    due = CAL.deadline(received, days)
    assert due.time() == time(23, 59, 59)
    assert CAL.is_workday(due.date())
    assert CAL.workdays_between(start, due.date()) == days
