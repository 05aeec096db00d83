"""Response schemas of the proxy-handling (代办) API: catalogue, stations, bookings, cases; one component per
view of app/handlers/proxy/views.py (app/api/openapi.py explains the declarations)."""
from __future__ import annotations

from app.api.openapi import component, obj, paged
from app.api.schemas.common import (
    BOOL,
    COMMUNITY_BRIEF,
    COUNTS,
    DATE,
    DATE_N,
    DETAIL_N,
    INT,
    INT_N,
    RESIDENT_FOR_STAFF_N,
    STAFF_BRIEF_N,
    STR,
    STR_N,
    STRS,
    TIME,
    TIME_N,
    array,
)

# ServiceItem.public_view.
CATALOGUE_ITEM = component("CatalogueItem", obj({
    "id": INT, "community_id": INT, "key": STR, "name": STR, "aliases": STRS, "materials": STRS,
    "department": STR_N, "time_limit_workdays": INT, "eligibility": STR_N, "visit_required": BOOL, "notes": STR_N,
    "sort_order": INT, "active": BOOL}))
CATALOGUE = component("Catalogue", obj({"community_id": INT, "items": array(CATALOGUE_ITEM)}))
# station_view: the weekly plan (and the closures ahead).
STATION = component("Station", obj({
    "id": INT, "community_id": INT, "name": STR, "address": STR_N, "phone": STR_N, "slot_minutes": INT,
    "capacity": INT, "active": BOOL,
    "hours": array(obj({"weekday": INT, "weekday_label": STR, "opens": STR, "closes": STR, "capacity": INT_N})),
    "closures": array(obj({"date": DATE, "reason": STR_N}))}))
# booking_view: the resident's; the staff view adds who booked and the desk's marks.
_BOOKING = {
    "id": INT, "code": STR, "status": STR, "status_label": STR,
    "service_item": obj({"id": INT, "key": STR, "name": STR, "materials": STRS}),
    "station": obj({"id": INT, "name": STR, "address": STR_N}), "slot_start": TIME, "slot_end": TIME,
    "created_at": TIME, "cancelled_at": TIME_N, "checked_in_at": TIME_N, "completed_at": TIME_N,
    "reschedule_count": INT, "case_code": STR_N}
BOOKING = component("Booking", obj(_BOOKING))
STAFF_BOOKING = component("StaffBooking", obj({
    **_BOOKING, "resident": RESIDENT_FOR_STAFF_N, "source": STR, "note": STR_N, "cancel_reason": STR_N,
    "cancelled_by": STR_N, "no_show_at": TIME_N, "handed_over_to": STAFF_BRIEF_N, "handed_over_at": TIME_N,
    "case_id": INT_N, "reminded_day_before_at": TIME_N, "reminded_hour_before_at": TIME_N}))
# event_view: one step of a case (public: no note or detail).
_CASE_STEP = {"at": TIME, "action": STR, "from_status": STR_N, "to_status": STR_N, "status_label": STR_N,
              "staff": STR_N}
CASE_STEP = component("CaseStep", obj({**_CASE_STEP, "note": STR_N, "detail": DETAIL_N}))
PUBLIC_CASE_STEP = component("PublicCaseStep", obj(_CASE_STEP))
# case_view (the staff view, resident unmasked) with its steps.
_CASE = {
    "id": INT, "code": STR, "community_id": INT, "booking_id": INT_N,
    "service_item": obj({"id": INT, "key": STR, "name": STR}), "resident": RESIDENT_FOR_STAFF_N, "status": STR,
    "status_label": STR, "responsible": STAFF_BRIEF_N, "department": STR_N, "due_at": TIME,
    "due_provisional": BOOL, "overdue": BOOL, "created_at": TIME, "forwarded_at": TIME_N, "decided_at": TIME_N,
    "done_at": TIME_N, "updated_at": TIME_N, "note": STR_N,
    "next": {"type": "array", "items": STR, "description": "the statuses it may move to"}}
CASE = component("Case", obj(_CASE))
CASE_DETAIL = component("CaseDetail", obj({**_CASE, "events": array(CASE_STEP)}))
# public_view: the progress board (督办墙), names masked.
_PUBLIC_CASE = {
    "code": STR, "item": STR, "item_key": STR, "resident": STR_N, "status": STR, "status_label": STR,
    "responsible": STR_N, "department": STR_N, "submitted_at": TIME, "due_date": DATE_N, "due_provisional": BOOL,
    "overdue": BOOL, "done_at": TIME_N, "steps": array(PUBLIC_CASE_STEP)}
PUBLIC_CASE = component("PublicCase", obj(_PUBLIC_CASE))

PROXY_CATALOGUE_LOAD_DEFAULT = obj({"created": STRS, "updated": STRS, "unchanged": STRS},
                                   description="the keys of the items, by what loading did to them")
PROXY_STATIONS = obj({"community_id": INT, "stations": array(STATION)})
PROXY_STATION_CLOSE = obj({"date": DATE, "reason": STR_N, "cancelled_bookings": STRS})
PROXY_STATION_REOPEN = obj({"date": DATE, "reopened": BOOL})
PROXY_STATION_SLOTS = obj({
    "station_id": INT, "date": DATE, "open": BOOL, "kind": STR,
    "reason": {"type": ["string", "null"],
               "enum": ["holiday", "closure", "no_hours", "inactive", "past", "beyond_horizon", "no_more_slots", None],
               "description": "why the day offers no slot: closed (holiday, closure, no_hours, inactive) or "
                              "open without a bookable slot (past, beyond_horizon, no_more_slots)"},
    "message": STR_N,
    "hours": array(obj({"opens": STR, "closes": STR, "capacity": INT})),
    "slots": array(obj({"station_id": INT, "start": TIME, "end": TIME, "capacity": INT, "booked": INT, "free": INT}))})
PROXY_PUBLIC_CASES = paged(PUBLIC_CASE, community=COMMUNITY_BRIEF, counts=COUNTS, generated_at=TIME)
PROXY_STATION_BOOKINGS = obj({"station_id": INT, "date": DATE, "counts": COUNTS, "bookings": array(STAFF_BOOKING)})
PROXY_MY_BOOKINGS = paged(BOOKING)
PROXY_MY_CASES = obj({"items": array(obj({**_PUBLIC_CASE, "progress": {
    "type": "string", "description": "one line: where it is and by when"}}))})
PROXY_CASES = paged(CASE, counts=COUNTS)
