"""Which years must be loaded when: this year always, next year from 1 November."""
from __future__ import annotations

from datetime import date

from app.handlers.calendar import readiness
from app.workcal import WorkCalendar

PACKAGE = WorkCalendar()  # the installed package knows up to 2026


def test_next_year_is_due_from_1_november():
    assert readiness.years_to_check(date(2026, 10, 31)) == [2026]
    assert readiness.years_to_check(date(2026, 11, 1)) == [2026, 2027]
    assert readiness.years_to_check(date(2026, 12, 31)) == [2026, 2027]
    assert readiness.years_to_check(date(2027, 1, 1)) == [2027]


def test_missing_years_and_the_status():
    assert readiness.missing_years(date(2026, 10, 31), PACKAGE) == []
    assert readiness.missing_years(date(2026, 12, 1), PACKAGE) == [2027]
    assert readiness.missing_years(date(2027, 11, 2), PACKAGE) == [2027, 2028]
    loaded = WorkCalendar({date(2027, 1, 1): False})
    assert readiness.missing_years(date(2026, 12, 1), loaded) == []
    assert readiness.status(date(2026, 12, 1), loaded) == {"status": "ok", "missing_years": []}
    missing = readiness.status(date(2027, 11, 2), PACKAGE)
    assert missing["status"] == "missing" and missing["missing_years"] == [2027, 2028]
    assert "for 2027, 2028 is not loaded" in missing["message"] and missing["command"] == "linli calendar import FILE"


def test_one_alert_key_per_community_and_iso_week():
    monday, sunday = date(2026, 11, 2), date(2026, 11, 8)
    assert readiness.alert_key(7, monday, [2027]) == readiness.alert_key(7, sunday, [2027]) == \
        "calendar:notice:2027:community:7:2026-W45"
    assert readiness.alert_key(7, date(2026, 11, 9), [2027]).endswith("2026-W46")
    assert readiness.alert_key(8, monday, [2027]) != readiness.alert_key(7, monday, [2027])
    # ISO weeks cross New Year: 2027-01-01 (Friday) is still in 2026-W53.
    assert readiness.alert_key(7, date(2027, 1, 1), [2027]).endswith(":2026-W53")
    assert "2027年、2028年的放假调休安排" in readiness.alert_text([2027, 2028])
