"""The statutory public holidays (法定节假日) of any year, computed from the law.

《全国年节及纪念日放假办法》 fixes which days are off for everyone; the State
Council's yearly notice then moves days around them (调休: a weekday off paid
for by a weekend working day). The notice cannot be computed, the statutory
days can: they are the working-day calendar's fallback for a year nobody has
published or imported yet, so a deadline never lands on 元旦 or 春节.

Lunar dates and the 清明 solar term come from ``lunar_python`` (see
pyproject.toml for why that library). The rules changed over time; each year
uses the revision in force that year, which is also what lets the tests
compare the computed days with every year the ``chinesecalendar`` package
knows (2004 on):

- 1999 revision (2000–2007): 元旦 1, 春节 3 (正月初一–初三), 劳动节 3 (5月1–3日), 国庆 3;
- 2007 revision (2008–2013): 元旦 1, 春节 3 (除夕–正月初二), 清明 1, 劳动节 1, 端午 1, 中秋 1, 国庆 3;
- 2013 revision (2014–2024): as 2008, but 春节 正月初一–初三;
- 2024 revision (2025 on): 春节 4 (除夕–正月初三), 劳动节 2 (5月1–2日).

Only the days themselves are computed; make-up working days never are.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

from lunar_python import Lunar, Solar

NEW_YEAR = "元旦"
SPRING_FESTIVAL = "春节"
TOMB_SWEEPING = "清明节"
LABOUR_DAY = "劳动节"
DRAGON_BOAT = "端午节"
MID_AUTUMN = "中秋节"
NATIONAL_DAY = "国庆节"
HOLIDAYS = (NEW_YEAR, SPRING_FESTIVAL, TOMB_SWEEPING, LABOUR_DAY, DRAGON_BOAT, MID_AUTUMN, NATIONAL_DAY)

FIRST_YEAR = 2000  # the oldest revision implemented; no deadline of linli's is older


@dataclass(frozen=True)
class Rules:
    """One revision of the law: how many days each holiday has, and where the Spring Festival starts."""

    since: int                  # first year it applies to
    spring_start: int           # first day of 春节 relative to 正月初一 (-1 = 除夕)
    spring_days: int
    labour_days: int
    national_days: int
    lunar_festivals: bool       # 清明, 端午 and 中秋 became holidays in 2008


REVISIONS = (  # newest first
    Rules(since=2025, spring_start=-1, spring_days=4, labour_days=2, national_days=3, lunar_festivals=True),
    Rules(since=2014, spring_start=0, spring_days=3, labour_days=1, national_days=3, lunar_festivals=True),
    Rules(since=2008, spring_start=-1, spring_days=3, labour_days=1, national_days=3, lunar_festivals=True),
    Rules(since=2000, spring_start=0, spring_days=3, labour_days=3, national_days=3, lunar_festivals=False),
)


def rules_for(year: int) -> Rules:
    for rules in REVISIONS:
        if year >= rules.since:
            return rules
    raise ValueError(f"statutory holidays are known from {FIRST_YEAR} on, not for {year}")


def _solar(lunar_year: int, month: int, day: int) -> date:
    solar = Lunar.fromYmd(lunar_year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def spring_festival(year: int) -> date:
    """正月初一 of the lunar year that starts in ``year`` (always between 21 January and 20 February)."""
    return _solar(year, 1, 1)


def qingming(year: int) -> date:
    """The day of the 清明 solar term (4–6 April), China time."""
    term = Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]
    return date(term.getYear(), term.getMonth(), term.getDay())


def _run(first: date, days: int) -> tuple[date, ...]:
    return tuple(first + timedelta(days=i) for i in range(days))


@lru_cache(maxsize=256)
def holiday_days(year: int, holiday: str) -> tuple[date, ...]:
    """The statutory days of one holiday in ``year`` under the rules in force that year (may be empty)."""
    rules = rules_for(year)
    if holiday == NEW_YEAR:
        return (date(year, 1, 1),)
    if holiday == SPRING_FESTIVAL:
        return _run(spring_festival(year) + timedelta(days=rules.spring_start), rules.spring_days)
    if holiday == LABOUR_DAY:
        return _run(date(year, 5, 1), rules.labour_days)
    if holiday == NATIONAL_DAY:
        return _run(date(year, 10, 1), rules.national_days)
    if holiday not in HOLIDAYS:
        raise ValueError(f"unknown holiday {holiday!r}")
    if not rules.lunar_festivals:
        return ()
    if holiday == TOMB_SWEEPING:
        return (qingming(year),)
    if holiday == DRAGON_BOAT:
        return (_solar(year, 5, 5),)
    return (_solar(year, 8, 15),)  # 中秋节


@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> Mapping[date, tuple[str, ...]]:
    """Every statutory day off of ``year`` with the holidays it belongs to (中秋 can fall on 国庆)."""
    found: dict[date, tuple[str, ...]] = {}
    for holiday in HOLIDAYS:
        for day in holiday_days(year, holiday):
            found[day] = found.get(day, ()) + (holiday,)
    return MappingProxyType(dict(sorted(found.items())))


@dataclass(frozen=True)
class LunarDay:
    month: int      # 1..12
    day: int        # 1..30
    leap: bool
    last_of_year: bool  # 除夕: the last day of the twelfth month (its 29th or 30th)


def lunar_day(day: date) -> LunarDay:
    """The lunar date of a solar date (for checking a notice's 农历 remarks)."""
    lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
    month = lunar.getMonth()
    next_day = Solar.fromYmd(day.year, day.month, day.day).next(1).getLunar()
    return LunarDay(month=abs(month), day=lunar.getDay(), leap=month < 0,
                    last_of_year=month == 12 and next_day.getMonth() == 1 and next_day.getDay() == 1)
