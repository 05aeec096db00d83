"""Events, sign-ups and check-in in the mini-program API (双报到, hours and wishes: app/api/volunteers.py).

Staff see and change only their own community (anything else is 404); a role that may
not do an action gets 403. Organisers (community admin, duty) create, publish, announce
and cancel events; grid workers and grid leaders may also check people in and out at
the door.

Residents list upcoming events with the places left, sign up (with an idempotency key;
a full event offers the waiting list: pass ``waitlist: true``), cancel, and see their
sign-ups and their check-in code (app/api/events_mine.py).
"""
from __future__ import annotations

from datetime import datetime

from flask import g, jsonify, request
from sqlalchemy import select

from app.api.schemas import events as schemas
from app.api.support import (
    body_schema,
    current_resident,
    current_staff,
    field,
    id_arg,
    json_body,
    paginate,
    require_role,
    route,
)
from app.clock import now
from app.errors import Forbidden, NotFound, ValidationError
from app.extensions import db
from app.handlers.events import checkin, lifecycle, notices, signups, views
from app.handlers.events.capacity import counts_for
from app.handlers.events.hours import hours_view
from app.localtime import iso
from app.models import Resident, Role, Staff
from app.models.events import Audience, Event, EventKind, EventStatus, Recurrence, Signup, SignupStatus
from app.models.volunteers import PartyMember

TAGS = ["events"]
ORGANISERS = (Role.COMMUNITY_ADMIN.value, Role.DUTY.value)
DOOR_STAFF = ORGANISERS + (Role.GRID_WORKER.value, Role.GRID_LEADER.value)

# How each body field is read, in the order its faults are reported: name -> (type, field() options).
EVENT_FIELDS: dict[str, tuple[type, dict]] = {
    "title": (str, {"max_length": 100}),
    "kind": (str, {"choices": [k.value for k in EventKind]}),
    "description": (str, {"required": False, "max_length": 5000}),
    "place": (str, {"required": False, "max_length": 200}),
    "starts_at": (datetime, {}), "ends_at": (datetime, {}),
    "capacity": (int, {"required": False, "minimum": 0, "maximum": 100000}),
    "signup_deadline": (datetime, {"required": False}),
    "audience": (str, {"required": False, "default": Audience.EVERYONE.value, "choices": [a.value for a in Audience]}),
    "volunteer_hours": (float, {"required": False, "default": 0.0, "minimum": 0, "maximum": 24}),
    "aliases": (list, {"required": False}),
    "project_id": (int, {"required": False}),
    "recurrence_until": (datetime, {"required": False}),
}
# The document's body is the validation's (body_schema), plus the two switches read on create.
EVENT_BODY = body_schema(EVENT_FIELDS, extra={
    "recurrence": {"type": "string", "enum": [r.value for r in Recurrence], "default": Recurrence.NONE.value},
    "publish": {"type": "boolean", "default": False, "description": "publish at once"}})
EVENT_CHANGES = body_schema(EVENT_FIELDS, partial=True, extra={
    "apply_to_series": {"type": "boolean", "description": "also change the future occurrences"}})
SCAN_BODY = {"type": "object", "properties": {
    "code": {"type": "string", "maxLength": 500, "description": "the code shown in the resident's mini-program"},
    "signup_id": {"type": "integer", "description": "checking in from the list instead"},
    "nonce": {"type": "string", "maxLength": 64, "description": "a fresh value per tap: a re-sent request counts once"}}}

# ---- helpers (app/api/volunteers.py uses them too) ---------------------------------------------

def community_staff(*roles: str) -> Staff:
    """The signed-in staff member of a community, with one of ``roles``."""
    staff = current_staff()
    if staff.community_id is None:
        raise Forbidden("仅限社区工作人员 (community staff only)")
    require_role(staff, *roles)
    return staff


