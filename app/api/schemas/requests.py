"""Response schemas of the requests (诉求) API (app/api/openapi.py explains the declarations)."""
from __future__ import annotations

from app.api.openapi import component, paged  # noqa: F401 - paged: used where a page is answered

STAFF_REQUEST_DETAIL = component("StaffRequestDetail", {
    "type": "object", "properties": {
        "assignee": {
            "type": ["object", "null"],
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {"type": ["string", "null"]}}},
        "building_id": {"type": ["integer", "null"]}, "category": {"type": "string"},
        "category_label": {"type": "string"}, "channel": {"type": "string"}, "code": {"type": "string"},
        "community_id": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
        "department": {"type": ["object", "null"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "department_id": {"type": ["integer", "null"]}, "due_at": {"type": "string", "format": "date-time"},
        "due_provisional": {"type": "boolean"}, "escalation_level": {"type": "string"},
        "first_reply_at": {"type": ["string", "null"], "format": "date-time"},
        "grid": {"type": ["object", "null"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "grid_id": {"type": ["integer", "null"]}, "group": {
            "type": ["object", "null"],
            "properties": {"channel": {"type": "string"}, "id": {"type": "integer"}, "name": {"type": "string"}}},
        "group_id": {"type": ["integer", "null"]}, "id": {"type": "integer"}, "level_label": {"type": "string"},
        "location": {"type": "string"},
        "merged_into": {"type": ["object", "null"], "properties": {"code": {"type": "string"}, "id": {"type": "integer"}}},
        "merged_into_id": {"type": ["integer", "null"]}, "overdue": {"type": "boolean"},
        "photos": {"type": "array", "items": {"type": "string"}}, "rating": {}, "rating_comment": {},
        "rating_label": {}, "reply_clock": {
            "type": "object", "properties": {
                "community_id": {"type": "integer"}, "due_at": {"type": "string", "format": "date-time"}, "group": {
                    "type": ["object", "null"],
                    "properties": {"channel": {"type": "string"}, "id": {"type": "integer"}, "name": {"type": "string"}}},
                "id": {"type": "integer"}, "message": {
                    "type": ["object", "null"], "properties": {
                        "channel": {"type": "string"}, "id": {"type": "integer"}, "msg_type": {"type": "string"},
                        "received_at": {"type": "string", "format": "date-time"}, "text": {"type": "string"}}},
                "overdue": {"type": "boolean"}, "request": {
                    "type": "object", "properties": {
                        "category": {"type": "string"}, "code": {"type": "string"}, "id": {"type": "integer"},
                        "status": {"type": "string"}, "text": {"type": "string"}, "title": {"type": "string"}}},
                "resident": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "phone": {"type": ["string", "null"]}}},
                "seconds_left": {"type": "integer"}, "started_at": {"type": "string", "format": "date-time"},
                "stopped_at": {"type": ["string", "null"], "format": "date-time"},
                "stopped_by_staff_id": {"type": ["integer", "null"]},
                "warn_at": {"type": "string", "format": "date-time"}}},
        "resident": {
            "type": "object", "properties": {
                "building_id": {"type": ["integer", "null"]}, "community_id": {"type": "integer"},
                "id": {"type": "integer"}, "name": {"type": ["string", "null"]},
                "nickname": {"type": ["string", "null"]}, "phone": {"type": ["string", "null"]},
                "room": {"type": ["string", "null"]}, "unit": {"type": ["string", "null"]}}},
        "resolution_note": {"type": ["string", "null"]},
        "resolution_photos": {"type": "array", "items": {"type": "string"}},
        "resolved_at": {"type": ["string", "null"], "format": "date-time"}, "room": {"type": ["string", "null"]},
        "seconds_to_due": {"type": ["integer", "null"]}, "status": {"type": "string"},
        "status_label": {"type": "string"}, "supervised_at": {"type": ["string", "null"], "format": "date-time"},
        "text": {"type": "string"}, "timeline": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "actor_id": {"type": ["integer", "null"]}, "actor_type": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"}, "detail": {
                        "type": "object", "properties": {
                            "building": {"type": "string"}, "building_id": {"type": ["integer", "null"]},
                            "category": {"type": "string"}, "classified_by": {"type": "string"},
                            "due_at": {"type": "string", "format": "date-time"},
                            "grid_id": {"type": ["integer", "null"]}, "location": {"type": "string"},
                            "message_id": {"type": ["integer", "null"]},
                            "photos": {"type": ["array", "integer", "null"], "items": {"type": "string"}},
                            "source": {"type": "string"}, "urgency": {"type": "string"}, "level": {"type": "string"},
                            "note": {"type": ["string", "null"]}, "delivered": {"type": "boolean"},
                            "department_id": {"type": ["integer", "null"]},
                            "department_name": {"type": ["string", "null"]}, "from_level": {"type": "string"},
                            "previous_assignee_id": {"type": ["integer", "null"]}, "reason": {"type": "string"},
                            "to_level": {"type": "string"}, "assignee_id": {"type": "integer"},
                            "staff_name": {"type": "string"}, "text": {"type": "string"}, "to": {"type": "string"},
                            "assignee_name": {"type": "string"}, "auto": {"type": "boolean"},
                            "into_code": {"type": "string"}, "into_id": {"type": "integer"},
                            "from_code": {"type": "string"}, "from_id": {"type": "integer"},
                            "resident_id": {"type": "integer"}, "from_category": {"type": "string"},
                            "from_due_at": {"type": "string", "format": "date-time"},
                            "from_urgency": {"type": "string"}, "to_category": {"type": "string"},
                            "to_due_at": {"type": "string", "format": "date-time"}, "to_urgency": {"type": "string"}}},
                    "from_status": {"type": ["string", "null"]}, "id": {"type": "integer"},
                    "kind": {"type": "string"}, "label": {"type": "string"},
                    "to_status": {"type": ["string", "null"]}}}},
        "title": {"type": "string"}, "unit": {"type": ["string", "null"]},
        "updated_at": {"type": "string", "format": "date-time"}, "urgency": {"type": "string"},
        "urgency_label": {"type": "string"}}})
