"""Response schemas of the events, sign-ups and check-in API (app/api/openapi.py explains the declarations)."""
from __future__ import annotations

from app.api.openapi import component, paged  # noqa: F401 - paged: used where a page is answered

STAFF_EVENT = component("StaffEvent", {
    "type": "object", "properties": {
        "aliases": {"type": "array", "items": {"type": "string"}},
        "announced_at": {"type": ["string", "null"], "format": "date-time"}, "audience": {"type": "string"},
        "audience_label": {"type": "string"}, "cancel_reason": {"type": ["string", "null"]},
        "cancelled_at": {"type": ["string", "null"], "format": "date-time"}, "capacity": {"type": "integer"},
        "community_id": {"type": "integer"}, "confirmed": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"}, "created_by_staff_id": {"type": ["integer", "null"]},
        "description": {"type": ["string", "null"]}, "ends_at": {"type": "string", "format": "date-time"},
        "id": {"type": "integer"}, "kind": {"type": "string"}, "kind_label": {"type": "string"},
        "place": {"type": ["string", "null"]}, "places_left": {"type": "integer"},
        "project_id": {"type": ["integer", "null"]},
        "published_at": {"type": ["string", "null"], "format": "date-time"}, "recurrence": {"type": "string"},
        "recurrence_text": {"type": ["string", "null"]}, "recurrence_until": {},
        "series_id": {"type": ["integer", "null"]}, "signup_deadline": {"type": "string", "format": "date-time"},
        "signup_open": {"type": "boolean"}, "starts_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string"}, "title": {"type": "string"}, "volunteer_hours": {"type": "number"},
        "waiting": {"type": "integer"}, "when": {"type": "string"}}})
CHECK_IN = component("CheckIn", {
    "type": "object", "properties": {
        "checkin": {
            "type": "object", "properties": {
                "at": {"type": "string", "format": "date-time"}, "id": {"type": "integer"},
                "kind": {"type": "string"}, "method": {"type": "string"}, "staff_id": {"type": "integer"}}},
        "hours_entry": {
            "type": ["object", "null"], "properties": {
                "created_at": {"type": "string", "format": "date-time"}, "event_id": {"type": "integer"},
                "event_title": {"type": "string"}, "hours": {"type": "number"}, "id": {"type": "integer"},
                "kind": {"type": "string"}, "member_id": {"type": "integer"}, "minutes": {"type": "integer"},
                "note": {"type": "string"}, "project_id": {"type": ["integer", "null"]},
                "recorded_by": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
                "served_on": {"type": "string", "format": "date"}, "year": {"type": "integer"}}},
        "replay": {"type": "boolean"}, "signup": {
            "type": "object", "properties": {
                "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
                "checked_in_at": {"type": "string", "format": "date-time"},
                "checked_out_at": {"type": ["string", "null"], "format": "date-time"},
                "confirmed_at": {"type": "string", "format": "date-time"},
                "created_at": {"type": "string", "format": "date-time"}, "event_id": {"type": "integer"},
                "id": {"type": "integer"}, "member": {
                    "type": ["object", "null"], "properties": {
                        "id": {"type": "integer"}, "kind": {"type": "string"}, "name": {"type": "string"},
                        "phone": {"type": ["string", "null"]}}},
                "promoted_at": {"type": ["string", "null"], "format": "date-time"},
                "reminded_at": {"type": ["string", "null"], "format": "date-time"}, "resident": {
                    "type": "object", "properties": {
                        "building_id": {"type": ["integer", "null"]}, "community_id": {"type": "integer"},
                        "id": {"type": "integer"}, "name": {"type": "string"}, "nickname": {},
                        "phone": {"type": ["string", "null"]}, "room": {"type": ["string", "null"]},
                        "unit": {"type": ["string", "null"]}}},
                "source": {"type": "string"}, "status": {"type": "string"}, "ticket": {"type": ["integer", "null"]},
                "waiting_position": {}}}}})
