"""网上茶馆会: a topic posted to the resident groups, one vote per resident per round, a public result.

Two rounds: ``vote`` (支持/反对/弃权) while the topic is deliberated, ``review``
(满意/基本满意/不满意) when its result is reviewed. A resident has one vote per round
(a unique row): voting again changes it and never counts twice. Comments are kept
in full (append-only) and shown publicly with the name masked.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from app.clock import now
from app.database import insert_ignore
from app.extensions import db
from app.handlers.governance import fields
from app.handlers.governance.errors import refuse
from app.handlers.messaging.outbox import TO_GROUP, queue_message
from app.localtime import format_local, iso
from app.models import (
    GroupKind,
    Participant,
    Resident,
    ResidentGroup,
    Staff,
    Topic,
    TopicComment,
    TopicEvent,
    Vote,
)
from app.models.deliberation import PARTIES, ROUNDS
from app.models.masking import mask_name

ROUND_STAGE = {"vote": "deliberate", "review": "review"}
ROUND_LABELS = {"vote": "茶馆会投票", "review": "评审"}
SHOWN_COMMENTS = 5


def is_open(topic: Topic, round_: str, moment: datetime | None = None) -> bool:
    moment = moment or now()
    if topic.stage != ROUND_STAGE[round_]:
        return False
    if round_ == "vote":
        return bool(topic.vote_opened_at and not topic.vote_closed_at
                    and (topic.vote_closes_at is None or moment < topic.vote_closes_at))
    return bool(topic.review_opened_at and not topic.review_closed_at)


def open_topics(community_id: int, group_id: int | None, round_: str, moment: datetime | None = None) -> list[Topic]:
    """Topics whose round is open and that were posted to this group (any group when None)."""
    rows = db.session.scalars(select(Topic).where(Topic.community_id == community_id,
                                                  Topic.stage == ROUND_STAGE[round_]).order_by(Topic.number))
    return [t for t in rows if is_open(t, round_, moment) and (group_id is None or group_id in (t.group_ids or []))]


def _groups(topic: Topic, data: dict[str, Any]) -> list[ResidentGroup]:
    ids = fields.ids(data, "group_ids", "居民群")
    statement = select(ResidentGroup).where(ResidentGroup.community_id == topic.community_id,
                                            ResidentGroup.kind == GroupKind.RESIDENT.value,
                                            ResidentGroup.active.is_(True))
    groups = list(db.session.scalars(statement.where(ResidentGroup.id.in_(ids)) if ids else statement))
    if ids and len(groups) != len(ids):
        missing = sorted(set(ids) - {g.id for g in groups})
        raise refuse(f"没有找到本社区的居民群：{', '.join(map(str, missing))}", "not_found", 404, field="group_ids")
    if not groups:
        raise refuse("本社区还没有登记居民群，无法发到群里", "no_groups", 409, field="group_ids")
    return sorted(groups, key=lambda g: g.id)


def post(topic: Topic, round_: str, data: dict[str, Any], staff: Staff) -> list:
    """Post the topic (or its review) to resident groups and open the round."""
    fields.only_known(data, ("group_ids", "closes_at"))
    if topic.stage != ROUND_STAGE[round_]:
        need = "协商议事" if round_ == "vote" else "监督评审"
        raise refuse(f"议题{topic.number}不在“{need}”阶段，不能发起{ROUND_LABELS[round_]}", "invalid_state", 409)
    groups = _groups(topic, data)
    moment = now()
    if round_ == "vote":
        if topic.vote_closed_at is not None:
            raise refuse("投票已经结束，不能再发起", "vote_closed", 409)
        closes_at = fields.moment(data, "closes_at", "投票截止时间")
        if closes_at is not None and closes_at <= moment:
            raise refuse("投票截止时间必须晚于现在", field="closes_at")
        topic.vote_opened_at = topic.vote_opened_at or moment
        topic.vote_closes_at = closes_at or topic.vote_closes_at
    else:
        topic.review_opened_at = topic.review_opened_at or moment
    topic.group_ids = sorted(set(topic.group_ids or []) | {g.id for g in groups})
    db.session.add(TopicEvent(topic_id=topic.id, at=moment, actor_type="staff", actor_id=staff.id, kind="posted",
                              detail={"round": round_, "group_ids": [g.id for g in groups],
                                      "closes_at": iso(topic.vote_closes_at) if round_ == "vote" else None}))
    db.session.commit()
    text = post_text(topic, round_)
    return [queue_message(channel=g.channel, recipient_kind=TO_GROUP, recipient_id=g.chat_id, text=text,
                          idempotency_key=f"topic:{topic.id}:{round_}:post:{g.id}", community_id=topic.community_id,
                          chat_id=g.chat_id, group_id=g.id, staff_id=staff.id,
                          meta={"topic_id": topic.id, "purpose": f"topic_{round_}"}) for g in groups]


def post_text(topic: Topic, round_: str) -> str:
    several = len(open_topics(topic.community_id, None, round_)) > 1
    ref = f" {topic.label}" if several else ""
    if round_ == "vote":
        lines = [f"【网上茶馆会·{topic.label}】{topic.title}"]
        if topic.detail:
            lines.append(topic.detail.strip())
        parties = parties_text(topic.id)
        if parties:
            lines.append(f"议事四方：{parties}")
        lines.append(f"请在群里直接回复“支持{ref}”“反对{ref}”或“弃权{ref}”，可以在后面写上理由"
                     f"（如“支持{ref}，老人上下楼太难”）。每人一票，改投以最后一次为准。")
        if topic.vote_closes_at:
            lines.append(f"投票截止：{format_local(topic.vote_closes_at)}。结果会在群里公布。")
        return "\n".join(lines)
    lines = [f"【议事评审·{topic.label}】{topic.title}", f"议事决定：{topic.decision or ''}".rstrip("：")]
    lines.append(f"落实情况已完成，请回复“满意{ref}”“基本满意{ref}”或“不满意{ref}”评价，也可以写上意见。")
    return "\n".join(lines)


@dataclass
class Cast:
    vote: Vote
    previous: str | None   # the choice it replaced (None: a first vote or the same choice again)
    created: bool


def cast(topic: Topic, resident: Resident, round_: str, choice: str, *, source: str, comment: str | None = None,
         group_id: int | None = None, message_id: int | None = None) -> Cast:
    if resident.community_id != topic.community_id:
        raise refuse("只有本社区居民可以参与议事投票", "other_community", 403)
    if choice not in ROUNDS[round_]:
        raise refuse(f"选项无效，可选：{'、'.join(ROUNDS[round_].values())}", field="choice")
    if not is_open(topic, round_):
        raise refuse(f"{topic.label}的{ROUND_LABELS[round_]}没有开放或已经结束", "round_closed", 409)
    moment = now()
    created = insert_ignore(db.session, Vote, {
        "topic_id": topic.id, "round": round_, "resident_id": resident.id, "choice": choice, "source": source,
        "group_id": group_id, "changes": 0, "created_at": moment, "updated_at": moment})
    vote = db.session.scalars(select(Vote).where(Vote.topic_id == topic.id, Vote.round == round_,
                                                 Vote.resident_id == resident.id)).one()
    previous = None
    if not created and vote.choice != choice:
        previous = vote.choice
        db.session.execute(update(Vote).where(Vote.id == vote.id).values(
            choice=choice, changes=Vote.changes + 1, source=source, group_id=group_id, updated_at=moment))
        db.session.refresh(vote)
    if comment:
        _comment(topic, resident, round_, comment, choice, source, message_id)
    db.session.commit()
    return Cast(vote, previous, created)


def _comment(topic: Topic, resident: Resident, round_: str, text: str, choice: str | None, source: str,
             message_id: int | None) -> None:
    db.session.add(TopicComment(topic_id=topic.id, resident_id=resident.id, round=round_, choice=choice,
                                text=text[:2000], message_id=message_id, source=source, created_at=now()))


def comment(topic: Topic, resident: Resident, round_: str, text: str, *, source: str,
            message_id: int | None = None) -> None:
    if resident.community_id != topic.community_id:
        raise refuse("只有本社区居民可以参与议事", "other_community", 403)
    if not is_open(topic, round_):
        raise refuse(f"{topic.label}的{ROUND_LABELS[round_]}没有开放或已经结束", "round_closed", 409)
    if not text.strip():
        raise refuse("请写下您的意见", field="text")
    _comment(topic, resident, round_, text.strip(), None, source, message_id)
    db.session.commit()


def result(topic: Topic, round_: str) -> dict[str, Any]:
    """The public result: counts, shares and the latest comments (names masked)."""
    choices = ROUNDS[round_]
    counts = dict(db.session.execute(select(Vote.choice, func.count()).where(
        Vote.topic_id == topic.id, Vote.round == round_).group_by(Vote.choice)).all())
    total = sum(counts.values())
    rows = db.session.execute(select(TopicComment, Resident).join(Resident, Resident.id == TopicComment.resident_id)
                              .where(TopicComment.topic_id == topic.id, TopicComment.round == round_)
                              .order_by(TopicComment.id.desc()).limit(50)).all()
    return {"round": round_, "open": is_open(topic, round_), "total": total,
            "closes_at": iso(topic.vote_closes_at) if round_ == "vote" else None,
            "counts": [{"choice": key, "label": label, "count": counts.get(key, 0),
                        "share": round(counts.get(key, 0) / total, 3) if total else 0.0}
                       for key, label in choices.items()],
            "comments": [{"name": mask_name(resident.display_name), "choice": c.choice,
                          "choice_label": choices.get(c.choice) if c.choice else None, "text": c.text,
                          "at": iso(c.created_at)} for c, resident in rows]}


def result_text(topic: Topic, round_: str) -> str:
    outcome = result(topic, round_)
    head = "茶馆会结果" if round_ == "vote" else "评审结果"
    counts = "，".join(f"{c['label']}{c['count']}票" for c in outcome["counts"])
    lines = [f"【{head}·{topic.label}】{topic.title}", f"{counts}（共{outcome['total']}人参与）。"]
    quoted = [c for c in outcome["comments"] if c["text"]][:SHOWN_COMMENTS]
    if quoted:
        lines.append("居民意见：" + "；".join(f"{c['name']}：{c['text'][:40]}" for c in quoted))
    if round_ == "vote" and topic.decision:
        lines.append(f"议事决定：{topic.decision}")
    if round_ == "review" and topic.review_summary:
        lines.append(f"评审结论：{topic.review_summary}")
    return "\n".join(lines)


def end_round(topic: Topic, round_: str, staff: Staff | None) -> dict[str, Any]:
    """Close the round in the caller's transaction; ``post_result`` tells the groups after the commit."""
    moment = now()
    if round_ == "vote":
        topic.vote_closed_at = topic.vote_closed_at or moment
    else:
        topic.review_closed_at = topic.review_closed_at or moment
    outcome = result(topic, round_)
    counts = {c["choice"]: c["count"] for c in outcome["counts"]}
    db.session.add(TopicEvent(topic_id=topic.id, at=moment, actor_type="staff" if staff else "system",
                              actor_id=staff.id if staff else None, kind="round_closed",
                              detail={"round": round_, "counts": counts, "total": outcome["total"]}))
    db.session.flush()
    return {"counts": counts, "total": outcome["total"]}


