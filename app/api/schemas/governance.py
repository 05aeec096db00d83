"""Response schemas of the governance (议事, 百姓说事, 服务地图) API (app/api/openapi.py explains the declarations)."""
from __future__ import annotations

from app.api.openapi import component, paged  # noqa: F401 - paged: used where a page is answered

TOPIC_DETAIL = component("TopicDetail", {
    "type": "object", "properties": {
        "building": {"type": ["string", "null"]}, "community_id": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "deadline": {"type": ["string", "null"], "format": "date"}, "decision": {"type": ["string", "null"]},
        "detail": {"type": ["string", "null"]}, "drop_reason": {},
        "group_ids": {"type": "array", "items": {"type": "integer"}}, "id": {"type": "integer"},
        "label": {"type": "string"}, "minutes": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "at": {"type": "string", "format": "date-time"},
                    "attendees": {"type": "array", "items": {"type": "string"}},
                    "held_at": {"type": "string", "format": "date-time"}, "place": {"type": "string"},
                    "text": {"type": "string"}}}},
        "number": {"type": "integer"}, "owner": {
            "type": ["object", "null"],
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {}}},
        "participants": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "id": {"type": "integer"}, "name": {"type": "string"}, "note": {}, "party": {"type": "string"},
                    "party_label": {"type": "string"}}}},
        "request_ids": {"type": "array", "items": {"type": "integer"}}, "review": {
            "type": ["object", "null"], "properties": {
                "closes_at": {"type": ["string", "null"], "format": "date-time"}, "comments": {"type": "array"},
                "counts": {
                    "type": "array", "items": {
                        "type": "object", "properties": {
                            "choice": {"type": "string"}, "count": {"type": "integer"}, "label": {"type": "string"},
                            "share": {"type": "number"}}}},
                "open": {"type": "boolean"}, "round": {"type": "string"}, "total": {"type": "integer"}}},
        "review_open": {"type": "boolean"}, "review_summary": {"type": ["string", "null"]},
        "source": {"type": "string"}, "source_label": {"type": "string"}, "stage": {"type": "string"},
        "stage_label": {"type": "string"}, "steps": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "at": {"type": ["string", "null"], "format": "date-time"}, "label": {"type": "string"},
                    "stage": {"type": "string"}, "state": {"type": "string"}}}},
        "tasks": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "deadline": {"type": "string", "format": "date"}, "done": {"type": "boolean"},
                    "done_at": {"type": ["string", "null"], "format": "date-time"}, "finished": {"type": "boolean"},
                    "id": {"type": "integer"}, "kind": {"type": "string"}, "kind_label": {"type": "string"},
                    "note": {"type": ["string", "null"]}, "overdue": {"type": "boolean"}, "owner": {
                        "type": "object",
                        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {}}},
                    "ref_id": {"type": ["integer", "null"]}, "status": {"type": "string"},
                    "title": {"type": "string"}}}},
        "timeline": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "actor": {
                        "type": "object",
                        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "type": {"type": "string"}}},
                    "at": {"type": "string", "format": "date-time"}, "detail": {
                        "type": "object", "properties": {
                            "request_ids": {"type": ["array", "null"], "items": {"type": "integer"}},
                            "source": {"type": "string"}, "suggestion_id": {"type": ["integer", "null"]},
                            "note": {"type": ["string", "null"]}, "name": {"type": "string"},
                            "participant_id": {"type": "integer"}, "party": {"type": "string"},
                            "attendees": {"type": "array", "items": {"type": "string"}},
                            "held_at": {"type": "string", "format": "date-time"}, "place": {"type": "string"},
                            "text": {"type": "string"},
                            "closes_at": {"type": ["string", "null"], "format": "date-time"},
                            "group_ids": {"type": "array", "items": {"type": "integer"}}, "round": {"type": "string"},
                            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                            "total": {"type": "integer"}, "deadline": {"type": "string", "format": "date"},
                            "decision": {"type": "string"}, "owner_staff_id": {"type": "integer"}, "vote_result": {
                                "type": "object", "properties": {
                                    "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                                    "total": {"type": "integer"}}},
                            "kind": {"type": "string"}, "ref_id": {"type": ["integer", "null"]},
                            "task_id": {"type": "integer"}, "title": {"type": "string"}, "review_result": {
                                "type": "object", "properties": {
                                    "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                                    "total": {"type": "integer"}}},
                            "summary": {"type": "string"}}},
                    "from_stage": {"type": ["string", "null"]}, "id": {"type": "integer"}, "kind": {"type": "string"},
                    "label": {"type": "string"}, "to_stage": {"type": ["string", "null"]},
                    "to_stage_label": {"type": ["string", "null"]}}}},
        "title": {"type": "string"}, "vote": {
            "type": ["object", "null"], "properties": {
                "closes_at": {"type": ["string", "null"], "format": "date-time"}, "comments": {
                    "type": "array", "items": {
                        "type": "object", "properties": {
                            "at": {"type": "string", "format": "date-time"}, "choice": {"type": "string"},
                            "choice_label": {"type": "string"}, "name": {"type": "string"},
                            "text": {"type": "string"}}}},
                "counts": {
                    "type": "array", "items": {
                        "type": "object", "properties": {
                            "choice": {"type": "string"}, "count": {"type": "integer"}, "label": {"type": "string"},
                            "share": {"type": "number"}}}},
                "open": {"type": "boolean"}, "round": {"type": "string"}, "total": {"type": "integer"}}},
        "vote_closes_at": {"type": ["string", "null"], "format": "date-time"}, "vote_open": {"type": "boolean"}}})
