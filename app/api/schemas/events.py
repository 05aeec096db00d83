"""Response schemas of the events (活动) API: one component per view of app/handlers/events/views.py
(app/api/openapi.py explains the declarations, app/api/schemas/common.py the shared shapes)."""
from __future__ import annotations

from app.api.openapi import component, nullable, obj, paged
from app.api.schemas.common import (
    BOOL,
    COUNTS,
    INT,
    INT_N,
    NUM,
    RESIDENT_FOR_STAFF_N,
    STR,
    STR_N,
    STRS,
    TIME,
    TIME_N,
    array,
)
from app.api.schemas.volunteers import HOURS_ENTRY

# signup_view: a resident's own; the staff view adds who signed up and the queue ticket.
_SIGNUP = {
    "id": INT, "event_id": INT, "status": STR,
    "waiting_position": {"type": ["integer", "null"], "description": "1 = next to get a place; null unless waiting"},
    "source": STR, "created_at": TIME, "confirmed_at": TIME_N, "promoted_at": TIME_N, "cancelled_at": TIME_N,
    "checked_in_at": TIME_N, "checked_out_at": TIME_N}
SIGNUP = component("Signup", obj(_SIGNUP))
STAFF_SIGNUP = component("StaffSignup", obj({
    **_SIGNUP, "resident": RESIDENT_FOR_STAFF_N,
    "member": nullable(obj({"id": INT, "name": STR, "kind": STR, "phone": STR_N})), "ticket": INT_N,
    "reminded_at": TIME_N}))
# event_view: a resident's (with their sign-up); the staff view adds the organisers' marks instead.
_EVENT = {
    "id": INT, "community_id": INT, "series_id": INT_N, "title": STR, "kind": STR, "kind_label": STR,
    "description": STR_N, "place": STR_N, "starts_at": TIME, "ends_at": TIME, "when": STR, "recurrence": STR,
    "recurrence_text": STR_N, "capacity": {"type": ["integer", "null"], "description": "null: no limit"},
    "confirmed": INT, "places_left": {"type": ["integer", "null"], "description": "null: no limit"},
    "waiting": INT, "signup_deadline": TIME, "audience": STR, "audience_label": STR, "volunteer_hours": NUM,
    "aliases": STRS, "project_id": INT_N, "status": STR, "signup_open": BOOL}
EVENT = component("Event", obj({**_EVENT, "my_signup": nullable(SIGNUP)}))
STAFF_EVENT = component("StaffEvent", obj({
    **_EVENT, "published_at": TIME_N, "announced_at": TIME_N, "cancelled_at": TIME_N, "cancel_reason": STR_N,
    "recurrence_until": TIME_N, "created_at": TIME, "created_by_staff_id": INT_N}))
# The door's scan (app/api/events.py _scan).
CHECK_IN = component("CheckIn", obj({
    "signup": STAFF_SIGNUP, "replay": BOOL,
    "checkin": obj({"id": INT, "kind": STR, "method": STR, "at": TIME, "staff_id": INT_N}),
    "hours_entry": nullable(HOURS_ENTRY)}))

EVENTS_LIST = paged({"oneOf": [STAFF_EVENT, EVENT], "description": "staff: StaffEvent; residents: Event"})
EVENTS_GET = {"oneOf": [STAFF_EVENT, EVENT], "description": "staff: StaffEvent; residents: Event"}
EVENTS_ANNOUNCE = obj({"event": STAFF_EVENT, "text": STR,
                       "messages": array(obj({"id": INT, "group_id": INT_N, "status": STR}))})
EVENTS_SIGNUPS = obj({"event": STAFF_EVENT, "counts": COUNTS, "items": array(STAFF_SIGNUP)})
EVENTS_SIGNUP_BY_STAFF = obj({"signup": STAFF_SIGNUP, "replay": BOOL})
EVENTS_CANCEL_SIGNUP_BY_STAFF = obj({"signup": STAFF_SIGNUP, "promoted": array(STAFF_SIGNUP)})
EVENTS_SIGNUP = obj({"signup": SIGNUP, "event": EVENT, "replay": BOOL})
EVENTS_CANCEL_MINE = obj({"signup": SIGNUP, "already_cancelled": BOOL})
EVENTS_MY_SIGNUPS = paged(component("SignupWithEvent", obj({**_SIGNUP, "event": EVENT})))
EVENTS_MY_CODE = obj({"code": STR, "nonce": STR, "expires_at": TIME,
                      "action": {"type": "string", "enum": ["checkin", "checkout"]}, "signup_id": INT})