EVENTS_LIST = paged(
    {
        "type": "object", "properties": {
            "aliases": {"type": "array", "items": {"type": "string"}},
            "announced_at": {"type": ["string", "null"], "format": "date-time"}, "audience": {"type": "string"},
            "audience_label": {"type": "string"}, "cancel_reason": {},
            "cancelled_at": {"type": ["string", "null"], "format": "date-time"}, "capacity": {"type": "integer"},
            "community_id": {"type": "integer"}, "confirmed": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"},
            "created_by_staff_id": {"type": ["integer", "null"]}, "description": {"type": ["string", "null"]},
            "ends_at": {"type": "string", "format": "date-time"}, "id": {"type": "integer"},
            "kind": {"type": "string"}, "kind_label": {"type": "string"}, "place": {"type": "string"},
            "places_left": {"type": "integer"}, "project_id": {"type": ["integer", "null"]},
            "published_at": {"type": ["string", "null"], "format": "date-time"}, "recurrence": {"type": "string"},
            "recurrence_text": {"type": ["string", "null"]}, "recurrence_until": {},
            "series_id": {"type": ["integer", "null"]}, "signup_deadline": {"type": "string", "format": "date-time"},
            "signup_open": {"type": "boolean"}, "starts_at": {"type": "string", "format": "date-time"},
            "status": {"type": "string"}, "title": {"type": "string"}, "volunteer_hours": {"type": "number"},
            "waiting": {"type": "integer"}, "when": {"type": "string"}, "my_signup": {
                "type": ["object", "null"], "properties": {
                    "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
                    "checked_in_at": {"type": ["string", "null"], "format": "date-time"},
                    "checked_out_at": {"type": ["string", "null"], "format": "date-time"},
                    "confirmed_at": {"type": ["string", "null"], "format": "date-time"},
                    "created_at": {"type": "string", "format": "date-time"}, "event_id": {"type": "integer"},
                    "id": {"type": "integer"}, "promoted_at": {"type": ["string", "null"], "format": "date-time"},
                    "source": {"type": "string"}, "status": {"type": "string"},
                    "waiting_position": {"type": ["integer", "null"]}}}}})
EVENTS_GET = {
    "type": "object", "properties": {
        "aliases": {"type": "array", "items": {"type": "string"}}, "audience": {"type": "string"},
        "audience_label": {"type": "string"}, "capacity": {"type": "integer"}, "community_id": {"type": "integer"},
        "confirmed": {"type": "integer"}, "description": {}, "ends_at": {"type": "string", "format": "date-time"},
        "id": {"type": "integer"}, "kind": {"type": "string"}, "kind_label": {"type": "string"}, "my_signup": {
            "type": ["object", "null"], "properties": {
                "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
                "checked_in_at": {"type": ["string", "null"], "format": "date-time"},
                "checked_out_at": {"type": ["string", "null"], "format": "date-time"},
                "confirmed_at": {"type": ["string", "null"], "format": "date-time"},
                "created_at": {"type": "string", "format": "date-time"}, "event_id": {"type": "integer"},
                "id": {"type": "integer"}, "promoted_at": {"type": ["string", "null"], "format": "date-time"},
                "source": {"type": "string"}, "status": {"type": "string"}, "waiting_position": {"type": "integer"}}},
        "place": {"type": ["string", "null"]}, "places_left": {"type": "integer"},
        "project_id": {"type": ["integer", "null"]}, "recurrence": {"type": "string"}, "recurrence_text": {},
        "series_id": {"type": ["integer", "null"]}, "signup_deadline": {"type": "string", "format": "date-time"},
        "signup_open": {"type": "boolean"}, "starts_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string"}, "title": {"type": "string"}, "volunteer_hours": {"type": "number"},
        "waiting": {"type": "integer"}, "when": {"type": "string"}}}
EVENTS_ANNOUNCE = {
    "type": "object", "properties": {
        "event": STAFF_EVENT, "messages": {
            "type": "array", "items": {
                "type": "object",
                "properties": {"group_id": {"type": "integer"}, "id": {"type": "integer"}, "status": {"type": "string"}}}},
        "text": {"type": "string"}}}
EVENTS_SIGNUPS = {
    "type": "object", "properties": {
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}}, "event": STAFF_EVENT, "items": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
                    "checked_in_at": {"type": ["string", "null"], "format": "date-time"},
                    "checked_out_at": {"type": ["string", "null"], "format": "date-time"},
                    "confirmed_at": {"type": ["string", "null"], "format": "date-time"},
                    "created_at": {"type": "string", "format": "date-time"}, "event_id": {"type": "integer"},
                    "id": {"type": "integer"}, "member": {},
                    "promoted_at": {"type": ["string", "null"], "format": "date-time"},
                    "reminded_at": {"type": ["string", "null"], "format": "date-time"}, "resident": {
                        "type": "object", "properties": {
                            "building_id": {"type": ["integer", "null"]}, "community_id": {"type": "integer"},
                            "id": {"type": "integer"}, "name": {"type": ["string", "null"]}, "nickname": {},
                            "phone": {"type": ["string", "null"]}, "room": {"type": ["string", "null"]},
                            "unit": {"type": ["string", "null"]}}},
                    "source": {"type": "string"}, "status": {"type": "string"},
                    "ticket": {"type": ["integer", "null"]}, "waiting_position": {"type": ["integer", "null"]}}}}}}
