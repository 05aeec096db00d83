"""四方五步议事: a topic goes collect → topic → deliberate → carry_out → review → closed.

Each step is a state; ``advance`` moves a topic one step forward (or drops it
before deliberation) and checks what the step needs: the four parties before
deliberating, a decision with an owner and a deadline before carrying out, every
task followed to its end before the review. Every change is a ``TopicEvent`` on
the topic's append-only timeline. Voting and posting to the groups are in votes.py,
the tasks in tasks.py.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.clock import now
from app.database import begin_write_transaction
from app.extensions import db
from app.handlers.audit import record
from app.handlers.governance import fields, hotspots, tasks, units, votes
from app.handlers.governance.errors import not_found, refuse
from app.localtime import local_date
from app.models import Building, Participant, Resident, Staff, Topic, TopicEvent
from app.models.deliberation import PARTIES, STAGES, TOPIC_SOURCES

TOPIC_FIELDS = ("title", "detail", "building_id", "request_ids")
NEXT = {"collect": "topic", "topic": "deliberate", "deliberate": "carry_out", "carry_out": "review",
        "review": "closed"}


def add_event(topic: Topic, kind: str, actor: tuple[str, int | None], *, to_stage: str | None = None,
              **detail: Any) -> TopicEvent:
    event = TopicEvent(topic_id=topic.id, at=now(), actor_type=actor[0], actor_id=actor[1], kind=kind,
                       from_stage=topic.stage if to_stage else None, to_stage=to_stage, detail=detail or None)
    db.session.add(event)
    return event


def staff_actor(staff: Staff | None) -> tuple[str, int | None]:
    return ("staff", staff.id) if staff else ("system", None)


def create_topic(community_id: int, data: dict[str, Any], *, staff: Staff | None = None,
                 resident: Resident | None = None, source: str | None = None,
                 suggestion_id: int | None = None) -> Topic:
    """收集问题: a topic raised by staff (possibly from a hot spot of requests) or proposed by a resident."""
    fields.only_known(data, TOPIC_FIELDS if staff else ("title", "detail"))
    title = fields.text(data, "title", "议题", required=True, max_length=100)
    detail = fields.text(data, "detail", "说明", max_length=4000)
    request_ids = fields.ids(data, "request_ids", "诉求编号")
    if request_ids:
        hotspots.requests_in(community_id, request_ids)
    building_id = fields.ident(data, "building_id", "楼栋")
    if building_id is not None:
        building = db.session.get(Building, building_id)
        if building is None or building.community_id != community_id:
            raise not_found("楼栋", "building_id")
    if source is None:
        source = "requests" if request_ids else ("staff" if staff else "resident")
    begin_write_transaction(db.session)
    number = (db.session.scalar(select(func.max(Topic.number)).where(Topic.community_id == community_id)) or 0) + 1
    topic = Topic(community_id=community_id, number=number, title=title, detail=detail, source=source,
                  request_ids=request_ids, building_id=building_id,
                  proposer_staff_id=staff.id if staff else None,
                  proposer_resident_id=resident.id if resident else None, stage="collect")
    db.session.add(topic)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise refuse("议题编号冲突，请重试", "conflict", 409) from None
    actor = staff_actor(staff) if resident is None else ("resident", resident.id)
    add_event(topic, "created", actor, source=source, request_ids=request_ids or None, suggestion_id=suggestion_id)
    record(actor[0], actor[1], "governance.topic.create", topic, community_id=community_id,
           detail={"number": number, "source": source})
    db.session.commit()
    return topic


def topic_in(community_id: int, topic_id: Any, field: str = "topic_id") -> Topic:
    topic = db.session.get(Topic, fields.as_id(topic_id, field, "议题"))
    if topic is None or topic.community_id != community_id:
        raise not_found("议题", field)
    return topic


def topics(community_id: int, *, stage: list[str] | None = None) -> list[Topic]:
    statement = select(Topic).where(Topic.community_id == community_id)
    if stage:
        statement = statement.where(Topic.stage.in_(stage))
    return list(db.session.scalars(statement.order_by(Topic.number.desc())))


# ---- the four parties -------------------------------------------------------------------------

def add_participant(topic: Topic, data: dict[str, Any], staff: Staff) -> Participant:
    fields.only_known(data, ("party", "name", "staff_id", "resident_id", "member_id", "unit_id", "note"))
    if topic.stage in ("closed", "dropped"):
        raise refuse("议题已结束，不能再添加参与方", "invalid_state", 409)
    party = fields.choice(data, "party", "参与方", PARTIES, required=True)
    links, name = _participant_links(topic.community_id, data)
    name = fields.text(data, "name", "姓名或单位", max_length=100) or name
    if not name:
        raise refuse("请填写参与人姓名或单位", field="name")
    existing = db.session.scalars(select(Participant).where(
        Participant.topic_id == topic.id, Participant.party == party, Participant.name == name)).first()
    if existing is not None:
        return existing
    row = Participant(topic_id=topic.id, party=party, name=name,
                      note=fields.text(data, "note", "备注", max_length=200), **links)
    db.session.add(row)
    db.session.flush()
    add_event(topic, "participant", staff_actor(staff), party=party, name=name, participant_id=row.id)
    db.session.commit()
    return row


def _participant_links(community_id: int, data: dict[str, Any]) -> tuple[dict[str, int | None], str | None]:
    links: dict[str, int | None] = {"staff_id": None, "resident_id": None, "member_id": None, "unit_id": None}
    name = None
    if fields.present(data, "staff_id"):
        person = db.session.get(Staff, fields.ident(data, "staff_id", "工作人员"))
        if person is None or person.community_id != community_id:
            raise not_found("工作人员", "staff_id")
        links["staff_id"], name = person.id, person.name
    if fields.present(data, "resident_id"):
        resident = db.session.get(Resident, fields.ident(data, "resident_id", "居民"))
        if resident is None or resident.community_id != community_id:
            raise not_found("居民", "resident_id")
        links["resident_id"], name = resident.id, name or resident.display_name
    if fields.present(data, "member_id"):
        member = units.member_in(community_id, data["member_id"])
        links["member_id"], name = member.id, name or member.name
    if fields.present(data, "unit_id"):
        unit = units.unit_in(community_id, data["unit_id"])
        links["unit_id"], name = unit.id, name or unit.name
    return links, name


def participants(topic_id: int) -> list[Participant]:
    return list(db.session.scalars(select(Participant).where(Participant.topic_id == topic_id)
                                   .order_by(Participant.party, Participant.id)))


def add_minutes(topic: Topic, data: dict[str, Any], staff: Staff) -> TopicEvent:
    """An offline meeting's minutes (线下议事会纪要), added by staff."""
    fields.only_known(data, ("text", "held_at", "place", "attendees"))
    if topic.stage not in ("topic", "deliberate", "carry_out", "review"):
        raise refuse(f"议题在“{STAGES[topic.stage]}”阶段，不能添加会议纪要", "invalid_state", 409)
    text = fields.text(data, "text", "会议纪要", required=True, max_length=8000)
    held_at = fields.moment(data, "held_at", "开会时间") or now()
    if held_at > now():
        raise refuse("开会时间不能是将来", field="held_at")
    event = add_event(topic, "minutes", staff_actor(staff), text=text, held_at=held_at.isoformat(),
                      place=fields.text(data, "place", "地点", max_length=100),
                      attendees=fields.words(data, "attendees", "参会人", limit=60, max_length=50))
    db.session.commit()
    return event


