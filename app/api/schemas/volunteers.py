"""Response schemas of the 双报到, hours and micro-wishes API: one component per view of
app/handlers/events/{volunteers,hours,wishes}.py (app/api/openapi.py explains the declarations)."""
from __future__ import annotations

from app.api.openapi import component, nullable, obj, paged
from app.api.schemas.common import (
    BOOL,
    BOOL_N,
    COMMUNITY_BRIEF,
    DATE,
    INT,
    INT_N,
    NAMED,
    NUM,
    RESIDENT_FOR_STAFF,
    STR,
    STR_N,
    STRS,
    TIME,
    TIME_N,
    array,
)

# member_view: staff see the phone, the member themselves does not need it.
_MEMBER = {"id": INT, "community_id": INT, "resident_id": INT_N, "kind": STR, "name": STR, "work_unit": STR_N,
           "party_org": STR_N, "registered_at": TIME, "active": BOOL, "phone": STR_N}
MEMBER = component("Member", obj(_MEMBER, optional=("phone",)))
# hours_view.
HOURS_ENTRY = component("HoursEntry", obj({
    "id": INT, "member_id": INT, "kind": STR, "hours": NUM, "minutes": INT, "served_on": DATE, "year": INT,
    "event_id": INT_N, "event_title": STR_N, "project_id": INT_N, "note": STR_N, "recorded_by": nullable(NAMED),
    "created_at": TIME}))
# member_year: a member's year against the target.
MEMBER_YEAR = component("MemberYear", obj({
    "member": MEMBER, "year": INT, "target_hours": NUM, "hours": NUM, "hours_checkin": NUM, "hours_admin": NUM,
    "hours_remaining": NUM, "met_hours": BOOL,
    "projects": array(obj({"id": INT, "name": STR, "chosen": BOOL, "served": BOOL})), "met_projects": BOOL,
    "met_target": {"type": ["boolean", "null"], "description": "null for a volunteer (no target)"},
    "events_attended": array(obj({"event_id": INT, "title": STR, "when": STR, "signup_id": INT})),
    "entries": array(HOURS_ENTRY)}))
MY_MEMBERSHIP = component("MyMembership", obj({"member": MEMBER, "year": MEMBER_YEAR}))
# wish_view: staff see the resident in full, others a masked name.
WISH = component("Wish", obj({
    "id": INT, "community_id": INT, "title": STR, "detail": STR_N, "status": STR, "created_at": TIME,
    "claimed_at": TIME_N, "fulfilled_at": TIME_N, "fulfil_note": STR_N,
    # anyOf: the staff view has a name too, so an answer may fit both.
    "resident": {"anyOf": [RESIDENT_FOR_STAFF, obj({"name": STR})], "description": "staff: in full; others: masked"},
    "claimed_by": nullable(NAMED)}))
# VolunteerProject.view.
VOLUNTEER_PROJECT = component("VolunteerProject", obj({
    "id": INT, "community_id": INT, "name": STR, "description": STR_N, "active": BOOL}))

VOLUNTEERS_PROJECTS = obj({"items": array(VOLUNTEER_PROJECT)})
VOLUNTEERS_PROJECT_CREATE = VOLUNTEER_PROJECT
VOLUNTEERS_MEMBERS = paged(obj({**_MEMBER, "hours": NUM, "met_target": BOOL_N, "projects": STRS},
                               optional=("phone",)))
VOLUNTEERS_HOURS = paged(HOURS_ENTRY)
VOLUNTEERS_HOURS_CREATE = HOURS_ENTRY
VOLUNTEERS_REPORT = obj({
    "community": COMMUNITY_BRIEF, "year": INT, "target_hours": NUM, "party_members": INT, "volunteers": INT,
    "party_members_met_target": INT, "hours": NUM, "hours_checkin": NUM, "hours_admin": NUM, "events": INT,
    "events_held": INT, "attendances": INT,
    "members": array(obj({"member_id": INT, "name": STR, "kind": STR, "phone": STR_N, "work_unit": STR_N,
                          "party_org": STR_N, "hours": NUM, "hours_checkin": NUM, "hours_admin": NUM,
                          "projects": STRS, "met_target": BOOL_N})),
    "event_rows": array(obj({"event_id": INT, "title": STR, "kind": STR, "when": STR, "date": DATE,
                             "capacity": INT_N, "signed_up": INT, "attended": INT, "waiting": INT, "cancelled": INT,
                             "held": BOOL, "volunteer_hours": NUM}))})
WISHES_MINE = paged(WISH)
WISHES_LIST = paged(WISH)
