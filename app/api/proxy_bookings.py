"""Proxy-handling bookings and cases in the mini-program API: the resident's own, and the station's work.

Residents: their own bookings (book with an idempotency key, cancel,
reschedule) and cases. Staff: their community only (anything else is 404);
station work (the day's bookings, check-in, no-show, hand-over, complete, case
transitions) needs one of duty/community_admin/grid_leader/grid_worker (403).
The catalogue, stations and the public board are app/api/proxy.py.
"""
from __future__ import annotations

from datetime import datetime

from flask import jsonify, request
from sqlalchemy import select

from app.api.proxy import TAGS, date_arg, own_community_staff, staff_in, station_or_404
from app.api.schemas import proxy as schemas
from app.api.support import current_resident, current_staff, field, id_arg, json_body, paginate, require_role, route
from app.clock import now
from app.errors import NotFound, ValidationError
from app.extensions import db
from app.handlers.proxy import bookings, cases, catalogue, desk, stations, views
from app.handlers.proxy.common import DIRECT_CHANNELS, HANDLING_ROLES
from app.models import Resident, Staff
from app.models.proxy import BOOKING_STATUS_LABELS, CASE_STATUS_LABELS, Booking, Case, CaseStatus, ServiceItem, Station


def _item(community_id: int, data: dict, *, key_field: str = "service_key", id_field: str = "service_item_id",
          active_only: bool = True) -> ServiceItem:
    key = field(data, key_field, str, required=False, max_length=50)
    item_id = field(data, id_field, int, required=False)
    if key is None and item_id is None:
        raise ValidationError(f"请提供 {key_field} 或 {id_field}", field=key_field)
    item = db.session.get(ServiceItem, item_id) if item_id is not None else catalogue.find_item(community_id, key)
    if item is None or item.community_id != community_id or (active_only and not item.active):
        name = id_field if item_id is not None else key_field
        raise ValidationError("本社区没有这个代办事项（或已停用）", field=name)
    return item


def _booking_for_staff(booking_id: int, *roles: str) -> tuple[Booking, Staff]:
    booking = db.session.get(Booking, booking_id)
    staff = current_staff()
    require_role(staff, *roles)
    if booking is None or staff.community_id != booking.community_id:
        raise NotFound("没有这个预约 (no such booking)")
    return booking, staff


def _case_for_staff(case_id: int) -> tuple[Case, Staff]:
    case = db.session.get(Case, case_id)
    staff = current_staff()
    require_role(staff, *HANDLING_ROLES)
    if case is None or staff.community_id != case.community_id:
        raise NotFound("没有这个代办件 (no such case)")
    return case, staff


def _member(community_id: int, staff_id: int, name: str) -> Staff:
    member = db.session.get(Staff, staff_id)
    if member is None or member.community_id != community_id:
        raise ValidationError("本社区没有这个工作人员", field=name)
    return member


# ---- staff: a station's day -------------------------------------------------------------------------

@route("/stations/<int:station_id>/bookings", summary="A station's bookings on a date (default today; staff)",
       query={"date": {"type": "string", "format": "date"}}, tags=TAGS, returns=schemas.PROXY_STATION_BOOKINGS)
def proxy_station_bookings(station_id: int):
    station = station_or_404(station_id)
    staff_in(station.community_id, *HANDLING_ROLES)
    day = date_arg()
    rows = desk.station_bookings(station, day)
    counts = {status: 0 for status in BOOKING_STATUS_LABELS}
    for b in rows:
        counts[b.status] += 1
    return jsonify({"station_id": station.id, "date": day.isoformat(), "counts": counts,
                    "bookings": [views.booking_view(b, staff=True) for b in rows]})


# ---- resident bookings ------------------------------------------------------------------------------

BOOK_SCHEMA = {"type": "object", "required": ["slot_start", "idempotency_key"], "properties": {
    "service_key": {"type": "string"}, "service_item_id": {"type": "integer"},
    "station_id": {"type": "integer", "description": "needed when the community has several stations"},
    "slot_start": {"type": "string", "format": "date-time"},
    "idempotency_key": {"type": "string", "description": "one per booking attempt; a retry returns the same booking"},
    "note": {"type": "string"}}}


def _resident_station(resident: Resident, data: dict) -> Station:
    station_id = field(data, "station_id", int, required=False)
    if station_id is not None:
        station = db.session.get(Station, station_id)
        if station is None or (resident.community_id is not None and station.community_id != resident.community_id):
            raise NotFound("没有这个代办站 (no such station)")
        return station
    if resident.community_id is None:
        raise ValidationError("请指定代办站 station_id", field="station_id")
    found = stations.stations_for(resident.community_id)
    if not found:
        raise ValidationError("本社区暂未开通代办站预约", field="station_id")
    if len(found) > 1:
        raise ValidationError("本社区有多个代办站，请指定 station_id", field="station_id")
    return found[0]


