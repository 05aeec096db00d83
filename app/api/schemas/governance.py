"""Response schemas of the governance (议事, 百姓说事, 服务地图) API: one component per view of
app/handlers/governance/* (app/api/openapi.py explains the declarations)."""
from __future__ import annotations

from app.api.openapi import component, nullable, obj
from app.api.schemas.common import (
    BOOL,
    COMMUNITY_BRIEF,
    DATE_N,
    DETAIL,
    INT,
    INT_N,
    INTS,
    NUM,
    NUM_N,
    RESIDENT_FOR_STAFF_N,
    STAFF_BRIEF_N,
    STR,
    STR_N,
    STRS,
    TIME,
    TIME_N,
    array,
)
from app.api.schemas.governance_lists import PARTY

# votes.result: a round's counts and the latest comments (names masked).
ROUND_RESULT = component("RoundResult", obj({
    "round": {"type": "string", "enum": ["vote", "review"]}, "open": BOOL, "total": INT, "closes_at": TIME_N,
    "counts": array(obj({"choice": STR, "label": STR, "count": INT, "share": NUM})),
    "comments": array(obj({"name": STR, "choice": STR_N, "choice_label": STR_N, "text": STR_N, "at": TIME}))}))
# tasks.task_view.
TOPIC_TASK = component("TopicTask", obj({
    "id": INT, "kind": STR, "kind_label": STR, "ref_id": INT_N, "title": STR, "owner": STAFF_BRIEF_N,
    "deadline": DATE_N, "status": STR, "finished": BOOL, "done": BOOL, "overdue": BOOL, "done_at": TIME_N,
    "note": STR_N}))
# topic_views.topic_view: the list row (staff also see the requests and groups behind it) ...
_TOPIC = {
    "id": INT, "number": INT, "label": STR, "community_id": INT, "title": STR, "detail": STR_N, "source": STR,
    "source_label": STR, "stage": STR, "stage_label": STR, "building": STR_N, "decision": STR_N,
    "owner": STAFF_BRIEF_N, "deadline": DATE_N, "vote_open": BOOL, "review_open": BOOL, "vote_closes_at": TIME_N,
    "review_summary": STR_N, "drop_reason": STR_N, "created_at": TIME, "request_ids": INTS, "group_ids": INTS}
_STAFF_ONLY = ("request_ids", "group_ids")
TOPIC = component("Topic", obj(_TOPIC, optional=_STAFF_ONLY))
# ... and the detail: the five steps, the parties, minutes, tasks, both rounds, the timeline.
TOPIC_DETAIL = component("TopicDetail", obj({
    **_TOPIC,
    "steps": array(obj({"stage": STR, "label": STR, "state": STR, "at": TIME_N})),
    "participants": array(obj({"id": INT, "party": STR, "party_label": STR, "name": STR, "note": STR_N})),
    "minutes": array({"type": "object", "required": ["at"], "additionalProperties": True, "properties": {
        "at": TIME, "held_at": TIME, "place": STR_N, "attendees": STRS, "text": STR}}),
    "tasks": array(TOPIC_TASK), "vote": nullable(ROUND_RESULT), "review": nullable(ROUND_RESULT),
    "timeline": array(obj({
        "id": INT, "at": TIME, "kind": STR, "label": STR, "from_stage": STR_N, "to_stage": STR_N,
        "to_stage_label": STR_N, "detail": DETAIL,
        "actor": {"type": "object", "required": ["type", "id"], "properties": {
            "type": STR, "id": INT_N, "name": STR_N}, "description": "staff only"}}, optional=("actor",)))},
    optional=_STAFF_ONLY))
# suggestions.suggestion_view: the resident's own and the public board (the resident's name masked) ...
_SUGGESTION = {
    "id": INT, "code": STR, "text": STR, "status": STR, "status_label": STR, "answer": STR_N,
    "answered_at": TIME_N, "answered_by": STAFF_BRIEF_N,
    "topic": nullable(obj({"id": INT, "number": INT, "title": STR})), "created_at": TIME}
SUGGESTION = component("Suggestion", obj({**_SUGGESTION, "resident": STR_N}))
# ... and the staff view (the resident in full, where it came from).
STAFF_SUGGESTION = component("StaffSuggestion", obj({**_SUGGESTION, "resident": RESIDENT_FOR_STAFF_N,
                                                     "source": STR}))
# stations.station_view (with the moment: open now, until when, next opening).
SERVICE = obj({"key": STR, "name": STR})
# One opening rule's days: workdays, daily, weekends, or the ISO weekdays (1 = Monday … 7 = Sunday).
STATION_DAYS = {"anyOf": [{"type": "string", "enum": ["workdays", "daily", "weekends"]},
                          {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 7}}]}
MAP_STATION = component("MapStation", obj({
    "id": INT, "community_id": INT, "name": STR, "kind": STR, "kind_label": STR, "address": STR_N, "lat": NUM,
    "lng": NUM, "phone": STR_N, "services": array(SERVICE),
    "hours": array(obj({"days": STATION_DAYS, "open": STR, "close": STR})), "hours_text": STR, "notes": STR_N,
    "unit": nullable(PARTY), "active": BOOL, "open_now": BOOL,
    "open_until": {"type": ["string", "null"], "description": "the closing time (HH:MM) when open now"},
    "next_open": TIME_N}))

POST_SUGGESTION = SUGGESTION
MY_SUGGESTIONS = obj({"items": array(SUGGESTION)})
LIST_SUGGESTIONS = obj({"items": array(STAFF_SUGGESTION)})
ANSWER_SUGGESTION = {"allOf": [STAFF_SUGGESTION, obj({"message_id": {
    "type": ["integer", "null"], "description": "the answer sent to the resident"}})]}
PUBLIC_SUGGESTIONS = obj({"community": COMMUNITY_BRIEF, "items": array(SUGGESTION)})
MAP_SERVICES = obj({"items": array(SERVICE)})
LIST_MAP_STATIONS = obj({"from_building": STR_N, "items": array({"allOf": [MAP_STATION, obj({
    "distance_m": INT_N, "distance_text": STR_N})]})})
CREATE_MAP_STATION = MAP_STATION
LOCATE_BUILDING = obj({"building_id": INT, "name": STR, "lat": NUM, "lng": NUM})
PUBLIC_MAP = obj({"community": obj({"id": INT, "name": STR, "phone": STR_N}), "stations": array(MAP_STATION),
                  "buildings": array(obj({"id": INT, "number": STR_N, "name": STR, "lat": NUM_N, "lng": NUM_N}))})
GET_TOPIC = TOPIC_DETAIL
POST_TOPIC_TO_GROUPS = obj({"topic": TOPIC_DETAIL, "messages": INTS})
TOPIC_PUBLIC_RESULT = obj({"number": INT, "title": STR, "stage": STR, "stage_label": STR, "decision": STR_N,
                           "vote": ROUND_RESULT, "review": ROUND_RESULT})
VOTE_ON_TOPIC = obj({"round": {"type": "string", "enum": ["vote", "review"]}, "choice": STR, "changed_from": STR_N,
                     "result": ROUND_RESULT})
TOPICS = obj({"items": array(TOPIC)})
