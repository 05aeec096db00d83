"""四方五步议事: topics through the five steps, the four parties, minutes, the tea-house vote, tasks."""
from __future__ import annotations

from flask import g, jsonify

from app.api.governance.common import COMMITTEE, TAGS, VIEWERS, resident_here, staff_of, statuses
from app.api.schemas import governance as schemas
from app.api.support import json_body, route
from app.extensions import db
from app.handlers.governance import deliberation, fields, hotspots, needs, tasks, topic_views, votes
from app.handlers.governance.errors import not_found, refuse
from app.models import Staff, Topic
from app.models.deliberation import REVIEW_CHOICES, STAGES, VOTE_CHOICES

# What the handlers' reads do not say (app/api/openapi_bodies.py derives the rest).
TOPIC_BODY = {"type": "object"}
ADVANCE_BODY = {"type": "object", "required": ["stage"], "properties": {
    "stage": {"type": "string", "enum": [*STAGES]}, "title": {"type": "string"}, "detail": {"type": "string"},
    "note": {"type": "string"}, "decision": {"type": "string", "description": "to carry_out"},
    "owner_staff_id": {"type": "integer", "description": "to carry_out"},
    "deadline": {"type": "string", "format": "date", "description": "to carry_out"},
    "summary": {"type": "string", "description": "to closed"}, "reason": {"type": "string", "description": "dropped"}}}
VOTE_BODY = {"type": "object", "required": ["choice"], "properties": {
    "choice": {"type": "string", "enum": [*VOTE_CHOICES, *REVIEW_CHOICES]}, "comment": {"type": "string"}}}


def _topic(topic_id: int, *roles: str) -> tuple[Topic, Staff]:
    staff = staff_of(*roles)
    return deliberation.topic_in(staff.community_id, topic_id), staff


def _detail(topic: Topic):
    return jsonify(topic_views.topic_view(topic, detail=True))


@route("/topics", summary="议题列表（工作人员：全部；居民：本社区已立项的议题和自己提出的）", auth="any", tags=TAGS,
       query={"stage": {"type": "string", "description": f"comma list of {', '.join(STAGES)}"}}, returns=schemas.TOPICS)
def list_topics():
    if isinstance(g.subject, Staff):
        staff = staff_of(*VIEWERS)
        rows = deliberation.topics(staff.community_id, stage=statuses("stage"))
        return jsonify({"items": [topic_views.topic_view(t) for t in rows]})
    resident = resident_here()
    rows = [t for t in deliberation.topics(resident.community_id, stage=statuses("stage"))
            if t.stage not in ("collect", "dropped") or t.proposer_resident_id == resident.id]
    return jsonify({"items": [topic_views.topic_view(t, for_staff=False) for t in rows]})


@route("/topics", ["POST"], summary="提出议题（可来自诉求热点）", tags=TAGS, body=TOPIC_BODY,
       responses={"201": {"description": "created in the collect stage"}}, returns=schemas.TOPIC_DETAIL,
       errors={404: ["not_found"], 409: ["conflict"]})
def create_topic_line():
    staff = staff_of(*VIEWERS)
    topic = deliberation.create_topic(staff.community_id, json_body(), staff=staff)
    return _detail(topic), 201


@route("/topics/from-hotspot", ["POST"], summary="把诉求热点提为议题", tags=TAGS,
       body={"type": "object", "properties": {"title": {"type": "string"}}},
       responses={"201": {"description": "created"}}, returns=schemas.TOPIC_DETAIL,
       errors={404: ["not_found"], 409: ["conflict"]})
def create_topic_from_hotspot():
    staff = staff_of(*VIEWERS)
    data = json_body()
    rows = hotspots.requests_in(staff.community_id, fields.ids(data, "request_ids", "诉求编号", required=True))
    body = {"title": hotspots.default_title(rows), "detail": "\n".join(f"{r.code} {r.title}" for r in rows),
            "building_id": hotspots.common_building(rows), **data}
    return _detail(deliberation.create_topic(staff.community_id, body, staff=staff)), 201


@route("/topics/<int:topic_id>", summary="议题详情：五步进度、四方、纪要、投票、任务、时间线", auth="any", tags=TAGS, returns=schemas.GET_TOPIC)
def get_topic(topic_id: int):
    if isinstance(g.subject, Staff):
        topic, _staff = _topic(topic_id, *VIEWERS)
        return _detail(topic)
    resident = resident_here()
    topic = deliberation.topic_in(resident.community_id, topic_id)
    if topic.stage in ("collect", "dropped") and topic.proposer_resident_id != resident.id:
        raise not_found("议题", "topic_id")
    return jsonify(topic_views.topic_view(topic, detail=True, for_staff=False))


@route("/topics/<int:topic_id>/advance", ["POST"], summary="进入下一步（五步：收集→立题→议事→落实→评审→办结）",
       tags=TAGS, body=ADVANCE_BODY, returns=schemas.TOPIC_DETAIL, errors={409: ["invalid_transition", "no_tasks", "parties_missing", "tasks_open"]})
def advance_topic(topic_id: int):
    topic, staff = _topic(topic_id, *COMMITTEE)
    data = json_body()
    if not isinstance(data.get("stage"), str):  # a list or object here would reach a set lookup (a 500)
        raise refuse("请给出要进入的步骤 stage", field="stage")
    return _detail(deliberation.advance(topic, data["stage"], data, staff))


@route("/topics/<int:topic_id>/participants", ["POST"], summary="添加议事参与方（四方）", tags=TAGS,
       body={"type": "object", "properties": {"member_id": {"type": "integer"}, "unit_id": {"type": "integer"}}},
       responses={"201": {"description": "added"}},
       returns=schemas.TOPIC_DETAIL,
       errors={409: ["invalid_state"]})