# ---- the five steps ---------------------------------------------------------------------------

def advance(topic: Topic, stage: Any, data: dict[str, Any], staff: Staff) -> Topic:
    """Move the topic to ``stage``: the next step, or ``dropped`` before deliberation."""
    if stage == "dropped":
        return _drop(topic, data, staff)
    if stage not in STAGES:
        raise refuse(f"阶段取值无效，可选：{'、'.join(f'{k}（{v}）' for k, v in STAGES.items())}", field="stage")
    expected = NEXT.get(topic.stage)
    if stage != expected:
        now_label = STAGES[topic.stage]
        hint = f"下一步是“{STAGES[expected]}”" if expected else "议题已结束"
        raise refuse(f"议题{topic.number}当前在“{now_label}”阶段，不能进入“{STAGES[stage]}”；{hint}",
                     "invalid_transition", 409, field="stage")
    step = {"topic": _set_topic, "deliberate": _deliberate, "carry_out": _carry_out, "review": _review,
            "closed": _close}[stage]
    detail = step(topic, data, staff)
    add_event(topic, "stage", staff_actor(staff), to_stage=stage, **detail)
    topic.stage = stage
    record("staff", staff.id, f"governance.topic.{stage}", topic, community_id=topic.community_id)
    db.session.commit()
    posted = detail.get("vote_result") or detail.get("review_result")
    if posted is not None:
        votes.post_result(topic, "vote" if stage == "carry_out" else "review", staff)
    return topic