@route("/my/bookings", ["POST"], summary="Book a proxy-handling slot (idempotent)", auth="resident",
       body=BOOK_SCHEMA, responses={"201": {"description": "booked"}, "200": {"description": "replayed"},
                                    "409": {"description": "slot full, already booked, limit"}}, tags=TAGS,
       returns=schemas.BOOKING, errors={400: ["beyond_horizon", "closed", "closure", "holiday", "inactive", "inactive_item", "inactive_station", "no_hours", "not_aligned", "outside_hours", "past", "too_soon", "wrong_station"],
               404: ["not_found", "wrong_community"],
               409: ["already_booked", "idempotency_mismatch", "slot_full", "too_many"],
               503: ["busy"]})
def proxy_my_book():
    resident = current_resident()
    data = json_body()
    key = field(data, "idempotency_key", str, max_length=150)
    start = field(data, "slot_start", datetime)
    note = field(data, "note", str, required=False, max_length=500)
    station = _resident_station(resident, data)
    item = _item(station.community_id, data)
    identity = next((i for i in resident.identities if i.channel in DIRECT_CHANNELS
                     and i.kind in ("openid", "external_userid")), None)
    result = bookings.book(resident=resident, item=item, station=station, slot_start=start, idempotency_key=key,
                           source="api", note=note, channel=identity.channel if identity else None,
                           recipient_id=identity.value if identity else None)
    return jsonify(views.booking_view(result.booking)), 201 if result.created else 200


@route("/my/bookings", summary="My proxy-handling bookings (upcoming first)", auth="resident",
       query={"status": {"type": "string"}}, tags=TAGS, returns=schemas.PROXY_MY_BOOKINGS)
def proxy_my_bookings():
    resident = current_resident()
    statement = select(Booking).where(Booking.resident_id == resident.id)
    status = request.args.get("status")
    if status:
        if status not in BOOKING_STATUS_LABELS:
            raise ValidationError(f"status 取值无效（{', '.join(BOOKING_STATUS_LABELS)}）", field="status")
        statement = statement.where(Booking.status == status)
    statement = statement.order_by(Booking.slot_start.desc(), Booking.id.desc())
    return jsonify(paginate(statement, views.booking_view))


def _my_booking(code: str) -> tuple[Booking, Resident]:
    resident = current_resident()
    booking = bookings.booking_by_code(code) if code and len(code) <= 12 else None
    if booking is None or booking.resident_id != resident.id:
        raise NotFound("没有找到您名下的这个预约 (no such booking of yours)")
    return booking, resident


@route("/my/bookings/<code>", summary="One of my bookings by its code", auth="resident", tags=TAGS,
       returns=schemas.BOOKING)
def proxy_my_booking(code: str):
    booking, _ = _my_booking(code)
    return jsonify(views.booking_view(booking))


@route("/my/bookings/<code>/cancel", ["POST"], summary="Cancel my booking (frees the slot)", auth="resident",
       tags=TAGS, returns=schemas.BOOKING, errors={409: ["bad_state", "started"]})
def proxy_my_cancel(code: str):
    booking, resident = _my_booking(code)
    bookings.cancel_booking(booking, by="resident", resident=resident)
    return jsonify(views.booking_view(booking))


@route("/my/bookings/<code>/reschedule", ["POST"], summary="Move my booking to another slot", auth="resident",
       body={"type": "object", "required": ["slot_start"], "properties": {
           "slot_start": {"type": "string", "format": "date-time"}, "station_id": {"type": "integer"}}},
       tags=TAGS, returns=schemas.BOOKING, errors={400: ["beyond_horizon", "closed", "closure", "holiday", "inactive", "no_hours", "not_aligned", "outside_hours", "past", "too_soon", "wrong_station"],
               409: ["bad_state", "same_slot", "slot_full", "started"]})
def proxy_my_reschedule(code: str):
    booking, resident = _my_booking(code)
    data = json_body()
    start = field(data, "slot_start", datetime)
    station = None
    station_id = field(data, "station_id", int, required=False)
    if station_id is not None:
        station = db.session.get(Station, station_id)
        if station is None or station.community_id != booking.community_id:
            raise ValidationError("只能改到本社区的代办站", field="station_id")
    bookings.reschedule(booking, slot_start=start, resident=resident, station=station)
    return jsonify(views.booking_view(booking))


