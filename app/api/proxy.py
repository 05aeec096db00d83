"""Proxy-handling (代办) in the mini-program API: catalogue, stations and slots, bookings, cases.

Public (no token): a community's catalogue and stations, and the progress
board feed of cases with names masked. Residents: their own bookings (book with
an idempotency key, cancel, reschedule) and cases. Staff: their community only
(anything else is 404); catalogue and station changes need community_admin,
station work (today's bookings, check-in, no-show, hand-over, complete, case
transitions) needs one of duty/community_admin/grid_leader/grid_worker (403).
"""
from __future__ import annotations

import contextlib
from datetime import date, datetime

from flask import g, jsonify, request
from sqlalchemy import select

from app.api.support import (
    current_resident,
    current_staff,
    field,
    id_arg,
    iso,
    json_body,
    paginate,
    parse_date,
    require_role,
    route,
)
from app.clock import now
from app.errors import ApiError, NotFound, ValidationError
from app.extensions import db
from app.handlers import bookings as flow
from app.handlers import cases as case_flow
from app.handlers import catalogue, slots
from app.handlers.audit import record
from app.handlers.bookings import BookingError
from app.handlers.cases import HANDLING_ROLES, CaseError
from app.handlers.catalogue import CatalogueError
from app.handlers.slots import SlotError
from app.models import Community, Resident, Role, Staff
from app.models.proxy import (
    BOOKING_STATUS_LABELS,
    CASE_STATUS_LABELS,
    Booking,
    Case,
    CaseStatus,
    ServiceItem,
    Station,
)

TAGS = ["proxy"]
ADMIN = (Role.COMMUNITY_ADMIN.value,)


@contextlib.contextmanager
def translated():
    """Domain errors → JSON errors with their status, Chinese reason and the field at fault."""
    try:
        yield
    except (BookingError, SlotError, CaseError) as exc:
        db.session.rollback()
        raise ApiError(exc.message, field=exc.field, status=exc.status, code=exc.code,
                       extra=getattr(exc, "extra", None)) from None
    except CatalogueError as exc:
        db.session.rollback()
        raise ValidationError(exc.message, field=exc.field) from None


def _community_arg() -> Community:
    community_id = id_arg("community_id")
    if community_id is None:
        raise ValidationError("缺少参数 community_id (missing)", field="community_id")
    community = db.session.get(Community, community_id)
    if community is None:
        raise NotFound("没有这个社区 (no such community)")
    return community


def _date_arg(name: str = "date") -> date:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return slots.local_date(now())
    return parse_date(raw, name)


def _staff(community_id: int, *roles: str) -> Staff:
    """The calling staff member, if they have one of ``roles`` (403) in this community (404)."""
    staff = current_staff()
    require_role(staff, *roles)
    if staff.community_id != community_id:
        raise NotFound("没有找到 (not found)")
    return staff


def _own_community_staff(*roles: str) -> Staff:
    staff = current_staff()
    require_role(staff, *roles)
    if staff.community_id is None:
        raise NotFound("您不属于任何社区 (no community)")
    return staff


def _station(station_id: int) -> Station:
    station = db.session.get(Station, station_id)
    if station is None:
        raise NotFound("没有这个代办站 (no such station)")
    return station


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


ITEM_SCHEMA = {"type": "object", "properties": {
    "key": {"type": "string", "description": "stable slug, e.g. zunlaojin"}, "name": {"type": "string"},
    "aliases": {"type": "array", "items": {"type": "string"}},
    "materials": {"type": "array", "items": {"type": "string"}}, "department": {"type": "string"},
    "time_limit_workdays": {"type": "integer"}, "eligibility": {"type": "string"},
    "visit_required": {"type": "boolean"}, "notes": {"type": "string"}, "sort_order": {"type": "integer"},
    "active": {"type": "boolean"}}}
HOURS_SCHEMA = {"type": "array", "items": {"type": "object", "properties": {
    "weekday": {"type": "integer", "description": "0=Monday … 6=Sunday, 7=make-up working day (调休)"},
    "opens": {"type": "string", "example": "08:30"}, "closes": {"type": "string", "example": "11:30"},
    "capacity": {"type": "integer", "description": "overrides the station's capacity"}}}}
