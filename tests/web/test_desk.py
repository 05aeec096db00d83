"""The front-desk pages: today's bookings and open cases, events with check-in by code."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.handlers.proxy.cases import create_case
from app.models import Resident, Staff
from app.models.events import Event
from app.models.proxy import ServiceItem, Station
from app.web.demo import demo_duty_staff


def test_the_desk_shows_each_station(demo, browser):
    browser.login(demo_duty_staff())
    page = browser.get("/console/desk").get_data(as_text=True)
    for station in db.session.scalars(select(Station).where(Station.community_id == demo.community_id)):
        assert station.name in page
    assert "办理中的代办件" in page


def test_a_bad_check_in_code_is_a_message(demo, browser):
    browser.login(demo_duty_staff())
    event = db.session.scalars(select(Event).where(Event.community_id == demo.community_id,
                                                   Event.status == "published")).first()
    page = "/console/events"
    assert event.title in browser.get(page).get_data(as_text=True)
    response = browser.post(f"/console/events/{event.id}/checkin", {"code": "not-a-code"}, token_from=page)
    body = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500 and 'role="alert"' in body and "Traceback" not in body
    assert 'value="not-a-code"' in body
    assert browser.post("/console/events/99999999/checkin", {"code": "x"}, token_from=page).status_code == 404


def test_another_communitys_booking_is_not_found(demo, browser):
    browser.login(demo_duty_staff())
    response = browser.post("/console/desk/bookings/123456/check-in", {}, token_from="/console/desk")
    assert response.status_code == 404


def test_department_staff_have_no_desk(demo, browser):
    browser.login(db.session.scalars(select(Staff).where(Staff.name == "何亮")).one())
    assert browser.get("/console/desk").status_code == 403
    assert browser.get("/console/inbox").status_code == 403


def test_a_refused_case_step_keeps_the_choice_and_what_was_typed(demo, browser):
    staff = demo_duty_staff()
    browser.login(staff)
    item = db.session.scalars(select(ServiceItem).where(ServiceItem.community_id == demo.community_id)).first()
    resident = db.session.scalars(select(Resident).where(Resident.community_id == demo.community_id)).first()
    case = create_case(community_id=demo.community_id, item=item, resident_id=resident.id, responsible=staff,
                       actor=staff)
    note = "材料" + "不全" * 300  # over 500 characters: refused
    response = browser.post(f"/console/desk/cases/{case.id}", {"status": "rejected", "note": note},
                            token_from="/console/desk")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'role="alert"' in page and "500" in page
    assert f'value="{note}"' in page and '<option value="rejected" selected>' in page
