"""四方五步议事 end to end: a hot spot becomes a topic, the four parties deliberate, residents vote in the
group through the real router and bot (once each), the decision becomes tasks followed to their end, the
residents rate the result, and every step is on the append-only timeline."""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.clock import now
from app.errors import DomainError
from app.extensions import db
from app.handlers.governance import (
    claims,
    deliberation,
    hotspots,
    needs,
    projects,
    tasks,
    topic_views,
    units,
    votes,
)
from app.handlers.messaging.inbound import InboundMessage, receive
from app.models import Message, ReplyClock, ServiceRequest, TopicComment, TopicEvent, Vote
from app.models.audit import AppendOnlyError
from tests.handlers.governance.support import make_request, world

_seq = itertools.count(1)


def say(text, sender="member-1", chat="wrwG-gov", **kw) -> tuple:
    inbound = InboundMessage(channel="group", dedupe_key=f"gov-{next(_seq)}", sender_id=sender, chat_id=chat,
                             chat_type="group", sender_name=kw.pop("name", "居民"), text=text, **kw)
    reply, _new = receive(inbound)
    message = db.session.scalars(select(Message).where(Message.dedupe_key == inbound.dedupe_key)).one()
    return reply, message


def outbound(group_id: int) -> list[Message]:
    return list(db.session.scalars(select(Message).where(Message.direction == "out", Message.group_id == group_id)
                                   .order_by(Message.id)))


@pytest.fixture
def w(app, clock):
    return world()


def four_parties(w, topic):
    deliberation.add_participant(topic, {"party": "committee", "staff_id": w.admin.id}, w.admin)
    deliberation.add_participant(topic, {"party": "party_rep", "name": "周桂兰", "note": "楼栋党小组长"}, w.admin)
    deliberation.add_participant(topic, {"party": "resident_rep", "resident_id": w.residents[1].id}, w.admin)
    deliberation.add_participant(topic, {"party": "stakeholder", "name": "3号楼一楼住户代表"}, w.admin)