STATION_SCHEMA = {"type": "object", "properties": {
    "name": {"type": "string"}, "address": {"type": "string"}, "phone": {"type": "string"},
    "slot_minutes": {"type": "integer"}, "capacity": {"type": "integer"}, "active": {"type": "boolean"},
    "hours": HOURS_SCHEMA}}


# ---- catalogue --------------------------------------------------------------------------------------

@route("/catalogue", summary="A community's proxy-handling catalogue (active items)", auth="none",
       query={"community_id": {"type": "integer", "minimum": 1, "required": True}}, tags=TAGS)
def proxy_catalogue():
    community = _community_arg()
    return jsonify({"community_id": community.id,
                    "items": [i.public_view() for i in catalogue.items_for(community.id)]})


@route("/community/catalogue", summary="My community's catalogue, inactive items included (staff)", tags=TAGS)
def proxy_catalogue_manage():
    staff = _own_community_staff(*HANDLING_ROLES)
    return jsonify({"community_id": staff.community_id,
                    "items": [i.public_view() for i in catalogue.items_for(staff.community_id, active_only=False)]})


@route("/catalogue", ["POST"], summary="Add a catalogue item (community admin)", body=ITEM_SCHEMA, tags=TAGS)
def proxy_catalogue_create():
    staff = _own_community_staff(*ADMIN)
    data = json_body()
    with translated():
        item = catalogue.create_item(staff.community_id, data)
        record("staff", staff.id, "catalogue.item_created", item, community_id=staff.community_id,
               detail={"key": item.key})
        db.session.commit()
    return jsonify(item.public_view()), 201


@route("/catalogue/<int:item_id>", ["PATCH"], summary="Edit a catalogue item (community admin)",
       body=ITEM_SCHEMA, tags=TAGS)
def proxy_catalogue_update(item_id: int):
    item = db.session.get(ServiceItem, item_id)
    staff = current_staff()
    require_role(staff, *ADMIN)
    if item is None or item.community_id != staff.community_id:
        raise NotFound("没有这个代办事项 (no such item)")
    data = json_body()
    with translated():
        catalogue.update_item(item, data)
        record("staff", staff.id, "catalogue.item_updated", item, community_id=item.community_id,
               detail={"fields": sorted(data)})
        db.session.commit()
    return jsonify(item.public_view())


@route("/catalogue/load-default", ["POST"], summary="Load the default catalogue into my community (admin)",
       body={"type": "object", "properties": {"update": {"type": "boolean"}}}, tags=TAGS)
def proxy_catalogue_load_default():
    staff = _own_community_staff(*ADMIN)
    data = request.get_json(silent=True) or {}
    update = field(data, "update", bool, required=False, default=False) if isinstance(data, dict) else False
    community = db.session.get(Community, staff.community_id)
    with translated():
        result = catalogue.load_catalogue(community, update=update, commit=False)
        record("staff", staff.id, "catalogue.loaded", None, community_id=community.id,
               detail={"created": len(result.created), "updated": len(result.updated)})
        db.session.commit()
    return jsonify({"created": result.created, "updated": result.updated, "unchanged": result.unchanged})


# ---- stations and slots -----------------------------------------------------------------------------

@route("/stations", summary="A community's proxy-handling stations with hours and closures", auth="none",
       query={"community_id": {"type": "integer", "minimum": 1, "required": True}}, tags=TAGS)
def proxy_stations():
    community = _community_arg()
    return jsonify({"community_id": community.id,
                    "stations": [slots.station_view(s) for s in slots.stations_for(community.id)]})


@route("/stations", ["POST"], summary="Create a station with its weekly plan (community admin)",
       body=STATION_SCHEMA, tags=TAGS)
def proxy_station_create():
    staff = _own_community_staff(*ADMIN)
    data = json_body()
    with translated():
        station = slots.create_station(staff.community_id, data)
        record("staff", staff.id, "station.created", station, community_id=station.community_id)
        db.session.commit()
    return jsonify(slots.station_view(station)), 201


@route("/stations/<int:station_id>", ["PATCH"], summary="Edit a station (community admin)",
       body=STATION_SCHEMA, tags=TAGS)
