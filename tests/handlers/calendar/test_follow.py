"""Open deadlines and upcoming bookings follow a calendar change (app/handlers/calendar_sync.py):
requests and cases move by the same number of working days, on their timelines, their staff told;
a booking on a day that became a holiday is cancelled and the resident told."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.clock import FrozenClock, set_app_clock
from app.extensions import db
from app.handlers import calendar_sync
from app.handlers.proxy import bookings, cases
from app.handlers.proxy.availability import day_plan
from app.handlers.proxy.views import case_view, public_view
from app.handlers.requests import dispatch
from app.handlers.requests.supervision import overdue_job_id
from app.handlers.requests.views import resident_request_view, staff_request_view
from app.models.alerts import Alert
from app.models.proxy import BookingStatus, CaseEvent
from app.models.requests import RequestEvent, RequestStatus, ServiceRequest
from app.workcal import WorkCalendar
from tests.factories.requests import build_world, report
from tests.handlers.calendar.test_year_boundary import NOTICE_2027
from tests.handlers.proxy.support import local, outbound, resident, scheduled, setup_community

SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture
def app_overrides():
    return {"RESOLUTION_DEADLINES": "emergency=2h,general=3d"}


@pytest.fixture
def frozen(app):
    clock = FrozenClock(datetime(2026, 12, 29, 10, 0, tzinfo=SHANGHAI))  # Tuesday
    set_app_clock(app, clock)
    return clock


def _events(request) -> list[RequestEvent]:
    return list(db.session.scalars(select(RequestEvent).where(
        RequestEvent.request_id == request.id, RequestEvent.kind == "deadline_changed")))


def test_an_import_moves_open_request_deadlines_and_tells_the_assignee(frozen):
    world = build_world()
    _, request = report(world, "3号楼2单元楼道灯坏了")
    dispatch(request, world.duty, staff=world.worker)
    _, emergency = report(world, "3号楼着火了", category="safety")  # 2 hours: no calendar in it
    assert request.due_at.astimezone(SHANGHAI) == datetime(2027, 1, 4, 23, 59, 59, tzinfo=SHANGHAI)
    assert staff_request_view(request)["due_provisional"] is True
    assert resident_request_view(request)["due_provisional"] is True
    assert staff_request_view(emergency)["due_provisional"] is False

    plan, followed = calendar_sync.import_notice(NOTICE_2027, confirm=True)
    assert plan.applied and [m.code for m in followed.requests] == [request.code]
    db.session.expire_all()
    request = db.session.get(ServiceRequest, request.id)
    # 12-31 and 01-01..03 off, so the third working day is Tuesday 01-05.
    assert request.due_at.astimezone(SHANGHAI) == datetime(2027, 1, 5, 23, 59, 59, tzinfo=SHANGHAI)
    [event] = _events(request)
    assert event.actor_type == "system" and event.detail["reason"] == "calendar"
    assert event.detail["from_due_at"].startswith("2027-01-04T23:59:59")
    assert event.detail["to_due_at"].startswith("2027-01-05T23:59:59")
    assert staff_request_view(request, detail=True)["timeline"][-1]["label"] == "办理时限调整"
    assert "deadline_changed" not in [e["kind"] for e in resident_request_view(request)["progress"]]
    assert staff_request_view(request)["due_provisional"] is False
    # The 督办 job follows the deadline.
    assert scheduled()[overdue_job_id(request.id)] == request.due_at
    [alert] = db.session.scalars(select(Alert).where(Alert.kind == "deadline")).all()
    assert [r.staff_id for r in alert.recipients] == [world.worker.id]
    assert "办理时限由1月4日23:59改为1月5日23:59" in alert.text
    assert db.session.get(ServiceRequest, emergency.id).due_at == emergency.due_at
    # The same notice again: nothing moves, nobody is told twice.
    _, again = calendar_sync.import_notice(NOTICE_2027, confirm=True)
    assert again.requests == [] and len(_events(request)) == 1


def test_closed_requests_keep_their_deadline_and_a_preview_moves_nothing(frozen):
    world = build_world()
    _, request = report(world)
    request.status = RequestStatus.CLOSED.value
    db.session.commit()
    before = request.due_at
    _, preview = calendar_sync.import_notice(NOTICE_2027, confirm=False)
    assert preview.changed_days == []
    _, followed = calendar_sync.import_notice(NOTICE_2027, confirm=True)
    assert followed.requests == [] and len(followed.changed_days) == 31
    db.session.expire_all()
    assert db.session.get(ServiceRequest, request.id).due_at == before


def test_a_single_override_moves_deadlines_both_ways(frozen):
    world = build_world()
    _, request = report(world)
    assert request.due_at.astimezone(SHANGHAI).date() == date(2027, 1, 4)
    _, followed = calendar_sync.set_day(date(2026, 12, 30), "holiday", "试点调整")
    assert [m.code for m in followed.requests] == [request.code]
    db.session.expire_all()
    assert db.session.get(ServiceRequest, request.id).due_at.astimezone(SHANGHAI).date() == date(2027, 1, 5)
    _, followed = calendar_sync.unset_day(date(2026, 12, 30))
    db.session.expire_all()
    assert db.session.get(ServiceRequest, request.id).due_at.astimezone(SHANGHAI).date() == date(2027, 1, 4)
    assert len(_events(request)) == 2


def test_case_deadlines_move_and_the_responsible_staff_member_is_told(frozen):
    s = setup_community()
    item = s.item()
    item.time_limit_workdays = 3
    db.session.commit()
    case = cases.create_case(community_id=s.community.id, item=item, resident_id=resident(s.community).id,
                             responsible=s.duty, actor=s.duty)
    done = cases.create_case(community_id=s.community.id, item=item, resident_id=resident(s.community, "李四").id,
                             responsible=s.duty, actor=s.duty)
    for status in ("forwarded", "approved", "done"):
        cases.transition(done, status, staff=s.duty)
    assert case_view(case)["due_provisional"] is True and public_view(case)["due_provisional"] is True
    assert case_view(done)["due_provisional"] is False

    _, followed = calendar_sync.import_notice(NOTICE_2027, confirm=True)
    assert [m.code for m in followed.cases] == [case.code]
    db.session.expire_all()
    assert case.due_at.astimezone(SHANGHAI) == datetime(2027, 1, 5, 23, 59, 59, tzinfo=SHANGHAI)
    [event] = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                         CaseEvent.action == "deadline_changed")).all()
    assert event.note == "节假日安排调整，办理时限随之调整" and event.staff_id is None
    assert case_view(case)["due_provisional"] is False
    [alert] = db.session.scalars(select(Alert).where(Alert.kind == "deadline")).all()
    assert [r.staff_id for r in alert.recipients] == [s.duty.id] and case.code in alert.text


def test_a_booking_on_a_day_that_became_a_holiday_is_cancelled_and_the_resident_told(frozen):
    s = setup_community()
    r = resident(s.community)
    on_new_years_eve = bookings.book(resident=r, item=s.item(), station=s.station,
                                     slot_start=local(2026, 12, 31, 9, 0), idempotency_key="eve").booking
    monday = bookings.book(resident=r, item=s.item("dibao"), station=s.station,
                           slot_start=local(2027, 1, 4, 9, 0), idempotency_key="monday").booking
    _, followed = calendar_sync.import_notice(NOTICE_2027, confirm=True)
    assert [b.id for b in followed.bookings] == [on_new_years_eve.id]
    db.session.expire_all()
    assert on_new_years_eve.status == BookingStatus.CANCELLED.value and on_new_years_eve.cancelled_by == "system"
    assert monday.status == BookingStatus.CONFIRMED.value
    [message] = [m for m in outbound(resident_id=r.id) if m.dedupe_key == f"proxy:cancelled:{on_new_years_eve.id}"]
    assert "已取消：节假日安排调整，12月31日（周四）" in message.text and "代办站不开放" in message.text
    assert followed.lines()[-1].startswith("bookings cancelled: 1 on days the stations now close")


def test_stations_close_on_the_statutory_holidays_of_a_year_nobody_loaded(app):
    s = setup_community()
    calendar = WorkCalendar()
    new_year = day_plan(s.station, date(2027, 1, 1), calendar)
    assert (new_year.open, new_year.closed_reason) == (False, "holiday")
    assert new_year.message == "1月1日（周五）是元旦假期，代办站不开放"
    assert day_plan(s.station, date(2027, 1, 4), calendar).open  # an ordinary Monday
    assert day_plan(s.station, date(2027, 2, 5), calendar).message.endswith("是春节假期，代办站不开放")  # 除夕
