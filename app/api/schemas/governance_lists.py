"""Response schemas of the governance lists (需求/资源清单, 共建单位, 项目) API (app/api/openapi.py explains the declarations)."""
from __future__ import annotations

from app.api.openapi import component, paged  # noqa: F401 - paged: used where a page is answered

PROJECT = component("Project", {
    "type": "object", "properties": {
        "beneficiaries": {"type": "integer"}, "code": {"type": "string"}, "community_id": {"type": "integer"},
        "completed_at": {"type": ["string", "null"], "format": "date-time"}, "contributions": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "kind": {"type": "string"}, "kind_label": {"type": "string"}, "party": {
                        "type": "object", "properties": {
                            "member_id": {"type": "integer"}, "name": {"type": "string"}, "type": {"type": "string"},
                            "unit_id": {"type": "integer"}}},
                    "quantity": {"type": "number"}, "quantity_unit": {"type": "string"}}}},
        "created_at": {"type": "string", "format": "date-time"}, "deadline": {"type": "string", "format": "date"},
        "hours": {"type": "number"}, "id": {"type": "integer"}, "lead_unit": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "type": {"type": "string"}, "unit_id": {"type": "integer"}}},
        "need_id": {"type": "integer"}, "overdue": {"type": "boolean"},
        "owner": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {}}},
        "partners": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "name": {"type": "string"}, "type": {"type": "string"}, "unit_id": {"type": "integer"},
                    "member_id": {"type": "integer"}}}},
        "plan": {"type": "string"}, "progress": {"type": "integer"}, "status": {"type": "string"},
        "status_label": {"type": "string"}, "summary": {"type": ["string", "null"]}, "timeline": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "at": {"type": "string", "format": "date-time"}, "id": {"type": "integer"},
                    "kind": {"type": "string"}, "note": {"type": "string"}, "progress": {"type": "integer"},
                    "staff": {
                        "type": "object",
                        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {}}}}}},
        "title": {"type": "string"}}})
RESOURCE = component("Resource", {
    "type": "object", "properties": {
        "available_from": {}, "available_until": {}, "community_id": {"type": "integer"}, "detail": {},
        "id": {"type": "integer"}, "kind": {"type": "string"}, "kind_label": {"type": "string"}, "owner": {
            "type": "object", "properties": {
                "kind_label": {"type": "string"}, "name": {"type": "string"}, "type": {"type": "string"},
                "unit_id": {"type": "integer"}, "member_id": {"type": "integer"}}},
        "quantity": {"type": "number"}, "quantity_unit": {"type": "string"}, "remaining": {"type": "number"},
        "status": {"type": "string"}, "status_label": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}}, "time_from": {}, "time_until": {},
        "title": {"type": "string"}, "weekdays": {"type": "array", "items": {"type": "integer"}},
        "when": {"type": "string"}}})
NEED = component("Need", {
    "type": "object", "properties": {
        "beneficiaries": {"type": ["integer", "null"]}, "building": {"type": ["string", "null"]},
        "building_id": {"type": ["integer", "null"]}, "claims": {"type": "array"}, "close_reason": {},
        "community_id": {"type": "integer"}, "detail": {"type": ["string", "null"]}, "id": {"type": "integer"},
        "kind": {"type": "string"}, "kind_label": {"type": "string"}, "project_id": {"type": ["integer", "null"]},
        "quantity": {}, "quantity_unit": {}, "request_ids": {"type": "array", "items": {"type": "integer"}},
        "source": {"type": "string"}, "source_label": {"type": "string"}, "status": {"type": "string"},
        "status_label": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}, "time_from": {},
        "time_until": {}, "title": {"type": "string"}, "topic_id": {"type": ["integer", "null"]}, "wanted_by": {},
        "weekdays": {"type": "array", "items": {"type": "integer"}}, "when": {"type": "string"},
        "wish_id": {"type": ["integer", "null"]}}})
NEED_CLAIM = component("NeedClaim", {
    "type": "object", "properties": {
        "created_at": {"type": "string", "format": "date-time"}, "direction": {"type": "string"},
        "direction_label": {"type": "string"}, "id": {"type": "integer"}, "need_id": {"type": "integer"},
        "note": {"type": ["string", "null"]}, "party": {
            "type": "object", "properties": {
                "name": {"type": "string"}, "type": {"type": "string"}, "unit_id": {"type": "integer"},
                "member_id": {"type": "integer"}}},
        "replay": {"type": "boolean"},
        "resource": {"type": ["object", "null"], "properties": {"id": {"type": "integer"}, "title": {"type": "string"}}},
        "status": {"type": "string"}}})
