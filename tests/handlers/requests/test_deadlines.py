"""Resolution deadlines: the 12345 defaults, working days with 调休, operator overrides, bad settings."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.handlers import requests as flow
from app.models import CalendarDay
from app.workcal import WorkCalendar
from tests.factories.requests import local

# ---- deadlines -------------------------------------------------------------------------------

def test_default_deadlines_after_12345(app, world, clock):
    start = local(2026, 11, 17, 9, 30)
    assert flow.compute_due_at(start, "emergency") == start + timedelta(hours=2)
    assert flow.compute_due_at(start, "utilities") == start + timedelta(hours=24)
    assert flow.compute_due_at(start, "general") == local(2026, 11, 26, 23, 59, 59)
    # 15 working days: Nov 18–20, 23–27, Nov 30–Dec 4, Dec 7–8
    assert flow.compute_due_at(start, "complex") == local(2026, 12, 8, 23, 59, 59)
    assert [flow.urgency_for(c) for c in ("safety", "utilities", "property", "neighbor", "repair", "noise")] == [
        "emergency", "utilities", "complex", "complex", "general", "general"]


def test_working_days_skip_the_national_day_holiday_and_count_the_makeup_saturday(world, clock):
    clock.set(local(2026, 9, 28, 10, 0))  # Monday before 国庆
    request = flow.create_request(community_id=world.community.id, text="小区路面塌陷", category="repair")
    # Sep 29, Sep 30, (Oct 1–7 off), Oct 8, Oct 9, Oct 10 (Saturday, 调休上班), Oct 12, Oct 13
    assert request.due_at == local(2026, 10, 13, 23, 59, 59)
    naive_weekdays = WorkCalendar({local(2026, 10, 10).date(): False})
    assert flow.compute_due_at(clock(), "general", naive_weekdays) == local(2026, 10, 14, 23, 59, 59)


def test_a_request_on_a_holiday_starts_counting_on_the_next_working_day(world, clock):
    clock.set(local(2026, 10, 3, 15, 0))
    request = flow.create_request(community_id=world.community.id, text="噪音扰民", category="noise")
    # Oct 8, 9, 10 (调休), 12, 13, 14, 15
    assert request.due_at == local(2026, 10, 15, 23, 59, 59)


def test_operator_overrides_change_deadlines_for_unknown_years(world, clock):
    clock.set(local(2027, 9, 29, 9, 0))  # the package does not know 2027
    before = flow.compute_due_at(clock(), "general")
    # The statutory days only (国庆 Oct 1–3): Sep 30, Oct 4, 5, 6, 7, 8, 11
    assert before == local(2027, 10, 11, 23, 59, 59)
    for day in range(1, 8):
        db.session.add(CalendarDay(day=local(2027, 10, day).date(), is_workday=False, note="国庆节"))
    db.session.add(CalendarDay(day=local(2027, 10, 9).date(), is_workday=True, note="国庆调休上班"))
    db.session.commit()
    # Sep 30, (Oct 1–7 off), Oct 8, Oct 9 (调休), 11, 12, 13, 14
    assert flow.compute_due_at(clock(), "general") == local(2027, 10, 14, 23, 59, 59)


@pytest.mark.parametrize("app_overrides", [{"RESOLUTION_DEADLINES": "emergency=30m,general=3d",
                                            "REQUEST_CATEGORY_CLASSES": "noise=emergency,safety=emergency"}])
def test_deadlines_and_classes_are_configurable(world, clock):
    start = clock()
    assert flow.compute_due_at(start, "emergency") == start + timedelta(minutes=30)
    assert flow.compute_due_at(start, "general") == local(2026, 11, 20, 23, 59, 59)
    assert flow.compute_due_at(start, "utilities") == start + timedelta(hours=24)  # unlisted: default
    assert flow.urgency_for("noise") == "emergency"
    assert flow.urgency_for("utilities") == "general"  # the mapping replaces the default mapping


@pytest.mark.parametrize("name,value", [
    ("RESOLUTION_DEADLINES", "emergency=2x"), ("RESOLUTION_DEADLINES", "urgent=2h"),
    ("RESOLUTION_DEADLINES", "general=0d"), ("REQUEST_CATEGORY_CLASSES", "repair=soon"),
    ("REQUEST_CATEGORY_CLASSES", "weather=general"), ("REQUEST_FOLLOWUP_SECONDS", "-1")])
def test_bad_deadline_settings_are_refused_at_startup(name, value):
    from config import ConfigError, load_settings
    with pytest.raises(ConfigError) as error:
        load_settings("test", environ={f"LINLI_{name}": value})
    assert f"LINLI_{name}" in error.value.message