EVENTS_SIGNUP_BY_STAFF = {
    "type": "object", "properties": {
        "replay": {"type": "boolean"}, "signup": {
            "type": "object", "properties": {
                "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
                "checked_in_at": {"type": ["string", "null"], "format": "date-time"},
                "checked_out_at": {"type": ["string", "null"], "format": "date-time"},
                "confirmed_at": {"type": ["string", "null"], "format": "date-time"},
                "created_at": {"type": "string", "format": "date-time"}, "event_id": {"type": "integer"},
                "id": {"type": "integer"}, "member": {
                    "type": ["object", "null"], "properties": {
                        "id": {"type": "integer"}, "kind": {"type": "string"}, "name": {"type": "string"},
                        "phone": {"type": "string"}}},
                "promoted_at": {"type": ["string", "null"], "format": "date-time"},
                "reminded_at": {"type": ["string", "null"], "format": "date-time"}, "resident": {
                    "type": ["object", "null"], "properties": {
                        "building_id": {"type": ["integer", "null"]}, "community_id": {"type": "integer"},
                        "id": {"type": "integer"}, "name": {"type": "string"}, "nickname": {}, "phone": {},
                        "room": {}, "unit": {}}},
                "source": {"type": "string"}, "status": {"type": "string"}, "ticket": {"type": ["integer", "null"]},
                "waiting_position": {"type": ["integer", "null"]}}}}}
EVENTS_CANCEL_SIGNUP_BY_STAFF = {
    "type": "object", "properties": {
        "promoted": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
                    "checked_in_at": {"type": ["string", "null"], "format": "date-time"},
                    "checked_out_at": {"type": ["string", "null"], "format": "date-time"},
                    "confirmed_at": {"type": "string", "format": "date-time"},
                    "created_at": {"type": "string", "format": "date-time"}, "event_id": {"type": "integer"},
                    "id": {"type": "integer"}, "member": {}, "promoted_at": {"type": "string", "format": "date-time"},
                    "reminded_at": {"type": ["string", "null"], "format": "date-time"}, "resident": {
                        "type": "object", "properties": {
                            "building_id": {"type": ["integer", "null"]}, "community_id": {"type": "integer"},
                            "id": {"type": "integer"}, "name": {"type": "string"}, "nickname": {}, "phone": {},
                            "room": {}, "unit": {}}},
                    "source": {"type": "string"}, "status": {"type": "string"}, "ticket": {"type": "integer"},
                    "waiting_position": {}}}},
        "signup": {
            "type": "object", "properties": {
                "cancelled_at": {"type": "string", "format": "date-time"},
                "checked_in_at": {"type": ["string", "null"], "format": "date-time"},
                "checked_out_at": {"type": ["string", "null"], "format": "date-time"},
                "confirmed_at": {"type": "string", "format": "date-time"},
                "created_at": {"type": "string", "format": "date-time"}, "event_id": {"type": "integer"},
                "id": {"type": "integer"}, "member": {
                    "type": "object", "properties": {
                        "id": {"type": "integer"}, "kind": {"type": "string"}, "name": {"type": "string"},
                        "phone": {"type": "string"}}},
                "promoted_at": {"type": ["string", "null"], "format": "date-time"},
                "reminded_at": {"type": ["string", "null"], "format": "date-time"}, "resident": {},
                "source": {"type": "string"}, "status": {"type": "string"}, "ticket": {}, "waiting_position": {}}}}}
