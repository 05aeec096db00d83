"""Events, sign-ups, check-in, volunteer hours, 双报到 and micro-wishes in the mini-program API.

Staff see and change only their own community (anything else is 404); a role that may
not do an action gets 403. Organisers (community admin, duty) create, publish, announce
and cancel events, keep the member registry and enter hours; grid workers and grid
leaders may also check people in and out at the door.

Residents list upcoming events with the places left, sign up (with an idempotency key;
a full event offers the waiting list: pass ``waitlist: true``), cancel, see their
sign-ups and their check-in code, and register as in-service party members (双报到).
"""
from __future__ import annotations

from datetime import datetime

from flask import Response, jsonify, request
from sqlalchemy import select

from app.api.support import (
    current_resident,
    current_staff,
    field,
    id_arg,
    int_arg,
    iso,
    json_body,
    paginate,
    require_role,
    route,
)
from app.clock import now
from app.errors import Forbidden, NotFound, ValidationError
from app.extensions import db
from app.handlers import events as ev
from app.handlers import volunteers as vol
from app.models import Community, Resident, Role, Staff
from app.models.events import (
    Audience,
    Event,
    EventKind,
    EventStatus,
    HoursEntry,
    HoursKind,
    MemberKind,
    MicroWish,
    PartyMember,
    Recurrence,
    Signup,
    SignupStatus,
    VolunteerProject,
    WishStatus,
)

TAGS = ["events"]
VOL_TAGS = ["volunteers"]
ORGANISERS = (Role.COMMUNITY_ADMIN.value, Role.DUTY.value)
DOOR_STAFF = ORGANISERS + (Role.GRID_WORKER.value, Role.GRID_LEADER.value)

EVENT_BODY = {"type": "object", "properties": {
    "title": {"type": "string", "maxLength": 100},
    "kind": {"type": "string", "enum": [k.value for k in EventKind]},
    "description": {"type": "string"}, "place": {"type": "string", "maxLength": 200},
    "starts_at": {"type": "string", "format": "date-time"}, "ends_at": {"type": "string", "format": "date-time"},
    "capacity": {"type": ["integer", "null"], "minimum": 0},
    "signup_deadline": {"type": ["string", "null"], "format": "date-time"},
    "audience": {"type": "string", "enum": [a.value for a in Audience]},
    "volunteer_hours": {"type": "number", "minimum": 0, "maximum": 24},
    "aliases": {"type": "array", "items": {"type": "string"}},
    "project_id": {"type": ["integer", "null"]},
    "recurrence": {"type": "string", "enum": [r.value for r in Recurrence]},
    "recurrence_until": {"type": ["string", "null"], "format": "date-time"},
    "publish": {"type": "boolean"},
}}
SIGNUP_BODY = {"type": "object", "required": ["idempotency_key"], "properties": {
    "idempotency_key": {"type": "string", "maxLength": 100},
    "waitlist": {"type": "boolean", "description": "join the waiting list when the event is full"}}}
SCAN_BODY = {"type": "object", "properties": {
    "code": {"type": "string", "description": "the code shown in the resident's mini-program"},
    "signup_id": {"type": "integer", "description": "checking in from the list instead"},
    "nonce": {"type": "string", "description": "a fresh value per tap, so a re-sent request counts once"}}}
MEMBER_BODY = {"type": "object", "properties": {
    "name": {"type": "string"}, "phone": {"type": "string"}, "work_unit": {"type": "string"},
    "party_org": {"type": "string"}, "kind": {"type": "string", "enum": [k.value for k in MemberKind]},
    "project_ids": {"type": "array", "items": {"type": "integer"}}, "year": {"type": "integer"},
    "community_id": {"type": "integer"}, "resident_id": {"type": "integer"}, "active": {"type": "boolean"}}}
HOURS_BODY = {"type": "object", "required": ["member_id", "hours"], "properties": {
    "member_id": {"type": "integer"}, "hours": {"type": "number"},
    "served_on": {"type": "string", "format": "date"}, "note": {"type": "string"},
    "event_id": {"type": "integer"}, "project_id": {"type": "integer"}}}

