"""Resident requests (诉求): creation, the lifecycle, deadlines, follow-ups and the bot's handlers.

The helpers at the top (``build_world``, ``report``, ``make_ctx``: a real ConversationContext) are shared
with tests/api/test_requests.py and tests/workers/test_requests_overdue.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.bot import Understanding
from app.errors import Conflict, ValidationError
from app.extensions import db
from app.handlers import requests as flow
from app.handlers.conversation import ConversationContext
from app.handlers.messaging.inbound import CHAT_GROUP, CHAT_PRIVATE, InboundMessage, store_once
from app.models import CalendarDay, Direction, Message
from app.models.audit import AppendOnlyError
from app.models.requests import RequestEvent, ServiceRequest
from app.models.sla import ReplyClock
from app.workcal import WorkCalendar
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")


# ---- shared helpers --------------------------------------------------------------------------

@dataclass
class World:
    street: object
    community: object
    grid: object
    building: object
    duty: object
    worker: object
    leader: object
    admin: object
    resident: object
    group: object
    department: object
    dept_staff: object
    street_admin: object
    other_community: object
    other_staff: object


def build_world() -> World:
    street = factories.street(name="泉城路街道")
    community = factories.community(street=street, name="富强新村社区", phone="0531-88886666")
    grid = factories.grid(community=community, name="第一网格")
    building = factories.building(community=community, grid=grid, number="3", name="3号楼")
    duty = factories.staff(roles=("duty",), community=community, name="李值班", wework_userid="li-duty")
    worker = factories.staff(roles=("grid_worker",), community=community, grid_id=grid.id, name="王网格",
                             wework_userid="wang-grid")
    leader = factories.staff(roles=("grid_leader",), community=community, grid_id=grid.id, name="孙网格长")
    admin = factories.staff(roles=("community_admin",), community=community, name="赵书记",
                            wework_userid="zhao-admin")
    resident = factories.resident(community_id=community.id, name="张秀英", phone="13912345678",
                                  identities=[("group", "group_member", "u-zhang"),
                                              ("miniprogram", "openid", "o-zhang")])
    group = factories.group(community=community, grid_id=grid.id, chat_id="chat-fuqiang-1", channel="group",
                            name="富强新村1号群")
    department = factories.department(street_id=street.id, name="区住建局")
    dept_staff = factories.staff(roles=("department",), department_id=department.id, name="住建局刘工",
                                 wework_userid="liu-dept")
    street_admin = factories.staff(roles=("street_admin",), street_id=street.id, name="街道周主任")
    other_community = factories.community(street=street, name="幸福里社区")
    other_staff = factories.staff(roles=("duty", "community_admin", "grid_leader"), community=other_community,
                                  name="外社区值班")
    db.session.commit()
    return World(street, community, grid, building, duty, worker, leader, admin, resident, group, department,
                 dept_staff, street_admin, other_community, other_staff)


_seq = iter(range(1, 10**9))


def inbound_message(text: str, *, sender="u-zhang", chat_id="chat-fuqiang-1", channel="group",
                    media=None, msg_type="text") -> tuple[Message, InboundMessage]:
    inbound = InboundMessage(channel=channel, dedupe_key=f"m-{next(_seq)}", sender_id=sender, chat_id=chat_id,
                             chat_type=CHAT_GROUP if chat_id else CHAT_PRIVATE, text=text, media=media,
                             msg_type=msg_type, sender_name="张秀英")
    message, _ = store_once(inbound)
    return message, inbound


def make_ctx(message, inbound, *, resident, group=None, community_id=None, category=None, slots=None,
             intent="report_issue", state=None):
    from app.clock import now
    understanding = Understanding(text=inbound.text or "", intent=intent, confidence=0.9, category=category,
                                  needs_reply=intent == "report_issue", should_reply=True, slots=dict(slots or {}))
    return ConversationContext(message=message, inbound=inbound, understanding=understanding, resident=resident,
                               staff=None, group=group, community_id=community_id, now=now(),
                               state=dict(state or {}))


def report(world: World, text: str = "3号楼2单元楼道灯坏了", *, category="repair", slots=None, **kw):
    """A resident's group message through handle_report; returns (reply, request)."""
    message, inbound = inbound_message(text, **kw)
    in_group = inbound.chat_id == world.group.chat_id and inbound.channel == world.group.channel
    ctx = make_ctx(message, inbound, resident=world.resident, group=world.group if in_group else None,
                   community_id=world.community.id, category=category,
                   slots={"building": "3", "unit": "2"} if slots is None else slots)
    reply = flow.handle_report(ctx)
    request = db.session.get(ServiceRequest, reply.detail["request_id"]) if "request_id" in reply.detail else None
    return reply, request


