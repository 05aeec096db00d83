"""Response schemas of the proxy-handling (代办): catalogue, stations, bookings, cases API (app/api/openapi.py explains the declarations)."""
from __future__ import annotations

from app.api.openapi import component, paged  # noqa: F401 - paged: used where a page is answered

STAFF_BOOKING = component("StaffBooking", {
    "type": "object", "properties": {
        "cancel_reason": {"type": ["string", "null"]},
        "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
        "cancelled_by": {"type": ["string", "null"]}, "case_code": {"type": ["string", "null"]},
        "case_id": {"type": ["integer", "null"]},
        "checked_in_at": {"type": ["string", "null"], "format": "date-time"}, "code": {"type": "string"},
        "completed_at": {"type": ["string", "null"], "format": "date-time"},
        "created_at": {"type": "string", "format": "date-time"},
        "handed_over_at": {"type": ["string", "null"], "format": "date-time"}, "handed_over_to": {
            "type": ["object", "null"],
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {}}},
        "id": {"type": "integer"}, "no_show_at": {"type": ["string", "null"], "format": "date-time"}, "note": {},
        "reminded_day_before_at": {"type": ["string", "null"], "format": "date-time"},
        "reminded_hour_before_at": {"type": ["string", "null"], "format": "date-time"},
        "reschedule_count": {"type": "integer"}, "resident": {
            "type": "object", "properties": {
                "building_id": {"type": ["integer", "null"]}, "community_id": {"type": "integer"},
                "id": {"type": "integer"}, "name": {"type": "string"}, "nickname": {}, "phone": {"type": "string"},
                "room": {"type": ["string", "null"]}, "unit": {"type": ["string", "null"]}}},
        "service_item": {
            "type": "object", "properties": {
                "id": {"type": "integer"}, "key": {"type": "string"},
                "materials": {"type": "array", "items": {"type": "string"}}, "name": {"type": "string"}}},
        "slot_end": {"type": "string", "format": "date-time"},
        "slot_start": {"type": "string", "format": "date-time"}, "source": {"type": "string"}, "station": {
            "type": "object",
            "properties": {"address": {"type": "string"}, "id": {"type": "integer"}, "name": {"type": "string"}}},
        "status": {"type": "string"}, "status_label": {"type": "string"}}})
CASE_DETAIL = component("CaseDetail", {
    "type": "object", "properties": {
        "booking_id": {"type": ["integer", "null"]}, "code": {"type": "string"}, "community_id": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "decided_at": {"type": ["string", "null"], "format": "date-time"}, "department": {"type": "string"},
        "done_at": {"type": ["string", "null"], "format": "date-time"},
        "due_at": {"type": "string", "format": "date-time"}, "due_provisional": {"type": "boolean"}, "events": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "action": {"type": "string"}, "at": {"type": "string", "format": "date-time"}, "detail": {
                        "type": ["object", "null"], "properties": {
                            "booking_id": {"type": ["integer", "null"]},
                            "due_at": {"type": "string", "format": "date-time"},
                            "responsible_staff_id": {"type": "integer"}, "department": {"type": "string"},
                            "from_staff_id": {"type": "integer"}, "to_staff_id": {"type": "integer"}}},
                    "from_status": {"type": ["string", "null"]}, "note": {"type": ["string", "null"]},
                    "staff": {"type": "string"}, "status_label": {"type": "string"}, "to_status": {"type": "string"}}}},
        "forwarded_at": {"type": ["string", "null"], "format": "date-time"}, "id": {"type": "integer"},
        "next": {"type": "array", "items": {"type": "string"}}, "note": {"type": ["string", "null"]},
        "overdue": {"type": "boolean"}, "resident": {
            "type": "object", "properties": {
                "building_id": {"type": ["integer", "null"]}, "community_id": {"type": "integer"},
                "id": {"type": "integer"}, "name": {"type": "string"}, "nickname": {}, "phone": {"type": "string"},
                "room": {"type": ["string", "null"]}, "unit": {"type": ["string", "null"]}}},
        "responsible": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {}}},
        "service_item": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "key": {"type": "string"}, "name": {"type": "string"}}},
        "status": {"type": "string"}, "status_label": {"type": "string"},
        "updated_at": {"type": "string", "format": "date-time"}}})