# ?year= as _year() reads it.
YEAR_QUERY = {"type": "integer", "minimum": 2000, "maximum": 2100}

# ---- helpers --------------------------------------------------------------------------------

def _staff(*roles: str) -> Staff:
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


def _member_of(staff: Staff, member_id: int) -> PartyMember:
    member = db.session.get(PartyMember, member_id)
    if member is None or member.community_id != staff.community_id:
        raise NotFound("没有找到这名成员 (no such member)")
    return member


def _year() -> int:
    return int_arg("year", vol.current_year(), minimum=2000, maximum=2100)


def _optional_datetime(data: dict, name: str):
    if data.get(name) is None:
        return None
    return field(data, name, datetime)


def _event_values(data: dict, *, partial: bool) -> dict:
    """Body → handler values; only the fields present when ``partial``."""
    values: dict = {}

    def wanted(name: str) -> bool:
        return not partial or name in data

    if wanted("title"):
        values["title"] = field(data, "title", str, max_length=100)
    if wanted("kind"):
        values["kind"] = field(data, "kind", str, choices=[k.value for k in EventKind])
    if wanted("description"):
        values["description"] = field(data, "description", str, required=False, max_length=5000)
    if wanted("place"):
        values["place"] = field(data, "place", str, required=False, max_length=200)
    if wanted("starts_at"):
        values["starts_at"] = field(data, "starts_at", datetime)
    if wanted("ends_at"):
        values["ends_at"] = field(data, "ends_at", datetime)
    if wanted("capacity"):
        values["capacity"] = field(data, "capacity", int, required=False, minimum=0, maximum=100000)
    if wanted("signup_deadline"):
        values["signup_deadline"] = _optional_datetime(data, "signup_deadline")
    if wanted("audience"):
        values["audience"] = field(data, "audience", str, required=False, default=Audience.EVERYONE.value,
                                   choices=[a.value for a in Audience])
    if wanted("volunteer_hours"):
        hours = field(data, "volunteer_hours", float, required=False, default=0.0, minimum=0, maximum=24)
        values["volunteer_minutes"] = round(hours * 60)
    if wanted("aliases"):
        aliases = data.get("aliases") or []
        if not isinstance(aliases, list):
            raise ValidationError("字段 aliases 必须是文字列表", field="aliases")
        values["aliases"] = aliases
    if wanted("project_id"):
        values["project_id"] = field(data, "project_id", int, required=False)
    if wanted("recurrence_until"):
        values["recurrence_until"] = _optional_datetime(data, "recurrence_until")
    if not partial:
        values["recurrence"] = field(data, "recurrence", str, required=False, default=Recurrence.NONE.value,
                                     choices=[r.value for r in Recurrence])
    return values


def _event_list_view(events: list[Event], *, for_staff: bool, resident: Resident | None = None) -> list[dict]:
    counters, waiting = ev.counts_for([e.id for e in events])
    mine: dict[int, Signup] = {}
    if resident is not None and events:
        mine = {s.event_id: s for s in db.session.scalars(select(Signup).where(
            Signup.resident_id == resident.id, Signup.event_id.in_([e.id for e in events])))}
    return [ev.event_view(e, counter=counters.get(e.id), waiting=waiting.get(e.id, 0), my_signup=mine.get(e.id),
                          for_staff=for_staff) for e in events]


# ---- events: both -------------------------------------------------------------------------

@route("/events", summary="Events: staff see their community's (all statuses); residents the upcoming published "
       "ones with places left and their own sign-up", auth="any", tags=TAGS,
       query={"status": {"type": "string"}, "community_id": {"type": "integer", "minimum": 1},
              "upcoming": {"type": "boolean"}, "page": {"type": "integer"}, "per_page": {"type": "integer"}})
def events_list():
    from flask import g
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
       auth="any", tags=TAGS)
