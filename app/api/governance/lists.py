"""资源清单 · 需求清单: partner units, resources, needs, 双向认领, matching and recurring needs from requests."""
from __future__ import annotations

import copy

from flask import jsonify, request

from app.api.governance.common import COLLECTORS, EDITORS, TAGS, VIEWERS, staff_of, statuses
from app.api.schemas import governance_lists as schemas
from app.api.support import OPENAPI_PATHS, id_arg, int_arg, json_body, route
from app.handlers.governance import claims, fields, hotspots, matching, needs, projects, resources, units
from app.models.governance import NEED_SOURCES, NEED_STATUSES, RESOURCE_KINDS

# The bodies say only what the handlers' reads do not (app/api/openapi_bodies.py derives the rest:
# names, types, maxLength, enums, bounds, required).
UNIT_BODY = {"type": "object", "properties": {"active": {"type": "boolean"}}}
PARTY_FIELDS = {"unit_id": {"type": "integer", "description": "the partner unit (or member_id)"},
                "member_id": {"type": "integer", "description": "the registered member (or unit_id)"}}
RESOURCE_BODY = {"type": "object", "properties": {
    **PARTY_FIELDS, "status": {"type": "string", "enum": ["active", "withdrawn"], "description": "PATCH: withdraw"}}}
NEED_BODY: dict = {"type": "object", "properties": {}}
CLAIM_BODY = {"type": "object", "properties": PARTY_FIELDS}
REASON_BODY = {"type": "object", "properties": {"reason": {"type": "string"}}}