def proxy_station_update(station_id: int):
    station = _station(station_id)
    staff = _staff(station.community_id, *ADMIN)
    data = json_body()
    with translated():
        slots.update_station(station, data)
        record("staff", staff.id, "station.updated", station, community_id=station.community_id,
               detail={"fields": sorted(data)})
        db.session.commit()
    return jsonify(slots.station_view(station))


@route("/stations/<int:station_id>/hours", ["PUT"], summary="Replace a station's weekly plan (community admin)",
       body={"type": "object", "properties": {"hours": HOURS_SCHEMA}}, tags=TAGS)
def proxy_station_hours(station_id: int):
    station = _station(station_id)
    staff = _staff(station.community_id, *ADMIN)
    data = json_body()
    hours = data.get("hours")
    if not isinstance(hours, list):
        raise ValidationError("hours 必须是时间段列表", field="hours")
    with translated():
        slots.set_hours(station, hours)
        record("staff", staff.id, "station.hours_set", station, community_id=station.community_id,
               detail={"intervals": len(hours)})
        db.session.commit()
    return jsonify(slots.station_view(station))


@route("/stations/<int:station_id>/closures", ["POST"], summary="Block a date at a station (community admin)",
       body={"type": "object", "properties": {"date": {"type": "string", "format": "date"},
                                              "reason": {"type": "string"},
                                              "cancel_bookings": {"type": "boolean"}}}, tags=TAGS)
def proxy_station_close(station_id: int):
    station = _station(station_id)
    staff = _staff(station.community_id, *ADMIN)
    data = json_body()
    day = parse_date(field(data, "date", str, max_length=10), "date")
    reason = field(data, "reason", str, required=False, max_length=200)
    cancel = field(data, "cancel_bookings", bool, required=False, default=False)
    with translated():
        closure, cancelled = slots.add_closure(station, day, reason, staff=staff, cancel_bookings=cancel)
    record("staff", staff.id, "station.closed", station, community_id=station.community_id,
           detail={"date": day.isoformat(), "reason": reason, "cancelled": len(cancelled)})
    db.session.commit()
    return jsonify({"date": closure.day.isoformat(), "reason": closure.reason,
                    "cancelled_bookings": [b.code for b in cancelled]}), 201


@route("/stations/<int:station_id>/closures/<day>", ["DELETE"], summary="Reopen a blocked date (community admin)",
       tags=TAGS)
def proxy_station_reopen(station_id: int, day: str):
    station = _station(station_id)
    staff = _staff(station.community_id, *ADMIN)
    when = parse_date(day, "day")
    if not slots.remove_closure(station, when):
        raise NotFound("该日期没有设置暂停服务")
    record("staff", staff.id, "station.reopened", station, community_id=station.community_id,
           detail={"date": when.isoformat()})
    db.session.commit()
    return jsonify({"date": when.isoformat(), "reopened": True})


@route("/stations/<int:station_id>/slots", summary="Slots of a station on a date, with free places",
       auth="any", query={"date": {"type": "string", "format": "date"}}, tags=TAGS)
def proxy_station_slots(station_id: int):
    station = _station(station_id)
    subject = g.subject
    community_id = getattr(subject, "community_id", None)
    if isinstance(subject, Staff) and community_id != station.community_id:
        raise NotFound("没有这个代办站 (no such station)")
    if isinstance(subject, Resident) and community_id is not None and community_id != station.community_id:
        raise NotFound("没有这个代办站 (no such station)")
    day = _date_arg()
    plan, day_slots = slots.day_slots(station, day, now=now())
    today = slots.local_date(now())
    reason = plan.closed_reason
    message = plan.message
    if plan.open and not day_slots:
        if day < today:
            reason, message = "past", "该日期已经过去"
        elif day > slots.last_bookable_day(now()):
            reason, message = "beyond_horizon", "超出可预约的天数"
        else:
            reason, message = "no_more_slots", "当天已没有可预约的时段"
    return jsonify({"station_id": station.id, "date": day.isoformat(), "open": plan.open,
                    "kind": plan.kind, "reason": reason, "message": message,
                    "hours": [{"opens": f"{i.opens:%H:%M}", "closes": f"{i.closes:%H:%M}", "capacity": i.capacity}
                              for i in plan.intervals],
                    "slots": [s.as_dict() for s in day_slots]})