def events_get(event_id: int):
    from flask import g
    if isinstance(g.subject, Staff):
        return jsonify(ev.event_view(_event_of(_staff(*DOOR_STAFF), event_id), for_staff=True))
    resident = current_resident()
    event = db.session.get(Event, event_id)
    if (event is None or event.status == EventStatus.DRAFT.value
            or (resident.community_id is not None and event.community_id != resident.community_id)):
        raise NotFound("没有找到这个活动 (no such event)")
    mine = ev.find_signup(event.id, resident.id, None)
    return jsonify(ev.event_view(event, my_signup=mine))


# ---- events: staff ------------------------------------------------------------------------

@route("/events", ["POST"], summary="Create an event (weekly: recurrence=weekly); publish=true publishes at once",
       tags=TAGS, body=EVENT_BODY, responses={"201": {"description": "created"}})
def events_create():
    staff = _staff(*ORGANISERS)
    data = json_body()
    values = _event_values(data, partial=False)
    publish = field(data, "publish", bool, required=False, default=False)
    event = ev.create_event(staff.community_id, staff=staff, publish=publish, **values)
    return jsonify(ev.event_view(event, for_staff=True)), 201


@route("/events/<int:event_id>", ["PATCH"], summary="Change an event (apply_to_series: also its future occurrences)",
       tags=TAGS, body={**EVENT_BODY, "properties": {**EVENT_BODY["properties"],
                                                     "apply_to_series": {"type": "boolean"}}})
def events_update(event_id: int):
    staff = _staff(*ORGANISERS)
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
    event = ev.update_event(event, staff, changes, apply_to_series=apply_to_series)
    return jsonify(ev.event_view(event, for_staff=True))


@route("/events/<int:event_id>/publish", ["POST"], summary="Publish a draft (a series: all its occurrences)",
       tags=TAGS)
def events_publish(event_id: int):
    staff = _staff(*ORGANISERS)
    event = ev.publish_event(_event_of(staff, event_id), staff)
    return jsonify(ev.event_view(event, for_staff=True))


@route("/events/<int:event_id>/announce", ["POST"],
       summary="Post the formatted notice to every resident group of the community (once per group)", tags=TAGS)
def events_announce(event_id: int):
    staff = _staff(*ORGANISERS)
    event = _event_of(staff, event_id)
    messages = ev.announce_event(event, staff)
    return jsonify({"event": ev.event_view(event, for_staff=True), "text": ev.announcement_text(event),
                    "messages": [{"id": m.id, "group_id": m.group_id, "status": m.status} for m in messages]})


@route("/events/<int:event_id>/cancel-event", ["POST"],
       summary="Cancel the event (a series head: the whole series) and tell everyone signed up", tags=TAGS,
       body={"type": "object", "properties": {"reason": {"type": "string", "maxLength": 200}}})
def events_cancel_event(event_id: int):
    staff = _staff(*ORGANISERS)
    event = _event_of(staff, event_id)
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        raise ValidationError("请求体必须是 JSON 对象 (body must be a JSON object)", field="body")
    reason = field(data, "reason", str, required=False, max_length=200)
    event = ev.cancel_event(event, staff, reason)
    return jsonify(ev.event_view(event, for_staff=True))


@route("/events/<int:event_id>/signups", summary="Sign-ups of an event: confirmed and attended first, then the "
       "waiting list in order (?status= filters)", tags=TAGS, query={"status": {"type": "string"}})
def events_signups(event_id: int):
    staff = _staff(*DOOR_STAFF)
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
    return jsonify({"event": ev.event_view(event, for_staff=True), "counts": counts,
                    "items": [ev.signup_view(s, for_staff=True) for s in rows]})


@route("/events/<int:event_id>/signups", ["POST"],
       summary="Sign a resident or a registered member up on their behalf (e.g. by phone)", tags=TAGS,
       body={"type": "object", "properties": {"resident_id": {"type": "integer"}, "member_id": {"type": "integer"},
                                              "waitlist": {"type": "boolean"},
                                              "idempotency_key": {"type": "string"}}},
       responses={"201": {"description": "signed up or on the waiting list"}})