MY_REQUEST = component("MyRequest", {
    "type": "object", "properties": {
        "can_rate": {"type": "boolean"}, "category": {"type": "string"}, "category_label": {"type": "string"},
        "classification": {
            "type": "object",
            "properties": {"by": {"type": "string"}, "message": {"type": ["string", "null"]}, "needs_choice": {"type": "boolean"}}},
        "code": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
        "due_at": {"type": "string", "format": "date-time"}, "due_provisional": {"type": "boolean"},
        "id": {"type": "integer"}, "location": {"type": ["string", "null"]}, "merged_into": {},
        "overdue": {"type": "boolean"}, "photos": {"type": "array", "items": {"type": "string"}}, "progress": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "at": {"type": "string", "format": "date-time"}, "from_status": {}, "id": {"type": "integer"},
                    "kind": {"type": "string"}, "label": {"type": "string"}, "photos": {"type": "array"}, "text": {},
                    "to_status": {"type": "string"}}}},
        "rating": {}, "reporter": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "phone": {"type": ["string", "null"]}}},
        "resolution_note": {}, "resolution_photos": {"type": "array"},
        "resolved_at": {"type": ["string", "null"], "format": "date-time"}, "status": {"type": "string"},
        "status_label": {"type": "string"}, "text": {"type": "string"}, "title": {"type": "string"}}})
REQUESTS_LIST = paged(
    {
        "type": "object", "properties": {
            "assignee": {
                "type": ["object", "null"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {}}},
            "building_id": {"type": ["integer", "null"]}, "category": {"type": "string"},
            "category_label": {"type": "string"}, "channel": {"type": "string"}, "code": {"type": "string"},
            "community_id": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
            "department_id": {"type": ["integer", "null"]}, "due_at": {"type": "string", "format": "date-time"},
            "due_provisional": {"type": "boolean"}, "escalation_level": {"type": "string"},
            "first_reply_at": {"type": ["string", "null"], "format": "date-time"},
            "grid_id": {"type": ["integer", "null"]}, "group_id": {"type": ["integer", "null"]},
            "id": {"type": "integer"}, "level_label": {"type": "string"}, "location": {"type": ["string", "null"]},
            "merged_into_id": {"type": ["integer", "null"]}, "overdue": {"type": "boolean"},
            "photos": {"type": "array", "items": {"type": "string"}}, "rating": {}, "rating_comment": {},
            "rating_label": {},
            "resident": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
            "resolution_note": {"type": ["string", "null"]},
            "resolved_at": {"type": ["string", "null"], "format": "date-time"}, "room": {"type": ["string", "null"]},
            "seconds_to_due": {"type": ["integer", "null"]}, "status": {"type": "string"},
            "status_label": {"type": "string"}, "supervised_at": {"type": ["string", "null"], "format": "date-time"},
            "text": {"type": "string"}, "title": {"type": "string"}, "unit": {"type": ["string", "null"]},
            "updated_at": {"type": "string", "format": "date-time"}, "urgency": {"type": "string"},
            "urgency_label": {"type": "string"}, "resolution_photos": {"type": "array"}}})
