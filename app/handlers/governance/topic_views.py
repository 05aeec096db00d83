"""What staff, residents and the public see of a topic: its five steps, parties, minutes, votes, tasks."""
from __future__ import annotations

from typing import Any

from app.extensions import db
from app.handlers.governance import deliberation, tasks, votes
from app.localtime import iso
from app.models import Building, Staff, Topic, TopicEvent
from app.models.deliberation import PARTIES, STAGE_ORDER, STAGES

EVENT_LABELS = {"created": "提出议题", "stage": "进入下一步", "participant": "添加参与方", "minutes": "会议纪要",
                "posted": "发到居民群", "round_closed": "投票结束", "task": "分流任务", "task_done": "任务完成"}


def steps(topic: Topic) -> list[dict[str, Any]]:
    """The five steps with done / current / todo, for a progress bar."""
    reached = {e.to_stage: e.at for e in deliberation.timeline(topic.id) if e.kind == "stage"}
    current = STAGE_ORDER.index(topic.stage) if topic.stage in STAGE_ORDER else -1
    out = []
    for index, stage in enumerate(STAGE_ORDER[:5]):
        state = "done" if index < current or topic.stage == "closed" else "current" if index == current else "todo"
        if topic.stage == "dropped":
            state = "done" if index == 0 else "todo"
        out.append({"stage": stage, "label": STAGES[stage], "state": state, "at": iso(reached.get(stage))})
    return out


def _event_view(event: TopicEvent, *, for_staff: bool) -> dict[str, Any]:
    detail = dict(event.detail or {})
    view = {"id": event.id, "at": iso(event.at), "kind": event.kind, "label": EVENT_LABELS.get(event.kind, event.kind),
            "from_stage": event.from_stage, "to_stage": event.to_stage,
            "to_stage_label": STAGES.get(event.to_stage) if event.to_stage else None, "detail": detail}
    if for_staff:
        view["actor"] = {"type": event.actor_type, "id": event.actor_id}
        if event.actor_type == "staff" and event.actor_id:
            person = db.session.get(Staff, event.actor_id)
            view["actor"]["name"] = person.name if person else None
    return view


def topic_view(topic: Topic, *, detail: bool = False, for_staff: bool = True) -> dict[str, Any]:
    owner = db.session.get(Staff, topic.owner_staff_id) if topic.owner_staff_id else None
    building = db.session.get(Building, topic.building_id) if topic.building_id else None
    view = {"id": topic.id, "number": topic.number, "label": topic.label, "community_id": topic.community_id,
            "title": topic.title, "detail": topic.detail, "source": topic.source,
            "source_label": deliberation.source_label(topic), "stage": topic.stage,
            "stage_label": STAGES.get(topic.stage, topic.stage), "building": building.name if building else None,
            "decision": topic.decision, "owner": owner.public_view() if owner else None,
            "deadline": topic.deadline.isoformat() if topic.deadline else None,
            "vote_open": votes.is_open(topic, "vote"), "review_open": votes.is_open(topic, "review"),
            "vote_closes_at": iso(topic.vote_closes_at), "review_summary": topic.review_summary,
            "drop_reason": topic.drop_reason, "created_at": iso(topic.created_at)}
    if for_staff:
        view["request_ids"] = list(topic.request_ids or [])
        view["group_ids"] = list(topic.group_ids or [])
    if not detail:
        return view
    events = deliberation.timeline(topic.id)
    view["steps"] = steps(topic)
    view["participants"] = [{"id": p.id, "party": p.party, "party_label": PARTIES.get(p.party, p.party),
                             "name": p.name, "note": p.note} for p in deliberation.participants(topic.id)]
    view["minutes"] = [{"at": iso(e.at), **(e.detail or {})} for e in events if e.kind == "minutes"]
    view["tasks"] = [tasks.task_view(t) for t in tasks.tasks_of(topic.id)]
    view["vote"] = votes.result(topic, "vote") if topic.vote_opened_at else None
    view["review"] = votes.result(topic, "review") if topic.review_opened_at else None
    view["timeline"] = [_event_view(e, for_staff=for_staff) for e in events]
    return view
