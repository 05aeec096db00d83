"""What residents do: propose topics and suggestions; as 双报到 members, claim needs and offer resources."""
from __future__ import annotations

from flask import jsonify

from app.api.governance.common import TAGS, resident_here
from app.api.governance.lists import RESOURCE_BODY
from app.api.schemas import governance as schemas
from app.api.schemas import governance_lists
from app.api.support import json_body, route
from app.errors import Forbidden
from app.extensions import db
from app.handlers.governance import claims, deliberation, needs, resources, suggestions, topic_views, units
from app.handlers.governance.errors import not_found
from app.models import Claim, PartyMember, Resident

SUGGESTION_BODY = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}


def _member(resident: Resident) -> PartyMember:
    member = units.member_of_resident(resident.community_id, resident.id)
    if member is None:
        raise Forbidden("请先在“双报到”登记为在职党员或志愿者 (registered members only)")
    return member


@route("/my/topics", ["POST"], summary="居民提出议题（收集问题）", auth="resident", tags=TAGS,
       body={"type": "object"},
       responses={"201": {"description": "proposed"}}, returns=schemas.TOPIC_DETAIL,
       errors={404: ["not_found"], 409: ["conflict"]})
def propose_topic():
    resident = resident_here()
    topic = deliberation.create_topic(resident.community_id, json_body(), resident=resident)
    return jsonify(topic_views.topic_view(topic, detail=True, for_staff=False)), 201


@route("/my/suggestions", ["POST"], summary="百姓说事：提建议", auth="resident", tags=TAGS, body=SUGGESTION_BODY,
       responses={"201": {"description": "collected"}}, returns=schemas.POST_SUGGESTION)
def post_suggestion():
    resident = resident_here()
    row, _created = suggestions.collect(resident.community_id, json_body().get("text"), resident=resident,
                                        source="api")
    return jsonify(suggestions.suggestion_view(row)), 201


@route("/my/suggestions", summary="我的建议和答复", auth="resident", tags=TAGS, returns=schemas.MY_SUGGESTIONS)
def my_suggestions():
    resident = resident_here()
    rows = suggestions.suggestions(resident.community_id, resident_id=resident.id)
    return jsonify({"items": [suggestions.suggestion_view(r) for r in rows]})


@route("/my/claimable-needs", summary="可以认领的需求（双报到成员）", auth="resident", tags=TAGS, returns=governance_lists.CLAIMABLE_NEEDS)
def claimable_needs():
    resident = resident_here()
    _member(resident)
    rows = needs.needs(resident.community_id, status=["open", "claimed"])
    return jsonify({"items": [needs.public_need_view(n) for n in rows]})


@route("/my/needs/<int:need_id>/claim", ["POST"], summary="双报到成员认领需求", auth="resident", tags=TAGS,
       body={"type": "object"},
       responses={"201": {"description": "claimed"}, "200": {"description": "already claimed (replay)"}},
       returns=governance_lists.NEED_CLAIM_ANSWER,
       errors={400: ["inactive"], 409: ["inactive", "invalid_state"]})
def claim_need_as_member(need_id: int):
    resident = resident_here()
    member = _member(resident)
    claim, created = claims.claim_need(needs.need_in(resident.community_id, need_id), json_body(), None,
                                       member=member)
    return jsonify({**claims.claim_view(claim), "replay": not created}), 201 if created else 200


@route("/my/claims/<int:claim_id>/withdraw", ["POST"], summary="撤回我的认领", auth="resident", tags=TAGS,
       body={"type": "object", "properties": {"reason": {"type": "string"}}}, returns=governance_lists.NEED_CLAIM,
       errors={409: ["invalid_state"]})
def withdraw_my_claim(claim_id: int):
    resident = resident_here()
    member = _member(resident)
    claim = db.session.get(Claim, claim_id)
    if claim is None or claim.member_id != member.id:
        raise not_found("认领记录", "claim_id")
    return jsonify(claims.claim_view(claims.withdraw_claim(claim, json_body().get("reason"), None,
                                                           resident_id=resident.id)))


@route("/my/resources", ["POST"], summary="双报到成员登记自己能提供的资源", auth="resident", tags=TAGS,
       body=RESOURCE_BODY, responses={"201": {"description": "registered"}}, returns=governance_lists.RESOURCE,
       errors={400: ["inactive"], 404: ["not_found"]})
def offer_my_resource():
    resident = resident_here()
    member = _member(resident)
    resource = resources.register_resource(resident.community_id, json_body(), None, member=member)
    return jsonify(resources.resource_view(resource)), 201


@route("/my/resources", summary="我登记的资源", auth="resident", tags=TAGS, returns=governance_lists.RESOURCES)
def my_resources():
    resident = resident_here()
    member = _member(resident)
    rows = resources.resources(resident.community_id, member_id=member.id, status=None)
    return jsonify({"items": resources.resource_views(rows)})