def test_a_topic_goes_through_the_five_steps_with_a_group_vote(w, clock):
    for days in (30, 12, 2):
        make_request(w, w.buildings["3"], "ebike", f"3号楼楼道飞线充电{days}", days)
    spot = hotspots.hotspots(w.community.id)[0]
    topic = deliberation.create_topic(w.community.id, {
        "title": "3号楼电动车集中充电点怎么建", "detail": "3号楼楼道飞线充电反复出现，拟在楼前空地建充电棚。",
        "request_ids": spot.request_ids, "building_id": w.buildings["3"].id}, staff=w.admin)
    assert (topic.number, topic.stage, topic.source) == (1, "collect", "requests")

    deliberation.advance(topic, "topic", {"note": "两委会研究确定为议题"}, w.admin)
    with pytest.raises(DomainError) as caught:
        deliberation.advance(topic, "deliberate", {}, w.admin)
    assert caught.value.code == "parties_missing" and "社区两委、党员代表、居民代表、利益相关方" in caught.value.message
    with pytest.raises(DomainError) as caught:
        deliberation.advance(topic, "review", {}, w.admin)
    assert caught.value.code == "invalid_transition" and "下一步是“协商议事”" in caught.value.message
    four_parties(w, topic)
    deliberation.advance(topic, "deliberate", {}, w.admin)

    # 网上茶馆会: posted to the group, residents answer there.
    votes.post(topic, "vote", {"closes_at": (now() + timedelta(days=3)).isoformat()}, w.admin)
    posted = outbound(w.group.id)[-1]
    assert posted.text.startswith("【网上茶馆会·议题1】3号楼电动车集中充电点怎么建")
    assert "议事四方：社区两委 王书记；党员代表 周桂兰；居民代表 刘德福；利益相关方 3号楼一楼住户代表" in posted.text
    assert "请在群里直接回复“支持”“反对”或“弃权”" in posted.text

    reply, message = say("支持，早就该建了，楼道里充电太危险", sender="member-1")
    assert reply.text is None                                 # recorded silently in the group
    assert message.handling["handled_by"] == "governance.vote"
    assert db.session.scalars(select(ReplyClock).where(ReplyClock.message_id == message.id)).first() is None
    assert db.session.scalars(select(ServiceRequest).where(ServiceRequest.message_id == message.id)).first() is None
    say("支持", sender="member-1")                             # the same vote again: still one
    say("反对 一楼住户采光会受影响", sender="member-2")
    say("弃权", sender="member-2")                            # a change of mind: one vote, the latest
    say("@小邻 支持议题1！", sender="member-3", mentioned=True)
    reply, _ = say("意见：充电棚要装烟感和喷淋", sender="member-4")
    assert reply.text is None
    # "建议" is an opinion, but "建议社区…" is 百姓说事 (the longer prefix): collected and answered, not a comment.
    reply, _ = say("建议社区在3号楼门口加一个快递柜", sender="member-4")
    assert reply.text.startswith("已收到您的建议（编号") and reply.handled_by == "governance.suggestion"
    reply, _ = say("今天菜市场的西红柿好便宜", sender="member-4")
    assert reply.handled_by != "governance.vote"

    outcome = votes.result(topic, "vote")
    assert {c["choice"]: c["count"] for c in outcome["counts"]} == {"support": 2, "oppose": 0, "abstain": 1}
    assert outcome["total"] == 3
    assert db.session.scalar(select(Vote.changes).where(Vote.resident_id == w.residents[1].id)) == 1
    comments = [(c["name"], c["choice"], c["text"]) for c in outcome["comments"]]
    assert ("陈*芳", "support", "早就该建了，楼道里充电太危险") in comments
    assert ("吴*平", None, "充电棚要装烟感和喷淋") in comments
    assert not any("快递柜" in text for _name, _choice, text in comments)

    # 分流落实: decision, owner, deadline; the vote closes and its result goes to the group.
    with pytest.raises(DomainError) as caught:
        deliberation.advance(topic, "carry_out", {"decision": "建充电棚"}, w.admin)
    assert caught.value.field == "owner_staff_id"
    deliberation.advance(topic, "carry_out", {"decision": "在3号楼前空地建电动车充电棚，物业负责日常管理",
                                              "owner_staff_id": w.duty.id, "deadline": "2026-12-31"}, w.admin)
    result_post = outbound(w.group.id)[-1]
    assert result_post.text.startswith("【茶馆会结果·议题1】") and "支持2票，反对0票，弃权1票（共3人参与）" in result_post.text
    reply, _ = say("反对", sender="member-4")                   # too late: the vote is closed
    assert votes.result(topic, "vote")["total"] == 3

    request = db.session.get(ServiceRequest, spot.request_ids[0])
    tasks.add_task(topic, {"kind": "request", "ref_id": request.id}, w.duty)
    need_task = tasks.add_task(topic, {"kind": "need", "need": {"kind": "goods", "title": "充电棚建设物资"}}, w.duty,
                               create_need=lambda data: needs.create_need(w.community.id, data, w.duty,
                                                                          source="topic", topic_id=topic.id))
    plain = tasks.add_task(topic, {"kind": "task", "title": "张贴充电棚使用须知"}, w.duty)
    with pytest.raises(DomainError) as caught:
        deliberation.advance(topic, "review", {}, w.admin)
    assert caught.value.code == "tasks_open"

    request.status = "resolved"                                # the requests domain resolves it
    db.session.commit()
    need = needs.need_in(w.community.id, need_task.ref_id)
    unit = units.register_unit(w.community.id, {"name": "富强物业", "kind": "property"}, w.admin)
    claims.claim_need(need, {"unit_id": unit.id}, w.duty)
    project = projects.start_project(need, {"owner_staff_id": w.duty.id}, w.duty)
    projects.complete_project(project, {"summary": "充电棚已建成，12个充电位"}, w.duty)
    tasks.finish_task(topic, plain, "已张贴", w.duty)
    assert all(t["finished"] for t in topic_views.topic_view(topic, detail=True)["tasks"])

    # 监督评审: the residents rate the result in the group.
    deliberation.advance(topic, "review", {}, w.admin)
    votes.post(topic, "review", {}, w.admin)
    assert outbound(w.group.id)[-1].text.startswith("【议事评审·议题1】")
    say("满意，晚上充电放心多了", sender="member-1")
    say("基本满意", sender="member-2")
    deliberation.advance(topic, "closed", {"summary": "充电棚投入使用，楼道飞线充电消除"}, w.admin)
    assert outbound(w.group.id)[-1].text.startswith("【评审结果·议题1】")
    assert topic.stage == "closed"

    view = topic_views.topic_view(topic, detail=True)
    assert [s["state"] for s in view["steps"]] == ["done"] * 5
    assert view["review"]["total"] == 2 and view["vote"]["total"] == 3
    kinds = [e["kind"] for e in view["timeline"]]
    assert kinds[0] == "created" and kinds.count("stage") == 5 and "round_closed" in kinds
    stages = [e["to_stage"] for e in view["timeline"] if e["kind"] == "stage"]
    assert stages == ["topic", "deliberate", "carry_out", "review", "closed"]
    event = db.session.scalars(select(TopicEvent)).first()
    event.kind = "edited"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_a_rating_word_goes_to_the_residents_own_request_first(w):
    topic = deliberation.create_topic(w.community.id, {"title": "小区健身器材更新"}, staff=w.admin)
    deliberation.advance(topic, "topic", {}, w.admin)
    four_parties(w, topic)
    deliberation.advance(topic, "deliberate", {}, w.admin)
    deliberation.advance(topic, "carry_out", {"decision": "更新", "owner_staff_id": w.admin.id,
                                              "deadline": "2026-12-31"}, w.admin)
    tasks.finish_task(topic, tasks.add_task(topic, {"kind": "task", "title": "采购"}, w.admin), "", w.admin)
    deliberation.advance(topic, "review", {}, w.admin)
    votes.post(topic, "review", {}, w.admin)
    make_request(w, w.buildings["1"], status="resolved").resident_id = w.residents[0].id
    db.session.commit()
    reply, _ = say("满意", sender="member-1")                   # 陈桂芳 has a request waiting for her rating
    assert reply.handled_by != "governance.vote"
    say("不满意 器材太少", sender="member-2")
    assert votes.result(topic, "review")["total"] == 1