def post_result(topic: Topic, round_: str, staff: Staff | None) -> list:
    """The result, once per group the topic was posted to."""
    text, messages = result_text(topic, round_), []
    for group_id in topic.group_ids or []:
        group = db.session.get(ResidentGroup, group_id)
        if group is None or not group.active:
            continue
        messages.append(queue_message(
            channel=group.channel, recipient_kind=TO_GROUP, recipient_id=group.chat_id, text=text,
            idempotency_key=f"topic:{topic.id}:{round_}:result:{group.id}", community_id=topic.community_id,
            chat_id=group.chat_id, group_id=group.id, staff_id=staff.id if staff else None,
            meta={"topic_id": topic.id, "purpose": f"topic_{round_}_result"}))
    return messages


def close_round(topic: Topic, round_: str, staff: Staff | None) -> dict[str, Any]:
    """End a round before its step ends (a vote with a result posted ahead of the decision)."""
    if not is_open(topic, round_) and not (round_ == "vote" and topic.vote_opened_at and not topic.vote_closed_at):
        raise refuse(f"{topic.label}的{ROUND_LABELS[round_]}没有开放", "round_closed", 409)
    outcome = end_round(topic, round_, staff)
    db.session.commit()
    outcome["messages"] = [m.id for m in post_result(topic, round_, staff)]
    return outcome


def parties_text(topic_id: int) -> str:
    """社区两委 王秀英；党员代表 周晓燕 …"""
    grouped: dict[str, list[str]] = {}
    for row in db.session.scalars(select(Participant).where(Participant.topic_id == topic_id)
                                  .order_by(Participant.id)):
        grouped.setdefault(row.party, []).append(row.name)
    return "；".join(f"{label} {'、'.join(grouped[party])}" for party, label in PARTIES.items() if party in grouped)
