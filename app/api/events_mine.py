"""Events for residents in the mini-program API: sign up, cancel, my sign-ups and my check-in code.

A full event answers 409 ``full`` unless the sign-up asks for the waiting list
(``waitlist: true``); the same idempotency key replays the first answer (200).
"""
from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select

from app.api.events import TAGS
from app.api.schemas import events as schemas
from app.api.support import current_resident, field, json_body, paginate, route
from app.clock import now
from app.errors import NotFound
from app.extensions import db
from app.handlers.events import checkin, signups, views
from app.localtime import iso
from app.models.events import Event, EventStatus, Signup, SignupStatus

SIGNUP_BODY = {"type": "object", "required": ["idempotency_key"], "properties": {
    "idempotency_key": {"type": "string", "maxLength": 100},
    "waitlist": {"type": "boolean", "description": "join the waiting list when the event is full"}}}

# ---- residents ------------------------------------------------------------------------------

@route("/events/<int:event_id>/signup", ["POST"], summary="Sign up (idempotency_key required); a full event "
       "answers 409 code=full unless waitlist=true", auth="resident", tags=TAGS, body=SIGNUP_BODY,
       responses={"201": {"description": "confirmed or waiting"}, "200": {"description": "replay of the same key"},
                  "409": {"description": "full, deadline passed, already signed up, ..."}},
       returns=schemas.EVENTS_SIGNUP, errors={403: ["audience", "other_community"],
               409: ["already_signed_up", "already_waiting", "cancelled", "deadline_passed", "ended", "full", "started"]})
def events_signup(event_id: int):
    resident = current_resident()
    data = json_body()
    key = field(data, "idempotency_key", str, max_length=100)
    waitlist = field(data, "waitlist", bool, required=False, default=False)
    event = db.session.get(Event, event_id)
    if event is None or event.status == EventStatus.DRAFT.value:
        raise NotFound("没有找到这个活动 (no such event)")
    result = signups.signup_for(event.id, resident=resident, idempotency_key=key, waitlist=waitlist, source="api")
    body = {"signup": views.signup_view(result.signup), "event": views.event_view(result.event), "replay": result.replay}
    return jsonify(body), 200 if result.replay else 201


@route("/events/<int:event_id>/cancel", ["POST"], summary="Cancel my sign-up (the first on the waiting list "
       "gets the place and is told)", auth="resident", tags=TAGS, returns=schemas.EVENTS_CANCEL_MINE,
       errors={409: ["attended", "started"]})
def events_cancel_mine(event_id: int):
    resident = current_resident()
    signup = signups.find_signup(event_id, resident.id, None)
    if signup is None:
        raise NotFound("您没有报名这个活动 (not signed up)")
    result = signups.cancel_signup(signup.id, actor_type="resident", actor_id=resident.id)
    return jsonify({"signup": views.signup_view(result.signup), "already_cancelled": result.already})


@route("/my/signups", summary="My sign-ups with waiting positions (?all=true: past ones too)", auth="resident",
       tags=TAGS, query={"all": {"type": "boolean"}}, returns=schemas.EVENTS_MY_SIGNUPS)
def events_my_signups():
    resident = current_resident()
    statement = select(Signup).join(Event, Event.id == Signup.event_id).where(Signup.resident_id == resident.id)
    if request.args.get("all", "").lower() not in ("1", "true", "yes"):
        statement = statement.where(Event.ends_at > now(), Signup.status != SignupStatus.CANCELLED.value)
    page = paginate(statement.order_by(Event.starts_at, Signup.id), lambda s: views.signup_view(s, with_event=True))
    return jsonify(page)


@route("/my/signups/<int:signup_id>/code", summary="My check-in code (a signed token with a fresh nonce; show it "
       "as a QR code; it expires after LINLI_EVENT_CHECKIN_CODE_SECONDS)", auth="resident", tags=TAGS,
       returns=schemas.EVENTS_MY_CODE, errors={409: ["cancelled", "not_confirmed", "waiting"]})
def events_my_code(signup_id: int):
    resident = current_resident()
    signup = db.session.get(Signup, signup_id)
    if signup is None or signup.resident_id != resident.id:
        raise NotFound("没有找到这条报名 (no such sign-up)")
    code = checkin.make_checkin_code(signup)
    return jsonify({**code, "expires_at": iso(code["expires_at"]), "signup_id": signup.id})
