"""The closed loop: reply, dispatch, start, escalate, resolve, rate, merge, reject, reclassify; the timeline."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.errors import Conflict, ValidationError
from app.extensions import db
from app.handlers import requests as flow
from app.handlers.requests import chat
from app.models.audit import AppendOnlyError
from app.models.requests import RequestEvent, ServiceRequest
from app.models.sla import ReplyClock
from tests import factories
from tests.factories.requests import inbound_message, kinds, make_ctx, outbound, report

# ---- the lifecycle ---------------------------------------------------------------------------

def test_full_loop_from_report_to_closed(world, clock):
    _, request = report(world)
    clock.advance(minutes=20)
    message = flow.reply_publicly(request, world.duty, "收到，马上安排网格员查看")
    assert request.status == "acknowledged"
    assert request.first_reply_at == clock()
    assert message.handling["recipient_kind"] == "group" and message.recipient_id == "chat-fuqiang-1"
    assert message.text == f"【{request.code}】收到，马上安排网格员查看"
    assert message.staff_id == world.duty.id
    reply_clock = db.session.scalars(select(ReplyClock).where(ReplyClock.request_id == request.id)).one()
    assert reply_clock.stopped_at == clock() and reply_clock.stopped_by_staff_id == world.duty.id

    flow.dispatch(request, world.duty)
    assert request.status == "dispatched" and request.assignee_id == world.worker.id
    assert outbound(recipient_id="wang-grid")[0].text.startswith(f"【派单】诉求{request.code}")
    flow.start(request, world.worker)
    assert request.status == "in_progress"
    clock.advance(hours=3)
    flow.resolve(request, world.worker, note="已更换楼道灯")
    assert request.status == "resolved" and request.resolved_at == clock() and request.resolved_level == "grid"
    visit = outbound(request_id=request.id)[-1]
    assert "已办结：已更换楼道灯" in visit.text and "满意" in visit.text and visit.recipient_id == "chat-fuqiang-1"
    flow.rate(request, world.resident, rating="satisfied")
    assert request.status == "closed" and request.rating == "satisfied" and request.closed_at == clock()
    assert kinds(request) == ["created", "replied", "acknowledged", "dispatched", "started", "resolved",
                              "rating_requested", "rated", "closed"]
    events = db.session.scalars(select(RequestEvent).where(RequestEvent.request_id == request.id)
                                .order_by(RequestEvent.id)).all()
    assert [(e.from_status, e.to_status) for e in events if e.to_status] == [
        (None, "received"), ("received", "acknowledged"), ("acknowledged", "dispatched"),
        ("dispatched", "in_progress"), ("in_progress", "resolved"), ("resolved", "rated"), ("rated", "closed")]
    dispatched = next(e for e in events if e.kind == "dispatched")
    assert (dispatched.actor_type, dispatched.actor_id) == ("staff", world.duty.id)
    assert dispatched.detail["auto"] is True and dispatched.detail["assignee_id"] == world.worker.id
    rated = next(e for e in events if e.kind == "rated")
    assert (rated.actor_type, rated.actor_id) == ("resident", world.resident.id)


def test_a_1to1_request_is_answered_1to1(world):
    _, request = report(world, "楼道灯坏了", chat_id=None, channel="mp", sender="o-mp-zhang")
    assert request.group_id is None and request.reporter_channel_id == "o-mp-zhang"
    message = flow.reply_publicly(request, world.duty, "您好，已收到")
    assert message.channel == "mp" and message.handling["recipient_kind"] == "user"
    assert message.recipient_id == "o-mp-zhang"


def test_a_form_request_is_answered_through_the_residents_openid(world):
    request = flow.create_request(community_id=world.community.id, text="电梯异响", resident=world.resident,
                                  channel="miniprogram", source="form")
    message = flow.reply_publicly(request, world.duty, "已联系电梯维保")
    assert (message.channel, message.recipient_id) == ("miniprogram", "o-zhang")


def test_unsatisfied_reopens_with_the_same_assignee(world, clock):
    _, request = report(world)
    flow.dispatch(request, world.duty)
    flow.resolve(request, world.worker, note="已修")
    flow.rate(request, world.resident, rating="unsatisfied", comment="还是不亮")
    assert request.status == "in_progress" and request.assignee_id == world.worker.id
    assert request.resolved_at is None and request.rating == "unsatisfied"
    assert kinds(request)[-2:] == ["rated", "reopened"]
    assert any("居民评价不满意" in m.text for m in outbound(recipient_id="wang-grid"))
    flow.resolve(request, world.worker, note="更换了整条线路")
    flow.rate(request, world.resident, rating="basically")
    assert request.status == "closed" and request.rating == "basically"


@pytest.mark.parametrize("action", ["start", "resolve", "dispatch", "escalate", "reject", "merge", "rate",
                                    "reopen", "reclassify"])
def test_invalid_transitions_are_refused_in_chinese(world, action):
    _, request = report(world)
    _, other = report(world, "5号楼漏水", chat_id="chat-else", slots={})
    flow.reject(request, world.duty, reason="不属于社区管辖")
    calls = {
        "start": lambda: flow.start(request, world.duty),
        "resolve": lambda: flow.resolve(request, world.duty, note="x"),
        "dispatch": lambda: flow.dispatch(request, world.duty, staff=world.worker),
        "escalate": lambda: flow.escalate(request, world.duty, level="street", reason="x"),
        "reject": lambda: flow.reject(request, world.duty, reason="x"),
        "merge": lambda: flow.merge(request, world.duty, into=other),
        "rate": lambda: flow.rate(request, world.resident, rating="satisfied"),
        "reopen": lambda: flow.reopen(request, world.duty, reason="x"),
        "reclassify": lambda: flow.reclassify(request, world.duty, urgency="emergency"),
    }
    with pytest.raises(Conflict) as error:
        calls[action]()
    assert error.value.message.startswith(f"诉求{request.code}当前状态为「不予受理」，不能")
    assert error.value.code == "invalid_transition"
    assert request.status == "rejected"


def test_rating_an_open_request_and_starting_a_resolved_one_are_refused(world):
    _, request = report(world)
    with pytest.raises(Conflict):
        flow.rate(request, world.resident, rating="satisfied")
    flow.resolve(request, world.duty, note="已处理")
    with pytest.raises(Conflict):
        flow.start(request, world.duty)
    with pytest.raises(ValidationError) as error:
        flow.rate(request, world.resident, rating="great")
    assert error.value.field == "rating"
    with pytest.raises(ValidationError) as error:
        flow.resolve(request, world.duty, note="")
    assert error.value.field == "note"


def test_dispatch_without_a_grid_needs_an_explicit_staff_member(world):
    _, request = report(world, "小区门口井盖丢了", slots={"building": "99"})
    with pytest.raises(Conflict) as error:
        flow.dispatch(request, world.duty)
    assert "请指定派单人员" in error.value.message
    with pytest.raises(ValidationError) as error:
        flow.dispatch(request, world.duty, staff=world.other_staff)
    assert error.value.field == "staff_id"
    flow.dispatch(request, world.duty, staff=world.leader)
    assert request.assignee_id == world.leader.id
    flow.dispatch(request, world.duty, staff=world.leader)  # a double tap changes nothing
    assert kinds(request).count("dispatched") == 1


def test_auto_dispatch_balances_between_grid_workers(world):
    second = factories.staff(roles=("grid_worker",), community=world.community, grid_id=world.grid.id, name="钱网格")
    db.session.commit()
    _, a = report(world, "3号楼灯坏了", chat_id="c1")
    _, b = report(world, "3号楼门禁坏了", chat_id="c2")
    flow.dispatch(a, world.duty)
    flow.dispatch(b, world.duty)
    assert {a.assignee_id, b.assignee_id} == {world.worker.id, second.id}


def test_escalation_goes_up_one_way_and_is_recorded(world):
    _, request = report(world)
    flow.dispatch(request, world.duty)
    with pytest.raises(ValidationError) as error:
        flow.escalate(request, world.worker, level="grid", reason="x")
    assert error.value.field == "level"
    with pytest.raises(ValidationError) as error:
        flow.escalate(request, world.worker, level="community", reason="")
    assert error.value.field == "reason"
    flow.escalate(request, world.worker, level="community", reason="需要社区协调物业")
    assert (request.escalation_level, request.status, request.assignee_id) == ("community", "dispatched", None)
    with pytest.raises(ValidationError) as error:
        flow.escalate(request, world.admin, level="department", reason="管线老化")
    assert error.value.field == "department_id"
    foreign = factories.department(street_id=factories.street().id, name="外区部门")
    db.session.commit()
    with pytest.raises(ValidationError) as error:
        flow.escalate(request, world.admin, level="department", reason="x", department_id=foreign.id)
    assert error.value.field == "department_id"
    flow.escalate(request, world.admin, level="department", reason="管线老化需住建局改造",
                  department_id=world.department.id)
    assert (request.escalation_level, request.department_id) == ("department", world.department.id)
    events = [e for e in db.session.scalars(select(RequestEvent).where(
        RequestEvent.request_id == request.id, RequestEvent.kind == "escalated").order_by(RequestEvent.id))]
    assert [(e.detail["from_level"], e.detail["to_level"]) for e in events] == [
        ("grid", "community"), ("community", "department")]
    assert events[1].detail["reason"] == "管线老化需住建局改造"
    assert any("【吹哨】" in m.text for m in outbound(recipient_id="liu-dept"))
    flow.start(request, world.dept_staff)
    flow.resolve(request, world.dept_staff, note="已纳入老旧管网改造")
    assert request.resolved_level == "department"


def test_merge_and_reject_tell_the_resident_and_stop_the_clock(world):
    _, original = report(world, "3号楼楼道灯坏了")
    other_resident = factories.resident(community_id=world.community.id, name="陈大爷",
                                        identities=[("group", "group_member", "u-chen")])
    db.session.commit()
    message, inbound = inbound_message("3楼楼道灯不亮", sender="u-chen", chat_id="chat-fuqiang-1")
    ctx = make_ctx(message, inbound, resident=other_resident, group=world.group, community_id=world.community.id,
                   category="repair", slots={"building": "3"})
    duplicate = db.session.get(ServiceRequest, chat.handle_report(ctx).detail["request_id"])
    with pytest.raises(ValidationError):
        flow.merge(duplicate, world.duty, into=duplicate)
    flow.merge(duplicate, world.duty, into=original)
    assert duplicate.status == "merged" and duplicate.merged_into_id == original.id
    assert kinds(original)[-1] == "merged_from"
    notice = outbound(request_id=duplicate.id)[-1]
    assert original.code in notice.text and "合并" in notice.text
    clock_row = db.session.scalars(select(ReplyClock).where(ReplyClock.request_id == duplicate.id)).one()
    assert clock_row.stopped_at is not None
    with pytest.raises(Conflict):
        flow.reply_publicly(duplicate, world.duty, "hello")

    flow.reject(original, world.duty, reason="属于小区物业服务范围")
    assert original.status == "rejected"
    assert "不予受理：属于小区物业服务范围" in outbound(request_id=original.id)[-1].text
    assert "0531-88886666" in outbound(request_id=original.id)[-1].text


def test_reclassify_recomputes_the_deadline(world):
    _, request = report(world)
    flow.reclassify(request, world.duty, category="safety")
    assert request.urgency == "emergency"
    assert request.due_at == request.created_at + timedelta(hours=2)
    flow.reclassify(request, world.duty, urgency="complex")
    assert request.category == "safety" and request.urgency == "complex"
    assert kinds(request)[-2:] == ["reclassified", "reclassified"]


def test_a_staff_message_seen_in_the_group_acknowledges_the_groups_new_requests(world, clock):
    _, request = report(world)
    clock.advance(minutes=3)
    done = flow.acknowledge_by_staff_message(group_id=world.group.id, staff_id=world.duty.id)
    assert [r.id for r in done] == [request.id]
    assert request.status == "acknowledged" and request.first_reply_at == clock()


def test_events_are_append_only(world):
    _, request = report(world)
    event = db.session.scalars(select(RequestEvent)).first()
    event.kind = "tampered"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DBAPIError):
        db.session.execute(text("UPDATE request_event SET kind = 'tampered'"))
        db.session.commit()
    db.session.rollback()
    with pytest.raises(DBAPIError):
        db.session.execute(text("DELETE FROM request_event"))
        db.session.commit()
    db.session.rollback()
    assert kinds(request) == ["created"]
