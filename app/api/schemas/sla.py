"""Response schemas of the login, the reply SLA, the roster and the calendar API (app/api/openapi.py explains the declarations)."""
from __future__ import annotations

from app.api.openapi import component, paged  # noqa: F401 - paged: used where a page is answered

LOGIN = component("Login", {
    "type": "object", "properties": {
        "expires_at": {"type": "string", "format": "date-time"}, "token": {"type": "string"},
        "token_type": {"type": "string"}, "user": {
            "type": "object", "properties": {
                "community_id": {"type": ["integer", "null"]}, "id": {"type": "integer"}, "kind": {"type": "string"},
                "name": {"type": "string"}, "phone": {"type": ["string", "null"]}, "active": {"type": "boolean"},
                "department_id": {"type": ["integer", "null"]}, "grid_id": {"type": ["integer", "null"]},
                "roles": {"type": "array", "items": {"type": "string"}}, "street_id": {"type": ["integer", "null"]},
                "title": {}}}}})
ME = {
    "type": "object", "properties": {
        "kind": {"type": "string"}, "staff": {
            "type": "object", "properties": {
                "active": {"type": "boolean"}, "community_id": {"type": "integer"},
                "department_id": {"type": ["integer", "null"]}, "grid_id": {"type": ["integer", "null"]},
                "id": {"type": "integer"}, "name": {"type": "string"}, "phone": {"type": ["string", "null"]},
                "roles": {"type": "array", "items": {"type": "string"}}, "street_id": {"type": ["integer", "null"]},
                "title": {}}},
        "resident": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "phone": {"type": ["string", "null"]}}}}}
SLA_INBOX = paged(
    {
        "type": "object", "properties": {
            "community_id": {"type": "integer"}, "due_at": {"type": "string", "format": "date-time"}, "group": {
                "type": ["object", "null"],
                "properties": {"channel": {"type": "string"}, "id": {"type": "integer"}, "name": {"type": "string"}}},
            "id": {"type": "integer"}, "message": {
                "type": ["object", "null"], "properties": {
                    "channel": {"type": "string"}, "id": {"type": "integer"}, "msg_type": {"type": "string"},
                    "received_at": {"type": "string", "format": "date-time"}, "text": {"type": "string"}}},
            "overdue": {"type": "boolean"}, "request": {
                "type": ["object", "null"], "properties": {
                    "category": {"type": "string"}, "code": {"type": "string"}, "id": {"type": "integer"},
                    "status": {"type": "string"}, "text": {"type": "string"}, "title": {"type": "string"}}},
            "resident": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "phone": {"type": ["string", "null"]}}},
            "seconds_left": {"type": "integer"}, "started_at": {"type": "string", "format": "date-time"},
            "stopped_at": {"type": ["string", "null"], "format": "date-time"},
            "stopped_by_staff_id": {"type": ["integer", "null"]},
            "warn_at": {"type": "string", "format": "date-time"}, "kind": {"type": "string"}, "category": {},
            "category_label": {}, "created_at": {"type": "string", "format": "date-time"},
            "decided_at": {"type": ["string", "null"], "format": "date-time"},
            "decided_by_staff_id": {"type": ["integer", "null"]}, "likelihood": {"type": "number"}, "note": {},
            "slots": {"type": "object", "properties": {"building": {"type": "string"}}}, "status": {"type": "string"},
            "status_label": {"type": "string"}}},
    counts={"type": "object", "additionalProperties": {"type": "integer"}})
SLA_POSSIBLE_CONVERT = {
    "type": "object", "properties": {
        "possible": {
            "type": "object", "properties": {
                "category": {}, "category_label": {}, "community_id": {"type": "integer"},
                "created_at": {"type": "string", "format": "date-time"},
                "decided_at": {"type": "string", "format": "date-time"}, "decided_by_staff_id": {"type": "integer"},
                "group": {
                    "type": "object",
                    "properties": {"channel": {"type": "string"}, "id": {"type": "integer"}, "name": {"type": "string"}}},
                "id": {"type": "integer"}, "kind": {"type": "string"}, "likelihood": {"type": "number"}, "message": {
                    "type": "object", "properties": {
                        "channel": {"type": "string"}, "id": {"type": "integer"}, "msg_type": {"type": "string"},
                        "received_at": {"type": "string", "format": "date-time"}, "text": {"type": "string"}}},
                "note": {}, "request": {
                    "type": "object",
                    "properties": {"code": {"type": "string"}, "id": {"type": "integer"}, "status": {"type": "string"}}},
                "resident": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "phone": {}}},
                "slots": {"type": "object", "properties": {"building": {"type": "string"}}},
                "status": {"type": "string"}, "status_label": {"type": "string"}}},
        "request": {
            "type": "object", "properties": {
                "assignee": {}, "building_id": {"type": ["integer", "null"]}, "category": {"type": "string"},
                "category_label": {"type": "string"}, "channel": {"type": "string"}, "code": {"type": "string"},
                "community_id": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
                "department_id": {"type": ["integer", "null"]}, "due_at": {"type": "string", "format": "date-time"},
                "due_provisional": {"type": "boolean"}, "escalation_level": {"type": "string"},
                "first_reply_at": {"type": ["string", "null"], "format": "date-time"},
                "grid_id": {"type": ["integer", "null"]}, "group_id": {"type": "integer"}, "id": {"type": "integer"},
                "level_label": {"type": "string"}, "location": {"type": "string"},
                "merged_into_id": {"type": ["integer", "null"]}, "overdue": {"type": "boolean"},
                "photos": {"type": "array"}, "rating": {}, "rating_comment": {}, "rating_label": {},
                "resident": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
                "resolution_note": {}, "resolution_photos": {"type": "array"},
                "resolved_at": {"type": ["string", "null"], "format": "date-time"}, "room": {},
                "seconds_to_due": {"type": "integer"}, "status": {"type": "string"},
                "status_label": {"type": "string"},
                "supervised_at": {"type": ["string", "null"], "format": "date-time"}, "text": {"type": "string"},
                "title": {"type": "string"}, "unit": {}, "updated_at": {"type": "string", "format": "date-time"},
                "urgency": {"type": "string"}, "urgency_label": {"type": "string"}}}}}