BOOKING = component("Booking", {
    "type": "object", "properties": {
        "cancelled_at": {"type": ["string", "null"], "format": "date-time"}, "case_code": {},
        "checked_in_at": {"type": ["string", "null"], "format": "date-time"}, "code": {"type": "string"},
        "completed_at": {"type": ["string", "null"], "format": "date-time"},
        "created_at": {"type": "string", "format": "date-time"}, "id": {"type": "integer"},
        "reschedule_count": {"type": "integer"}, "service_item": {
            "type": "object", "properties": {
                "id": {"type": "integer"}, "key": {"type": "string"},
                "materials": {"type": "array", "items": {"type": "string"}}, "name": {"type": "string"}}},
        "slot_end": {"type": "string", "format": "date-time"},
        "slot_start": {"type": "string", "format": "date-time"}, "station": {
            "type": "object",
            "properties": {"address": {"type": "string"}, "id": {"type": "integer"}, "name": {"type": "string"}}},
        "status": {"type": "string"}, "status_label": {"type": "string"}}})
STATION = component("Station", {
    "type": "object", "properties": {
        "active": {"type": "boolean"}, "address": {"type": ["string", "null"]}, "capacity": {"type": "integer"},
        "closures": {"type": "array"}, "community_id": {"type": "integer"}, "hours": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "capacity": {"type": ["integer", "null"]}, "closes": {"type": "string"},
                    "opens": {"type": "string"}, "weekday": {"type": "integer"}, "weekday_label": {"type": "string"}}}},
        "id": {"type": "integer"}, "name": {"type": "string"}, "phone": {}, "slot_minutes": {"type": "integer"}}})
CATALOGUE_ITEM = component("CatalogueItem", {
    "type": "object", "properties": {
        "active": {"type": "boolean"}, "aliases": {"type": "array", "items": {"type": "string"}},
        "community_id": {"type": "integer"}, "department": {"type": ["string", "null"]},
        "eligibility": {"type": ["string", "null"]}, "id": {"type": "integer"}, "key": {"type": "string"},
        "materials": {"type": "array", "items": {"type": "string"}}, "name": {"type": "string"},
        "notes": {"type": ["string", "null"]}, "sort_order": {"type": "integer"},
        "time_limit_workdays": {"type": "integer"}, "visit_required": {"type": "boolean"}}})
CATALOGUE = component("Catalogue", {
    "type": "object",
    "properties": {"community_id": {"type": "integer"}, "items": {"type": "array", "items": CATALOGUE_ITEM}}})
PROXY_CATALOGUE_LOAD_DEFAULT = {
    "type": "object", "properties": {
        "created": {"type": "array"}, "unchanged": {"type": "array", "items": {"type": "string"}},
        "updated": {"type": "array"}}}
PROXY_STATIONS = {
    "type": "object",
    "properties": {"community_id": {"type": "integer"}, "stations": {"type": "array", "items": STATION}}}
PROXY_STATION_CLOSE = {
    "type": "object", "properties": {
        "cancelled_bookings": {"type": "array", "items": {"type": "string"}},
        "date": {"type": "string", "format": "date"}, "reason": {"type": ["string", "null"]}}}
PROXY_STATION_REOPEN = {"type": "object", "properties": {"date": {"type": "string", "format": "date"}, "reopened": {"type": "boolean"}}}
PROXY_STATION_SLOTS = {
    "type": "object", "properties": {
        "date": {"type": "string", "format": "date"}, "hours": {
            "type": "array", "items": {
                "type": "object",
                "properties": {"capacity": {"type": "integer"}, "closes": {"type": "string"}, "opens": {"type": "string"}}}},
        "kind": {"type": "string"}, "message": {"type": ["string", "null"]}, "open": {"type": "boolean"},
        "reason": {"type": ["string", "null"]}, "slots": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "booked": {"type": "integer"}, "capacity": {"type": "integer"},
                    "end": {"type": "string", "format": "date-time"}, "free": {"type": "integer"},
                    "start": {"type": "string", "format": "date-time"}, "station_id": {"type": "integer"}}}},
        "station_id": {"type": "integer"}}}