POST_SUGGESTION = {
    "type": "object", "properties": {
        "answer": {}, "answered_at": {"type": ["string", "null"], "format": "date-time"}, "answered_by": {},
        "code": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
        "id": {"type": "integer"}, "resident": {"type": "string"}, "status": {"type": "string"},
        "status_label": {"type": "string"}, "text": {"type": "string"}, "topic": {}}}
MY_SUGGESTIONS = {
    "type": "object", "properties": {
        "items": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "answer": {"type": "string"}, "answered_at": {"type": "string", "format": "date-time"},
                    "answered_by": {
                        "type": "object",
                        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {}}},
                    "code": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
                    "id": {"type": "integer"}, "resident": {"type": "string"}, "status": {"type": "string"},
                    "status_label": {"type": "string"}, "text": {"type": "string"}, "topic": {}}}}}}
CLAIMABLE_NEEDS = {
    "type": "object", "properties": {
        "items": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "beneficiaries": {"type": "integer"}, "building": {"type": "string"},
                    "building_id": {"type": "integer"}, "claimed_by": {"type": "array", "items": {"type": "string"}},
                    "close_reason": {}, "community_id": {"type": "integer"}, "detail": {}, "id": {"type": "integer"},
                    "kind": {"type": "string"}, "kind_label": {"type": "string"},
                    "project_id": {"type": ["integer", "null"]}, "quantity": {}, "quantity_unit": {},
                    "source": {"type": "string"}, "source_label": {"type": "string"}, "status": {"type": "string"},
                    "status_label": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
                    "time_from": {}, "time_until": {}, "title": {"type": "string"},
                    "topic_id": {"type": ["integer", "null"]}, "wanted_by": {},
                    "weekdays": {"type": "array", "items": {"type": "integer"}}, "when": {"type": "string"}}}}}}
LIST_SUGGESTIONS = {
    "type": "object", "properties": {
        "items": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "answer": {}, "answered_at": {"type": ["string", "null"], "format": "date-time"},
                    "answered_by": {}, "code": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"}, "id": {"type": "integer"}, "resident": {
                        "type": "object", "properties": {
                            "building_id": {"type": "integer"}, "community_id": {"type": "integer"},
                            "id": {"type": "integer"}, "name": {"type": "string"}, "nickname": {}, "phone": {},
                            "room": {}, "unit": {}}},
                    "source": {"type": "string"}, "status": {"type": "string"}, "status_label": {"type": "string"},
                    "text": {"type": "string"}, "topic": {}}}}}}