def _event_of(staff: Staff, event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or event.community_id != staff.community_id:
        raise NotFound("没有找到这个活动 (no such event)")
    return event


def member_of(staff: Staff, member_id: int) -> PartyMember:
    member = db.session.get(PartyMember, member_id)
    if member is None or member.community_id != staff.community_id:
        raise NotFound("没有找到这名成员 (no such member)")
    return member


def _aliases(data: dict) -> list:
    aliases = data.get("aliases") or []
    if not isinstance(aliases, list):
        raise ValidationError("字段 aliases 必须是文字列表", field="aliases")
    return aliases


def _event_values(data: dict, *, partial: bool) -> dict:
    """Body → handler values, read in EVENT_FIELDS order; only the fields present when ``partial``."""
    values: dict = {}
    for name, (kind, options) in EVENT_FIELDS.items():
        if partial and name not in data:
            continue
        values[name] = _aliases(data) if kind is list else field(data, name, kind, **options)
    if "volunteer_hours" in values:
        values["volunteer_minutes"] = round(values.pop("volunteer_hours") * 60)
    if not partial:
        values["recurrence"] = field(data, "recurrence", str, required=False, default=Recurrence.NONE.value,
                                     choices=[r.value for r in Recurrence])
    return values


def _event_list_view(events: list[Event], *, for_staff: bool, resident: Resident | None = None) -> list[dict]:
    counters, waiting = counts_for([e.id for e in events])
    mine: dict[int, Signup] = {}
    if resident is not None and events:
        mine = {s.event_id: s for s in db.session.scalars(select(Signup).where(
            Signup.resident_id == resident.id, Signup.event_id.in_([e.id for e in events])))}
    return [views.event_view(e, counter=counters.get(e.id), waiting=waiting.get(e.id, 0), my_signup=mine.get(e.id),
                          for_staff=for_staff) for e in events]


# ---- events: both -------------------------------------------------------------------------

@route("/events", summary="Events: staff see their community's (all statuses); residents the upcoming published "
       "ones with places left and their own sign-up", auth="any", tags=TAGS,
       query={"status": {"type": "string"}, "community_id": {"type": "integer", "minimum": 1},
              "upcoming": {"type": "boolean"}, "page": {"type": "integer"}, "per_page": {"type": "integer"}},
       returns=schemas.EVENTS_LIST, errors={404: ["not_found"]})
def events_list():
    if isinstance(g.subject, Staff):
        staff = current_staff()
        if staff.community_id is None:
            raise Forbidden("仅限社区工作人员 (community staff only)")
        statement = select(Event).where(Event.community_id == staff.community_id)
        status = request.args.get("status")
        if status:
            if status not in {s.value for s in EventStatus}:
                raise ValidationError("参数 status 取值无效 (draft, published, cancelled)", field="status")
            statement = statement.where(Event.status == status)
        if request.args.get("upcoming", "true").lower() in ("1", "true", "yes"):
            statement = statement.where(Event.ends_at > now())
        page = paginate(statement.order_by(Event.starts_at, Event.id), lambda e: e)
        page["items"] = _event_list_view(page["items"], for_staff=True)
        return jsonify(page)
    resident = current_resident()
    community_id = id_arg("community_id") or resident.community_id
    if community_id is None:
        raise ValidationError("请先选择社区 (pass community_id)", field="community_id")
    if resident.community_id is not None and community_id != resident.community_id:
        raise NotFound("没有找到这个社区的活动 (not your community)")
    statement = select(Event).where(Event.community_id == community_id,
                                    Event.status == EventStatus.PUBLISHED.value, Event.ends_at > now())
    page = paginate(statement.order_by(Event.starts_at, Event.id), lambda e: e)
    page["items"] = _event_list_view(page["items"], for_staff=False, resident=resident)
    return jsonify(page)


@route("/events/<int:event_id>", summary="One event (staff: of their community; residents: published)",
       auth="any", tags=TAGS, returns=schemas.EVENTS_GET)
def events_get(event_id: int):
    if isinstance(g.subject, Staff):
        return jsonify(views.event_view(_event_of(community_staff(*DOOR_STAFF), event_id), for_staff=True))
    resident = current_resident()
    event = db.session.get(Event, event_id)
    if (event is None or event.status == EventStatus.DRAFT.value
            or (resident.community_id is not None and event.community_id != resident.community_id)):
        raise NotFound("没有找到这个活动 (no such event)")
    mine = signups.find_signup(event.id, resident.id, None)
    return jsonify(views.event_view(event, my_signup=mine))


# ---- events: staff ------------------------------------------------------------------------

@route("/events", ["POST"], summary="Create an event (weekly: recurrence=weekly); publish=true publishes at once",
       tags=TAGS, body=EVENT_BODY, responses={"201": {"description": "created"}},
       returns=schemas.STAFF_EVENT, errors={404: ["not_found"], 409: ["cancelled", "started"]})
def events_create():
    staff = community_staff(*ORGANISERS)
    data = json_body()
    values = _event_values(data, partial=False)
    publish = field(data, "publish", bool, required=False, default=False)
    event = lifecycle.create_event(staff.community_id, staff=staff, publish=publish, **values)
    return jsonify(views.event_view(event, for_staff=True)), 201


@route("/events/<int:event_id>", ["PATCH"], summary="Change an event (apply_to_series: also its future occurrences)",
       tags=TAGS, body=EVENT_CHANGES,
       returns=schemas.STAFF_EVENT, errors={409: ["cancelled", "capacity_below_confirmed", "ended"]})
def events_update(event_id: int):
    staff = community_staff(*ORGANISERS)
    event = _event_of(staff, event_id)
    data = json_body()
    apply_to_series = field(data, "apply_to_series", bool, required=False, default=False)
    data = {k: v for k, v in data.items() if k != "apply_to_series"}
    for forbidden in ("recurrence", "publish", "status"):
        if forbidden in data:
            raise ValidationError(f"字段 {forbidden} 不能修改 (use the publish / cancel-event actions)",
                                  field=forbidden)
    changes = _event_values(data, partial=True)
    if not changes:
        raise ValidationError("没有要修改的字段 (no fields to change)", field="body")
    event = lifecycle.update_event(event, staff, changes, apply_to_series=apply_to_series)
    return jsonify(views.event_view(event, for_staff=True))


@route("/events/<int:event_id>/publish", ["POST"], summary="Publish a draft (a series: all its occurrences)",
       tags=TAGS, returns=schemas.STAFF_EVENT,
       errors={409: ["cancelled", "started"]})
def events_publish(event_id: int):
    staff = community_staff(*ORGANISERS)
    event = lifecycle.publish_event(_event_of(staff, event_id), staff)
    return jsonify(views.event_view(event, for_staff=True))


@route("/events/<int:event_id>/announce", ["POST"],
       summary="Post the formatted notice to every resident group of the community (once per group)", tags=TAGS,
       returns=schemas.EVENTS_ANNOUNCE, errors={409: ["no_groups", "not_published", "started"]})
def events_announce(event_id: int):
    staff = community_staff(*ORGANISERS)
    event = _event_of(staff, event_id)
    messages = notices.announce_event(event, staff)
    return jsonify({"event": views.event_view(event, for_staff=True), "text": notices.announcement_text(event),
                    "messages": [{"id": m.id, "group_id": m.group_id, "status": m.status} for m in messages]})


@route("/events/<int:event_id>/cancel-event", ["POST"],
       summary="Cancel the event (a series head: the whole series) and tell everyone signed up", tags=TAGS,
       body={"type": "object", "properties": {"reason": {"type": "string", "maxLength": 200}}},
       returns=schemas.STAFF_EVENT,
       errors={409: ["ended"]})
def events_cancel_event(event_id: int):
    staff = community_staff(*ORGANISERS)
    event = _event_of(staff, event_id)
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        raise ValidationError("请求体必须是 JSON 对象 (body must be a JSON object)", field="body")
    reason = field(data, "reason", str, required=False, max_length=200)
    event = lifecycle.cancel_event(event, staff, reason)
    return jsonify(views.event_view(event, for_staff=True))


@route("/events/<int:event_id>/signups", summary="Sign-ups of an event: confirmed and attended first, then the "
       "waiting list in order (?status= filters)", tags=TAGS, query={"status": {"type": "string"}},
       returns=schemas.EVENTS_SIGNUPS)
def events_signups(event_id: int):
    staff = community_staff(*DOOR_STAFF)
    event = _event_of(staff, event_id)
    statement = select(Signup).where(Signup.event_id == event.id)
    status = request.args.get("status")
    if status:
        if status not in {s.value for s in SignupStatus}:
            raise ValidationError("参数 status 取值无效", field="status")
        statement = statement.where(Signup.status == status)
    order = {SignupStatus.ATTENDED.value: 0, SignupStatus.CONFIRMED.value: 1, SignupStatus.WAITING.value: 2,
             SignupStatus.ABSENT.value: 3, SignupStatus.CANCELLED.value: 4}
    rows = sorted(db.session.scalars(statement), key=lambda s: (order.get(s.status, 9), s.position or 0, s.id))
    counts: dict[str, int] = {}
    for row in db.session.scalars(select(Signup).where(Signup.event_id == event.id)):
        counts[row.status] = counts.get(row.status, 0) + 1
    return jsonify({"event": views.event_view(event, for_staff=True), "counts": counts,
                    "items": [views.signup_view(s, for_staff=True) for s in rows]})


@route("/events/<int:event_id>/signups", ["POST"],
       summary="Sign a resident or a registered member up on their behalf (e.g. by phone)", tags=TAGS,
       body={"type": "object", "properties": {"resident_id": {"type": "integer"}, "member_id": {"type": "integer"},
                                              "waitlist": {"type": "boolean"},
                                              "idempotency_key": {"type": "string"}}},
       responses={"201": {"description": "signed up or on the waiting list"}, "200": {"description": "replay"}},
       returns=schemas.EVENTS_SIGNUP_BY_STAFF,
       errors={403: ["audience", "other_community"],
               409: ["already_signed_up", "already_waiting", "cancelled", "deadline_passed", "ended", "full", "started"]})
def events_signup_by_staff(event_id: int):
    staff = community_staff(*ORGANISERS)
    event = _event_of(staff, event_id)
    data = json_body()
    resident_id = field(data, "resident_id", int, required=False)
    member_id = field(data, "member_id", int, required=False)
    resident = member = None
    if member_id is not None:
        member = member_of(staff, member_id)
    if resident_id is not None:
        resident = db.session.get(Resident, resident_id)
        if resident is None or resident.community_id not in (None, staff.community_id):
            raise NotFound("没有找到这位居民 (no such resident)", field="resident_id")
    if resident is None and member is None:
        raise ValidationError("请指定 resident_id 或 member_id", field="resident_id")
    result = signups.signup_for(event.id, resident=resident, member=member,
                           idempotency_key=field(data, "idempotency_key", str, required=False, max_length=100),
                           waitlist=field(data, "waitlist", bool, required=False, default=False), source="staff",
                           staff=staff)
    return jsonify({"signup": views.signup_view(result.signup, for_staff=True), "replay": result.replay}), \
        200 if result.replay else 201


@route("/events/<int:event_id>/signups/<int:signup_id>/cancel", ["POST"],
       summary="Cancel someone's sign-up on their behalf (promotes the waiting list)", tags=TAGS,
       returns=schemas.EVENTS_CANCEL_SIGNUP_BY_STAFF,
       errors={409: ["attended", "started"]})
def events_cancel_signup_by_staff(event_id: int, signup_id: int):
    staff = community_staff(*ORGANISERS)
    event = _event_of(staff, event_id)
    signup = db.session.get(Signup, signup_id)
    if signup is None or signup.event_id != event.id:
        raise NotFound("没有找到这条报名 (no such sign-up)")
    result = signups.cancel_signup(signup.id, actor_type="staff", actor_id=staff.id)
    return jsonify({"signup": views.signup_view(result.signup, for_staff=True),
                    "promoted": [views.signup_view(p, for_staff=True) for p in result.promoted]})


def _scan(event_id: int, kind: str):
    staff = community_staff(*DOOR_STAFF)
    event = _event_of(staff, event_id)
    data = json_body()
    code = field(data, "code", str, required=False, max_length=500)
    signup_id = field(data, "signup_id", int, required=False)
    nonce = field(data, "nonce", str, required=False, max_length=64)
    if code is None and signup_id is None:
        raise ValidationError("请提供签到码 code，或名单中的 signup_id", field="code")
    scan = checkin.check_in if kind == "in" else checkin.check_out
    result = scan(event, staff, code=code, signup_id=signup_id, nonce=nonce)
    return jsonify({
        "signup": views.signup_view(result.signup, for_staff=True), "replay": result.replay,
        "checkin": {"id": result.checkin.id, "kind": result.checkin.kind, "method": result.checkin.method,
                    "at": iso(result.checkin.at), "staff_id": result.checkin.staff_id},
        "hours_entry": hours_view(result.hours_entry) if result.hours_entry is not None else None,
    }), 200 if result.replay else 201


@route("/events/<int:event_id>/checkin", ["POST"], summary="Check in: scan the resident's code, or pick from the "
       "list (signup_id); a re-sent scan (same nonce) counts once", tags=TAGS, body=SCAN_BODY,
       responses={"201": {"description": "checked in"}, "200": {"description": "already recorded (replay)"}},
       returns=schemas.CHECK_IN, errors={400: ["code_expired", "invalid_code"],
               404: ["not_signed_up"],
               409: ["cancelled", "cancelled_signup", "code_used", "not_checked_in", "too_early", "too_late", "waiting", "wrong_event"]})
def events_checkin(event_id: int):
    return _scan(event_id, "in")


@route("/events/<int:event_id>/checkout", ["POST"], summary="Check out; credits volunteer hours to registered "
       "members (time served, rounded down, capped at the event's hours)", tags=TAGS, body=SCAN_BODY,
       responses={"201": {"description": "checked out"}, "200": {"description": "already recorded (replay)"}},
       returns=schemas.CHECK_IN, errors={400: ["code_expired", "invalid_code"],
               404: ["not_signed_up"],
               409: ["cancelled", "cancelled_signup", "code_used", "not_checked_in", "too_early", "too_late", "waiting", "wrong_event"]})
def events_checkout(event_id: int):
    return _scan(event_id, "out")
