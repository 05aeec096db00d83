"""Response schemas of the governance lists (需求/资源清单, 共建单位, 项目) API: one component per view of
app/handlers/governance/* (app/api/openapi.py explains the declarations)."""
from __future__ import annotations

from app.api.openapi import component, nullable, obj
from app.api.schemas.common import (
    BOOL,
    COMMUNITY_BRIEF,
    COUNTS,
    DATE,
    DATE_N,
    INT,
    INT_N,
    INTS,
    NUM,
    NUM_N,
    STAFF_BRIEF_N,
    STR,
    STR_N,
    STRS,
    TIME,
    TIME_N,
    array,
)

# units.party_view: a partner unit or a registered member, by its type.
_PARTY = {"type": {"type": "string", "enum": ["unit", "member"]}, "unit_id": INT, "member_id": INT_N, "name": STR_N}
PARTY = component("Party", obj(_PARTY, optional=("unit_id", "member_id")))
# units.unit_view.
PARTNER_UNIT = component("PartnerUnit", obj({
    "id": INT, "community_id": INT, "name": STR, "kind": STR, "kind_label": STR, "contact_name": STR_N,
    "phone": STR_N, "address": STR_N, "party_org": STR_N, "lat": NUM_N, "lng": NUM_N, "agreement_on": DATE_N,
    "active": BOOL}))
_WINDOW = {"weekdays": INTS, "time_from": STR_N, "time_until": STR_N, "when": STR}
# resources.resource_view: the owner is a Party, with the unit's kind.
RESOURCE = component("Resource", obj({
    "id": INT, "community_id": INT, "owner": obj({**_PARTY, "kind_label": {
        "type": ["string", "null"], "description": "a unit's kind"}}, optional=("unit_id", "member_id", "kind_label")),
    "kind": STR, "kind_label": STR, "title": STR, "detail": STR_N, "tags": STRS, "quantity": NUM_N,
    "quantity_unit": STR_N, "remaining": NUM_N, **_WINDOW, "available_from": DATE_N, "available_until": DATE_N,
    "status": STR, "status_label": STR}))
# claims.claim_view.
NEED_CLAIM = component("NeedClaim", obj({
    "id": INT, "need_id": INT, "direction": STR, "direction_label": STR, "party": PARTY,
    "resource": nullable(obj({"id": INT, "title": STR})), "note": STR_N, "status": STR, "created_at": TIME}))
# needs.need_view; the public view leaves out whose need it is and adds who claimed it.
_NEED = {
    "id": INT, "community_id": INT, "kind": STR, "kind_label": STR, "title": STR, "detail": STR_N, "tags": STRS,
    "source": STR, "source_label": STR, "topic_id": INT_N, "building_id": INT_N, "building": STR_N,
    "quantity": NUM_N, "quantity_unit": STR_N, **_WINDOW, "wanted_by": DATE_N, "beneficiaries": INT_N,
    "status": STR, "status_label": STR, "close_reason": STR_N, "project_id": INT_N}
NEED = component("Need", obj({**_NEED, "request_ids": INTS, "wish_id": INT_N, "claims": array(NEED_CLAIM)}))
PUBLIC_NEED = component("PublicNeed", obj({**_NEED, "claimed_by": STRS}))
# projects.project_view; the detail adds the updates and the contributions added up.
CONTRIBUTION_TOTAL = obj({"party": PARTY, "kind": STR, "kind_label": STR, "quantity": NUM, "quantity_unit": STR_N})
PROJECT = component("Project", obj({
    "id": INT, "code": STR, "community_id": INT, "need_id": INT, "title": STR, "plan": STR_N,
    "owner": STAFF_BRIEF_N, "lead_unit": nullable(PARTY), "partners": array(PARTY), "deadline": DATE_N,
    "overdue": BOOL, "status": STR, "status_label": STR, "progress": INT, "hours": NUM, "beneficiaries": INT_N,
    "summary": STR_N, "completed_at": TIME_N, "created_at": TIME,
    "timeline": array(obj({"id": INT, "at": TIME, "kind": STR, "progress": INT_N, "note": STR_N,
                           "staff": STAFF_BRIEF_N})),
    "contributions": array(CONTRIBUTION_TOTAL)}, optional=("timeline", "contributions")))
# contributions.contribution_view.
CONTRIBUTION = component("Contribution", obj({
    "id": INT, "project_id": INT, "project": STR_N, "project_code": STR_N, "need_id": INT_N, "party": PARTY,
    "kind": STR, "kind_label": STR, "quantity": NUM, "quantity_unit": STR_N, "served_on": DATE, "note": STR_N,
    "resource_id": INT_N, "hours_entry_id": INT_N, "recorded_by": STAFF_BRIEF_N, "created_at": TIME}))

REGISTER_PARTNER_UNIT = PARTNER_UNIT
PARTNER_UNITS = obj({"items": array(PARTNER_UNIT)})
RESOURCES = obj({"items": array(RESOURCE)})
LIST_NEEDS = obj({"items": array(NEED)})
CLAIMABLE_NEEDS = obj({"items": array(PUBLIC_NEED)})
NEED_CLAIM_ANSWER = {"allOf": [NEED_CLAIM, obj({"replay": {
    "type": "boolean", "description": "true: the same claim was already registered (200)"}})]}
LIST_REQUEST_HOTSPOTS = obj({"items": array(obj({
    "category": STR, "category_label": STR, "building_id": INT_N, "building": STR_N, "count": INT,
    "request_ids": INTS, "requests": array(obj({"id": INT, "code": STR, "title": STR, "status": STR})),
    "suggested_title": STR, "on_need_list": BOOL}))})
MATCH_NEED = obj({"need_id": INT, "items": array(obj({"resource": RESOURCE, "score": NUM, "fits": BOOL,
                                                     "reasons": STRS}))})
RECORD_PROJECT_CONTRIBUTION = CONTRIBUTION
PROJECTS = obj({"items": array(PROJECT)})
PROJECT_CONTRIBUTIONS = obj({"items": array(CONTRIBUTION), "totals": array(CONTRIBUTION_TOTAL)})
# report.community_report: the year of the community's 共建 (units, members, the summary).
GOVERNANCE_REPORT = obj({
    "community": COMMUNITY_BRIEF, "year": INT,
    "summary": {"type": "object", "additionalProperties": True, "properties": {
        "needs_by_status": COUNTS, "topics_by_stage": COUNTS}, "description": "counts and sums of the year"},
    "units": array(obj({"unit_id": INT, "name": STR, "kind": STR, "contact_name": STR_N, "phone": STR_N,
                        "resources": INT, "needs_claimed": INT, "projects": INT, "hours": NUM, "other": STR,
                        "active": BOOL})),
    "members": array(obj({"member_id": INT, "name": STR, "kind": STR, "work_unit": STR_N, "party_org": STR_N,
                          "needs_claimed": INT, "projects": INT, "project_hours": NUM, "volunteer_hours": NUM,
                          "other": STR}))})
