"""Response schemas of the requests (诉求) API: one component per view of app/handlers/requests/views.py
(app/api/openapi.py explains the declarations, app/api/schemas/common.py the shared shapes)."""
from __future__ import annotations

from app.api.openapi import component, nullable, obj, paged
from app.api.schemas.common import (
    BOOL,
    COUNTS,
    DATE,
    DETAIL,
    GROUP_BRIEF,
    INT,
    INT_N,
    NUM_N,
    QUEUED_MESSAGE,
    QUOTED_MESSAGE,
    RESIDENT_BRIEF_N,
    RESIDENT_FOR_STAFF_N,
    STAFF_BRIEF_N,
    STR,
    STR_N,
    STRS,
    TIME,
    TIME_N,
    array,
)
from app.models.requests import CATEGORY_LABELS, URGENCY_LABELS

# app/handlers/sla/alerting.py request_summary: the id, and what the request has of the rest.
REQUEST_SUMMARY = component("RequestSummary", obj({
    "id": INT, "code": STR, "category": STR, "status": STR, "title": STR, "text": STR},
    optional=("code", "category", "status", "title", "text")))
# app/handlers/sla/views.py clock_view: an inbox entry (kind reply) and a request's reply clock.
REPLY_CLOCK = component("ReplyClock", obj({
    "id": INT, "community_id": INT, "started_at": TIME, "warn_at": TIME, "due_at": TIME, "seconds_left": INT,
    "overdue": BOOL, "stopped_at": TIME_N, "stopped_by_staff_id": INT_N, "message": nullable(QUOTED_MESSAGE),
    "group": nullable(GROUP_BRIEF), "kind": {"type": "string", "enum": ["reply"], "description": "in the inbox"},
    # A sender the community does not know yet: the masked name the chat gave, no id.
    "resident": nullable(obj({"id": INT_N, "name": STR, "phone": STR_N})),
    "request": nullable(REQUEST_SUMMARY)}, optional=("kind",)))

# staff_request_view (a list row); the detail adds the people and places in full.
_REQUEST = {
    "id": INT, "code": STR, "community_id": INT, "status": STR, "status_label": STR, "category": STR,
    "category_label": STR, "urgency": STR, "urgency_label": STR, "title": STR, "text": STR, "location": STR_N,
    "building_id": INT_N, "unit": STR_N, "room": STR_N, "grid_id": INT_N, "group_id": INT_N, "channel": STR,
    "photos": STRS, "assignee": STAFF_BRIEF_N, "escalation_level": STR, "level_label": STR_N,
    "department_id": INT_N, "due_at": TIME, "due_provisional": BOOL, "overdue": BOOL,
    "seconds_to_due": {"type": ["integer", "null"], "description": "null once closed"},
    "supervised_at": TIME_N, "first_reply_at": TIME_N, "resolved_at": TIME_N, "resolution_note": STR_N,
    "resolution_photos": STRS, "rating": STR_N, "rating_label": STR_N, "rating_comment": STR_N,
    "merged_into_id": INT_N, "created_at": TIME, "updated_at": TIME,
    "resident": nullable(obj({"id": INT, "name": STR}))}
REQUEST = component("Request", obj(_REQUEST))
# timeline_entry_view for staff.
REQUEST_EVENT = component("RequestEvent", obj({
    "id": INT, "at": TIME, "kind": STR, "label": STR, "from_status": STR_N, "to_status": STR_N,
    "actor_type": STR, "actor_id": INT_N, "detail": DETAIL}))
STAFF_REQUEST_DETAIL = component("StaffRequestDetail", obj({
    **_REQUEST, "resident": RESIDENT_FOR_STAFF_N, "group": nullable(GROUP_BRIEF),
    "grid": nullable(obj({"id": INT, "name": STR})), "department": nullable(obj({"id": INT, "name": STR})),
    "merged_into": nullable(obj({"id": INT, "code": STR})), "reply_clock": nullable(REPLY_CLOCK),
    "timeline": array(REQUEST_EVENT)}))
# timeline_entry_view for the resident: internal steps left out, a line to read instead of the detail.
REQUEST_PROGRESS_STEP = component("RequestProgressStep", obj({
    "id": INT, "at": TIME, "kind": STR, "label": STR, "from_status": STR_N, "to_status": STR_N, "text": STR_N,
    "photos": STRS}))
# resident_request_view.
_MY_REQUEST = {
    "id": INT, "code": STR, "status": STR, "status_label": STR, "category": STR, "category_label": STR,
    "title": STR, "text": STR, "location": STR_N, "photos": STRS, "due_at": TIME, "due_provisional": BOOL,
    "overdue": BOOL, "created_at": TIME, "resolved_at": TIME_N, "resolution_note": STR_N, "resolution_photos": STRS,
    "rating": STR_N, "can_rate": BOOL, "merged_into": nullable(obj({"code": STR})), "reporter": RESIDENT_BRIEF_N,
    "progress": array(REQUEST_PROGRESS_STEP)}
MY_REQUEST = component("MyRequest", obj(_MY_REQUEST))
MY_FILED_REQUEST = component("MyFiledRequest", obj({**_MY_REQUEST, "classification": obj({
    "by": STR, "needs_choice": BOOL, "message": STR_N})}, description="MyRequest and how the form was classified"))

REQUESTS_LIST = paged(REQUEST)
REQUESTS_MINE = paged(MY_REQUEST)
REQUESTS_TIMELINE = obj({"request_id": INT, "code": STR, "items": array(REQUEST_EVENT), "total": INT})
REQUESTS_REPLY = {"allOf": [STAFF_REQUEST_DETAIL, obj({"message": nullable(QUEUED_MESSAGE)})]}
_STATS = {
    "total": INT, "accepted": INT, "rejected": INT, "merged": INT, "responded_in_time": INT, "response_rate": NUM_N,
    "resolved": INT, "resolution_rate": NUM_N, "resolved_on_time": INT, "on_time_rate": NUM_N, "rated": INT,
    "satisfied": INT, "basically": INT, "unsatisfied": INT, "satisfaction_rate": NUM_N,
    "solved_at_grid_level": INT, "resolved_by_level": COUNTS, "escalated": INT, "open": INT, "overdue_open": INT}
REQUESTS_STATS = obj({"from": DATE, "to": DATE, **_STATS,
                      "per_category": array(obj({"category": STR, "label": STR, **_STATS}))})
# app/handlers/requests/classify.py suggest.
REQUESTS_CLASSIFY_TEXT = obj({
    "category": {"type": ["string", "null"], "enum": [*CATEGORY_LABELS, None],
                 "description": "null when the bot finds no category (the form files it as other)"},
    "category_label": STR_N, "urgency": {"type": "string", "enum": list(URGENCY_LABELS)}, "urgency_label": STR_N,
    "building": STR_N, "unit": STR_N, "room": STR_N, "intent": STR, "confidence": {"type": "number"},
    "needs_choice": {"type": "boolean", "description": "true: the text names no problem the bot can place; "
                                                       "the form asks the resident to pick the category"},
    "message": {"type": ["string", "null"], "description": "what to tell the resident when needs_choice"}})