def test_several_open_topics_need_a_number(w):
    first = deliberation.create_topic(w.community.id, {"title": "加装电梯"}, staff=w.admin)
    second = deliberation.create_topic(w.community.id, {"title": "停车位划线"}, staff=w.admin)
    for topic in (first, second):
        deliberation.advance(topic, "topic", {}, w.admin)
        four_parties(w, topic)
        deliberation.advance(topic, "deliberate", {}, w.admin)
        votes.post(topic, "vote", {}, w.admin)
    assert "“支持 议题2”" in outbound(w.group.id)[-1].text
    reply, _ = say("支持", sender="member-1")
    assert "请加上议题编号" in reply.text and "议题1 加装电梯" in reply.text
    say("支持 议题2", sender="member-1")
    say("2号议题反对，车位不够", sender="member-2")
    reply, _ = say("支持议题9", sender="member-3")
    assert reply.text == "议题9现在没有在投票。"
    assert votes.result(first, "vote")["total"] == 0
    assert {c["choice"]: c["count"] for c in votes.result(second, "vote")["counts"]}["oppose"] == 1
    assert db.session.scalars(select(TopicComment.text)).all() == ["车位不够"]


def test_voting_in_a_private_chat_and_refusals(w):
    topic = deliberation.create_topic(w.community.id, {"title": "楼道文化墙"}, staff=w.admin)
    with pytest.raises(DomainError) as caught:
        votes.post(topic, "vote", {}, w.admin)
    assert caught.value.code == "invalid_state"
    deliberation.advance(topic, "topic", {}, w.admin)
    four_parties(w, topic)
    deliberation.advance(topic, "deliberate", {}, w.admin)
    with pytest.raises(DomainError) as caught:
        votes.post(topic, "vote", {"closes_at": "2020-01-01T00:00"}, w.admin)
    assert caught.value.field == "closes_at"
    with pytest.raises(DomainError) as caught:
        votes.post(topic, "vote", {"group_ids": [999999]}, w.admin)
    assert caught.value.field == "group_ids"
    votes.post(topic, "vote", {}, w.admin)
    inbound = InboundMessage(channel="mp", dedupe_key="p-vote", sender_id="oGOV3", chat_type="private", text="赞成！")
    reply, _ = receive(inbound)
    assert reply.text == "议题1「楼道文化墙」已记录您的意见：支持。"
    stranger = deliberation.create_topic(w.other.id, {"title": "别处"}, staff=w.other_admin)
    with pytest.raises(DomainError) as caught:
        votes.cast(stranger, w.residents[0], "vote", "support", source="api")
    assert caught.value.code == "other_community"
    with pytest.raises(DomainError) as caught:
        deliberation.advance(topic, "dropped", {"reason": "x"}, w.admin)
    assert "不予立项" in caught.value.message


def test_a_topic_can_be_dropped_with_a_reason_before_deliberation(w):
    topic = deliberation.create_topic(w.community.id, {"title": "小区养鸽子"}, resident=w.residents[0])
    assert topic.source == "resident" and topic.proposer_resident_id == w.residents[0].id
    with pytest.raises(DomainError) as caught:
        deliberation.advance(topic, "dropped", {}, w.admin)
    assert caught.value.field == "reason"
    deliberation.advance(topic, "dropped", {"reason": "不属于社区议事范围，已转物业"}, w.admin)
    assert topic.stage == "dropped"
    assert [s["state"] for s in topic_views.steps(topic)] == ["done", "todo", "todo", "todo", "todo"]