def events_signup_by_staff(event_id: int):
    staff = _staff(*ORGANISERS)
    event = _event_of(staff, event_id)
    data = json_body()
    resident_id = field(data, "resident_id", int, required=False)
    member_id = field(data, "member_id", int, required=False)
    resident = member = None
    if member_id is not None:
        member = _member_of(staff, member_id)
    if resident_id is not None:
        resident = db.session.get(Resident, resident_id)
        if resident is None or resident.community_id not in (None, staff.community_id):
            raise NotFound("没有找到这位居民 (no such resident)", field="resident_id")
    if resident is None and member is None:
        raise ValidationError("请指定 resident_id 或 member_id", field="resident_id")
    result = ev.signup_for(event.id, resident=resident, member=member,
                           idempotency_key=field(data, "idempotency_key", str, required=False, max_length=100),
                           waitlist=field(data, "waitlist", bool, required=False, default=False), source="staff",
                           staff=staff)
    return jsonify({"signup": ev.signup_view(result.signup, for_staff=True), "replay": result.replay}), \
        200 if result.replay else 201


@route("/events/<int:event_id>/signups/<int:signup_id>/cancel", ["POST"],
       summary="Cancel someone's sign-up on their behalf (promotes the waiting list)", tags=TAGS)
def events_cancel_signup_by_staff(event_id: int, signup_id: int):
    staff = _staff(*ORGANISERS)
    event = _event_of(staff, event_id)
    signup = db.session.get(Signup, signup_id)
    if signup is None or signup.event_id != event.id:
        raise NotFound("没有找到这条报名 (no such sign-up)")
    result = ev.cancel_signup(signup.id, actor_type="staff", actor_id=staff.id)
    return jsonify({"signup": ev.signup_view(result.signup, for_staff=True),
                    "promoted": [ev.signup_view(p, for_staff=True) for p in result.promoted]})


def _scan(event_id: int, kind: str):
    staff = _staff(*DOOR_STAFF)
    event = _event_of(staff, event_id)
    data = json_body()
    code = field(data, "code", str, required=False, max_length=500)
    signup_id = field(data, "signup_id", int, required=False)
    nonce = field(data, "nonce", str, required=False, max_length=64)
    if code is None and signup_id is None:
        raise ValidationError("请提供签到码 code，或名单中的 signup_id", field="code")
    scan = ev.check_in if kind == "in" else ev.check_out
    result = scan(event, staff, code=code, signup_id=signup_id, nonce=nonce)
    return jsonify({
        "signup": ev.signup_view(result.signup, for_staff=True), "replay": result.replay,
        "checkin": {"id": result.checkin.id, "kind": result.checkin.kind, "method": result.checkin.method,
                    "at": iso(result.checkin.at), "staff_id": result.checkin.staff_id},
        "hours_entry": vol.hours_view(result.hours_entry) if result.hours_entry is not None else None,
    }), 200 if result.replay else 201


@route("/events/<int:event_id>/checkin", ["POST"], summary="Check in: scan the resident's code, or pick from the "
       "list (signup_id); a re-sent scan (same nonce) counts once", tags=TAGS, body=SCAN_BODY,
       responses={"201": {"description": "checked in"}, "200": {"description": "already recorded (replay)"}})
def events_checkin(event_id: int):
    return _scan(event_id, "in")


@route("/events/<int:event_id>/checkout", ["POST"], summary="Check out; credits volunteer hours to registered "
       "members (time served, rounded down, capped at the event's hours)", tags=TAGS, body=SCAN_BODY,
       responses={"201": {"description": "checked out"}, "200": {"description": "already recorded (replay)"}})
def events_checkout(event_id: int):
    return _scan(event_id, "out")


# ---- residents ------------------------------------------------------------------------------