def _set_topic(topic: Topic, data: dict[str, Any], staff: Staff) -> dict[str, Any]:
    """确定议题: the committee accepts the issue as a topic (its wording may be sharpened)."""
    fields.only_known(data, ("stage", "title", "detail", "note"))
    for name, label, length in (("title", "议题", 100), ("detail", "说明", 4000)):
        value = fields.text(data, name, label, max_length=length)
        if value:
            setattr(topic, name, value)
    return {"note": fields.text(data, "note", "备注", max_length=500)}


def _deliberate(topic: Topic, data: dict[str, Any], staff: Staff) -> dict[str, Any]:
    """协商议事 needs all four parties at the table."""
    fields.only_known(data, ("stage", "note"))
    present = {p.party for p in participants(topic.id)}
    missing = [label for party, label in PARTIES.items() if party not in present]
    if missing:
        raise refuse(f"协商议事需要四方参与，还缺：{'、'.join(missing)}（请先添加参与方）", "parties_missing", 409,
                     field="participants", extra={"missing": [p for p in PARTIES if p not in present]})
    return {"note": fields.text(data, "note", "备注", max_length=500)}


def _carry_out(topic: Topic, data: dict[str, Any], staff: Staff) -> dict[str, Any]:
    """分流落实: a decision, an owner and a deadline; the tea-house vote closes with its result posted."""
    fields.only_known(data, ("stage", "decision", "owner_staff_id", "deadline"))
    decision = fields.text(data, "decision", "议事决定", required=True, max_length=4000)
    owner_id = fields.ident(data, "owner_staff_id", "负责人", required=True)
    owner = db.session.get(Staff, owner_id)
    if owner is None or owner.community_id != topic.community_id or not owner.active:
        raise not_found("负责人（本社区在职工作人员）", "owner_staff_id")
    deadline = fields.day(data, "deadline", "完成期限", required=True)
    if deadline < local_date(now()):
        raise refuse("完成期限不能早于今天", field="deadline")
    topic.decision, topic.owner_staff_id, topic.deadline = decision, owner.id, deadline
    result = votes.end_round(topic, "vote", staff) if topic.vote_opened_at and not topic.vote_closed_at else None
    return {"decision": decision, "owner_staff_id": owner.id, "deadline": deadline.isoformat(),
            "vote_result": result}


def _review(topic: Topic, data: dict[str, Any], staff: Staff) -> dict[str, Any]:
    """监督评审 starts when every task has been followed to its end."""
    fields.only_known(data, ("stage", "note"))
    rows = tasks.tasks_of(topic.id)
    if not rows:
        raise refuse("还没有分流任务，请先添加落实任务", "no_tasks", 409, field="tasks")
    pending = [t.title for t in rows if not tasks.status_of(t)["finished"]]
    if pending:
        raise refuse(f"还有任务没有办结：{'、'.join(pending)}", "tasks_open", 409, field="tasks")
    return {"note": fields.text(data, "note", "备注", max_length=500)}


def _close(topic: Topic, data: dict[str, Any], staff: Staff) -> dict[str, Any]:
    fields.only_known(data, ("stage", "summary"))
    topic.review_summary = fields.text(data, "summary", "评审结论", required=True, max_length=4000)
    result = votes.end_round(topic, "review", staff) \
        if topic.review_opened_at and not topic.review_closed_at else None
    return {"summary": topic.review_summary, "review_result": result}


def _drop(topic: Topic, data: dict[str, Any], staff: Staff) -> Topic:
    fields.only_known(data, ("stage", "reason"))
    if topic.stage not in ("collect", "topic"):
        raise refuse("只有“收集问题”“确定议题”阶段的议题可以不予立项", "invalid_transition", 409, field="stage")
    topic.drop_reason = fields.text(data, "reason", "不予立项的原因", required=True, max_length=200)
    add_event(topic, "stage", staff_actor(staff), to_stage="dropped", reason=topic.drop_reason)
    topic.stage = "dropped"
    record("staff", staff.id, "governance.topic.dropped", topic, community_id=topic.community_id)
    db.session.commit()
    return topic


def timeline(topic_id: int) -> list[TopicEvent]:
    return list(db.session.scalars(select(TopicEvent).where(TopicEvent.topic_id == topic_id)
                                   .order_by(TopicEvent.id)))


def source_label(topic: Topic) -> str:
    return TOPIC_SOURCES.get(topic.source, topic.source)
