"""百姓说事 for staff: the collected suggestions, public answers, promotion to a topic; and the public list."""
from __future__ import annotations

from flask import jsonify, request

from app.api.governance.common import COLLECTORS, EDITORS, TAGS, VIEWERS, staff_of, statuses
from app.api.schemas import governance as schemas
from app.api.support import json_body, route
from app.extensions import db
from app.handlers.governance import suggestions, topic_views
from app.handlers.governance.errors import not_found
from app.models import Community
from app.models.governance import SUGGESTION_STATUSES


@route("/suggestions", summary="百姓说事：收集到的建议", tags=TAGS,
       query={"status": {"type": "string", "description": f"comma list of {', '.join(SUGGESTION_STATUSES)}"}},
       returns=schemas.LIST_SUGGESTIONS)
def list_suggestions():
    staff = staff_of(*VIEWERS)
    rows = suggestions.suggestions(staff.community_id, status=statuses())
    return jsonify({"items": [suggestions.suggestion_view(r, for_staff=True) for r in rows]})


@route("/suggestions", ["POST"], summary="代居民登记建议（走访、电话）", tags=TAGS,
       body={"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
       responses={"201": {"description": "collected"}}, returns=schemas.STAFF_SUGGESTION)
def record_suggestion():
    staff = staff_of(*COLLECTORS)
    row, _created = suggestions.collect(staff.community_id, json_body().get("text"), resident=None, source="staff",
                                        staff=staff)
    return jsonify(suggestions.suggestion_view(row, for_staff=True)), 201


@route("/suggestions/<int:suggestion_id>/answer", ["POST"], summary="公开答复建议（发回原群或居民）", tags=TAGS,
       body={"type": "object", "required": ["answer"], "properties": {"answer": {"type": "string"}}},
       returns=schemas.ANSWER_SUGGESTION,
       errors={409: ["invalid_state"]})
def answer_suggestion(suggestion_id: int):
    staff = staff_of(*COLLECTORS)
    row = suggestions.suggestion_in(staff.community_id, suggestion_id)
    message = suggestions.answer(row, json_body().get("answer"), staff)
    return jsonify({**suggestions.suggestion_view(row, for_staff=True), "message_id": message.id if message else None})


@route("/suggestions/<int:suggestion_id>/promote", ["POST"], summary="建议转为议事议题", tags=TAGS,
       body={"type": "object", "properties": {"title": {"type": "string"}, "detail": {"type": "string"}}},
       responses={"201": {"description": "topic created"}}, returns=schemas.TOPIC_DETAIL,
       errors={409: ["already_promoted", "conflict"]})
def promote_suggestion(suggestion_id: int):
    staff = staff_of(*EDITORS)
    row = suggestions.suggestion_in(staff.community_id, suggestion_id)
    topic = suggestions.promote(row, json_body() if request.get_data() else {}, staff)
    return jsonify(topic_views.topic_view(topic, detail=True)), 201


@route("/suggestions/<int:suggestion_id>/close", ["POST"], summary="关闭建议（须已答复）", tags=TAGS,
       body={"type": "object", "properties": {"reason": {"type": "string"}}}, returns=schemas.STAFF_SUGGESTION,
       errors={409: ["not_answered"]})
def close_suggestion(suggestion_id: int):
    staff = staff_of(*COLLECTORS)
    row = suggestions.suggestion_in(staff.community_id, suggestion_id)
    return jsonify(suggestions.suggestion_view(suggestions.close(row, json_body().get("reason"), staff),
                                               for_staff=True))


@route("/public/suggestions", summary="百姓说事公开答复（居民姓名打码）", auth="none", tags=TAGS,
       query={"community": {"type": "string", "required": True, "description": "community code or id"}},
       returns=schemas.PUBLIC_SUGGESTIONS,
       errors={404: ["not_found"]})
def public_suggestions():
    community = community_named(request.args.get("community"))
    rows = suggestions.suggestions(community.id, answered_only=True)[:50]
    return jsonify({"community": {"id": community.id, "name": community.name},
                    "items": [suggestions.suggestion_view(r) for r in rows]})


def community_named(value: str | None) -> Community:
    """?community= is the community's code (FQXC) or its id; a public page names it either way."""
    value = (value or "").strip()
    if not value:
        raise not_found("社区（请用 ?community= 社区代码或编号）", "community")
    community = db.session.query(Community).filter(Community.code == value).first()
    if community is None and value.isascii() and value.isdigit() and len(value) < 19:
        community = db.session.get(Community, int(value))
    if community is None:
        raise not_found("社区", "community")
    return community