REQUESTS_TIMELINE = {
    "type": "object", "properties": {
        "code": {"type": "string"}, "items": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "actor_id": {"type": "integer"}, "actor_type": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"}, "detail": {
                        "type": "object", "properties": {
                            "building": {"type": "string"}, "building_id": {"type": "integer"},
                            "category": {"type": "string"}, "due_at": {"type": "string", "format": "date-time"},
                            "grid_id": {"type": "integer"}, "location": {"type": "string"},
                            "message_id": {"type": "integer"}, "photos": {"type": "integer"},
                            "source": {"type": "string"}, "urgency": {"type": "string"},
                            "department_id": {"type": "integer"}, "department_name": {"type": "string"},
                            "from_level": {"type": "string"}, "previous_assignee_id": {"type": ["integer", "null"]},
                            "reason": {"type": "string"}, "to_level": {"type": "string"}}},
                    "from_status": {"type": ["string", "null"]}, "id": {"type": "integer"},
                    "kind": {"type": "string"}, "label": {"type": "string"}, "to_status": {"type": "string"}}}},
        "request_id": {"type": "integer"}, "total": {"type": "integer"}}}
REQUESTS_REPLY = {
    "type": "object", "properties": {
        "assignee": {}, "building_id": {"type": "integer"}, "category": {"type": "string"},
        "category_label": {"type": "string"}, "channel": {"type": "string"}, "code": {"type": "string"},
        "community_id": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
        "department": {"type": ["object", "null"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "department_id": {"type": ["integer", "null"]}, "due_at": {"type": "string", "format": "date-time"},
        "due_provisional": {"type": "boolean"}, "escalation_level": {"type": "string"},
        "first_reply_at": {"type": "string", "format": "date-time"},
        "grid": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "grid_id": {"type": "integer"}, "group": {
            "type": "object",
            "properties": {"channel": {"type": "string"}, "id": {"type": "integer"}, "name": {"type": "string"}}},
        "group_id": {"type": "integer"}, "id": {"type": "integer"}, "level_label": {"type": "string"},
        "location": {"type": "string"}, "merged_into": {}, "merged_into_id": {"type": ["integer", "null"]},
        "message": {"type": "object", "properties": {"id": {"type": "integer"}, "status": {"type": "string"}}},
        "overdue": {"type": "boolean"}, "photos": {"type": "array"}, "rating": {}, "rating_comment": {},
        "rating_label": {}, "reply_clock": {
            "type": "object", "properties": {
                "community_id": {"type": "integer"}, "due_at": {"type": "string", "format": "date-time"}, "group": {
                    "type": "object",
                    "properties": {"channel": {"type": "string"}, "id": {"type": "integer"}, "name": {"type": "string"}}},
                "id": {"type": "integer"}, "message": {
                    "type": "object", "properties": {
                        "channel": {"type": "string"}, "id": {"type": "integer"}, "msg_type": {"type": "string"},
                        "received_at": {"type": "string", "format": "date-time"}, "text": {"type": "string"}}},
                "overdue": {"type": "boolean"}, "request": {
                    "type": "object", "properties": {
                        "category": {"type": "string"}, "code": {"type": "string"}, "id": {"type": "integer"},
                        "status": {"type": "string"}, "text": {"type": "string"}, "title": {"type": "string"}}},
                "resident": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "phone": {"type": "string"}}},
                "seconds_left": {"type": "integer"}, "started_at": {"type": "string", "format": "date-time"},
                "stopped_at": {"type": "string", "format": "date-time"}, "stopped_by_staff_id": {"type": "integer"},
                "warn_at": {"type": "string", "format": "date-time"}}},
        "resident": {
            "type": "object", "properties": {
                "building_id": {"type": ["integer", "null"]}, "community_id": {"type": "integer"},
                "id": {"type": "integer"}, "name": {"type": "string"}, "nickname": {"type": ["string", "null"]},
                "phone": {"type": "string"}, "room": {}, "unit": {}}},
        "resolution_note": {}, "resolved_at": {"type": ["string", "null"], "format": "date-time"}, "room": {},
        "seconds_to_due": {"type": "integer"}, "status": {"type": "string"}, "status_label": {"type": "string"},
        "supervised_at": {"type": ["string", "null"], "format": "date-time"}, "text": {"type": "string"},
        "timeline": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "actor_id": {"type": "integer"}, "actor_type": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"}, "detail": {
                        "type": "object", "properties": {
                            "building": {"type": "string"}, "building_id": {"type": "integer"},
                            "category": {"type": "string"}, "due_at": {"type": "string", "format": "date-time"},
                            "grid_id": {"type": "integer"}, "location": {"type": "string"},
                            "message_id": {"type": "integer"}, "photos": {"type": ["integer", "null"]},
                            "source": {"type": "string"}, "urgency": {"type": "string"},
                            "department_id": {"type": "integer"}, "department_name": {"type": "string"},
                            "from_level": {"type": "string"}, "previous_assignee_id": {"type": ["integer", "null"]},
                            "reason": {"type": "string"}, "to_level": {"type": "string"},
                            "staff_name": {"type": "string"}, "text": {"type": "string"}, "to": {"type": "string"}}},
                    "from_status": {"type": ["string", "null"]}, "id": {"type": "integer"},
                    "kind": {"type": "string"}, "label": {"type": "string"},
                    "to_status": {"type": ["string", "null"]}}}},
        "title": {"type": "string"}, "unit": {"type": "string"},
        "updated_at": {"type": "string", "format": "date-time"}, "urgency": {"type": "string"},
        "urgency_label": {"type": "string"}, "resolution_photos": {"type": "array"}}}