PROXY_PUBLIC_CASES = paged(
    {
        "type": "object", "properties": {
            "code": {"type": "string"}, "department": {"type": "string"},
            "done_at": {"type": ["string", "null"], "format": "date-time"},
            "due_date": {"type": "string", "format": "date"}, "due_provisional": {"type": "boolean"},
            "item": {"type": "string"}, "item_key": {"type": "string"}, "overdue": {"type": "boolean"},
            "resident": {"type": "string"}, "responsible": {"type": "string"}, "status": {"type": "string"},
            "status_label": {"type": "string"}, "steps": {
                "type": "array", "items": {
                    "type": "object", "properties": {
                        "action": {"type": "string"}, "at": {"type": "string", "format": "date-time"},
                        "from_status": {}, "staff": {"type": "string"}, "status_label": {"type": "string"},
                        "to_status": {"type": "string"}}}},
            "submitted_at": {"type": "string", "format": "date-time"}}},
    community={"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
    counts={"type": "object", "additionalProperties": {"type": "integer"}},
    generated_at={"type": "string", "format": "date-time"})
PROXY_STATION_BOOKINGS = {
    "type": "object", "properties": {
        "bookings": {"type": "array", "items": STAFF_BOOKING},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "date": {"type": "string", "format": "date"}, "station_id": {"type": "integer"}}}
PROXY_MY_BOOKINGS = paged(BOOKING)
PROXY_MY_CASES = {
    "type": "object", "properties": {
        "items": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "code": {"type": "string"}, "department": {"type": "string"},
                    "done_at": {"type": ["string", "null"], "format": "date-time"},
                    "due_date": {"type": "string", "format": "date"}, "due_provisional": {"type": "boolean"},
                    "item": {"type": "string"}, "item_key": {"type": "string"}, "overdue": {"type": "boolean"},
                    "progress": {"type": "string"}, "resident": {"type": "string"}, "responsible": {"type": "string"},
                    "status": {"type": "string"}, "status_label": {"type": "string"}, "steps": {
                        "type": "array", "items": {
                            "type": "object", "properties": {
                                "action": {"type": "string"}, "at": {"type": "string", "format": "date-time"},
                                "from_status": {"type": ["string", "null"]}, "staff": {"type": "string"},
                                "status_label": {"type": "string"}, "to_status": {"type": "string"}}}},
                    "submitted_at": {"type": "string", "format": "date-time"}}}}}}
PROXY_CASES = paged(
    {
        "type": "object", "properties": {
            "booking_id": {"type": ["integer", "null"]}, "code": {"type": "string"},
            "community_id": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
            "decided_at": {"type": ["string", "null"], "format": "date-time"}, "department": {"type": "string"},
            "done_at": {"type": ["string", "null"], "format": "date-time"},
            "due_at": {"type": "string", "format": "date-time"}, "due_provisional": {"type": "boolean"},
            "forwarded_at": {"type": ["string", "null"], "format": "date-time"}, "id": {"type": "integer"},
            "next": {"type": "array", "items": {"type": "string"}}, "note": {"type": ["string", "null"]},
            "overdue": {"type": "boolean"}, "resident": {
                "type": "object", "properties": {
                    "building_id": {"type": ["integer", "null"]}, "community_id": {"type": "integer"},
                    "id": {"type": "integer"}, "name": {"type": "string"}, "nickname": {},
                    "phone": {"type": "string"}, "room": {"type": ["string", "null"]},
                    "unit": {"type": ["string", "null"]}}},
            "responsible": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {}}},
            "service_item": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "key": {"type": "string"}, "name": {"type": "string"}}},
            "status": {"type": "string"}, "status_label": {"type": "string"},
            "updated_at": {"type": "string", "format": "date-time"}}},
    counts={"type": "object", "additionalProperties": {"type": "integer"}})
