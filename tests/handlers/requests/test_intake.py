"""Opening a request (from the bot and directly), its number and place, and follow-ups joining it."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.errors import ValidationError
from app.extensions import db
from app.handlers import requests as flow
from app.handlers.requests import chat
from app.models.requests import RequestEvent, ServiceRequest
from app.models.sla import ReplyClock
from tests import factories
from tests.factories.requests import inbound_message, kinds, local, make_ctx, report

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
    # each day's counter lives three days from its first number, also after a flush recreated it
    for day in ("20261117", "20261118"):
        assert 2 * 86400 < redis_client.ttl(f"linli:request-code:{day}") <= 3 * 86400


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
    first = chat.handle_report(ctx)
    second = chat.handle_report(ctx)
    assert first.detail["request_id"] == second.detail["request_id"]
    assert db.session.scalar(select(ServiceRequest.id).where(ServiceRequest.id != first.detail["request_id"])) is None
    assert len(db.session.scalars(select(ReplyClock)).all()) == 1


def test_every_channel_gets_its_reply_clock_from_create_request(world):
    form = flow.create_request(community_id=world.community.id, text="电梯异响", resident=world.resident,
                               channel="miniprogram", source="form")
    clock = db.session.scalars(select(ReplyClock).where(ReplyClock.request_id == form.id)).one()
    assert (clock.message_id, clock.group_id, clock.resident_id) == (None, None, world.resident.id)
    assert clock.community_id == world.community.id and clock.stopped_at is None
    _, chat_request = report(world)
    clock = db.session.scalars(select(ReplyClock).where(ReplyClock.request_id == chat_request.id)).one()
    assert (clock.message_id, clock.group_id) == (chat_request.message_id, world.group.id)


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
    reply = chat.handle_report(ctx)
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


def test_a_report_about_another_building_opens_its_own_request(world, clock):
    _, request = report(world)  # 3号楼, placed in world.building
    clock.advance(minutes=1)
    _, same = report(world, "3号楼楼道灯还是不亮", slots={"building": "3号楼"})
    assert same.id == request.id
    _, other = report(world, "21号楼门口的路灯也不亮了", slots={"building": "21"})
    assert other.id != request.id
    assert kinds(request) == ["created", "follow_up"]


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
    reply = chat.join_follow_up(ctx)
    assert reply.detail["request_id"] == request.id and reply.text == f"已将图片记入诉求（编号{request.code}）。"
    assert chat.join_follow_up(ctx).detail["request_id"] == request.id  # handled twice: recorded once
    db.session.refresh(request)
    assert request.photos == ["https://mmbiz.example/p1.jpg"]
    assert kinds(request) == ["created", "follow_up"]
    # Text chatter is not joined; nor is a photo long after the report.
    chatter, chatter_in = inbound_message("好的谢谢")
    assert chat.join_follow_up(make_ctx(chatter, chatter_in, resident=world.resident, group=world.group,
                                        community_id=world.community.id, intent="chitchat")) is None
    clock.advance(minutes=11)
    late, late_in = inbound_message(None, msg_type="image", media={"media_id": "M2"})
    assert chat.join_follow_up(make_ctx(late, late_in, resident=world.resident, group=world.group,
                                        community_id=world.community.id, intent="none")) is None


@pytest.mark.parametrize("app_overrides", [{"REQUEST_FOLLOWUP_SECONDS": 0}])
def test_follow_up_joining_can_be_turned_off(world, clock):
    _, request = report(world)
    clock.advance(seconds=10)
    _, second = report(world, "补充一下，是2单元")
    assert second.id != request.id