@route("/my/cases", summary="My proxy-handling cases with their progress", auth="resident", tags=TAGS,
       returns=schemas.PROXY_MY_CASES)
def proxy_my_cases():
    resident = current_resident()
    rows = db.session.scalars(select(Case).where(Case.resident_id == resident.id)
                              .order_by(Case.created_at.desc())).all()
    return jsonify({"items": [{**views.public_view(c), "progress": views.progress_text(c)} for c in rows]})


# ---- staff: bookings at the station -----------------------------------------------------------------

@route("/bookings/<int:booking_id>", summary="A booking (staff)", tags=TAGS, returns=schemas.STAFF_BOOKING)
def proxy_booking(booking_id: int):
    booking, _ = _booking_for_staff(booking_id, *HANDLING_ROLES)
    return jsonify(views.booking_view(booking, staff=True))


@route("/bookings/<int:booking_id>/check-in", ["POST"], summary="The resident arrived (签到)", tags=TAGS,
       returns=schemas.STAFF_BOOKING, errors={409: ["bad_state", "not_today"]})
def proxy_booking_check_in(booking_id: int):
    booking, staff = _booking_for_staff(booking_id, *HANDLING_ROLES)
    desk.check_in(booking, staff=staff)
    return jsonify(views.booking_view(booking, staff=True))


@route("/bookings/<int:booking_id>/no-show", ["POST"], summary="The resident did not come (未到)", tags=TAGS,
       returns=schemas.STAFF_BOOKING, errors={409: ["bad_state", "too_early"]})
def proxy_booking_no_show(booking_id: int):
    booking, staff = _booking_for_staff(booking_id, *HANDLING_ROLES)
    desk.mark_no_show(booking, staff=staff)
    return jsonify(views.booking_view(booking, staff=True))


@route("/bookings/<int:booking_id>/hand-over", ["POST"], summary="Hand the booking to another staff member",
       body={"type": "object", "required": ["staff_id"], "properties": {
           "staff_id": {"type": "integer"}, "note": {"type": "string"}}}, tags=TAGS, returns=schemas.STAFF_BOOKING,
       errors={400: ["unknown_staff", "wrong_community", "wrong_role"], 409: ["bad_state", "bad_transition"]})
def proxy_booking_hand_over(booking_id: int):
    booking, staff = _booking_for_staff(booking_id, *HANDLING_ROLES)
    data = json_body()
    to_staff = _member(booking.community_id, field(data, "staff_id", int), "staff_id")
    note = field(data, "note", str, required=False, max_length=500)
    desk.hand_over(booking, staff=staff, to_staff=to_staff, note=note)
    return jsonify(views.booking_view(booking, staff=True))


@route("/bookings/<int:booking_id>/cancel", ["POST"], summary="Cancel a booking for the resident (staff)",
       body={"type": "object", "properties": {"reason": {"type": "string"}}}, tags=TAGS, returns=schemas.STAFF_BOOKING,
       errors={409: ["bad_state", "started"]})
def proxy_booking_cancel(booking_id: int):
    booking, staff = _booking_for_staff(booking_id, *HANDLING_ROLES)
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        raise ValidationError("请求体必须是 JSON 对象", field="body")
    reason = field(data, "reason", str, required=False, max_length=200)
    bookings.cancel_booking(booking, by="staff", staff=staff, reason=reason, notify=True)
    return jsonify(views.booking_view(booking, staff=True))


@route("/bookings/<int:booking_id>/complete", ["POST"],
       summary="Materials accepted: the booking becomes a case (受理)",
       body={"type": "object", "properties": {"responsible_staff_id": {"type": "integer"},
                                              "note": {"type": "string"}}}, tags=TAGS,
       status=201, returns=schemas.CASE_DETAIL,
       errors={400: ["unknown_staff", "wrong_community", "wrong_role"],
               409: ["bad_state", "exists", "not_today"],
               503: ["busy"]})
def proxy_booking_complete(booking_id: int):
    booking, staff = _booking_for_staff(booking_id, *HANDLING_ROLES)
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        raise ValidationError("请求体必须是 JSON 对象", field="body")
    responsible_id = field(data, "responsible_staff_id", int, required=False)
    responsible = _member(booking.community_id, responsible_id, "responsible_staff_id") if responsible_id else None
    note = field(data, "note", str, required=False, max_length=500)
    case = desk.complete(booking, staff=staff, responsible=responsible, note=note)
    return jsonify(views.case_view(case, events=True)), 201


# ---- staff: cases -----------------------------------------------------------------------------------