def kinds(request: ServiceRequest) -> list[str]:
    return [e.kind for e in db.session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == request.id).order_by(RequestEvent.id))]


def outbound(**where) -> list[Message]:
    statement = select(Message).where(Message.direction == Direction.OUT.value).order_by(Message.id)
    rows = db.session.scalars(statement).all()
    return [m for m in rows if all((m.handling or {}).get(k) == v if k in ("request_id", "recipient_kind")
                                   else getattr(m, k) == v for k, v in where.items())]


def local(year, month, day, hour=0, minute=0, second=0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture
def world(app, clock):
    return build_world()


# ---- creating --------------------------------------------------------------------------------

def test_report_creates_a_request_routed_to_the_buildings_grid(world):
    reply, request = report(world)
    assert request.community_id == world.community.id
    assert request.grid_id == world.grid.id and request.building_id == world.building.id
    assert request.location == "3号楼2单元"
    assert request.category == "repair" and request.urgency == "general"
    assert request.status == "received" and request.escalation_level == "grid"
    assert request.group_id == world.group.id and request.chat_id == "chat-fuqiang-1"
    assert request.resident_id == world.resident.id
    assert request.code == "R20261117-0001"
    assert reply.text == "已收到您的反映（编号R20261117-0001），值班人员会在1小时内答复。"
    # general: 7 working days after Tue 2026-11-17 → Thu 2026-11-26, end of the day
    assert request.due_at == local(2026, 11, 26, 23, 59, 59)
    assert kinds(request) == ["created"]


def test_the_bots_acknowledgement_starts_but_does_not_stop_the_reply_clock(world):
    reply, request = report(world)
    clock = db.session.scalars(select(ReplyClock).where(ReplyClock.request_id == request.id)).one()
    assert clock.message_id == request.message_id
    assert clock.stopped_at is None
    assert request.first_reply_at is None and request.status == "received"


def test_unknown_building_still_creates_a_request_without_grid(world):
    reply, request = report(world, "99号楼门口垃圾没人清", category="environment", slots={"building": "99号楼"})
    assert request.grid_id is None and request.building_id is None
    assert request.location == "99号楼"
    assert request.escalation_level == "community"


def test_without_a_building_slot_the_residents_address_is_used(world):
    world.resident.building_id = world.building.id
    world.resident.unit, world.resident.room = "1", "302"
    db.session.commit()
    _, request = report(world, "家里下水道堵了", slots={})
    assert request.grid_id == world.grid.id
    assert request.location == "3号楼1单元302室"


def test_codes_are_a_daily_sequence_that_survives_a_redis_flush(world, redis_client, clock):
    first = flow.create_request(community_id=world.community.id, text="路灯不亮", resident=world.resident)
    second = flow.create_request(community_id=world.community.id, text="井盖松动", resident=world.resident)
    redis_client.flushdb()
    third = flow.create_request(community_id=world.community.id, text="绿化带有垃圾", resident=world.resident)
    assert [first.code, second.code, third.code] == ["R20261117-0001", "R20261117-0002", "R20261117-0003"]
    clock.advance(days=1)
    assert flow.create_request(community_id=world.community.id, text="又坏了",
                               resident=world.resident).code == "R20261118-0001"


def test_codes_stay_unique_when_requests_are_created_at_once(app, world):
    import threading
    community_id = world.community.id
    barrier = threading.Barrier(8)
    codes, errors = [], []

    def create(n):
        try:
            with app.app_context():
                barrier.wait()
                codes.append(flow.create_request(community_id=community_id, text=f"第{n}件事").code)
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(codes) == [f"R20261117-{n:04d}" for n in range(1, 9)]


def test_handling_the_same_message_twice_opens_one_request(world):
    message, inbound = inbound_message("3号楼楼道灯坏了")
    ctx = make_ctx(message, inbound, resident=world.resident, group=world.group, community_id=world.community.id,
                   category="repair", slots={"building": "3"})
    first = flow.handle_report(ctx)
    second = flow.handle_report(ctx)
    assert first.detail["request_id"] == second.detail["request_id"]
    assert db.session.scalar(select(ServiceRequest.id).where(ServiceRequest.id != first.detail["request_id"])) is None


def test_create_request_validates_its_input(world):
    with pytest.raises(ValidationError) as error:
        flow.create_request(community_id=world.community.id, text="   ")
    assert error.value.field == "text"
    with pytest.raises(ValidationError) as error:
        flow.create_request(community_id=world.community.id, text="x", category="weather")
    assert error.value.field == "category"
    with pytest.raises(ValidationError) as error:
        flow.create_request(community_id=world.community.id, text="x", photos=[f"p{i}" for i in range(10)])
    assert error.value.field == "photos"


def test_report_without_a_community_is_answered_not_created(world):
    message, inbound = inbound_message("楼道灯坏了", chat_id=None, channel="mp", sender="o-unknown")
    ctx = make_ctx(message, inbound, resident=factories.resident(), community_id=None, category="repair")
    reply = flow.handle_report(ctx)
    assert "社区" in reply.text and "request_id" not in reply.detail
    assert db.session.scalar(select(ServiceRequest.id)) is None


# ---- follow-ups ------------------------------------------------------------------------------

def test_follow_up_within_the_window_joins_the_open_request(world, clock):
    _, request = report(world)
    clock.advance(minutes=5)
    reply, again = report(world, "已经坏了三天了，晚上很黑", slots={})
    assert again.id == request.id
    assert reply.detail["follow_up"] is True and request.code in reply.text
    assert kinds(request) == ["created", "follow_up"]
    event = db.session.scalars(select(RequestEvent).where(RequestEvent.kind == "follow_up")).one()
    assert event.detail["text"] == "已经坏了三天了，晚上很黑"
    # The window runs from the resident's LAST message: another 9 minutes later still joins.
    clock.advance(minutes=9)
    _, third = report(world, "有人能来看看吗", slots={})
    assert third.id == request.id
    assert db.session.scalar(select(ReplyClock.id).where(ReplyClock.request_id == request.id)) is not None
    assert len(db.session.scalars(select(ServiceRequest)).all()) == 1


def test_a_reply_to_the_request_also_stops_a_clock_its_follow_up_started(world, clock):
    from app.handlers import sla
    _, request = report(world)
    clock.advance(minutes=2)
    report(world, "已经坏了三天了", slots={})
    follow_up = db.session.scalars(select(RequestEvent).where(RequestEvent.kind == "follow_up")).one()
    # The router starts a clock for every message that needs a reply, the follow-up too.
    extra = sla.start_reply_clock(community_id=world.community.id, message_id=follow_up.detail["message_id"],
                                  group_id=world.group.id, resident_id=world.resident.id)
    assert extra.request_id is None and extra.stopped_at is None
    clock.advance(minutes=10)
    flow.reply_publicly(request, world.duty, "收到")
    db.session.refresh(extra)
    assert extra.stopped_at == clock() and extra.stopped_by_staff_id == world.duty.id
    assert db.session.scalars(select(ReplyClock).where(ReplyClock.stopped_at.is_(None))).all() == []


def test_after_the_window_a_new_request_is_opened(world, clock):
    _, request = report(world)
    clock.advance(seconds=601)
    _, second = report(world, "3号楼门口的灯也坏了")
    assert second.id != request.id


def test_follow_up_needs_the_same_chat_and_a_compatible_category(world, clock):
    _, request = report(world)
    clock.advance(minutes=1)
    _, elsewhere = report(world, "楼道灯坏了", chat_id=None, channel="miniprogram", sender="o-zhang")
    assert elsewhere.id != request.id
    _, parking = report(world, "另外，楼下停车位被外来车辆占了", category="parking", slots={})
    assert parking.id != request.id
    _, vague = report(world, "麻烦快点", category="other", slots={})
    assert vague.id == parking.id  # the latest open request in this chat


def test_a_resolved_request_is_not_joined(world, clock):
    _, request = report(world)
    flow.resolve(request, world.duty, note="已更换灯泡")
    clock.advance(minutes=1)
    _, second = report(world, "3号楼楼道灯又坏了")
    assert second.id != request.id


def test_a_photo_sent_right_after_the_report_joins_it(world, clock):
    _, request = report(world)
    clock.advance(minutes=2)
    message, inbound = inbound_message(None, msg_type="image",
                                       media={"pic_url": "https://mmbiz.example/p1.jpg", "media_id": "M1"})
    ctx = make_ctx(message, inbound, resident=world.resident, group=world.group, community_id=world.community.id,
                   intent="none")
    reply = flow.join_follow_up(ctx)
    assert reply.detail["request_id"] == request.id and reply.text == f"已将图片记入诉求（编号{request.code}）。"
    assert flow.join_follow_up(ctx).detail["request_id"] == request.id  # handled twice: recorded once
    db.session.refresh(request)
    assert request.photos == ["https://mmbiz.example/p1.jpg"]
    assert kinds(request) == ["created", "follow_up"]
    # Text chatter is not joined; nor is a photo long after the report.
    chatter, chatter_in = inbound_message("好的谢谢")
    assert flow.join_follow_up(make_ctx(chatter, chatter_in, resident=world.resident, group=world.group,
                                        community_id=world.community.id, intent="chitchat")) is None
    clock.advance(minutes=11)
    late, late_in = inbound_message(None, msg_type="image", media={"media_id": "M2"})
    assert flow.join_follow_up(make_ctx(late, late_in, resident=world.resident, group=world.group,
                                        community_id=world.community.id, intent="none")) is None


@pytest.mark.parametrize("app_overrides", [{"REQUEST_FOLLOWUP_SECONDS": 0}])
def test_follow_up_joining_can_be_turned_off(world, clock):
    _, request = report(world)
    clock.advance(seconds=10)
    _, second = report(world, "补充一下，是2单元")
    assert second.id != request.id


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
    duplicate = db.session.get(ServiceRequest, flow.handle_report(ctx).detail["request_id"])
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


# ---- deadlines -------------------------------------------------------------------------------

def test_default_deadlines_after_12345(app, world, clock):
    start = local(2026, 11, 17, 9, 30)
    assert flow.compute_due_at(start, "emergency") == start + timedelta(hours=2)
    assert flow.compute_due_at(start, "utilities") == start + timedelta(hours=24)
    assert flow.compute_due_at(start, "general") == local(2026, 11, 26, 23, 59, 59)
    # 15 working days: Nov 18–20, 23–27, Nov 30–Dec 4, Dec 7–8
    assert flow.compute_due_at(start, "complex") == local(2026, 12, 8, 23, 59, 59)
    assert [flow.urgency_for(c) for c in ("safety", "utilities", "property", "neighbor", "repair", "noise")] == [
        "emergency", "utilities", "complex", "complex", "general", "general"]


def test_working_days_skip_the_national_day_holiday_and_count_the_makeup_saturday(world, clock):
    clock.set(local(2026, 9, 28, 10, 0))  # Monday before 国庆
    request = flow.create_request(community_id=world.community.id, text="小区路面塌陷", category="repair")
    # Sep 29, Sep 30, (Oct 1–7 off), Oct 8, Oct 9, Oct 10 (Saturday, 调休上班), Oct 12, Oct 13
    assert request.due_at == local(2026, 10, 13, 23, 59, 59)
    naive_weekdays = WorkCalendar({local(2026, 10, 10).date(): False})
    assert flow.compute_due_at(clock(), "general", naive_weekdays) == local(2026, 10, 14, 23, 59, 59)


def test_a_request_on_a_holiday_starts_counting_on_the_next_working_day(world, clock):
    clock.set(local(2026, 10, 3, 15, 0))
    request = flow.create_request(community_id=world.community.id, text="噪音扰民", category="noise")
    # Oct 8, 9, 10 (调休), 12, 13, 14, 15
    assert request.due_at == local(2026, 10, 15, 23, 59, 59)


def test_operator_overrides_change_deadlines_for_unknown_years(world, clock):
    clock.set(local(2027, 9, 29, 9, 0))  # the package does not know 2027
    before = flow.compute_due_at(clock(), "general")
    assert before == local(2027, 10, 8, 23, 59, 59)  # weekdays only: Sep 30, Oct 1, 4, 5, 6, 7, 8
    for day in range(1, 8):
        db.session.add(CalendarDay(day=local(2027, 10, day).date(), is_workday=False, note="国庆节"))
    db.session.add(CalendarDay(day=local(2027, 10, 9).date(), is_workday=True, note="国庆调休上班"))
    db.session.commit()
    # Sep 30, (Oct 1–7 off), Oct 8, Oct 9 (调休), 11, 12, 13, 14
    assert flow.compute_due_at(clock(), "general") == local(2027, 10, 14, 23, 59, 59)


@pytest.mark.parametrize("app_overrides", [{"RESOLUTION_DEADLINES": "emergency=30m,general=3d",
                                            "REQUEST_CATEGORY_CLASSES": "noise=emergency,safety=emergency"}])
def test_deadlines_and_classes_are_configurable(world, clock):
    start = clock()
    assert flow.compute_due_at(start, "emergency") == start + timedelta(minutes=30)
    assert flow.compute_due_at(start, "general") == local(2026, 11, 20, 23, 59, 59)
    assert flow.compute_due_at(start, "utilities") == start + timedelta(hours=24)  # unlisted: default
    assert flow.urgency_for("noise") == "emergency"
    assert flow.urgency_for("utilities") == "general"  # the mapping replaces the default mapping


@pytest.mark.parametrize("name,value", [
    ("RESOLUTION_DEADLINES", "emergency=2x"), ("RESOLUTION_DEADLINES", "urgent=2h"),
    ("RESOLUTION_DEADLINES", "general=0d"), ("REQUEST_CATEGORY_CLASSES", "repair=soon"),
    ("REQUEST_CATEGORY_CLASSES", "weather=general"), ("REQUEST_FOLLOWUP_SECONDS", "-1")])
def test_bad_deadline_settings_are_refused_at_startup(name, value):
    from config import ConfigError, load_settings
    with pytest.raises(ConfigError) as error:
        load_settings("test", environ={f"LINLI_{name}": value})
    assert f"LINLI_{name}" in error.value.message


# ---- rating through the bot ------------------------------------------------------------------

def _resolved(world) -> ServiceRequest:
    _, request = report(world)
    flow.resolve(request, world.duty, note="已更换灯泡")
    return request


def _rate_ctx(world, text, *, slots=None, state=None):
    message, inbound = inbound_message(text)
    return make_ctx(message, inbound, resident=world.resident, group=world.group, community_id=world.community.id,
                    intent="rate", slots=slots, state=state)


def test_handle_rate_with_nothing_to_rate(world):
    reply = flow.handle_rate(_rate_ctx(world, "满意"))
    assert reply.text.startswith("您目前没有待评价的诉求") and reply.detail["nothing_to_rate"]


def test_handle_rate_with_a_rating_closes_the_latest_resolved_request(world):
    request = _resolved(world)
    reply = flow.handle_rate(_rate_ctx(world, "满意", slots={"rating": "satisfied"}))
    assert request.code in reply.text and "感谢" in reply.text
    db.session.refresh(request)
    assert request.status == "closed" and request.rating == "satisfied"


def test_handle_rate_unsatisfied_reopens(world):
    request = _resolved(world)
    reply = flow.handle_rate(_rate_ctx(world, "不满意，灯还是不亮"))
    db.session.refresh(request)
    assert request.status == "in_progress" and "重新办理" in reply.text


def test_rating_flow_asks_then_takes_the_next_message(world):
    request = _resolved(world)
    ctx = _rate_ctx(world, "我要评价")
    reply = flow.handle_rate(ctx)
    assert ctx.state == {"flow": "rate", "request_id": request.id, "attempts": 0}
    assert "满意" in reply.text
    follow = _rate_ctx(world, "基本满意吧", state=ctx.state)
    reply = flow.continue_rating(follow)
    assert follow.state == {} and "基本满意" in reply.text
    db.session.refresh(request)
    assert request.status == "closed" and request.rating == "basically"


def test_rating_flow_gives_up_after_two_unclear_answers(world):
    request = _resolved(world)
    ctx = _rate_ctx(world, "嗯？", state={"flow": "rate", "request_id": request.id, "attempts": 0})
    reply = flow.continue_rating(ctx)
    assert ctx.state["attempts"] == 1 and "请回复" in reply.text
    ctx2 = _rate_ctx(world, "啥", state=ctx.state)
    reply = flow.continue_rating(ctx2)
    assert ctx2.state == {} and reply.detail["gave_up"]
    db.session.refresh(request)
    assert request.status == "resolved"


@pytest.mark.parametrize("text,rating", [
    ("满意", "satisfied"), ("非常满意！", "satisfied"), ("基本满意", "basically"), ("一般", "basically"),
    ("不满意", "unsatisfied"), ("不太满意", "unsatisfied"), ("还是没解决", "unsatisfied"), ("1", "satisfied"),
    ("今天天气", None), ("", None)])
def test_parse_rating(text, rating):
    assert flow.parse_rating(text) == rating


# ---- progress --------------------------------------------------------------------------------

def test_progress_lines_list_the_residents_own_requests(world, clock):
    _, lamp = report(world, "3号楼2单元楼道灯坏了")
    _, leak = report(world, "楼顶漏水", chat_id="chat-other", category="repair", slots={})
    flow.resolve(lamp, world.duty, note="已修")
    someone_else = factories.resident(community_id=world.community.id)
    db.session.commit()
    flow.create_request(community_id=world.community.id, text="别人的诉求", resident=someone_else)
    message, inbound = inbound_message("我报的修了没有")
    ctx = make_ctx(message, inbound, resident=world.resident, group=world.group, community_id=world.community.id,
                   intent="query_progress")
    lines = flow.progress_lines(ctx)
    assert len(lines) == 2
    assert lines[0] == f"诉求{leak.code}「楼顶漏水」：已接收，应于11月26日23:59前办结"
    assert lines[1].startswith(f"诉求{lamp.code}「3号楼2单元楼道灯坏了」：已办结（待评价），请回复")
    ctx.now = clock.advance(days=10)
    assert flow.progress_lines(ctx)[0].endswith("前办结（已超期）")
    flow.supervise_overdue(leak.id)
    assert flow.progress_lines(ctx)[0].endswith("前办结（已超期，已督办）")
    ctx.resident = None
    assert flow.progress_lines(ctx) == []