REQUESTS_STATS = {
    "type": "object", "properties": {
        "accepted": {"type": "integer"}, "basically": {"type": "integer"}, "escalated": {"type": "integer"},
        "from": {"type": "string", "format": "date"}, "merged": {"type": "integer"},
        "on_time_rate": {"type": ["number", "null"]}, "open": {"type": "integer"},
        "overdue_open": {"type": "integer"}, "per_category": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "accepted": {"type": "integer"}, "basically": {"type": "integer"}, "category": {"type": "string"},
                    "escalated": {"type": "integer"}, "label": {"type": "string"}, "merged": {"type": "integer"},
                    "on_time_rate": {"type": ["number", "null"]}, "open": {"type": "integer"},
                    "overdue_open": {"type": "integer"}, "rated": {"type": "integer"},
                    "rejected": {"type": "integer"}, "resolution_rate": {"type": ["number", "null"]},
                    "resolved": {"type": "integer"}, "resolved_by_level": {
                        "type": "object", "properties": {
                            "community": {"type": "integer"}, "department": {"type": "integer"},
                            "grid": {"type": "integer"}, "street": {"type": "integer"}}},
                    "resolved_on_time": {"type": "integer"}, "responded_in_time": {"type": "integer"},
                    "response_rate": {"type": "number"}, "satisfaction_rate": {"type": ["number", "null"]},
                    "satisfied": {"type": "integer"}, "solved_at_grid_level": {"type": "integer"},
                    "total": {"type": "integer"}, "unsatisfied": {"type": "integer"}}}},
        "rated": {"type": "integer"}, "rejected": {"type": "integer"},
        "resolution_rate": {"type": ["number", "null"]}, "resolved": {"type": "integer"}, "resolved_by_level": {
            "type": "object", "properties": {
                "community": {"type": "integer"}, "department": {"type": "integer"}, "grid": {"type": "integer"},
                "street": {"type": "integer"}}},
        "resolved_on_time": {"type": "integer"}, "responded_in_time": {"type": "integer"},
        "response_rate": {"type": ["number", "null"]}, "satisfaction_rate": {"type": ["number", "null"]},
        "satisfied": {"type": "integer"}, "solved_at_grid_level": {"type": "integer"},
        "to": {"type": "string", "format": "date"}, "total": {"type": "integer"}, "unsatisfied": {"type": "integer"}}}