def add_topic_participant(topic_id: int):
    topic, staff = _topic(topic_id, *COMMITTEE)
    deliberation.add_participant(topic, json_body(), staff)
    return _detail(topic), 201


@route("/topics/<int:topic_id>/minutes", ["POST"], summary="添加线下议事会纪要", tags=TAGS,
       body={"type": "object"},
       responses={"201": {"description": "added"}}, returns=schemas.TOPIC_DETAIL,
       errors={409: ["invalid_state"]})
def add_topic_minutes(topic_id: int):
    topic, staff = _topic(topic_id, *COMMITTEE)
    deliberation.add_minutes(topic, json_body(), staff)
    return _detail(topic), 201


@route("/topics/<int:topic_id>/post", ["POST"], summary="发到居民群：网上茶馆会投票（vote）或评审（review）", tags=TAGS,
       body={"type": "object", "properties": {
           "round": {"type": "string", "enum": ["vote", "review"]},
           "group_ids": {"type": "array", "items": {"type": "integer"}, "description": "default: every resident group"},
           "closes_at": {"type": "string", "format": "date-time"}}}, returns=schemas.POST_TOPIC_TO_GROUPS,
       errors={409: ["invalid_state", "no_groups", "vote_closed"]})
def post_topic_to_groups(topic_id: int):
    topic, staff = _topic(topic_id, *COMMITTEE)
    data = json_body()
    round_ = fields.choice(data, "round", "轮次", {"vote": "投票", "review": "评审"}, default="vote")
    messages = votes.post(topic, round_, {k: v for k, v in data.items() if k != "round"}, staff)
    return jsonify({"topic": topic_views.topic_view(topic, detail=True), "messages": [m.id for m in messages]})


@route("/topics/<int:topic_id>/close-round", ["POST"], summary="结束投票或评审并在群里公布结果", tags=TAGS,
       body={"type": "object"},
       returns=schemas.POST_TOPIC_TO_GROUPS,
       errors={409: ["round_closed"]})
def close_topic_round(topic_id: int):
    topic, staff = _topic(topic_id, *COMMITTEE)
    round_ = fields.choice(json_body(), "round", "轮次", {"vote": "投票", "review": "评审"}, default="vote")
    outcome = votes.close_round(topic, round_, staff)
    return jsonify({"topic": topic_views.topic_view(topic, detail=True), "messages": outcome["messages"]})


@route("/topics/<int:topic_id>/tasks", ["POST"], summary="分流落实：添加任务（诉求、共建需求、代办件或工作任务）",
       tags=TAGS, body={"type": "object", "properties": {
           "need": {"type": "object", "description": "a new need for kind need (fields as POST /needs)"}}},
       responses={"201": {"description": "added"}}, returns=schemas.TOPIC_DETAIL,
       errors={409: ["duplicate", "invalid_state"]})
def add_topic_task(topic_id: int):
    topic, staff = _topic(topic_id, *COMMITTEE)

    def create_need(data):
        return needs.create_need(topic.community_id, data, staff, source="topic", topic_id=topic.id)

    tasks.add_task(topic, json_body(), staff, create_need=create_need)
    return _detail(topic), 201


@route("/topics/<int:topic_id>/tasks/<int:task_id>/done", ["POST"], summary="工作任务完成", tags=TAGS,
       body={"type": "object", "properties": {"note": {"type": "string"}}}, returns=schemas.TOPIC_DETAIL,
       errors={409: ["derived"]})
def finish_topic_task(topic_id: int, task_id: int):
    topic, staff = _topic(topic_id, *COMMITTEE)
    tasks.finish_task(topic, tasks.task_in(topic, task_id), json_body().get("note"), staff)
    return _detail(topic)


@route("/topics/<int:topic_id>/result", summary="公开的投票与评审结果（居民姓名打码）", auth="none", tags=TAGS,
       returns=schemas.TOPIC_PUBLIC_RESULT)
def topic_public_result(topic_id: int):
    topic = db.session.get(Topic, topic_id)
    if topic is None or topic.stage in ("collect", "dropped"):
        raise not_found("议题", "topic_id")
    return jsonify({"number": topic.number, "title": topic.title, "stage": topic.stage,
                    "stage_label": STAGES[topic.stage], "decision": topic.decision,
                    "vote": votes.result(topic, "vote"), "review": votes.result(topic, "review")})


@route("/topics/<int:topic_id>/vote", ["POST"], summary="居民投票：支持/反对/弃权，评审时满意/基本满意/不满意（每人一票）",
       auth="resident", tags=TAGS, body=VOTE_BODY, returns=schemas.VOTE_ON_TOPIC,
       errors={403: ["other_community"], 409: ["round_closed"]})
def vote_on_topic(topic_id: int):
    resident = resident_here()
    topic = deliberation.topic_in(resident.community_id, topic_id)
    data = json_body()
    round_ = "review" if topic.stage == "review" else "vote"
    choice = fields.text(data, "choice", "选项", required=True, max_length=20)
    by_label = {label: key for key, label in (REVIEW_CHOICES if round_ == "review" else VOTE_CHOICES).items()}
    choice = by_label.get(choice, choice)
    if choice not in (REVIEW_CHOICES if round_ == "review" else VOTE_CHOICES):
        raise refuse(f"选项无效，可选：{'、'.join(by_label)}", field="choice")
    cast = votes.cast(topic, resident, round_, choice, source="api",
                      comment=fields.text(data, "comment", "意见", max_length=2000))
    return jsonify({"round": round_, "choice": cast.vote.choice, "changed_from": cast.previous,
                    "result": votes.result(topic, round_)})