@route("/events/<int:event_id>/signup", ["POST"], summary="Sign up (idempotency_key required); a full event "
       "answers 409 code=full unless waitlist=true", auth="resident", tags=TAGS, body=SIGNUP_BODY,
       responses={"201": {"description": "confirmed or waiting"}, "200": {"description": "replay of the same key"},
                  "409": {"description": "full, deadline passed, already signed up, ..."}})
def events_signup(event_id: int):
    resident = current_resident()
    data = json_body()
    key = field(data, "idempotency_key", str, max_length=100)
    waitlist = field(data, "waitlist", bool, required=False, default=False)
    event = db.session.get(Event, event_id)
    if event is None or event.status == EventStatus.DRAFT.value:
        raise NotFound("没有找到这个活动 (no such event)")
    result = ev.signup_for(event.id, resident=resident, idempotency_key=key, waitlist=waitlist, source="api")
    body = {"signup": ev.signup_view(result.signup), "event": ev.event_view(result.event), "replay": result.replay}
    return jsonify(body), 200 if result.replay else 201


@route("/events/<int:event_id>/cancel", ["POST"], summary="Cancel my sign-up (the first on the waiting list "
       "gets the place and is told)", auth="resident", tags=TAGS)
def events_cancel_mine(event_id: int):
    resident = current_resident()
    signup = ev.find_signup(event_id, resident.id, None)
    if signup is None:
        raise NotFound("您没有报名这个活动 (not signed up)")
    result = ev.cancel_signup(signup.id, actor_type="resident", actor_id=resident.id)
    return jsonify({"signup": ev.signup_view(result.signup), "already_cancelled": result.already})


@route("/my/signups", summary="My sign-ups with waiting positions (?all=true: past ones too)", auth="resident",
       tags=TAGS, query={"all": {"type": "boolean"}})
def events_my_signups():
    resident = current_resident()
    statement = select(Signup).join(Event, Event.id == Signup.event_id).where(Signup.resident_id == resident.id)
    if request.args.get("all", "").lower() not in ("1", "true", "yes"):
        statement = statement.where(Event.ends_at > now(), Signup.status != SignupStatus.CANCELLED.value)
    page = paginate(statement.order_by(Event.starts_at, Signup.id), lambda s: ev.signup_view(s, with_event=True))
    return jsonify(page)


@route("/my/signups/<int:signup_id>/code", summary="My check-in code (a signed token with a fresh nonce; show it "
       "as a QR code; it expires after LINLI_EVENT_CHECKIN_CODE_SECONDS)", auth="resident", tags=TAGS)
def events_my_code(signup_id: int):
    resident = current_resident()
    signup = db.session.get(Signup, signup_id)
    if signup is None or signup.resident_id != resident.id:
        raise NotFound("没有找到这条报名 (no such sign-up)")
    code = ev.make_checkin_code(signup)
    return jsonify({**code, "expires_at": iso(code["expires_at"]), "signup_id": signup.id})


# ---- 双报到: members, projects, hours -------------------------------------------------------

@route("/my/party-member", ["POST"], summary="Register with the community as an in-service party member (双报到) "
       "or a volunteer; again: update the registration", auth="resident", tags=VOL_TAGS, body=MEMBER_BODY,
       responses={"201": {"description": "registered"}, "200": {"description": "updated"}})
def volunteers_register_me():
    resident = current_resident()
    data = json_body()
    community_id = resident.community_id or field(data, "community_id", int)
    if db.session.get(Community, community_id) is None:
        raise NotFound("没有找到这个社区 (no such community)", field="community_id")
    member, created = vol.register_member(community_id, data, resident=resident)
    return jsonify({"member": vol.member_view(member), "year": vol.member_year(member)}), 201 if created else 200


@route("/my/party-member", summary="My registration and my year (projects, hours against the target)",
       auth="resident", tags=VOL_TAGS, query={"year": YEAR_QUERY})