SLA_POSSIBLE_DISMISS = {
    "type": "object", "properties": {
        "possible": {
            "type": "object", "properties": {
                "category": {}, "category_label": {}, "community_id": {"type": "integer"},
                "created_at": {"type": "string", "format": "date-time"},
                "decided_at": {"type": "string", "format": "date-time"}, "decided_by_staff_id": {"type": "integer"},
                "group": {
                    "type": "object",
                    "properties": {"channel": {"type": "string"}, "id": {"type": "integer"}, "name": {"type": "string"}}},
                "id": {"type": "integer"}, "kind": {"type": "string"}, "likelihood": {"type": "number"}, "message": {
                    "type": "object", "properties": {
                        "channel": {"type": "string"}, "id": {"type": "integer"}, "msg_type": {"type": "string"},
                        "received_at": {"type": "string", "format": "date-time"}, "text": {"type": "string"}}},
                "note": {"type": "string"}, "request": {},
                "resident": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "phone": {}}},
                "slots": {"type": "object", "properties": {"building": {"type": "string"}}},
                "status": {"type": "string"}, "status_label": {"type": "string"}}}}}
SLA_INBOX_REPLY = {
    "type": "object", "properties": {
        "clock": {
            "type": "object", "properties": {
                "community_id": {"type": "integer"}, "due_at": {"type": "string", "format": "date-time"}, "group": {
                    "type": ["object", "null"],
                    "properties": {"channel": {"type": "string"}, "id": {"type": "integer"}, "name": {"type": "string"}}},
                "id": {"type": "integer"}, "message": {
                    "type": ["object", "null"], "properties": {
                        "channel": {"type": "string"}, "id": {"type": "integer"}, "msg_type": {"type": "string"},
                        "received_at": {"type": "string", "format": "date-time"}, "text": {"type": "string"}}},
                "overdue": {"type": "boolean"}, "request": {
                    "type": ["object", "null"], "properties": {
                        "category": {"type": "string"}, "code": {"type": "string"}, "id": {"type": "integer"},
                        "status": {"type": "string"}, "text": {"type": "string"}, "title": {"type": "string"}}},
                "resident": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "phone": {"type": "string"}}},
                "seconds_left": {"type": "integer"}, "started_at": {"type": "string", "format": "date-time"},
                "stopped_at": {"type": "string", "format": "date-time"}, "stopped_by_staff_id": {"type": "integer"},
                "warn_at": {"type": "string", "format": "date-time"}}},
        "message": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "status": {"type": "string"}, "text": {"type": "string"}}}}}
ROSTER_LIST = paged(
    {
        "type": "object", "properties": {
            "community_id": {"type": "integer"}, "ends_at": {"type": "string", "format": "date-time"},
            "id": {"type": "integer"}, "is_lead": {"type": "boolean"}, "note": {"type": ["string", "null"]},
            "staff": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {"type": ["string", "null"]}}},
            "starts_at": {"type": "string", "format": "date-time"}}})
ROSTER_ON_DUTY = {
    "type": "object", "properties": {
        "at": {"type": "string", "format": "date-time"}, "lead": {
            "type": ["object", "null"],
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {"type": ["string", "null"]}}},
        "nobody_on_duty": {"type": "boolean"}, "shifts": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "community_id": {"type": "integer"}, "ends_at": {"type": "string", "format": "date-time"},
                    "id": {"type": "integer"}, "is_lead": {"type": "boolean"}, "note": {"type": ["string", "null"]},
                    "staff": {
                        "type": "object",
                        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {"type": ["string", "null"]}}},
                    "starts_at": {"type": "string", "format": "date-time"}}}}}}
ROSTER_MINE = paged(
    {
        "type": "object", "properties": {
            "community_id": {"type": "integer"}, "ends_at": {"type": "string", "format": "date-time"},
            "id": {"type": "integer"}, "is_lead": {"type": "boolean"}, "note": {},
            "staff": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {}}},
            "starts_at": {"type": "string", "format": "date-time"}}})