def _need_fields_and(own: dict) -> dict:
    """``own`` (required) and, optional, the fields of POST /needs as derived there: these handlers pass
    the rest of the body on to the need they create, with its title and kind filled in."""
    needs_body = OPENAPI_PATHS["/api/v1/needs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return {"type": "object", "required": list(own), "properties": {**copy.deepcopy(needs_body["properties"]), **own}}


# ---- partner units ------------------------------------------------------------------------------

@route("/partner-units", summary="共建单位（驻区单位）名册", tags=TAGS, query={"active": {"type": "boolean"}},
       returns=schemas.PARTNER_UNITS)
def list_partner_units():
    staff = staff_of(*VIEWERS)
    rows = units.units(staff.community_id, active_only=request.args.get("active") == "true")
    return jsonify({"items": [units.unit_view(u) for u in rows]})


@route("/partner-units", ["POST"], summary="登记共建单位", tags=TAGS, body=UNIT_BODY,
       responses={"201": {"description": "registered"}}, returns=schemas.REGISTER_PARTNER_UNIT,
       errors={409: ["duplicate"]})
def register_partner_unit():
    staff = staff_of(*EDITORS)
    return jsonify(units.unit_view(units.register_unit(staff.community_id, json_body(), staff))), 201


@route("/partner-units/<int:unit_id>", ["PATCH"], summary="修改共建单位", tags=TAGS, body=UNIT_BODY,
       returns=schemas.REGISTER_PARTNER_UNIT, errors={409: ["duplicate"]})
def update_partner_unit(unit_id: int):
    staff = staff_of(*EDITORS)
    unit = units.unit_in(staff.community_id, unit_id)
    return jsonify(units.unit_view(units.update_unit(unit, json_body(), staff)))


# ---- resources ----------------------------------------------------------------------------------

@route("/resources", summary="资源清单", tags=TAGS, query={
    "kind": {"type": "string", "enum": list(RESOURCE_KINDS)}, "status": {"type": "string"},
    "unit_id": {"type": "integer"}, "member_id": {"type": "integer"}}, returns=schemas.RESOURCES)
def list_resources():
    staff = staff_of(*VIEWERS)
    rows = resources.resources(staff.community_id, kind=request.args.get("kind") or None,
                               status=request.args.get("status", "active") or None, unit_id=id_arg("unit_id"),
                               member_id=id_arg("member_id"))
    return jsonify({"items": resources.resource_views(rows)})


@route("/resources", ["POST"], summary="登记资源（单位或党员提供的场地、车辆、技能、时长、资金、物资）", tags=TAGS,
       body=RESOURCE_BODY, responses={"201": {"description": "registered"}}, returns=schemas.RESOURCE,
       errors={400: ["inactive"], 404: ["not_found"]})
def register_resource_line():
    staff = staff_of(*EDITORS)
    return jsonify(resources.resource_view(resources.register_resource(staff.community_id, json_body(), staff))), 201


@route("/resources/<int:resource_id>", ["PATCH"], summary="修改或撤回资源", tags=TAGS, body=RESOURCE_BODY,
       returns=schemas.RESOURCE)
def update_resource_line(resource_id: int):
    staff = staff_of(*EDITORS)
    resource = resources.resource_in(staff.community_id, resource_id)
    return jsonify(resources.resource_view(resources.update_resource(resource, json_body(), staff)))


# ---- needs --------------------------------------------------------------------------------------

@route("/needs", summary="需求清单", tags=TAGS, query={
    "status": {"type": "string", "description": f"comma list of {', '.join(NEED_STATUSES)}"},
    "kind": {"type": "string"}, "source": {"type": "string", "enum": list(NEED_SOURCES)}}, returns=schemas.LIST_NEEDS)
def list_needs():
    staff = staff_of(*VIEWERS)
    rows = needs.needs(staff.community_id, status=statuses(), kind=request.args.get("kind") or None,
                       source=request.args.get("source") or None)
    return jsonify({"items": [needs.need_view(n) for n in rows]})


@route("/needs", ["POST"], summary="录入需求", tags=TAGS, body=NEED_BODY, responses={"201": {"description": "created"}},
       returns=schemas.NEED, errors={404: ["not_found"]})
def create_need_line():
    staff = staff_of(*COLLECTORS)
    return jsonify(needs.need_view(needs.create_need(staff.community_id, json_body(), staff))), 201


@route("/needs/<int:need_id>", summary="需求详情（含认领）", tags=TAGS, returns=schemas.NEED)
def get_need(need_id: int):
    staff = staff_of(*VIEWERS)
    return jsonify(needs.need_view(needs.need_in(staff.community_id, need_id)))


@route("/needs/<int:need_id>", ["PATCH"], summary="修改需求", tags=TAGS, body=NEED_BODY, returns=schemas.NEED,
       errors={409: ["invalid_state"]})
def update_need_line(need_id: int):
    staff = staff_of(*EDITORS)
    need = needs.need_in(staff.community_id, need_id)
    return jsonify(needs.need_view(needs.update_need(need, json_body(), staff)))


@route("/needs/<int:need_id>/close", ["POST"], summary="关闭需求（写明原因）", tags=TAGS, body=REASON_BODY, returns=schemas.NEED,
       errors={409: ["invalid_state"]})
def close_need_line(need_id: int):
    staff = staff_of(*EDITORS)
    need = needs.need_in(staff.community_id, need_id)
    return jsonify(needs.need_view(needs.close_need(need, json_body().get("reason"), staff)))


@route("/needs/from-requests", ["POST"], summary="把反复出现的诉求汇总为需求（一步）", tags=TAGS,
       body=_need_fields_and({"request_ids": {"type": "array", "items": {"type": "integer"}}}),
       responses={"201": {"description": "created"}}, returns=schemas.NEED, errors={404: ["not_found"], 409: ["already_promoted"]})
def promote_requests_to_need():
    staff = staff_of(*EDITORS)
    data = json_body()
    request_ids = fields.ids(data, "request_ids", "诉求编号", required=True)
    rest = {k: v for k, v in data.items() if k != "request_ids"}
    return jsonify(needs.need_view(needs.promote_requests(staff.community_id, request_ids, rest, staff))), 201


@route("/needs/from-wish", ["POST"], summary="把微心愿转为需求", tags=TAGS,
       body=_need_fields_and({"wish_id": {"type": "integer"}}), responses={"201": {"description": "created"}},
       returns=schemas.NEED,
       errors={404: ["not_found"], 409: ["already_promoted", "wish_closed"]})
def promote_wish_to_need():
    staff = staff_of(*EDITORS)
    data = json_body()
    rest = {k: v for k, v in data.items() if k != "wish_id"}
    return jsonify(needs.need_view(needs.promote_wish(staff.community_id, data.get("wish_id"), rest, staff))), 201


@route("/governance/hotspots", summary="诉求热点：同一楼栋反复出现的同类问题", tags=TAGS, query={
    "days": {"type": "integer", "minimum": 1, "maximum": 365}, "min_count": {"type": "integer", "minimum": 2}},
       returns=schemas.LIST_REQUEST_HOTSPOTS)
def list_request_hotspots():
    staff = staff_of(*VIEWERS)
    found = hotspots.hotspots(staff.community_id, days=int_arg("days", hotspots.DEFAULT_DAYS, maximum=365),
                              min_count=int_arg("min_count", hotspots.DEFAULT_MIN_COUNT, minimum=2, maximum=100))
    taken = needs.requests_on_list(staff.community_id)
    return jsonify({"items": [{**h.view(), "on_need_list": bool(set(h.request_ids) & taken)} for h in found]})


@route("/needs/<int:need_id>/matches", summary="匹配建议：适合这个需求的资源及理由", tags=TAGS, returns=schemas.MATCH_NEED)
def match_need(need_id: int):
    staff = staff_of(*VIEWERS)
    need = needs.need_in(staff.community_id, need_id)
    return jsonify({"need_id": need.id, "items": [matching.match_view(m) for m in matching.suggest(need)]})


# ---- 双向认领 ------------------------------------------------------------------------------------

@route("/needs/<int:need_id>/claims", ["POST"], summary="登记单位或党员认领需求", tags=TAGS, body=CLAIM_BODY,
       responses={"201": {"description": "claimed"}, "200": {"description": "already claimed (replay)"}},
       returns=schemas.NEED_CLAIM_ANSWER,
       errors={400: ["inactive"], 409: ["inactive", "invalid_state"]})
def record_need_claim(need_id: int):
    staff = staff_of(*EDITORS)
    claim, created = claims.claim_need(needs.need_in(staff.community_id, need_id), json_body(), staff)
    return jsonify({**claims.claim_view(claim), "replay": not created}), 201 if created else 200


@route("/needs/<int:need_id>/assign", ["POST"], summary="社区指派资源给需求", tags=TAGS,
       body={"type": "object"},
       responses={"201": {"description": "assigned"}, "200": {"description": "already assigned (replay)"}},
       returns=schemas.NEED_CLAIM_ANSWER,
       errors={409: ["inactive", "invalid_state"]})
def assign_need_resource(need_id: int):
    staff = staff_of(*EDITORS)
    claim, created = claims.assign_resource(needs.need_in(staff.community_id, need_id), json_body(), staff)
    return jsonify({**claims.claim_view(claim), "replay": not created}), 201 if created else 200


@route("/needs/<int:need_id>/claims/<int:claim_id>/withdraw", ["POST"], summary="撤回认领", tags=TAGS,
       body=REASON_BODY, returns=schemas.NEED_CLAIM,
       errors={409: ["invalid_state"]})
def withdraw_need_claim(need_id: int, claim_id: int):
    staff = staff_of(*EDITORS)
    need = needs.need_in(staff.community_id, need_id)
    claim = claims.withdraw_claim(claims.claim_in(need, claim_id), json_body().get("reason"), staff)
    return jsonify(claims.claim_view(claim))


@route("/needs/<int:need_id>/project", ["POST"], summary="需求立项为共建项目", tags=TAGS,
       body={"type": "object", "properties": {"lead_unit_id": {"type": "integer"}}}, responses={"201": {"description": "project started"}},
       returns=schemas.PROJECT,
       errors={409: ["already_project", "conflict", "invalid_state", "no_partner"]})
def start_need_project(need_id: int):
    staff = staff_of(*EDITORS)
    project = projects.start_project(needs.need_in(staff.community_id, need_id), json_body(), staff)
    return jsonify(projects.project_view(project, detail=True)), 201
