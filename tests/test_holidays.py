"""Statutory holidays computed from the law, against the chinesecalendar package's published data.

The package knows 2004–2026 (the State Council's notices). Every day the law makes a holiday
must be a day off in the package's data, under the revision in force that year (2004–2007: the
1999 rules; 2008–2013: 除夕–初二 and the lunar festivals; 2014–2024: 初一–初三, 劳动节 1 day;
2025 on: 除夕–初三, 劳动节 2 days). Testing each year against its own rules, not only against
the days every revision shares, is what proves the rule table itself. One known gap in the
package: it lists 2012-06-23 (端午, a Saturday inside 6-22..6-24) as a day off without a name,
so names are compared only where the package gives one.
"""
from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import holidays

PACKAGE_YEARS = sorted({d.year for d in chinese_calendar.holidays})
ENGLISH = {holidays.NEW_YEAR: "New Year's Day", holidays.SPRING_FESTIVAL: "Spring Festival",
           holidays.TOMB_SWEEPING: "Tomb-sweeping Day", holidays.LABOUR_DAY: "Labour Day",
           holidays.DRAGON_BOAT: "Dragon Boat Festival", holidays.MID_AUTUMN: "Mid-autumn Festival",
           holidays.NATIONAL_DAY: "National Day"}


def test_the_package_knows_the_years_the_property_relies_on():
    assert PACKAGE_YEARS[0] <= 2004 and PACKAGE_YEARS[-1] >= 2026
    assert PACKAGE_YEARS == list(range(PACKAGE_YEARS[0], PACKAGE_YEARS[-1] + 1))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PACKAGE_YEARS))
def test_every_statutory_day_is_a_day_off_in_the_published_data(year):
    days = holidays.statutory_holidays(year)
    assert days, year
    for day, names in days.items():
        off, name = chinese_calendar.get_holiday_detail(day)
        assert off, f"{day} ({'、'.join(names)}) is a working day in the package"
        if name is not None and day.weekday() < 5:
            assert name in {ENGLISH[n] for n in names}, (day, names, name)


@pytest.mark.parametrize("year", PACKAGE_YEARS)
def test_every_year_the_package_knows(year):
    # The same property, exhaustively (23 years): a failure names its year in the test id.
    for day in holidays.statutory_holidays(year):
        assert chinese_calendar.is_holiday(day), day


def test_2027_computed_from_the_2024_revision():
    days = holidays.statutory_holidays(2027)
    assert {d: n[0] for d, n in days.items()} == {
        date(2027, 1, 1): "元旦",
        date(2027, 2, 5): "春节", date(2027, 2, 6): "春节", date(2027, 2, 7): "春节", date(2027, 2, 8): "春节",
        date(2027, 4, 5): "清明节",
        date(2027, 5, 1): "劳动节", date(2027, 5, 2): "劳动节",
        date(2027, 6, 9): "端午节",
        date(2027, 9, 15): "中秋节",
        date(2027, 10, 1): "国庆节", date(2027, 10, 2): "国庆节", date(2027, 10, 3): "国庆节"}


def test_the_rules_of_each_revision():
    # 2024 and earlier: 春节 初一–初三 and one day for 劳动节; from 2025 除夕 and 5月2日 too.
    assert holidays.holiday_days(2024, "春节") == (date(2024, 2, 10), date(2024, 2, 11), date(2024, 2, 12))
    assert holidays.holiday_days(2024, "劳动节") == (date(2024, 5, 1),)
    assert holidays.holiday_days(2025, "春节")[0] == date(2025, 1, 28)  # 除夕
    assert holidays.holiday_days(2025, "劳动节") == (date(2025, 5, 1), date(2025, 5, 2))
    # 2008–2013: 除夕, 初一, 初二.
    assert holidays.holiday_days(2013, "春节") == (date(2013, 2, 9), date(2013, 2, 10), date(2013, 2, 11))
    # 2000–2007: no 清明/端午/中秋, 劳动节 three days.
    assert holidays.holiday_days(2007, "中秋节") == ()
    assert holidays.holiday_days(2007, "劳动节") == (date(2007, 5, 1), date(2007, 5, 2), date(2007, 5, 3))
    with pytest.raises(ValueError):
        holidays.statutory_holidays(1999)
    with pytest.raises(ValueError):
        holidays.holiday_days(2027, "圣诞节")


def test_mid_autumn_on_national_day_is_one_day_with_two_names():
    assert holidays.statutory_holidays(2031)[date(2031, 10, 1)] == ("中秋节", "国庆节")
    assert len(holidays.statutory_holidays(2031)) == 12  # 13 statutory days, two on one date


@settings(max_examples=200, deadline=None)
@given(st.integers(2025, 2200))
def test_the_shape_of_any_later_year(year):
    days = holidays.statutory_holidays(year)
    spring = holidays.holiday_days(year, "春节")
    assert len(spring) == 4 and holidays.lunar_day(spring[0]).last_of_year  # 除夕 …
    assert [(holidays.lunar_day(d).month, holidays.lunar_day(d).day) for d in spring[1:]] == [
        (1, 1), (1, 2), (1, 3)]  # … 正月初一 to 初三
    assert date(year, 1, 21) <= spring[1] <= date(year, 2, 20)
    assert date(year, 4, 4) <= holidays.qingming(year) <= date(year, 4, 5)  # in these two centuries
    dragon, autumn = holidays.holiday_days(year, "端午节")[0], holidays.holiday_days(year, "中秋节")[0]
    assert (holidays.lunar_day(dragon).month, holidays.lunar_day(dragon).day) == (5, 5)
    assert (holidays.lunar_day(autumn).month, holidays.lunar_day(autumn).day) == (8, 15)
    assert not holidays.lunar_day(dragon).leap and not holidays.lunar_day(autumn).leap
    assert sum(len(n) for n in days.values()) == 13
    assert all(d.year == year for d in days)
    assert list(days) == sorted(days)


def test_qingming_follows_the_solar_term_not_a_fixed_date():
    assert [holidays.qingming(y) for y in (2024, 2025, 2027, 2028)] == [
        date(2024, 4, 4), date(2025, 4, 4), date(2027, 4, 5), date(2028, 4, 4)]


def test_lunar_day_knows_new_years_eve_in_short_and_long_years():
    assert holidays.lunar_day(date(2026, 2, 16)).last_of_year      # 腊月廿九: that month has 29 days
    assert not holidays.lunar_day(date(2026, 2, 15)).last_of_year  # 腊月廿八
    assert holidays.lunar_day(date(2030, 2, 2)).last_of_year       # 腊月三十
    assert holidays.lunar_day(date(2030, 2, 2) - timedelta(days=1)).day == 29