def volunteers_me():
    resident = current_resident()
    members = db.session.scalars(select(PartyMember).where(PartyMember.resident_id == resident.id)
                                 .order_by(PartyMember.id)).all()
    if resident.community_id is not None:
        members = [m for m in members if m.community_id == resident.community_id] or members
    if not members:
        raise NotFound("您还没有登记为报到党员或志愿者 (not registered)")
    return jsonify({"member": vol.member_view(members[0]), "year": vol.member_year(members[0], _year())})


@route("/my/party-member/projects", ["POST"], summary="Choose volunteer projects for a year", auth="resident",
       tags=VOL_TAGS, body={"type": "object", "properties": {
           "project_ids": {"type": "array", "items": {"type": "integer"}}, "year": {"type": "integer"}}})
def volunteers_my_projects():
    resident = current_resident()
    member = db.session.scalars(select(PartyMember).where(PartyMember.resident_id == resident.id)).first()
    if member is None:
        raise NotFound("您还没有登记为报到党员或志愿者 (not registered)")
    data = json_body()
    vol.choose_projects(member, data.get("project_ids"), data.get("year"), actor=("resident", resident.id))
    return jsonify(vol.member_year(member, data.get("year") or None))


@route("/volunteer-projects", summary="Volunteer projects of the community", auth="any", tags=VOL_TAGS,
       query={"community_id": {"type": "integer", "minimum": 1}})
def volunteers_projects():
    from flask import g
    if isinstance(g.subject, Staff):
        community_id = _staff(*DOOR_STAFF).community_id
    else:
        resident = current_resident()
        community_id = resident.community_id or id_arg("community_id")
        if community_id is None:
            raise ValidationError("请先选择社区 (pass community_id)", field="community_id")
    rows = db.session.scalars(select(VolunteerProject).where(
        VolunteerProject.community_id == community_id, VolunteerProject.active.is_(True))
        .order_by(VolunteerProject.id)).all()
    return jsonify({"items": [p.view() for p in rows]})


@route("/volunteer-projects", ["POST"], summary="Add a volunteer project", tags=VOL_TAGS,
       body={"type": "object", "required": ["name"], "properties": {"name": {"type": "string"},
                                                                  "description": {"type": "string"}}},
       responses={"201": {"description": "created"}})
def volunteers_project_create():
    staff = _staff(*ORGANISERS)
    project = vol.create_project(staff.community_id, json_body(), staff)
    return jsonify(project.view()), 201


@route("/party-members", summary="The member registry (?kind=party|volunteer, ?active=)", tags=VOL_TAGS,
       query={"kind": {"type": "string"}, "active": {"type": "boolean"}, "year": YEAR_QUERY})
def volunteers_members():
    staff = _staff(*ORGANISERS)
    statement = select(PartyMember).where(PartyMember.community_id == staff.community_id)
    kind = request.args.get("kind")
    if kind:
        if kind not in {k.value for k in MemberKind}:
            raise ValidationError("参数 kind 取值无效 (party, volunteer)", field="kind")
        statement = statement.where(PartyMember.kind == kind)
    active = request.args.get("active")
    if active is not None:
        statement = statement.where(PartyMember.active.is_(active.lower() in ("1", "true", "yes")))
    year = _year()

    def serialize(member: PartyMember) -> dict:
        summary = vol.member_year(member, year)
        return {**vol.member_view(member), "hours": summary["hours"], "met_target": summary["met_target"],
                "projects": [p["name"] for p in summary["projects"]]}

    return jsonify(paginate(statement.order_by(PartyMember.id), serialize))


@route("/party-members", ["POST"], summary="Register a member on their behalf", tags=VOL_TAGS, body=MEMBER_BODY,
       responses={"201": {"description": "registered"}})
def volunteers_member_create():
    staff = _staff(*ORGANISERS)
    data = json_body()
    resident = None
    resident_id = field(data, "resident_id", int, required=False)
    if resident_id is not None:
        resident = db.session.get(Resident, resident_id)
        if resident is None or resident.community_id not in (None, staff.community_id):
            raise NotFound("没有找到这位居民 (no such resident)", field="resident_id")
    member, created = vol.register_member(staff.community_id, data, resident=resident, staff=staff)
    return jsonify(vol.member_view(member)), 201 if created else 200