REQUESTS_MINE = paged(
    {
        "type": "object", "properties": {
            "can_rate": {"type": "boolean"}, "category": {"type": "string"}, "category_label": {"type": "string"},
            "code": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
            "due_at": {"type": "string", "format": "date-time"}, "due_provisional": {"type": "boolean"},
            "id": {"type": "integer"}, "location": {"type": "string"}, "merged_into": {},
            "overdue": {"type": "boolean"}, "photos": {"type": "array", "items": {"type": "string"}}, "progress": {
                "type": "array", "items": {
                    "type": "object", "properties": {
                        "at": {"type": "string", "format": "date-time"}, "from_status": {"type": ["string", "null"]},
                        "id": {"type": "integer"}, "kind": {"type": "string"}, "label": {"type": "string"},
                        "text": {"type": ["string", "null"]}, "to_status": {"type": ["string", "null"]},
                        "photos": {"type": "array", "items": {"type": "string"}}}}},
            "rating": {"type": ["string", "null"]}, "reporter": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "phone": {"type": "string"}}},
            "resolution_note": {"type": ["string", "null"]},
            "resolved_at": {"type": ["string", "null"], "format": "date-time"}, "status": {"type": "string"},
            "status_label": {"type": "string"}, "text": {"type": "string"}, "title": {"type": "string"},
            "resolution_photos": {"type": "array", "items": {"type": "string"}}}})
REQUESTS_MINE_DETAIL = {
    "type": "object", "properties": {
        "can_rate": {"type": "boolean"}, "category": {"type": "string"}, "category_label": {"type": "string"},
        "code": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
        "due_at": {"type": "string", "format": "date-time"}, "due_provisional": {"type": "boolean"},
        "id": {"type": "integer"}, "location": {"type": "string"}, "merged_into": {}, "overdue": {"type": "boolean"},
        "photos": {"type": "array", "items": {"type": "string"}}, "progress": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "at": {"type": "string", "format": "date-time"}, "from_status": {"type": ["string", "null"]},
                    "id": {"type": "integer"}, "kind": {"type": "string"}, "label": {"type": "string"},
                    "text": {"type": ["string", "null"]}, "to_status": {"type": ["string", "null"]},
                    "photos": {"type": "array", "items": {"type": "string"}}}}},
        "rating": {}, "reporter": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "phone": {"type": ["string", "null"]}}},
        "resolution_note": {"type": ["string", "null"]},
        "resolved_at": {"type": ["string", "null"], "format": "date-time"}, "status": {"type": "string"},
        "status_label": {"type": "string"}, "text": {"type": "string"}, "title": {"type": "string"},
        "resolution_photos": {"type": "array", "items": {"type": "string"}}}}
REQUESTS_RATE_MINE = {
    "type": "object", "properties": {
        "can_rate": {"type": "boolean"}, "category": {"type": "string"}, "category_label": {"type": "string"},
        "code": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
        "due_at": {"type": "string", "format": "date-time"}, "due_provisional": {"type": "boolean"},
        "id": {"type": "integer"}, "location": {"type": "string"}, "merged_into": {}, "overdue": {"type": "boolean"},
        "photos": {"type": "array", "items": {"type": "string"}}, "progress": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "at": {"type": "string", "format": "date-time"}, "from_status": {"type": ["string", "null"]},
                    "id": {"type": "integer"}, "kind": {"type": "string"}, "label": {"type": "string"},
                    "text": {"type": ["string", "null"]}, "to_status": {"type": ["string", "null"]},
                    "photos": {"type": "array", "items": {"type": "string"}}}}},
        "rating": {"type": "string"}, "reporter": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "phone": {"type": "string"}}},
        "resolution_note": {"type": "string"}, "resolved_at": {"type": ["string", "null"], "format": "date-time"},
        "status": {"type": "string"}, "status_label": {"type": "string"}, "text": {"type": "string"},
        "title": {"type": "string"}, "resolution_photos": {"type": "array", "items": {"type": "string"}}}}
REQUESTS_CLASSIFY_TEXT = {
    "type": "object", "properties": {
        "building": {"type": ["string", "null"]}, "category": {"type": ["string", "null"]},
        "category_label": {"type": ["string", "null"]}, "confidence": {"type": "number"},
        "intent": {"type": "string"}, "room": {}, "unit": {"type": ["string", "null"]}, "urgency": {"type": "string"},
        "urgency_label": {"type": "string"}, "message": {"type": ["string", "null"]},
        "needs_choice": {"type": "boolean"}}}