REGISTER_PARTNER_UNIT = {
    "type": "object", "properties": {
        "active": {"type": "boolean"}, "address": {}, "agreement_on": {"type": ["string", "null"], "format": "date"},
        "community_id": {"type": "integer"}, "contact_name": {}, "id": {"type": "integer"},
        "kind": {"type": "string"}, "kind_label": {"type": "string"}, "lat": {"type": "number"},
        "lng": {"type": "number"}, "name": {"type": "string"}, "party_org": {}, "phone": {"type": "string"}}}
LIST_NEEDS = {"type": "object", "properties": {"items": {"type": "array"}}}
LIST_REQUEST_HOTSPOTS = {
    "type": "object", "properties": {
        "items": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "building": {"type": "string"}, "building_id": {"type": "integer"},
                    "category": {"type": "string"}, "category_label": {"type": "string"},
                    "count": {"type": "integer"}, "on_need_list": {"type": "boolean"},
                    "request_ids": {"type": "array", "items": {"type": "integer"}}, "requests": {
                        "type": "array", "items": {
                            "type": "object", "properties": {
                                "code": {"type": "string"}, "id": {"type": "integer"}, "status": {"type": "string"},
                                "title": {"type": "string"}}}},
                    "suggested_title": {"type": "string"}}}}}}
MATCH_NEED = {
    "type": "object", "properties": {
        "items": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "fits": {"type": "boolean"}, "reasons": {"type": "array", "items": {"type": "string"}},
                    "resource": RESOURCE, "score": {"type": "number"}}}},
        "need_id": {"type": "integer"}}}
RECORD_PROJECT_CONTRIBUTION = {
    "type": "object", "properties": {
        "created_at": {"type": "string", "format": "date-time"}, "hours_entry_id": {"type": ["integer", "null"]},
        "id": {"type": "integer"}, "kind": {"type": "string"}, "kind_label": {"type": "string"},
        "need_id": {"type": "integer"}, "note": {}, "party": {
            "type": "object", "properties": {
                "member_id": {"type": "integer"}, "name": {"type": "string"}, "type": {"type": "string"},
                "unit_id": {"type": "integer"}}},
        "project": {"type": "string"}, "project_code": {"type": "string"}, "project_id": {"type": "integer"},
        "quantity": {"type": "number"}, "quantity_unit": {"type": "string"},
        "recorded_by": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {}}},
        "resource_id": {"type": ["integer", "null"]}, "served_on": {"type": "string", "format": "date"}}}
GOVERNANCE_REPORT = {
    "type": "object", "properties": {
        "community": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "members": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "kind": {"type": "string"}, "member_id": {"type": "integer"}, "name": {"type": "string"},
                    "needs_claimed": {"type": "integer"}, "other": {"type": "string"},
                    "party_org": {"type": "string"}, "project_hours": {"type": "number"},
                    "projects": {"type": "integer"}, "volunteer_hours": {"type": "number"},
                    "work_unit": {"type": "string"}}}},
        "summary": {
            "type": "object", "properties": {
                "beneficiaries": {"type": "integer"}, "hours": {"type": "number"}, "members": {"type": "integer"},
                "members_contributing": {"type": "integer"}, "needs": {"type": "integer"},
                "needs_by_status": {"type": "object", "additionalProperties": {"type": "integer"}},
                "needs_claimed": {"type": "integer"}, "projects_done": {"type": "integer"},
                "projects_started": {"type": "integer"}, "resources": {"type": "integer"},
                "suggestions": {"type": "integer"}, "suggestions_answered": {"type": "integer"},
                "topics": {"type": "integer"},
                "topics_by_stage": {"type": "object", "additionalProperties": {"type": "integer"}},
                "topics_closed": {"type": "integer"}, "units": {"type": "integer"},
                "units_contributing": {"type": "integer"}, "votes": {"type": "integer"}}},
        "units": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "active": {"type": "boolean"}, "contact_name": {}, "hours": {"type": "number"},
                    "kind": {"type": "string"}, "name": {"type": "string"}, "needs_claimed": {"type": "integer"},
                    "other": {"type": "string"}, "phone": {"type": "string"}, "projects": {"type": "integer"},
                    "resources": {"type": "integer"}, "unit_id": {"type": "integer"}}}},
        "year": {"type": "integer"}}}
# Answered by operations the suite does not reach yet: the same views as their siblings'.
PARTNER_UNITS = {"type": "object", "properties": {"items": {"type": "array", "items": REGISTER_PARTNER_UNIT}}}
RESOURCES = {"type": "object", "properties": {"items": {"type": "array", "items": RESOURCE}}}
PROJECTS = {"type": "object", "properties": {"items": {"type": "array", "items": PROJECT}}}
PROJECT_CONTRIBUTIONS = {"type": "object", "properties": {
    "items": {"type": "array", "items": RECORD_PROJECT_CONTRIBUTION},
    "totals": {"type": "object", "description": "the project's contributions added up by kind"}}}