@route("/party-members/<int:member_id>", summary="One member", tags=VOL_TAGS)
def volunteers_member_get(member_id: int):
    staff = _staff(*ORGANISERS)
    return jsonify(vol.member_view(_member_of(staff, member_id)))


@route("/party-members/<int:member_id>", ["PATCH"], summary="Change a member (active=false: left the community)",
       tags=VOL_TAGS, body=MEMBER_BODY)
def volunteers_member_update(member_id: int):
    staff = _staff(*ORGANISERS)
    member = _member_of(staff, member_id)
    return jsonify(vol.member_view(vol.update_member(member, json_body(), staff)))


@route("/party-members/<int:member_id>/year", summary="A member's year: projects, hours by kind, target",
       tags=VOL_TAGS, query={"year": YEAR_QUERY})
def volunteers_member_year(member_id: int):
    staff = _staff(*ORGANISERS)
    return jsonify(vol.member_year(_member_of(staff, member_id), _year()))


@route("/party-members/<int:member_id>/projects", ["POST"], summary="Record the projects a member chose",
       tags=VOL_TAGS, body={"type": "object", "properties": {
           "project_ids": {"type": "array", "items": {"type": "integer"}}, "year": {"type": "integer"}}})
def volunteers_member_projects(member_id: int):
    staff = _staff(*ORGANISERS)
    member = _member_of(staff, member_id)
    data = json_body()
    vol.choose_projects(member, data.get("project_ids"), data.get("year"), actor=("staff", staff.id))
    return jsonify(vol.member_year(member, data.get("year") or None))


@route("/volunteer-hours", summary="Hours entries (?member_id=, ?year=, ?kind=checkin|admin)", tags=VOL_TAGS,
       query={"member_id": {"type": "integer", "minimum": 1}, "year": YEAR_QUERY, "kind": {"type": "string"}})
def volunteers_hours():
    staff = _staff(*ORGANISERS)
    statement = select(HoursEntry).where(HoursEntry.community_id == staff.community_id,
                                         HoursEntry.year == _year())
    member_id = id_arg("member_id")
    if member_id is not None:
        statement = statement.where(HoursEntry.member_id == _member_of(staff, member_id).id)
    kind = request.args.get("kind")
    if kind:
        if kind not in {k.value for k in HoursKind}:
            raise ValidationError("参数 kind 取值无效 (checkin, admin)", field="kind")
        statement = statement.where(HoursEntry.kind == kind)
    return jsonify(paginate(statement.order_by(HoursEntry.served_on, HoursEntry.id), vol.hours_view))


@route("/volunteer-hours", ["POST"], summary="Enter hours (kind admin; negative hours with a note correct earlier "
       "entries)", tags=VOL_TAGS, body=HOURS_BODY, responses={"201": {"description": "recorded"}})
def volunteers_hours_create():
    staff = _staff(*ORGANISERS)
    data = json_body()
    member = _member_of(staff, field(data, "member_id", int))
    entry = vol.record_admin_hours(member, staff, data)
    return jsonify(vol.hours_view(entry)), 201


@route("/volunteers/report", summary="The community's 双报到 report for a year (JSON)", tags=VOL_TAGS,
       query={"year": YEAR_QUERY})
def volunteers_report():
    staff = _staff(*ORGANISERS)
    return jsonify(vol.community_report(db.session.get(Community, staff.community_id), _year()))