@route("/stations/<int:station_id>/bookings", summary="A station's bookings on a date (default today; staff)",
       query={"date": {"type": "string", "format": "date"}}, tags=TAGS)
def proxy_station_bookings(station_id: int):
    station = _station(station_id)
    _staff(station.community_id, *HANDLING_ROLES)
    day = _date_arg()
    rows = flow.station_bookings(station, day)
    counts = {status: 0 for status in BOOKING_STATUS_LABELS}
    for b in rows:
        counts[b.status] += 1
    return jsonify({"station_id": station.id, "date": day.isoformat(), "counts": counts,
                    "bookings": [flow.booking_view(b, staff=True) for b in rows]})


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
    stations = slots.stations_for(resident.community_id)
    if not stations:
        raise ValidationError("本社区暂未开通代办站预约", field="station_id")
    if len(stations) > 1:
        raise ValidationError("本社区有多个代办站，请指定 station_id", field="station_id")
    return stations[0]


@route("/my/bookings", ["POST"], summary="Book a proxy-handling slot (idempotent)", auth="resident",
       body=BOOK_SCHEMA, responses={"201": {"description": "booked"}, "200": {"description": "replayed"},
                                    "409": {"description": "slot full, already booked, limit"}}, tags=TAGS)
def proxy_my_book():
    resident = current_resident()
    data = json_body()
    key = field(data, "idempotency_key", str, max_length=150)
    start = field(data, "slot_start", datetime)
    note = field(data, "note", str, required=False, max_length=500)
    station = _resident_station(resident, data)
    item = _item(station.community_id, data)
    identity = next((i for i in resident.identities if i.channel in flow.DIRECT_CHANNELS
                     and i.kind in ("openid", "external_userid")), None)
    with translated():
        result = flow.book(resident=resident, item=item, station=station, slot_start=start, idempotency_key=key,
                           source="api", note=note, channel=identity.channel if identity else None,
                           recipient_id=identity.value if identity else None)
    return jsonify(flow.booking_view(result.booking)), 201 if result.created else 200


@route("/my/bookings", summary="My proxy-handling bookings (upcoming first)", auth="resident",
       query={"status": {"type": "string"}}, tags=TAGS)
def proxy_my_bookings():
    resident = current_resident()
    statement = select(Booking).where(Booking.resident_id == resident.id)
    status = request.args.get("status")
    if status:
        if status not in BOOKING_STATUS_LABELS:
            raise ValidationError(f"status 取值无效（{', '.join(BOOKING_STATUS_LABELS)}）", field="status")
        statement = statement.where(Booking.status == status)
    statement = statement.order_by(Booking.slot_start.desc(), Booking.id.desc())
    return jsonify(paginate(statement, flow.booking_view))


def _my_booking(code: str) -> tuple[Booking, Resident]:
    resident = current_resident()
    booking = flow.booking_by_code(code) if code and len(code) <= 12 else None
    if booking is None or booking.resident_id != resident.id:
        raise NotFound("没有找到您名下的这个预约 (no such booking of yours)")
    return booking, resident


@route("/my/bookings/<code>", summary="One of my bookings by its code", auth="resident", tags=TAGS)
def proxy_my_booking(code: str):
    booking, _ = _my_booking(code)
    return jsonify(flow.booking_view(booking))


@route("/my/bookings/<code>/cancel", ["POST"], summary="Cancel my booking (frees the slot)", auth="resident",
       tags=TAGS)
def proxy_my_cancel(code: str):
    booking, resident = _my_booking(code)
    with translated():
        flow.cancel_booking(booking, by="resident", resident=resident)
    return jsonify(flow.booking_view(booking))


@route("/my/bookings/<code>/reschedule", ["POST"], summary="Move my booking to another slot", auth="resident",
       body={"type": "object", "required": ["slot_start"], "properties": {
           "slot_start": {"type": "string", "format": "date-time"}, "station_id": {"type": "integer"}}},
       tags=TAGS)
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
    with translated():
        flow.reschedule(booking, slot_start=start, resident=resident, station=station)
    return jsonify(flow.booking_view(booking))