ANSWER_SUGGESTION = {
    "type": "object", "properties": {
        "answer": {"type": "string"}, "answered_at": {"type": "string", "format": "date-time"},
        "answered_by": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {}}},
        "code": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
        "id": {"type": "integer"}, "message_id": {"type": ["integer", "null"]}, "resident": {
            "type": "object", "properties": {
                "building_id": {"type": "integer"}, "community_id": {"type": "integer"}, "id": {"type": "integer"},
                "name": {"type": "string"}, "nickname": {}, "phone": {}, "room": {}, "unit": {}}},
        "source": {"type": "string"}, "status": {"type": "string"}, "status_label": {"type": "string"},
        "text": {"type": "string"}, "topic": {}}}
PUBLIC_SUGGESTIONS = {
    "type": "object", "properties": {
        "community": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "items": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "answer": {"type": "string"}, "answered_at": {"type": "string", "format": "date-time"},
                    "answered_by": {
                        "type": "object",
                        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {}}},
                    "code": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
                    "id": {"type": "integer"}, "resident": {"type": "string"}, "status": {"type": "string"},
                    "status_label": {"type": "string"}, "text": {"type": "string"}, "topic": {
                        "type": "object",
                        "properties": {"id": {"type": "integer"}, "number": {"type": "integer"}, "title": {"type": "string"}}}}}}}}
MAP_SERVICES = {
    "type": "object", "properties": {
        "items": {
            "type": "array",
            "items": {"type": "object", "properties": {"key": {"type": "string"}, "name": {"type": "string"}}}}}}
LIST_MAP_STATIONS = {
    "type": "object", "properties": {
        "from_building": {"type": "string"}, "items": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "active": {"type": "boolean"}, "address": {"type": "string"}, "community_id": {"type": "integer"},
                    "distance_m": {"type": "integer"}, "distance_text": {"type": "string"}, "hours": {
                        "type": "array", "items": {
                            "type": "object",
                            "properties": {"close": {"type": "string"}, "days": {"type": "string"}, "open": {"type": "string"}}}},
                    "hours_text": {"type": "string"}, "id": {"type": "integer"}, "kind": {"type": "string"},
                    "kind_label": {"type": "string"}, "lat": {"type": "number"}, "lng": {"type": "number"},
                    "name": {"type": "string"}, "next_open": {}, "notes": {}, "open_now": {"type": "boolean"},
                    "open_until": {"type": "string"}, "phone": {"type": ["string", "null"]}, "services": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"key": {"type": "string"}, "name": {"type": "string"}}}},
                    "unit": {}}}}}}
CREATE_MAP_STATION = {
    "type": "object", "properties": {
        "active": {"type": "boolean"}, "address": {"type": "string"}, "community_id": {"type": "integer"}, "hours": {
            "type": "array", "items": {
                "type": "object",
                "properties": {"close": {"type": "string"}, "days": {"type": "string"}, "open": {"type": "string"}}}},
        "hours_text": {"type": "string"}, "id": {"type": "integer"}, "kind": {"type": "string"},
        "kind_label": {"type": "string"}, "lat": {"type": "number"}, "lng": {"type": "number"},
        "name": {"type": "string"}, "next_open": {}, "notes": {}, "open_now": {"type": "boolean"},
        "open_until": {"type": "string"}, "phone": {"type": ["string", "null"]}, "services": {
            "type": "array",
            "items": {"type": "object", "properties": {"key": {"type": "string"}, "name": {"type": "string"}}}},
        "unit": {}}}
LOCATE_BUILDING = {
    "type": "object", "properties": {
        "building_id": {"type": "integer"}, "lat": {"type": "number"}, "lng": {"type": "number"},
        "name": {"type": "string"}}}
PUBLIC_MAP = {
    "type": "object", "properties": {
        "buildings": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "id": {"type": "integer"}, "lat": {"type": "number"}, "lng": {"type": "number"},
                    "name": {"type": "string"}, "number": {"type": "string"}}}},
        "community": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "phone": {"type": "string"}}},
        "stations": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "active": {"type": "boolean"}, "address": {"type": "string"}, "community_id": {"type": "integer"},
                    "hours": {
                        "type": "array", "items": {
                            "type": "object",
                            "properties": {"close": {"type": "string"}, "days": {"type": "string"}, "open": {"type": "string"}}}},
                    "hours_text": {"type": "string"}, "id": {"type": "integer"}, "kind": {"type": "string"},
                    "kind_label": {"type": "string"}, "lat": {"type": "number"}, "lng": {"type": "number"},
                    "name": {"type": "string"}, "next_open": {}, "notes": {}, "open_now": {"type": "boolean"},
                    "open_until": {"type": "string"}, "phone": {"type": ["string", "null"]}, "services": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"key": {"type": "string"}, "name": {"type": "string"}}}},
                    "unit": {}}}}}}