EVENTS_SIGNUP = {
    "type": "object", "properties": {
        "event": {
            "type": "object", "properties": {
                "aliases": {"type": "array", "items": {"type": "string"}}, "audience": {"type": "string"},
                "audience_label": {"type": "string"}, "capacity": {"type": "integer"},
                "community_id": {"type": "integer"}, "confirmed": {"type": "integer"},
                "description": {"type": ["string", "null"]}, "ends_at": {"type": "string", "format": "date-time"},
                "id": {"type": "integer"}, "kind": {"type": "string"}, "kind_label": {"type": "string"},
                "my_signup": {}, "place": {"type": "string"}, "places_left": {"type": "integer"},
                "project_id": {"type": ["integer", "null"]}, "recurrence": {"type": "string"},
                "recurrence_text": {"type": ["string", "null"]}, "series_id": {"type": ["integer", "null"]},
                "signup_deadline": {"type": "string", "format": "date-time"}, "signup_open": {"type": "boolean"},
                "starts_at": {"type": "string", "format": "date-time"}, "status": {"type": "string"},
                "title": {"type": "string"}, "volunteer_hours": {"type": "number"}, "waiting": {"type": "integer"},
                "when": {"type": "string"}}},
        "replay": {"type": "boolean"}, "signup": {
            "type": "object", "properties": {
                "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
                "checked_in_at": {"type": ["string", "null"], "format": "date-time"},
                "checked_out_at": {"type": ["string", "null"], "format": "date-time"},
                "confirmed_at": {"type": ["string", "null"], "format": "date-time"},
                "created_at": {"type": "string", "format": "date-time"}, "event_id": {"type": "integer"},
                "id": {"type": "integer"}, "promoted_at": {"type": ["string", "null"], "format": "date-time"},
                "source": {"type": "string"}, "status": {"type": "string"},
                "waiting_position": {"type": ["integer", "null"]}}}}}
EVENTS_CANCEL_MINE = {
    "type": "object", "properties": {
        "already_cancelled": {"type": "boolean"}, "signup": {
            "type": "object", "properties": {
                "cancelled_at": {"type": "string", "format": "date-time"},
                "checked_in_at": {"type": ["string", "null"], "format": "date-time"},
                "checked_out_at": {"type": ["string", "null"], "format": "date-time"},
                "confirmed_at": {"type": "string", "format": "date-time"},
                "created_at": {"type": "string", "format": "date-time"}, "event_id": {"type": "integer"},
                "id": {"type": "integer"}, "promoted_at": {"type": ["string", "null"], "format": "date-time"},
                "source": {"type": "string"}, "status": {"type": "string"}, "waiting_position": {}}}}}
EVENTS_MY_SIGNUPS = paged(
    {
        "type": "object", "properties": {
            "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
            "checked_in_at": {"type": ["string", "null"], "format": "date-time"},
            "checked_out_at": {"type": ["string", "null"], "format": "date-time"},
            "confirmed_at": {"type": ["string", "null"], "format": "date-time"},
            "created_at": {"type": "string", "format": "date-time"}, "event": {
                "type": "object", "properties": {
                    "aliases": {"type": "array", "items": {"type": "string"}}, "audience": {"type": "string"},
                    "audience_label": {"type": "string"}, "capacity": {"type": "integer"},
                    "community_id": {"type": "integer"}, "confirmed": {"type": "integer"},
                    "description": {"type": ["string", "null"]}, "ends_at": {"type": "string", "format": "date-time"},
                    "id": {"type": "integer"}, "kind": {"type": "string"}, "kind_label": {"type": "string"},
                    "my_signup": {}, "place": {"type": "string"}, "places_left": {"type": "integer"},
                    "project_id": {"type": ["integer", "null"]}, "recurrence": {"type": "string"},
                    "recurrence_text": {"type": ["string", "null"]}, "series_id": {"type": ["integer", "null"]},
                    "signup_deadline": {"type": "string", "format": "date-time"}, "signup_open": {"type": "boolean"},
                    "starts_at": {"type": "string", "format": "date-time"}, "status": {"type": "string"},
                    "title": {"type": "string"}, "volunteer_hours": {"type": "number"},
                    "waiting": {"type": "integer"}, "when": {"type": "string"}}},
            "event_id": {"type": "integer"}, "id": {"type": "integer"},
            "promoted_at": {"type": ["string", "null"], "format": "date-time"}, "source": {"type": "string"},
            "status": {"type": "string"}, "waiting_position": {"type": ["integer", "null"]}}})
EVENTS_MY_CODE = {
    "type": "object", "properties": {
        "action": {"type": "string"}, "code": {"type": "string"},
        "expires_at": {"type": "string", "format": "date-time"}, "nonce": {"type": "string"},
        "signup_id": {"type": "integer"}}}
