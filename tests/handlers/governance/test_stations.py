"""The service map: stations with hours and services, and "附近哪里可以…" answered in chat by the real
router and bot with the nearest open stations, by distance from the resident's building."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.errors import DomainError
from app.extensions import db
from app.handlers.governance import geo, nearby, stations
from app.handlers.messaging.inbound import InboundMessage, receive
from app.models import Message, ReplyClock
from app.workcal import WorkCalendar
from tests.handlers.governance.support import point, world

_seq = itertools.count(1)
WORKDAYS_MORNING = [{"days": "workdays", "open": "08:30", "close": "11:30"},
                    {"days": "workdays", "open": "14:00", "close": "17:30"}]


def ask(text, *, group=True, sender=None, **kw):
    if group:
        inbound = InboundMessage(channel="group", dedupe_key=f"map-{next(_seq)}", sender_id=sender or "member-3",
                                 chat_id="wrwG-gov", chat_type="group", text=text, **kw)
    else:
        inbound = InboundMessage(channel="mp", dedupe_key=f"map-{next(_seq)}", sender_id=sender or "oGOV3",
                                 chat_type="private", text=text, **kw)
    reply, _ = receive(inbound)
    return reply, db.session.scalars(select(Message).where(Message.dedupe_key == inbound.dedupe_key)).one()


def station(w, name, north, east, services, hours=None, kind="clinic", **kw):
    lat, lng = point(north, east)
    return stations.create_station(w.community.id, {
        "name": name, "kind": kind, "address": f"富强新村{name}", "lat": lat, "lng": lng, "services": services,
        "hours": WORKDAYS_MORNING if hours is None else hours, **kw}, w.admin)


@pytest.fixture
def w(app, clock):
    w = world()
    # Building 3 stands 800 m east of building 1 (see support.world).
    w.extra["clinic"] = station(w, "社区卫生服务站", 0, 100, ["blood_pressure", "blood_sugar"], phone="0519-86609120")
    w.extra["hut"] = station(w, "党群服务中心健康小屋", 0, 700, ["量血压", "print"], kind="party_center",
                             hours=[{"days": "daily", "open": "08:00", "close": "20:00"}])
    w.extra["warm"] = station(w, "暖心驿站", 0, 820, ["blood_pressure", "water", "charging"], kind="warm_station",
                              hours=[{"days": [6, 7], "open": "09:00", "close": "17:00"}])
    return w


def test_the_nearest_open_station_answers_a_resident_in_the_group(w):
    reply, message = ask("附近哪里可以量血压？")        # 周晓燕 lives in building 3
    lines = reply.text.splitlines()
    assert lines[0] == "离3号楼最近、现在开放的可以量血压的地方："
    assert lines[1].startswith("1. 党群服务中心健康小屋（开放至20:00，约100米）")
    assert lines[3] == "2. 社区卫生服务站（开放至11:30，约700米）"
    assert lines[4] == "   地址：富强新村社区卫生服务站，电话0519-86609120"
    assert "现在未开放：" in lines and any(line.startswith("3. 暖心驿站（11月21日（周六）09:00开放，约20米）")
                                        for line in lines)
    assert message.handling["handled_by"] == "governance.nearby"
    assert db.session.scalars(select(ReplyClock).where(ReplyClock.message_id == message.id)).first() is None


def test_a_building_named_in_the_message_wins_and_a_private_chat_works_too(w):
    reply, _ = ask("我在1栋，哪里能打印", group=False)
    assert reply.text.splitlines()[0] == "离1号楼最近、现在开放的可以打印复印的地方："
    assert "党群服务中心健康小屋（开放至20:00，约700米）" in reply.text


def test_when_everything_is_closed_the_next_openings_are_given(w, clock):
    clock.set(datetime(2026, 11, 17, 13, 0, tzinfo=timezone.utc))   # 21:00 local
    reply, _ = ask("附近哪里可以测血糖")
    assert reply.text.startswith("现在（11月17日21:00）可以测血糖的地方都没有开放，最近的开放时间：")
    assert "社区卫生服务站（11月18日（周三）08:30开放，约700米）" in reply.text


def test_a_service_no_station_offers_goes_to_the_usual_answer(w):
    reply, message = ask("附近哪里可以借书", group=False)
    assert message.handling["handled_by"] != "governance.nearby"


def test_a_resident_without_a_known_building_gets_the_list_and_a_hint(w):
    from app.models import Resident
    resident = db.session.get(Resident, w.residents[0].id)
    resident.building_id = None
    db.session.commit()
    reply, _ = ask("哪里可以量血压", sender="member-1")
    assert reply.text.startswith("社区里、现在开放的可以量血压的地方：")
    assert reply.text.endswith("告诉我您住几栋（如“3栋附近哪里可以量血压”），我按距离帮您排。")


def test_opening_hours_follow_the_working_day_calendar():
    class Row:
        hours = WORKDAYS_MORNING
    # 2026-10-10 is a Saturday worked instead of a National Day holiday (调休); 2026-10-05 is a Monday off.
    calendar = WorkCalendar({datetime(2026, 10, 10).date(): True, datetime(2026, 10, 5).date(): False})
    saturday = datetime(2026, 10, 10, 2, 0, tzinfo=timezone.utc)    # 10:00 local
    monday = datetime(2026, 10, 5, 2, 0, tzinfo=timezone.utc)
    assert stations.open_until(Row, saturday, calendar) == "11:30"
    assert stations.open_until(Row, monday, calendar) is None
    assert stations.open_until(Row, saturday + timedelta(hours=2), calendar) is None     # the lunch break
    assert stations.next_opening(Row, saturday + timedelta(hours=2), calendar) == datetime(
        2026, 10, 10, 6, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("change, field", [
    ({"lat": 95}, "lat"), ({"services": ["teleport"]}, "services"), ({"kind": "castle"}, "kind"),
    ({"hours": [{"days": "sometimes", "open": "08:00", "close": "09:00"}]}, "hours[0].days"),
    ({"hours": [{"days": "daily", "open": "18:00", "close": "09:00"}]}, "hours[0]"),
    ({"hours": "all day"}, "hours"), ({"address": ""}, "address"), ({"colour": "red"}, "colour"),
])
def test_bad_station_fields_are_named(w, change, field):
    lat, lng = point(10, 10)
    body = {"name": "新站点", "kind": "other", "address": "某处", "lat": lat, "lng": lng, **change}
    with pytest.raises(DomainError) as caught:
        stations.create_station(w.community.id, body, w.admin)
    assert caught.value.field == field


def test_nearest_orders_open_first_then_by_distance(w):
    origin = point(0, 800)
    moment = datetime(2026, 11, 17, 2, 0, tzinfo=timezone.utc)
    places = nearby.nearest(w.community.id, "blood_pressure", origin, moment)
    assert [p.station.name for p in places] == ["党群服务中心健康小屋", "社区卫生服务站", "暖心驿站"]
    assert round(places[1].metres) == round(geo.distance_m(origin, point(0, 100)))
    assert geo.distance_text(1234) == "约1.2公里" and geo.distance_text(3) == "约10米"
