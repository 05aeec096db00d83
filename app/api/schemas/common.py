"""The value shapes and the people every part of the API shows (components/schemas, one model each).

Each component mirrors one view function (named beside it): its fields are the dict literal
that function writes, so all are ``required`` (present, null where the type allows it) unless
a branch adds them. app/api/openapi.py explains the declarations.
"""
from __future__ import annotations

from app.api.openapi import component, nullable, obj

STR = {"type": "string"}
STR_N = {"type": ["string", "null"]}
INT = {"type": "integer"}
INT_N = {"type": ["integer", "null"]}
NUM = {"type": "number"}
NUM_N = {"type": ["number", "null"]}
BOOL = {"type": "boolean"}
BOOL_N = {"type": ["boolean", "null"]}
TIME = {"type": "string", "format": "date-time"}
TIME_N = {"type": ["string", "null"], "format": "date-time"}
DATE = {"type": "string", "format": "date"}
DATE_N = {"type": ["string", "null"], "format": "date"}
STRS = {"type": "array", "items": STR}
INTS = {"type": "array", "items": INT}
COUNTS = {"type": "object", "additionalProperties": INT, "description": "a count per key"}
# A step's detail: what the kind of step records (free-form; the fields depend on the kind).
DETAIL = {"type": "object", "additionalProperties": True, "description": "what this kind of step records"}
DETAIL_N = {"type": ["object", "null"], "additionalProperties": True, "description": DETAIL["description"]}


def array(item: dict) -> dict:
    return {"type": "array", "items": item}


# Resident.staff_view: the staff API only, in the resident's community (phone unmasked).
RESIDENT_FOR_STAFF = component("ResidentForStaff", obj({
    "id": INT, "name": STR_N, "nickname": STR_N, "phone": STR_N, "community_id": INT_N, "building_id": INT_N,
    "unit": STR_N, "room": STR_N}))
# Resident.public_view / own_view: a name (masked, or whole to the resident themselves) and a masked phone.
RESIDENT_BRIEF = component("ResidentBrief", obj({"id": INT, "name": STR, "phone": STR_N}))
# Staff.public_view.
STAFF_BRIEF = component("StaffBrief", obj({"id": INT, "name": STR, "title": STR_N}))
# Staff.staff_view: a staff member's own account.
STAFF_ACCOUNT = component("StaffAccount", obj({
    "id": INT, "name": STR, "title": STR_N, "phone": STR_N, "community_id": INT_N, "street_id": INT_N,
    "grid_id": INT_N, "department_id": INT_N, "roles": STRS, "active": BOOL}))
NAMED = obj({"id": INT, "name": STR})
COMMUNITY_BRIEF = component("CommunityBrief", NAMED)
GROUP_BRIEF = component("GroupBrief", obj({"id": INT, "name": STR, "channel": STR}))
# A chat message as an inbox entry quotes it (app/handlers/sla/views.py clock_view, possible_view).
QUOTED_MESSAGE = component("QuotedMessage", obj({
    "id": INT, "text": STR_N, "msg_type": STR, "channel": STR, "received_at": TIME}))
# A message the API queued (a public reply): its id and delivery status.
QUEUED_MESSAGE = obj({"id": INT, "status": STR})

STAFF_BRIEF_N = nullable(STAFF_BRIEF)
RESIDENT_FOR_STAFF_N = nullable(RESIDENT_FOR_STAFF)
RESIDENT_BRIEF_N = nullable(RESIDENT_BRIEF)