ROSTER_ADD_SHIFT = {
    "type": "object", "properties": {
        "community_id": {"type": "integer"}, "ends_at": {"type": "string", "format": "date-time"},
        "id": {"type": "integer"}, "is_lead": {"type": "boolean"}, "note": {"type": "string"},
        "staff": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {}}},
        "starts_at": {"type": "string", "format": "date-time"}}}
ROSTER_DELETE_SHIFT = {"type": "object", "properties": {"deleted": {"type": "integer"}}}
ROSTER_SWAP = {
    "type": "object", "properties": {
        "shifts": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "community_id": {"type": "integer"}, "ends_at": {"type": "string", "format": "date-time"},
                    "id": {"type": "integer"}, "is_lead": {"type": "boolean"}, "note": {"type": ["string", "null"]},
                    "staff": {
                        "type": "object",
                        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {"type": ["string", "null"]}}},
                    "starts_at": {"type": "string", "format": "date-time"}}}},
        "swap": {
            "type": "object", "properties": {
                "created_at": {"type": "string", "format": "date-time"}, "from_staff_id": {"type": "integer"},
                "id": {"type": "integer"}, "reason": {"type": ["string", "null"]}, "shift_a_id": {"type": "integer"},
                "shift_b_id": {"type": ["integer", "null"]}, "to_staff_id": {"type": "integer"}}}}}
ROSTER_GAPS = paged(
    {
        "type": "object", "properties": {
            "from": {"type": "string", "format": "date-time"}, "seconds": {"type": "integer"},
            "to": {"type": "string", "format": "date-time"}}},
    range_from={"type": "string", "format": "date-time"},
    range_to={"type": "string", "format": "date-time"},
    uncovered_seconds={"type": "integer"})
SLA_ALERTS = paged(
    {
        "type": "object", "properties": {
            "clock_id": {"type": "integer"}, "community_id": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"},
            "dispatched_at": {"type": "string", "format": "date-time"}, "id": {"type": "integer"},
            "key": {"type": "string"}, "kind": {"type": "string"}, "recipients": {
                "type": "array", "items": {
                    "type": "object", "properties": {
                        "attempts": {"type": "integer"}, "channel": {"type": "string"},
                        "delivered_at": {"type": ["string", "null"], "format": "date-time"},
                        "delivery": {"type": "string"}, "error": {}, "group": {
                            "type": ["object", "null"],
                            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
                        "message_id": {"type": "integer"}, "role": {"type": "string"}, "staff": {
                            "type": "object", "properties": {
                                "id": {"type": "integer"}, "name": {"type": "string"},
                                "title": {"type": ["string", "null"]}}},
                        "target": {"type": "string"}}}},
            "related": {
                "type": "object", "properties": {
                    "clock_id": {"type": "integer"}, "due_at": {"type": "string", "format": "date-time"},
                    "fired_by": {"type": "string"}, "group_id": {"type": ["integer", "null"]},
                    "message_id": {"type": ["integer", "null"]}, "request_id": {"type": ["integer", "null"]},
                    "started_at": {"type": "string", "format": "date-time"}}},
            "text": {"type": "string"}}})
SLA_STATS = {
    "type": "object", "properties": {
        "community": {
            "type": "object", "properties": {
                "clocks": {"type": "integer"}, "community_id": {"type": "integer"}, "late": {"type": "integer"},
                "median_seconds": {"type": ["number", "null"]}, "name": {"type": "string"},
                "open": {"type": "integer"}, "p90_seconds": {"type": ["number", "null"]},
                "rate": {"type": ["number", "null"]}, "replied": {"type": "integer"},
                "unanswered": {"type": "integer"}, "within": {"type": "integer"}}},
        "since": {"type": "string", "format": "date-time"}, "sla_seconds": {"type": "integer"}, "staff": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "clocks": {"type": "integer"}, "community_id": {"type": "integer"}, "late": {"type": "integer"},
                    "median_seconds": {"type": "number"}, "name": {"type": "string"}, "open": {"type": "integer"},
                    "p90_seconds": {"type": "number"}, "rate": {"type": "number"}, "replied": {"type": "integer"},
                    "staff_id": {"type": "integer"}, "unanswered": {"type": "integer"}, "within": {"type": "integer"}}}},
        "until": {"type": "string", "format": "date-time"}}}
IMPORT_CALENDAR_NOTICE = {
    "type": "object", "properties": {
        "applied": {"type": "boolean"}, "changes": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "day": {"type": "string", "format": "date"}, "kind": {"type": "string"},
                    "note": {"type": "string"}, "previous": {}}}},
        "followed": {
            "type": "object", "properties": {
                "cancelled_bookings": {"type": "array"}, "cases": {"type": "array"},
                "changed_days": {"type": "array", "items": {"type": "string", "format": "date"}},
                "requests": {"type": "array"}}},
        "holidays": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "days_off": {"type": "array", "items": {"type": "string", "format": "date"}},
                    "line": {"type": "integer"}, "name": {"type": "string"},
                    "workdays": {"type": "array", "items": {"type": "string", "format": "date"}}}}},
        "kept": {"type": "array"}, "warnings": {"type": "array"}, "year": {"type": "integer"}}}