GET_TOPIC = {
    "type": "object", "properties": {
        "building": {}, "community_id": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
        "deadline": {"type": "string", "format": "date"}, "decision": {"type": "string"},
        "detail": {"type": "string"}, "drop_reason": {}, "id": {"type": "integer"}, "label": {"type": "string"},
        "minutes": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "at": {"type": "string", "format": "date-time"},
                    "attendees": {"type": "array", "items": {"type": "string"}},
                    "held_at": {"type": "string", "format": "date-time"}, "place": {"type": "string"},
                    "text": {"type": "string"}}}},
        "number": {"type": "integer"},
        "owner": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {}}},
        "participants": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "id": {"type": "integer"}, "name": {"type": "string"}, "note": {}, "party": {"type": "string"},
                    "party_label": {"type": "string"}}}},
        "review": {
            "type": "object", "properties": {
                "closes_at": {"type": ["string", "null"], "format": "date-time"}, "comments": {"type": "array"},
                "counts": {
                    "type": "array", "items": {
                        "type": "object", "properties": {
                            "choice": {"type": "string"}, "count": {"type": "integer"}, "label": {"type": "string"},
                            "share": {"type": "number"}}}},
                "open": {"type": "boolean"}, "round": {"type": "string"}, "total": {"type": "integer"}}},
        "review_open": {"type": "boolean"}, "review_summary": {"type": "string"}, "source": {"type": "string"},
        "source_label": {"type": "string"}, "stage": {"type": "string"}, "stage_label": {"type": "string"}, "steps": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "at": {"type": ["string", "null"], "format": "date-time"}, "label": {"type": "string"},
                    "stage": {"type": "string"}, "state": {"type": "string"}}}},
        "tasks": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "deadline": {"type": "string", "format": "date"}, "done": {"type": "boolean"},
                    "done_at": {"type": "string", "format": "date-time"}, "finished": {"type": "boolean"},
                    "id": {"type": "integer"}, "kind": {"type": "string"}, "kind_label": {"type": "string"},
                    "note": {"type": "string"}, "overdue": {"type": "boolean"}, "owner": {
                        "type": "object",
                        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "title": {}}},
                    "ref_id": {"type": ["integer", "null"]}, "status": {"type": "string"},
                    "title": {"type": "string"}}}},
        "timeline": {
            "type": "array", "items": {
                "type": "object", "properties": {
                    "at": {"type": "string", "format": "date-time"}, "detail": {
                        "type": "object", "properties": {
                            "request_ids": {}, "source": {"type": "string"},
                            "suggestion_id": {"type": ["integer", "null"]}, "note": {"type": ["string", "null"]},
                            "name": {"type": "string"}, "participant_id": {"type": "integer"},
                            "party": {"type": "string"}, "attendees": {"type": "array", "items": {"type": "string"}},
                            "held_at": {"type": "string", "format": "date-time"}, "place": {"type": "string"},
                            "text": {"type": "string"},
                            "closes_at": {"type": ["string", "null"], "format": "date-time"},
                            "group_ids": {"type": "array", "items": {"type": "integer"}}, "round": {"type": "string"},
                            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                            "total": {"type": "integer"}, "deadline": {"type": "string", "format": "date"},
                            "decision": {"type": "string"}, "owner_staff_id": {"type": "integer"}, "vote_result": {
                                "type": "object", "properties": {
                                    "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                                    "total": {"type": "integer"}}},
                            "kind": {"type": "string"}, "ref_id": {"type": ["integer", "null"]},
                            "task_id": {"type": "integer"}, "title": {"type": "string"}, "review_result": {
                                "type": "object", "properties": {
                                    "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                                    "total": {"type": "integer"}}},
                            "summary": {"type": "string"}}},
                    "from_stage": {"type": ["string", "null"]}, "id": {"type": "integer"}, "kind": {"type": "string"},
                    "label": {"type": "string"}, "to_stage": {"type": ["string", "null"]},
                    "to_stage_label": {"type": ["string", "null"]}}}},
        "title": {"type": "string"}, "vote": {
            "type": "object", "properties": {
                "closes_at": {"type": ["string", "null"], "format": "date-time"}, "comments": {
                    "type": "array", "items": {
                        "type": "object", "properties": {
                            "at": {"type": "string", "format": "date-time"}, "choice": {"type": "string"},
                            "choice_label": {"type": "string"}, "name": {"type": "string"},
                            "text": {"type": "string"}}}},
                "counts": {
                    "type": "array", "items": {
                        "type": "object", "properties": {
                            "choice": {"type": "string"}, "count": {"type": "integer"}, "label": {"type": "string"},
                            "share": {"type": "number"}}}},
                "open": {"type": "boolean"}, "round": {"type": "string"}, "total": {"type": "integer"}}},
        "vote_closes_at": {"type": ["string", "null"], "format": "date-time"}, "vote_open": {"type": "boolean"}}}
POST_TOPIC_TO_GROUPS = {"type": "object", "properties": {"messages": {"type": "array", "items": {"type": "integer"}}, "topic": TOPIC_DETAIL}}
TOPIC_PUBLIC_RESULT = {
    "type": "object", "properties": {
        "decision": {}, "number": {"type": "integer"}, "review": {
            "type": "object", "properties": {
                "closes_at": {"type": ["string", "null"], "format": "date-time"}, "comments": {"type": "array"},
                "counts": {
                    "type": "array", "items": {
                        "type": "object", "properties": {
                            "choice": {"type": "string"}, "count": {"type": "integer"}, "label": {"type": "string"},
                            "share": {"type": "number"}}}},
                "open": {"type": "boolean"}, "round": {"type": "string"}, "total": {"type": "integer"}}},
        "stage": {"type": "string"}, "stage_label": {"type": "string"}, "title": {"type": "string"}, "vote": {
            "type": "object", "properties": {
                "closes_at": {"type": ["string", "null"], "format": "date-time"}, "comments": {
                    "type": "array", "items": {
                        "type": "object", "properties": {
                            "at": {"type": "string", "format": "date-time"}, "choice": {"type": "string"},
                            "choice_label": {"type": "string"}, "name": {"type": "string"},
                            "text": {"type": "string"}}}},
                "counts": {
                    "type": "array", "items": {
                        "type": "object", "properties": {
                            "choice": {"type": "string"}, "count": {"type": "integer"}, "label": {"type": "string"},
                            "share": {"type": "number"}}}},
                "open": {"type": "boolean"}, "round": {"type": "string"}, "total": {"type": "integer"}}}}}
VOTE_ON_TOPIC = {
    "type": "object", "properties": {
        "changed_from": {"type": ["string", "null"]}, "choice": {"type": "string"}, "result": {
            "type": "object", "properties": {
                "closes_at": {"type": ["string", "null"], "format": "date-time"}, "comments": {
                    "type": "array", "items": {
                        "type": "object", "properties": {
                            "at": {"type": "string", "format": "date-time"}, "choice": {"type": "string"},
                            "choice_label": {"type": "string"}, "name": {"type": "string"},
                            "text": {"type": "string"}}}},
                "counts": {
                    "type": "array", "items": {
                        "type": "object", "properties": {
                            "choice": {"type": "string"}, "count": {"type": "integer"}, "label": {"type": "string"},
                            "share": {"type": "number"}}}},
                "open": {"type": "boolean"}, "round": {"type": "string"}, "total": {"type": "integer"}}},
        "round": {"type": "string"}}}
# Answered by operations the suite does not reach yet: the same views as their siblings'.
STAFF_SUGGESTION = LIST_SUGGESTIONS["properties"]["items"]["items"]
TOPICS = {"type": "object", "properties": {"items": {"type": "array", "items": TOPIC_DETAIL}}}