@route("/my/cases", summary="My proxy-handling cases with their progress", auth="resident", tags=TAGS)
def proxy_my_cases():
    resident = current_resident()
    rows = db.session.scalars(select(Case).where(Case.resident_id == resident.id)
                              .order_by(Case.created_at.desc())).all()
    return jsonify({"items": [{**case_flow.public_view(c), "progress": case_flow.progress_text(c)} for c in rows]})


# ---- staff: bookings at the station -----------------------------------------------------------------

@route("/bookings/<int:booking_id>", summary="A booking (staff)", tags=TAGS)
def proxy_booking(booking_id: int):
    booking, _ = _booking_for_staff(booking_id, *HANDLING_ROLES)
    return jsonify(flow.booking_view(booking, staff=True))


@route("/bookings/<int:booking_id>/check-in", ["POST"], summary="The resident arrived (签到)", tags=TAGS)
def proxy_booking_check_in(booking_id: int):
    booking, staff = _booking_for_staff(booking_id, *HANDLING_ROLES)
    with translated():
        flow.check_in(booking, staff=staff)
    return jsonify(flow.booking_view(booking, staff=True))


@route("/bookings/<int:booking_id>/no-show", ["POST"], summary="The resident did not come (未到)", tags=TAGS)
def proxy_booking_no_show(booking_id: int):
    booking, staff = _booking_for_staff(booking_id, *HANDLING_ROLES)
    with translated():
        flow.mark_no_show(booking, staff=staff)
    return jsonify(flow.booking_view(booking, staff=True))


@route("/bookings/<int:booking_id>/hand-over", ["POST"], summary="Hand the booking to another staff member",
       body={"type": "object", "required": ["staff_id"], "properties": {
           "staff_id": {"type": "integer"}, "note": {"type": "string"}}}, tags=TAGS)
def proxy_booking_hand_over(booking_id: int):
    booking, staff = _booking_for_staff(booking_id, *HANDLING_ROLES)
    data = json_body()
    to_staff = _member(booking.community_id, field(data, "staff_id", int), "staff_id")
    note = field(data, "note", str, required=False, max_length=500)
    with translated():
        flow.hand_over(booking, staff=staff, to_staff=to_staff, note=note)
    return jsonify(flow.booking_view(booking, staff=True))


@route("/bookings/<int:booking_id>/cancel", ["POST"], summary="Cancel a booking for the resident (staff)",
       body={"type": "object", "properties": {"reason": {"type": "string"}}}, tags=TAGS)
def proxy_booking_cancel(booking_id: int):
    booking, staff = _booking_for_staff(booking_id, *HANDLING_ROLES)
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        raise ValidationError("请求体必须是 JSON 对象", field="body")
    reason = field(data, "reason", str, required=False, max_length=200)
    with translated():
        flow.cancel_booking(booking, by="staff", staff=staff, reason=reason, notify=True)
    return jsonify(flow.booking_view(booking, staff=True))


@route("/bookings/<int:booking_id>/complete", ["POST"],
       summary="Materials accepted: the booking becomes a case (受理)",
       body={"type": "object", "properties": {"responsible_staff_id": {"type": "integer"},
                                              "note": {"type": "string"}}}, tags=TAGS)
def proxy_booking_complete(booking_id: int):
    booking, staff = _booking_for_staff(booking_id, *HANDLING_ROLES)
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        raise ValidationError("请求体必须是 JSON 对象", field="body")
    responsible_id = field(data, "responsible_staff_id", int, required=False)
    responsible = _member(booking.community_id, responsible_id, "responsible_staff_id") if responsible_id else None
    note = field(data, "note", str, required=False, max_length=500)
    with translated():
        case = flow.complete(booking, staff=staff, responsible=responsible, note=note)
    return jsonify(case_flow.case_view(case, events=True)), 201


# ---- staff: cases -----------------------------------------------------------------------------------