@route("/cases", summary="My community's proxy-handling cases (staff)",
       query={"status": {"type": "string"}, "overdue": {"type": "boolean"},
              "responsible_staff_id": {"type": "integer", "minimum": 1}}, tags=TAGS, returns=schemas.PROXY_CASES,
       errors={404: ["not_found"]})
def proxy_cases():
    staff = own_community_staff(*HANDLING_ROLES)
    statement = select(Case).where(Case.community_id == staff.community_id)
    status = request.args.get("status")
    if status:
        if status not in CASE_STATUS_LABELS:
            raise ValidationError(f"status 取值无效（{', '.join(CASE_STATUS_LABELS)}）", field="status")
        statement = statement.where(Case.status == status)
    overdue = request.args.get("overdue")
    if overdue is not None:
        if overdue not in ("true", "false", "1", "0"):
            raise ValidationError("overdue 必须是 true 或 false", field="overdue")
        if overdue in ("true", "1"):
            statement = statement.where(Case.status != CaseStatus.DONE.value, Case.due_at < now())
    responsible = id_arg("responsible_staff_id")
    if responsible is not None:
        statement = statement.where(Case.responsible_staff_id == responsible)
    statement = statement.order_by(Case.due_at, Case.id)
    body = paginate(statement, views.case_view)
    body["counts"] = cases.counts(staff.community_id)
    return jsonify(body)


@route("/cases", ["POST"], summary="Open a case for a walk-in resident (staff)",
       body={"type": "object", "required": ["resident_id"], "properties": {
           "service_key": {"type": "string"}, "service_item_id": {"type": "integer"},
           "resident_id": {"type": "integer"}, "responsible_staff_id": {"type": "integer"},
           "note": {"type": "string"}}}, tags=TAGS, status=201, returns=schemas.CASE_DETAIL,
       errors={400: ["unknown_staff", "wrong_community", "wrong_role"],
               404: ["not_found"],
               409: ["exists"],
               503: ["busy"]})
def proxy_case_create():
    staff = own_community_staff(*HANDLING_ROLES)
    data = json_body()
    item = _item(staff.community_id, data)
    resident = db.session.get(Resident, field(data, "resident_id", int))
    if resident is None or resident.community_id not in (None, staff.community_id):
        raise ValidationError("本社区没有这个居民", field="resident_id")
    responsible_id = field(data, "responsible_staff_id", int, required=False)
    responsible = _member(staff.community_id, responsible_id, "responsible_staff_id") if responsible_id else staff
    note = field(data, "note", str, required=False, max_length=500)
    case = cases.create_case(community_id=staff.community_id, item=item, resident_id=resident.id,
                             responsible=responsible, actor=staff, note=note)
    return jsonify(views.case_view(case, events=True)), 201


@route("/cases/<int:case_id>", summary="A case with its timeline (staff)", tags=TAGS, returns=schemas.CASE_DETAIL)
def proxy_case(case_id: int):
    case, _ = _case_for_staff(case_id)
    return jsonify(views.case_view(case, events=True))


@route("/cases/<int:case_id>/transitions", ["POST"],
       summary="Move a case: forwarded, approved, rejected (note required), done",
       body={"type": "object", "required": ["status"], "properties": {
           "status": {"type": "string", "enum": list(CASE_STATUS_LABELS)}, "note": {"type": "string"},
           "department": {"type": "string"}}}, tags=TAGS, returns=schemas.CASE_DETAIL, errors={409: ["bad_transition"]})
def proxy_case_transition(case_id: int):
    case, staff = _case_for_staff(case_id)
    data = json_body()
    status = field(data, "status", str, choices=list(CASE_STATUS_LABELS))
    note = field(data, "note", str, required=False, max_length=500)
    department = field(data, "department", str, required=False, max_length=100)
    cases.transition(case, status, staff=staff, note=note, department=department)
    return jsonify(views.case_view(case, events=True))


@route("/cases/<int:case_id>/assign", ["POST"], summary="Make another staff member responsible (交接)",
       body={"type": "object", "required": ["staff_id"], "properties": {
           "staff_id": {"type": "integer"}, "note": {"type": "string"}}}, tags=TAGS, returns=schemas.CASE_DETAIL,
       errors={400: ["unknown_staff", "wrong_community", "wrong_role"], 409: ["bad_transition"]})
def proxy_case_assign(case_id: int):
    case, staff = _case_for_staff(case_id)
    data = json_body()
    to_staff = _member(case.community_id, field(data, "staff_id", int), "staff_id")
    note = field(data, "note", str, required=False, max_length=500)
    cases.assign(case, to_staff, staff=staff, note=note)
    return jsonify(views.case_view(case, events=True))