@route("/volunteers/export", summary="The report as an .xlsx workbook", tags=VOL_TAGS,
       query={"year": YEAR_QUERY},
       responses={"200": {"description": "xlsx", "content": {
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
def volunteers_export():
    staff = _staff(*ORGANISERS)
    year = _year()
    community = db.session.get(Community, staff.community_id)
    data = vol.export_xlsx(community, year)
    filename = f"volunteers-{community.id}-{year}.xlsx"
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


# ---- micro-wishes (微心愿) ------------------------------------------------------------------

def _member_of_resident(resident: Resident) -> PartyMember:
    member = db.session.scalars(select(PartyMember).where(
        PartyMember.resident_id == resident.id, PartyMember.active.is_(True)).order_by(PartyMember.id)).first()
    if member is None:
        raise Forbidden("仅限已登记的报到党员和志愿者 (registered members only)")
    return member


@route("/my/wishes", ["POST"], summary="Post a micro-wish (微心愿)", auth="resident", tags=VOL_TAGS,
       body={"type": "object", "required": ["title"], "properties": {"title": {"type": "string"},
                                                                   "detail": {"type": "string"}}},
       responses={"201": {"description": "posted"}})
def wishes_post():
    resident = current_resident()
    wish = vol.post_wish(resident, json_body())
    return jsonify(vol.wish_view(wish, viewer_resident_id=resident.id)), 201


@route("/my/wishes", summary="My micro-wishes", auth="resident", tags=VOL_TAGS)
def wishes_mine():
    resident = current_resident()
    statement = select(MicroWish).where(MicroWish.resident_id == resident.id).order_by(MicroWish.id.desc())
    return jsonify(paginate(statement, lambda w: vol.wish_view(w, viewer_resident_id=resident.id)))


@route("/my/wishes/<int:wish_id>/cancel", ["POST"], summary="Withdraw my open micro-wish", auth="resident",
       tags=VOL_TAGS)
def wishes_cancel(wish_id: int):
    resident = current_resident()
    return jsonify(vol.wish_view(vol.cancel_wish(wish_id, resident), viewer_resident_id=resident.id))


@route("/wishes", summary="Micro-wishes of the community (staff: all, ?status=; members: the open ones)",
       auth="any", tags=VOL_TAGS, query={"status": {"type": "string"}})
def wishes_list():
    from flask import g
    if isinstance(g.subject, Staff):
        staff = _staff(*ORGANISERS)
        statement = select(MicroWish).where(MicroWish.community_id == staff.community_id)
        status = request.args.get("status")
        if status:
            if status not in {s.value for s in WishStatus}:
                raise ValidationError("参数 status 取值无效", field="status")
            statement = statement.where(MicroWish.status == status)
        return jsonify(paginate(statement.order_by(MicroWish.id), lambda w: vol.wish_view(w, for_staff=True)))
    resident = current_resident()
    member = _member_of_resident(resident)
    statement = select(MicroWish).where(MicroWish.community_id == member.community_id,
                                        MicroWish.status == WishStatus.OPEN.value).order_by(MicroWish.id)
    return jsonify(paginate(statement, lambda w: vol.wish_view(w, viewer_resident_id=resident.id)))


@route("/wishes/<int:wish_id>/claim", ["POST"], summary="Claim a micro-wish (registered members)", auth="resident",
       tags=VOL_TAGS)
def wishes_claim(wish_id: int):
    resident = current_resident()
    wish = vol.claim_wish(wish_id, _member_of_resident(resident))
    return jsonify(vol.wish_view(wish, viewer_resident_id=resident.id))


@route("/wishes/<int:wish_id>/fulfil", ["POST"], summary="Mark a claimed micro-wish fulfilled (the claimer or "
       "an organiser)", auth="any", tags=VOL_TAGS,
       body={"type": "object", "properties": {"note": {"type": "string"}}})
def wishes_fulfil(wish_id: int):
    from flask import g
    data = request.get_json(silent=True) or {}
    note = data.get("note") if isinstance(data, dict) else None
    if isinstance(g.subject, Staff):
        staff = _staff(*ORGANISERS)
        return jsonify(vol.wish_view(vol.fulfil_wish(wish_id, staff=staff, note=note), for_staff=True))
    resident = current_resident()
    wish = vol.fulfil_wish(wish_id, member=_member_of_resident(resident), note=note)
    return jsonify(vol.wish_view(wish, viewer_resident_id=resident.id))