@route("/cases", summary="My community's proxy-handling cases (staff)",
       query={"status": {"type": "string"}, "overdue": {"type": "boolean"},
              "responsible_staff_id": {"type": "integer", "minimum": 1}}, tags=TAGS)
def proxy_cases():
    staff = _own_community_staff(*HANDLING_ROLES)
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
    body = paginate(statement, case_flow.case_view)
    body["counts"] = case_flow.counts(staff.community_id)
    return jsonify(body)


@route("/cases", ["POST"], summary="Open a case for a walk-in resident (staff)",
       body={"type": "object", "required": ["resident_id"], "properties": {
           "service_key": {"type": "string"}, "service_item_id": {"type": "integer"},
           "resident_id": {"type": "integer"}, "responsible_staff_id": {"type": "integer"},
           "note": {"type": "string"}}}, tags=TAGS)
def proxy_case_create():
    staff = _own_community_staff(*HANDLING_ROLES)
    data = json_body()
    item = _item(staff.community_id, data)
    resident = db.session.get(Resident, field(data, "resident_id", int))
    if resident is None or resident.community_id not in (None, staff.community_id):
        raise ValidationError("本社区没有这个居民", field="resident_id")
    responsible_id = field(data, "responsible_staff_id", int, required=False)
    responsible = _member(staff.community_id, responsible_id, "responsible_staff_id") if responsible_id else staff
    note = field(data, "note", str, required=False, max_length=500)
    with translated():
        case = case_flow.create_case(community_id=staff.community_id, item=item, resident_id=resident.id,
                                     responsible=responsible, actor=staff, note=note)
    return jsonify(case_flow.case_view(case, events=True)), 201


@route("/cases/<int:case_id>", summary="A case with its timeline (staff)", tags=TAGS)
def proxy_case(case_id: int):
    case, _ = _case_for_staff(case_id)
    return jsonify(case_flow.case_view(case, events=True))


@route("/cases/<int:case_id>/transitions", ["POST"],
       summary="Move a case: forwarded, approved, rejected (note required), done",
       body={"type": "object", "required": ["status"], "properties": {
           "status": {"type": "string", "enum": list(CASE_STATUS_LABELS)}, "note": {"type": "string"},
           "department": {"type": "string"}}}, tags=TAGS)
def proxy_case_transition(case_id: int):
    case, staff = _case_for_staff(case_id)
    data = json_body()
    status = field(data, "status", str, choices=list(CASE_STATUS_LABELS))
    note = field(data, "note", str, required=False, max_length=500)
    department = field(data, "department", str, required=False, max_length=100)
    with translated():
        case_flow.transition(case, status, staff=staff, note=note, department=department)
    return jsonify(case_flow.case_view(case, events=True))


@route("/cases/<int:case_id>/assign", ["POST"], summary="Make another staff member responsible (交接)",
       body={"type": "object", "required": ["staff_id"], "properties": {
           "staff_id": {"type": "integer"}, "note": {"type": "string"}}}, tags=TAGS)
def proxy_case_assign(case_id: int):
    case, staff = _case_for_staff(case_id)
    data = json_body()
    to_staff = _member(case.community_id, field(data, "staff_id", int), "staff_id")
    note = field(data, "note", str, required=False, max_length=500)
    with translated():
        case_flow.assign(case, to_staff, staff=staff, note=note)
    return jsonify(case_flow.case_view(case, events=True))


# ---- public progress board --------------------------------------------------------------------------

@route("/public/cases", summary="Public progress board feed: cases with names masked (督办墙)", auth="none",
       query={"community_id": {"type": "integer", "minimum": 1, "required": True},
              "status": {"type": "string", "enum": list(CASE_STATUS_LABELS)}}, tags=TAGS)
def proxy_public_cases():
    community = _community_arg()
    status = request.args.get("status")
    if status and status not in CASE_STATUS_LABELS:
        raise ValidationError(f"status 取值无效（{', '.join(CASE_STATUS_LABELS)}）", field="status")
    body = paginate(case_flow.public_feed_query(community.id, status=status or None), case_flow.public_view)
    body["community"] = {"id": community.id, "name": community.name}
    body["counts"] = case_flow.counts(community.id)
    body["generated_at"] = iso(now())
    return jsonify(body)
