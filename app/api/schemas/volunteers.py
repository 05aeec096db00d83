"""Response schemas of the 双报到, hours and micro-wishes API (app/api/openapi.py explains the declarations)."""
from __future__ import annotations

from app.api.openapi import component, paged  # noqa: F401 - paged: used where a page is answered

MEMBER = component("Member", {
    "type": "object", "properties": {
        "active": {"type": "boolean"}, "community_id": {"type": "integer"}, "id": {"type": "integer"},
        "kind": {"type": "string"}, "name": {"type": "string"}, "party_org": {"type": "string"},
        "phone": {"type": ["string", "null"]}, "registered_at": {"type": "string", "format": "date-time"},
        "resident_id": {"type": ["integer", "null"]}, "work_unit": {"type": "string"}}})
MEMBER_YEAR = component("MemberYear", {
    "type": "object", "properties": {
        "entries": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "created_at": {"type": "string", "format": "date-time"},
                    "event_id": {"type": ["integer", "null"]}, "event_title": {"type": ["string", "null"]},
                    "hours": {"type": "number"}, "id": {"type": "integer"}, "kind": {"type": "string"},
                    "member_id": {"type": "integer"}, "minutes": {"type": "integer"}, "note": {"type": "string"},
                    "project_id": {"type": ["integer", "null"]},
                    "recorded_by": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
                    "served_on": {"type": "string", "format": "date"}, "year": {"type": "integer"}}}},
        "events_attended": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "event_id": {"type": "integer"}, "signup_id": {"type": "integer"}, "title": {"type": "string"},
                    "when": {"type": "string"}}}},
        "hours": {"type": "number"}, "hours_admin": {"type": "number"}, "hours_checkin": {"type": "number"},
        "hours_remaining": {"type": "number"}, "member": MEMBER, "met_hours": {"type": "boolean"},
        "met_projects": {"type": "boolean"}, "met_target": {"type": "boolean"}, "projects": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "chosen": {"type": "boolean"}, "id": {"type": "integer"}, "name": {"type": "string"},
                    "served": {"type": "boolean"}}}},
        "target_hours": {"type": "integer"}, "year": {"type": "integer"}}})
WISH = component("Wish", {
    "type": "object", "properties": {
        "claimed_at": {"type": ["string", "null"], "format": "date-time"},
        "claimed_by": {"type": ["object", "null"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "community_id": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
        "detail": {"type": ["string", "null"]}, "fulfil_note": {"type": ["string", "null"]},
        "fulfilled_at": {"type": ["string", "null"], "format": "date-time"}, "id": {"type": "integer"}, "resident": {
            "type": "object", "properties": {
                "name": {"type": "string"}, "building_id": {"type": ["integer", "null"]},
                "community_id": {"type": "integer"}, "id": {"type": "integer"}, "nickname": {}, "phone": {},
                "room": {}, "unit": {}}},
        "status": {"type": "string"}, "title": {"type": "string"}}})
MY_MEMBERSHIP = component("MyMembership", {"type": "object", "properties": {"member": MEMBER, "year": MEMBER_YEAR}})
VOLUNTEERS_PROJECTS = {
    "type": "object", "properties": {
        "items": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "active": {"type": "boolean"}, "community_id": {"type": "integer"},
                    "description": {"type": ["string", "null"]}, "id": {"type": "integer"},
                    "name": {"type": "string"}}}}}}
VOLUNTEERS_PROJECT_CREATE = {
    "type": "object", "properties": {
        "active": {"type": "boolean"}, "community_id": {"type": "integer"}, "description": {},
        "id": {"type": "integer"}, "name": {"type": "string"}}}
VOLUNTEERS_MEMBERS = paged(
    {
        "type": "object", "properties": {
            "active": {"type": "boolean"}, "community_id": {"type": "integer"}, "hours": {"type": "number"},
            "id": {"type": "integer"}, "kind": {"type": "string"}, "met_target": {"type": "boolean"},
            "name": {"type": "string"}, "party_org": {"type": "string"}, "phone": {},
            "projects": {"type": "array", "items": {"type": "string"}},
            "registered_at": {"type": "string", "format": "date-time"}, "resident_id": {"type": "integer"},
            "work_unit": {"type": "string"}}})
VOLUNTEERS_HOURS = paged(
    {
        "type": "object", "properties": {
            "created_at": {"type": "string", "format": "date-time"}, "event_id": {"type": "integer"},
            "event_title": {"type": "string"}, "hours": {"type": "number"}, "id": {"type": "integer"},
            "kind": {"type": "string"}, "member_id": {"type": "integer"}, "minutes": {"type": "integer"},
            "note": {"type": "string"}, "project_id": {"type": "integer"},
            "recorded_by": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
            "served_on": {"type": "string", "format": "date"}, "year": {"type": "integer"}}})
VOLUNTEERS_HOURS_CREATE = {
    "type": "object", "properties": {
        "created_at": {"type": "string", "format": "date-time"}, "event_id": {"type": ["integer", "null"]},
        "event_title": {}, "hours": {"type": "number"}, "id": {"type": "integer"}, "kind": {"type": "string"},
        "member_id": {"type": "integer"}, "minutes": {"type": "integer"}, "note": {"type": "string"},
        "project_id": {"type": ["integer", "null"]},
        "recorded_by": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "served_on": {"type": "string", "format": "date"}, "year": {"type": "integer"}}}
VOLUNTEERS_REPORT = {
    "type": "object", "properties": {
        "attendances": {"type": "integer"},
        "community": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "event_rows": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "attended": {"type": "integer"}, "cancelled": {"type": "integer"},
                    "capacity": {"type": "integer"}, "date": {"type": "string", "format": "date"},
                    "event_id": {"type": "integer"}, "held": {"type": "boolean"}, "kind": {"type": "string"},
                    "signed_up": {"type": "integer"}, "title": {"type": "string"},
                    "volunteer_hours": {"type": "number"}, "waiting": {"type": "integer"}, "when": {"type": "string"}}}},
        "events": {"type": "integer"}, "events_held": {"type": "integer"}, "hours": {"type": "number"},
        "hours_admin": {"type": "number"}, "hours_checkin": {"type": "number"}, "members": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "hours": {"type": "number"}, "hours_admin": {"type": "number"},
                    "hours_checkin": {"type": "number"}, "kind": {"type": "string"}, "member_id": {"type": "integer"},
                    "met_target": {"type": "boolean"}, "name": {"type": "string"}, "party_org": {"type": "string"},
                    "phone": {"type": ["string", "null"]}, "projects": {"type": "array", "items": {"type": "string"}},
                    "work_unit": {"type": "string"}}}},
        "party_members": {"type": "integer"}, "party_members_met_target": {"type": "integer"},
        "target_hours": {"type": "integer"}, "volunteers": {"type": "integer"}, "year": {"type": "integer"}}}
WISHES_MINE = paged(WISH)
WISHES_LIST = paged(WISH)
