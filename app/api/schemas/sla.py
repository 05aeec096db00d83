"""Response schemas of the login, the reply SLA, the roster and the calendar API
(app/api/openapi.py explains the declarations, app/api/schemas/common.py the shared shapes)."""
from __future__ import annotations

from app.api.openapi import component, nullable, obj, paged
from app.api.schemas.common import (
    BOOL,
    COUNTS,
    DATE,
    DETAIL_N,
    GROUP_BRIEF,
    INT,
    INT_N,
    NUM,
    NUM_N,
    QUEUED_MESSAGE,
    QUOTED_MESSAGE,
    RESIDENT_BRIEF,
    RESIDENT_BRIEF_N,
    STAFF_ACCOUNT,
    STAFF_BRIEF,
    STAFF_BRIEF_N,
    STR,
    STR_N,
    TIME,
    TIME_N,
    array,
)
from app.api.schemas.requests import REPLY_CLOCK, REQUEST

# app/api/auth.py _login_response: a staff account or the resident themselves, with its kind.
LOGIN = component("Login", obj({"token": STR, "token_type": {"type": "string", "enum": ["Bearer"]},
                                "expires_at": TIME, "user": {"oneOf": [
                                    {"allOf": [STAFF_ACCOUNT, obj({"kind": {"type": "string", "enum": ["staff"]}})]},
                                    {"allOf": [RESIDENT_BRIEF, obj({"kind": {"type": "string", "enum": ["resident"]},
                                                                    "community_id": INT_N})]}]}}))
ME = obj({"kind": {"type": "string", "enum": ["staff", "resident"]}, "staff": STAFF_ACCOUNT,
          "resident": RESIDENT_BRIEF}, optional=("staff", "resident"))
# app/handlers/requests/possible.py possible_view: an inbox entry of kind possible_request.
POSSIBLE_REQUEST = component("PossibleRequest", obj({
    "kind": {"type": "string", "enum": ["possible_request"]}, "id": INT, "community_id": INT, "status": STR,
    "status_label": STR_N, "created_at": TIME, "likelihood": NUM, "category": STR_N, "category_label": STR_N,
    "slots": {"type": "object", "additionalProperties": True, "description": "building, unit, room as the bot read them"},
    "message": nullable(QUOTED_MESSAGE), "group": nullable(GROUP_BRIEF), "resident": RESIDENT_BRIEF_N,
    "decided_by_staff_id": INT_N, "decided_at": TIME_N, "note": STR_N,
    "request": nullable(obj({"id": INT, "code": STR, "status": STR}))}))
SLA_INBOX = paged({"oneOf": [REPLY_CLOCK, POSSIBLE_REQUEST], "discriminator": {"propertyName": "kind"}},
                  counts=COUNTS)
SLA_POSSIBLE_CONVERT = obj({"possible": POSSIBLE_REQUEST, "request": REQUEST})
SLA_POSSIBLE_DISMISS = obj({"possible": POSSIBLE_REQUEST})
SLA_INBOX_REPLY = obj({"clock": REPLY_CLOCK, "message": nullable(obj({**QUEUED_MESSAGE["properties"], "text": STR_N}))})
# app/handlers/sla/roster.py shift_view.
SHIFT = component("Shift", obj({"id": INT, "community_id": INT, "staff": STAFF_BRIEF, "starts_at": TIME,
                                "ends_at": TIME, "is_lead": BOOL, "note": STR_N}))
ROSTER_LIST = paged(SHIFT)
ROSTER_ON_DUTY = obj({"at": TIME, "shifts": array(SHIFT), "lead": STAFF_BRIEF_N, "nobody_on_duty": BOOL})
ROSTER_MINE = paged(SHIFT)
ROSTER_ADD_SHIFT = SHIFT
ROSTER_DELETE_SHIFT = obj({"deleted": INT})
ROSTER_SWAP = obj({"swap": obj({"id": INT, "shift_a_id": INT, "shift_b_id": INT_N, "from_staff_id": INT,
                                "to_staff_id": INT, "reason": STR_N, "created_at": TIME}),
                   "shifts": array(SHIFT)})
ROSTER_GAPS = paged(obj({"from": TIME, "to": TIME, "seconds": INT}), range_from=TIME, range_to=TIME,
                    uncovered_seconds=INT)
# app/handlers/alerts.py alert_view and recipient_view.
ALERT = component("Alert", obj({
    "id": INT, "key": STR, "kind": STR, "community_id": INT, "clock_id": INT_N, "text": STR, "related": DETAIL_N,
    "created_at": TIME, "dispatched_at": TIME_N, "recipients": array(obj({
        "staff": STAFF_BRIEF_N, "role": STR, "target": STR, "channel": STR_N, "group": nullable(obj({"id": INT, "name": STR})),
        "message_id": INT_N, "delivery": STR, "attempts": INT, "error": STR_N, "delivered_at": TIME_N}))}))
SLA_ALERTS = paged(ALERT)
# app/handlers/sla/views.py summarise, per community and per staff member.
_SLA_SUMMARY = {"clocks": INT, "replied": INT, "within": INT, "late": INT, "unanswered": INT, "open": INT,
                "rate": NUM_N, "median_seconds": NUM_N, "p90_seconds": NUM_N}
SLA_STATS = obj({"since": TIME, "until": TIME, "sla_seconds": INT,
                 "community": obj({"community_id": INT, "name": STR, **_SLA_SUMMARY}),
                 "staff": array(obj({"staff_id": INT, "name": STR, "community_id": INT_N, **_SLA_SUMMARY}))})
# app/handlers/calendar/notice_import.py plan_view and calendar_sync FollowReport.view.
_DAY = {"type": "string", "enum": ["workday", "holiday"]}
_MOVED = array(obj({"id": INT, "code": STR, "from_due_at": TIME_N, "to_due_at": TIME_N}))
IMPORT_CALENDAR_NOTICE = obj({
    "year": INT, "applied": BOOL,
    "holidays": array(obj({"name": STR, "line": INT, "days_off": array(DATE), "workdays": array(DATE)})),
    "warnings": array(obj({"line": INT, "reason": STR})),
    "changes": array(obj({"day": DATE, "kind": nullable(_DAY), "note": STR_N,
                          "previous": nullable(obj({"kind": _DAY, "note": STR_N}))})),
    "kept": array(obj({"day": DATE, "kind": _DAY, "note": STR_N})),
    "followed": obj({"changed_days": array(DATE), "requests": _MOVED, "cases": _MOVED,
                     "cancelled_bookings": array(obj({"id": INT, "code": STR}))})})
