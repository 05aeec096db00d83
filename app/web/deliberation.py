"""Console pages of 四方五步议事: the topics by step, and a topic's page with the actions of its step —
the four parties, minutes of the offline meeting, the tea-house vote in the groups, the decision,
the tasks it was split into, the review.

The same handlers and roles as app/api/governance/topics.py: every community staff member
sees the topics and may raise one; the committee (admins and the duty team) runs the steps.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from sqlalchemy import select

from app.clock import now
from app.errors import NotFound
from app.extensions import db
from app.handlers.governance import deliberation, hotspots, needs, tasks, topic_views, votes
from app.handlers.governance.errors import refuse
from app.handlers.governance.roles import COMMITTEE, VIEWERS
from app.localtime import local_date
from app.models import PartyMember, ResidentGroup, Staff
from app.models.deliberation import PARTIES, STAGE_ORDER, STAGES, TASK_KINDS
from app.models.groups import GroupKind
from app.models.proxy import Case
from app.models.requests import ServiceRequest
from app.web.governance import hotspot_views
from app.web.govforms import form_body, form_ids, submit, typed
from app.web.login import current_staff, staff_required
from app.web.support import protect

bp = protect(Blueprint("web_topics", __name__, url_prefix="/console"))

NEXT = {"collect": "topic", "topic": "deliberate", "deliberate": "carry_out", "carry_out": "review",
        "review": "closed"}
ACTIONS = ("advance", "drop", "participant", "minutes", "post", "close-round", "task", "task-done")


def _list_context(staff: Staff, *, error: str | None = None) -> dict:
    which = request.args.get("stage") or "active"
    stage = [s for s in STAGE_ORDER if s != "closed"] if which == "active" else [which] if which in STAGES else None
    rows = deliberation.topics(staff.community_id, stage=stage)
    spots, loaded = hotspot_views(staff.community_id)  # noqa: F841 - rows kept alive for the views
    return {"topics": [topic_views.topic_view(t) for t in rows], "which": which, "stages": STAGES,
            "hotspots": spots, "error": error,
            "typed": typed() if error else {}}


@bp.get("/topics")
@staff_required(*VIEWERS)
def topics_page():
    return render_template("console/topics.html", **_list_context(current_staff()))


@bp.post("/topics")
@staff_required(*VIEWERS)
def topic_create():
    staff = current_staff()

    def create():
        body = form_body(ints=("building_id",), skip=("request_ids",))
        ids = form_ids("request_ids")
        if ids:
            rows = hotspots.requests_in(staff.community_id, ids)
            body = {"title": hotspots.default_title(rows), "detail": "\n".join(f"{r.code} {r.title}" for r in rows),
                    "building_id": hotspots.common_building(rows), "request_ids": ids, **body}
        topic = deliberation.create_topic(staff.community_id, body, staff=staff)
        return f"已提出{topic.label}（收集问题）。", url_for("web_topics.topic_page", topic_id=topic.id)

    return submit(create, "console/topics.html", lambda error: _list_context(staff, error=error))


def _topic_context(staff: Staff, topic_id: int, *, error: str | None = None, action: str | None = None) -> dict:
    topic = deliberation.topic_in(staff.community_id, topic_id)
    groups = db.session.scalars(select(ResidentGroup).where(
        ResidentGroup.community_id == staff.community_id, ResidentGroup.kind == GroupKind.RESIDENT.value,
        ResidentGroup.active.is_(True)).order_by(ResidentGroup.id)).all()
    colleagues = db.session.scalars(select(Staff).where(Staff.community_id == staff.community_id,
                                                        Staff.active.is_(True)).order_by(Staff.id)).all()
    members = db.session.scalars(select(PartyMember).where(PartyMember.community_id == staff.community_id,
                                                           PartyMember.active.is_(True)).order_by(PartyMember.id)).all()
    open_needs = needs.needs(staff.community_id, status=["open", "claimed", "in_project"])
    next_stage = NEXT.get(topic.stage)
    return {"topic": topic_views.topic_view(topic, detail=True), "next_stage": next_stage,
            "next_label": STAGES.get(next_stage), "parties": PARTIES, "task_kinds": TASK_KINDS,
            "groups": groups, "colleagues": colleagues, "members": members, "open_needs": open_needs,
            "committee": staff.has_role(*COMMITTEE), "error": error, "failed_action": action,
            "typed": typed() if error else {}, "today": local_date(now()).isoformat()}


@bp.get("/topics/<int(max=9223372036854775807):topic_id>")
@staff_required(*VIEWERS)
def topic_page(topic_id: int):
    return render_template("console/topic.html", **_topic_context(current_staff(), topic_id))


def _ref_by_code(kind: str, community_id: int) -> int | None:
    """Staff know a request or a case by its code (R…, D…), not by its id."""
    code = (request.form.get("ref_code") or "").strip().upper()
    if not code:
        return None
    model = ServiceRequest if kind == "request" else Case
    found = db.session.scalars(select(model.id).where(model.community_id == community_id, model.code == code)).first()
    if found is None:
        raise refuse(f"本社区没有编号为 {code} 的{TASK_KINDS[kind]}", "not_found", 404, field="ref_code")
    return found


def _task(topic, staff: Staff) -> str:
    body = form_body(ints=("ref_id", "owner_staff_id"), skip=("ref_code", "need_title"))
    kind = body.get("kind")
    if kind in ("request", "case"):
        body["ref_id"] = _ref_by_code(kind, topic.community_id)
    elif kind == "need" and "ref_id" not in body and (request.form.get("need_title") or "").strip():
        body["need"] = {"title": request.form["need_title"].strip(), "kind": "other"}

    def create_need(data):
        return needs.create_need(topic.community_id, data, staff, source="topic", topic_id=topic.id)

    task = tasks.add_task(topic, body, staff, create_need=create_need)
    return f"已添加任务“{task.title}”。"


def _run(action: str, topic, staff: Staff) -> str:
    if action == "advance":
        body = form_body(ints=("owner_staff_id",))
        deliberation.advance(topic, body.get("stage"), body, staff)
        return f"{topic.label}进入“{STAGES[topic.stage]}”。"
    if action == "drop":
        deliberation.advance(topic, "dropped", {"stage": "dropped", **form_body()}, staff)
        return f"{topic.label}不予立项。"
    if action == "participant":
        row = deliberation.add_participant(topic, form_body(ints=("staff_id",), party_select=False), staff)
        return f"已添加{PARTIES[row.party]}：{row.name}。"
    if action == "minutes":
        body = form_body()
        if "attendees" in body:
            body["attendees"] = [p for p in body["attendees"].replace("，", "、").replace(",", "、").split("、") if p]
        deliberation.add_minutes(topic, body, staff)
        return "会议纪要已添加。"
    if action == "post":
        body = form_body(skip=("round", "group_ids"))
        ids = form_ids("group_ids")
        if ids:
            body["group_ids"] = ids
        round_ = "review" if request.form.get("round") == "review" else "vote"
        sent = votes.post(topic, round_, body, staff)
        return f"已发到 {len(sent)} 个居民群，居民在群里回复即可{'投票' if round_ == 'vote' else '评价'}。"
    if action == "close-round":
        round_ = "review" if request.form.get("round") == "review" else "vote"
        votes.close_round(topic, round_, staff)
        return "已结束并在群里公布结果。"
    if action == "task":
        return _task(topic, staff)
    body = form_body(ints=("task_id",))
    if not isinstance(body.get("task_id"), int):
        raise refuse("没有找到这个任务", "not_found", 404, field="task_id")
    tasks.finish_task(topic, tasks.task_in(topic, body["task_id"]), body.get("note"), staff)
    return "任务已完成。"


@bp.post("/topics/<int(max=9223372036854775807):topic_id>/<action>")
@staff_required(*COMMITTEE)
def topic_action(topic_id: int, action: str):
    if action not in ACTIONS:
        raise NotFound("没有这个操作")
    staff = current_staff()
    topic = deliberation.topic_in(staff.community_id, topic_id)
    return submit(lambda: (_run(action, topic, staff), url_for("web_topics.topic_page", topic_id=topic_id)),
                  "console/topic.html", lambda error: _topic_context(staff, topic_id, error=error, action=action))
