"""Events: creating, series, sign-ups, the waiting list and its promotion, announcing, cancelling."""
from __future__ import annotations

from datetime import timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from app.extensions import db
from app.handlers.events.capacity import places_left, waiting_rank
from app.handlers.events.errors import EventError
from app.handlers.events.lifecycle import cancel_event, create_event, publish_event, update_event
from app.handlers.events.notices import announce_event, announcement_text
from app.handlers.events.series import materialise_series
from app.handlers.events.signups import active_signups, cancel_signup, signup_for
from app.handlers.events.views import signup_view
from app.localtime import to_local
from app.models import AuditLog
from app.models.events import Event, EventCapacity, Signup
from app.models.volunteers import PartyMember
from tests import factories
from tests.handlers.events.support import local, make_event, outbound, signup_count


@pytest.fixture
def community(app, clock):
    row = factories.community(name="富强新村社区")
    db.session.commit()
    return row


def _resident(community, n: int, **kw):
    row = factories.resident(community_id=community.id, name=kw.pop("name", f"居民{n}"),
                             identities=[("mp", "openid", f"openid-r{n}-{community.id}")], **kw)
    db.session.commit()
    return row


# ---- creating -------------------------------------------------------------------------------

@pytest.mark.parametrize("change, field, code", [
    ({"ends_at": local(2026, 11, 24, 8, 0)}, "ends_at", "invalid"),
    ({"starts_at": local(2026, 11, 16, 8, 30), "ends_at": local(2026, 11, 16, 10, 0)}, "starts_at", "invalid"),
    ({"signup_deadline": local(2026, 11, 24, 9, 0)}, "signup_deadline", "invalid"),
    ({"kind": "picnic"}, "kind", "invalid"),
    ({"audience": "kids"}, "audience", "invalid"),
    ({"capacity": -1}, "capacity", "invalid"),
    ({"title": "  "}, "title", "invalid"),
])
def test_create_refuses_bad_input_and_writes_nothing(community, change, field, code):
    values = dict(title="义诊", kind="health_check", starts_at=local(2026, 11, 24, 8, 30),
                  ends_at=local(2026, 11, 24, 11, 0))
    values.update(change)
    with pytest.raises(EventError) as info:
        create_event(community.id, staff=None, **values)
    assert info.value.status == 400 and info.value.field == field and info.value.code == code
    assert db.session.scalar(select(Event.id)) is None


def test_create_makes_a_counter_and_publish_schedules_the_reminder(community, redis_client):
    event = make_event(community, capacity=30, publish=False)
    counter = db.session.get(EventCapacity, event.id)
    assert (counter.capacity, counter.confirmed, counter.waiting_seq) == (30, 0, 0)
    assert event.status == "draft"
    registry = ScheduledJobRegistry("default", connection=redis_client)
    assert registry.get_job_ids() == []
    publish_event(event, None)
    assert event.status == "published" and event.published_at is not None
    assert registry.get_job_ids() == [f"event-remind-{event.id}"]
    # RQ keeps the score in whole seconds: 24 hours before 08:30 on the 24th.
    score = redis_client.zscore(registry.key, f"event-remind-{event.id}")
    assert int(score) == int((local(2026, 11, 24, 8, 30) - timedelta(days=1)).timestamp())


def test_weekly_series_materialises_occurrences_with_their_own_counters(community, app, clock):
    head = make_event(community, capacity=2, recurrence="weekly", signup_deadline=local(2026, 11, 23, 18, 0))
    series = db.session.scalars(select(Event).where(Event.series_id == head.id).order_by(Event.starts_at)).all()
    # Horizon 28 days from 2026-11-17 09:30: 12-01, 12-08, 12-15 (12-22 is past the horizon).
    assert [to_local(e.starts_at).strftime("%m-%d %H:%M") for e in series] == [
        "12-01 08:30", "12-08 08:30", "12-15 08:30"]
    assert all(e.status == "published" and e.capacity == 2 for e in series)
    # The deadline keeps its distance from the start: the evening before.
    assert to_local(series[0].deadline).strftime("%m-%d %H:%M") == "11-30 18:00"
    assert all(db.session.get(EventCapacity, e.id).confirmed == 0 for e in series)
    assert materialise_series(head) == []  # idempotent
    clock.advance(days=7)
    created = materialise_series(head)
    assert [to_local(e.starts_at).strftime("%m-%d") for e in created] == ["12-22"]


def test_series_stops_at_recurrence_until(community):
    head = make_event(community, recurrence="weekly", recurrence_until=local(2026, 12, 9))
    starts = db.session.scalars(select(Event.starts_at).where(Event.series_id == head.id)).all()
    assert sorted(to_local(s).strftime("%m-%d") for s in starts) == ["12-01", "12-08"]


# ---- sign-ups and the waiting list ----------------------------------------------------------

def test_signup_confirms_until_full_then_waiting_list_in_order(community):
    event = make_event(community, capacity=2)
    residents = [_resident(community, n) for n in range(5)]
    results = [signup_for(event.id, resident=r, idempotency_key=f"k{r.id}", waitlist=True) for r in residents]
    assert [r.signup.status for r in results] == ["confirmed", "confirmed", "waiting", "waiting", "waiting"]
    assert [r.rank for r in results[2:]] == [1, 2, 3]
    assert db.session.get(EventCapacity, event.id).confirmed == 2


def test_full_event_without_waitlist_is_refused_with_nothing_written(community):
    event = make_event(community, capacity=1)
    signup_for(event.id, resident=_resident(community, 1), waitlist=False)
    late = _resident(community, 2)
    with pytest.raises(EventError) as info:
        signup_for(event.id, resident=late, waitlist=False)
    assert info.value.code == "full" and info.value.status == 409
    assert signup_count(event.id) == 1
    counter = db.session.get(EventCapacity, event.id)
    assert (counter.confirmed, counter.waiting_seq) == (1, 0)


def test_signing_up_twice_and_idempotent_replay(community):
    event = make_event(community, capacity=5)
    resident = _resident(community, 1)
    first = signup_for(event.id, resident=resident, idempotency_key="abc")
    again = signup_for(event.id, resident=resident, idempotency_key="abc")
    assert again.replay and again.signup.id == first.signup.id
    with pytest.raises(EventError) as info:
        signup_for(event.id, resident=resident, idempotency_key="other")
    assert info.value.code == "already_signed_up"
    assert "无需重复报名" in info.value.message
    assert signup_count(event.id) == 1 and db.session.get(EventCapacity, event.id).confirmed == 1


@pytest.mark.parametrize("situation, code", [
    ("deadline", "deadline_passed"), ("started", "started"), ("ended", "ended"), ("cancelled", "cancelled"),
    ("draft", "not_found"),
])
def test_closed_events_refuse_sign_ups(community, clock, situation, code):
    event = make_event(community, capacity=5, signup_deadline=local(2026, 11, 23, 18, 0),
                       publish=situation != "draft")
    resident = _resident(community, 1)
    if situation == "deadline":
        clock.set(local(2026, 11, 23, 18, 0))
    elif situation == "started":
        clock.set(local(2026, 11, 24, 8, 31))
    elif situation == "ended":
        clock.set(local(2026, 11, 24, 12, 0))
    elif situation == "cancelled":
        cancel_event(event, None, "下雨")
    with pytest.raises(EventError) as info:
        signup_for(event.id, resident=resident, idempotency_key="x")
    assert info.value.code == code
    assert signup_count(event.id) == 0


def test_audience_party_members_and_volunteers(community):
    party_event = make_event(community, title="主题党日", kind="party_day", audience="party_members")
    volunteer_event = make_event(community, title="楼道清扫", kind="volunteer", audience="volunteers",
                                 starts_at=local(2026, 11, 28, 9, 0))
    plain = _resident(community, 1)
    party = _resident(community, 2)
    helper = _resident(community, 3)
    db.session.add_all([
        PartyMember(community_id=community.id, resident_id=party.id, kind="party", name="党员甲", work_unit="单位",
                    party_org="支部"),
        PartyMember(community_id=community.id, resident_id=helper.id, kind="volunteer", name="志愿者乙")])
    db.session.commit()
    with pytest.raises(EventError) as info:
        signup_for(party_event.id, resident=plain)
    assert info.value.status == 403 and "在职党员" in info.value.message
    with pytest.raises(EventError):
        signup_for(party_event.id, resident=helper)
    assert signup_for(party_event.id, resident=party).signup.member_id is not None
    with pytest.raises(EventError) as info:
        signup_for(volunteer_event.id, resident=plain)
    assert info.value.code == "audience"
    assert signup_for(volunteer_event.id, resident=helper).signup.status == "confirmed"
    assert signup_for(volunteer_event.id, resident=party).signup.status == "confirmed"
    assert signup_count(party_event.id) == 1


def test_residents_of_another_community_are_refused(community):
    event = make_event(community)
    other = factories.community()
    stranger = factories.resident(community_id=other.id)
    db.session.commit()
    with pytest.raises(EventError) as info:
        signup_for(event.id, resident=stranger)
    assert info.value.code == "other_community" and info.value.status == 403


def test_cancellation_promotes_the_first_waiting_and_tells_them(community):
    event = make_event(community, capacity=1, place="社区卫生服务站")
    holder, first, second = (_resident(community, n) for n in (1, 2, 3))
    held = signup_for(event.id, resident=holder).signup
    waiting_first = signup_for(event.id, resident=first, waitlist=True).signup
    waiting_second = signup_for(event.id, resident=second, waitlist=True).signup

    result = cancel_signup(held.id, actor_id=holder.id)
    assert [p.id for p in result.promoted] == [waiting_first.id]
    db.session.refresh(waiting_first)
    db.session.refresh(waiting_second)
    assert waiting_first.status == "confirmed" and waiting_first.promoted_at is not None
    assert waiting_rank(waiting_second) == 1
    assert db.session.get(EventCapacity, event.id).confirmed == 1
    notices = outbound(resident_id=first.id)
    assert len(notices) == 1
    notice = notices[0]
    assert notice.channel == "mp" and notice.recipient_id == f"openid-r2-{community.id}"
    assert notice.handling["recipient_kind"] == "user"
    assert "候补转正" in notice.text and "每周二上午义诊" in notice.text and "社区卫生服务站" in notice.text
    assert notice.status == "queued"
    assert outbound(resident_id=second.id) == []
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert "event.signup.promote" in actions and "event.signup.cancel" in actions


def test_cancelling_a_waiting_place_promotes_nobody_and_twice_is_harmless(community):
    event = make_event(community, capacity=1)
    signup_for(event.id, resident=_resident(community, 1))
    waiting = signup_for(event.id, resident=_resident(community, 2), waitlist=True).signup
    assert cancel_signup(waiting.id).promoted == []
    assert cancel_signup(waiting.id).already
    assert db.session.get(EventCapacity, event.id).confirmed == 1


def test_cancelling_after_the_start_is_refused(community, clock):
    event = make_event(community, capacity=3)
    signup = signup_for(event.id, resident=_resident(community, 1)).signup
    clock.set(local(2026, 11, 24, 8, 45))
    with pytest.raises(EventError) as info:
        cancel_signup(signup.id)
    assert info.value.code == "started"
    db.session.refresh(signup)
    assert signup.status == "confirmed"


def test_signing_up_again_after_cancelling_reuses_the_row_at_the_back_of_the_queue(community):
    event = make_event(community, capacity=1)
    first = _resident(community, 1)
    other = _resident(community, 2)
    signup = signup_for(event.id, resident=first, idempotency_key="a").signup
    signup_for(event.id, resident=other, waitlist=True)
    cancel_signup(signup.id)
    again = signup_for(event.id, resident=first, idempotency_key="b", waitlist=True)
    assert again.signup.id == signup.id and again.signup.status == "waiting" and again.rank == 1
    assert signup_count(event.id) == 2


def test_raising_capacity_promotes_and_lowering_below_taken_is_refused(community):
    event = make_event(community, capacity=1)
    signup_for(event.id, resident=_resident(community, 1))
    waiting = signup_for(event.id, resident=_resident(community, 2), waitlist=True).signup
    with pytest.raises(EventError) as info:
        update_event(event, None, {"capacity": 0})
    assert info.value.code == "capacity_below_confirmed"
    update_event(event, None, {"capacity": 3})
    db.session.refresh(waiting)
    assert waiting.status == "confirmed"
    assert db.session.get(EventCapacity, event.id).capacity == 3
    assert len(outbound(resident_id=waiting.resident_id)) == 1


def test_unlimited_capacity_never_waits(community):
    event = make_event(community, capacity=None)
    results = [signup_for(event.id, resident=_resident(community, n)) for n in range(4)]
    assert {r.signup.status for r in results} == {"confirmed"}
    assert places_left(event) is None


def test_staff_sign_up_a_member_without_wechat(community):
    event = make_event(community, capacity=3, title="楼道清扫", kind="volunteer", audience="volunteers")
    member = PartyMember(community_id=community.id, kind="party", name="沈立新", work_unit="医院", party_org="支部")
    db.session.add(member)
    db.session.commit()
    staff = factories.staff(community=community, roles=("community_admin",))
    result = signup_for(event.id, member=member, source="staff", staff=staff)
    assert result.signup.resident_id is None and result.signup.member_id == member.id
    with pytest.raises(EventError):
        signup_for(event.id, member=member)


# ---- announcing and cancelling events -------------------------------------------------------

def test_announce_posts_to_each_resident_group_once(community):
    groups = [factories.group(community=community, channel="group", chat_id=f"chat-{n}") for n in range(2)]
    factories.group(community=community, channel="group", chat_id="duty-chat", kind="duty")
    factories.group(community=community, channel="group", chat_id="old-chat", active=False)
    db.session.commit()
    event = make_event(community, capacity=30, place="社区卫生服务站", aliases=["义诊"],
                       description="请带医保卡", signup_deadline=local(2026, 11, 23, 18, 0))
    messages = announce_event(event, None)
    assert sorted(m.chat_id for m in messages) == ["chat-0", "chat-1"]
    assert all(m.handling["recipient_kind"] == "group" for m in messages)
    assert {m.group_id for m in messages} == {g.id for g in groups}
    text = messages[0].text
    assert text.startswith("【活动通知】每周二上午义诊")
    for part in ("11月24日（周二）08:30–11:00", "地点：社区卫生服务站", "名额：30人（剩余30个）",
                 "报名截止：11月23日（周一）18:00", "参加对象：全体居民", "说明：请带医保卡", "“义诊报名”"):
        assert part in text, part
    assert event.announced_at is not None
    again = announce_event(event, None)
    assert [m.id for m in again] == [m.id for m in messages]
    assert len(outbound()) == 2


def test_announce_a_series_names_the_weekly_time(community):
    factories.group(community=community)
    db.session.commit()
    head = make_event(community, recurrence="weekly")
    text = announcement_text(head)
    assert "时间：每周二上午 08:30–11:00（本次 11月24日（周二））" in text


def test_announce_refuses_drafts_and_communities_without_groups(community):
    draft = make_event(community, publish=False)
    with pytest.raises(EventError) as info:
        announce_event(draft, None)
    assert info.value.code == "not_published"
    published = make_event(community, title="四点半课堂", kind="class", starts_at=local(2026, 11, 25, 16, 30))
    with pytest.raises(EventError) as info:
        announce_event(published, None)
    assert info.value.code == "no_groups"
    assert outbound() == []


def test_cancel_event_tells_everyone_and_drops_the_reminder(community, redis_client):
    event = make_event(community, capacity=1)
    confirmed = _resident(community, 1)
    waiting = _resident(community, 2)
    signup_for(event.id, resident=confirmed)
    signup_for(event.id, resident=waiting, waitlist=True)
    registry = ScheduledJobRegistry("default", connection=redis_client)
    assert registry.get_job_ids() == [f"event-remind-{event.id}"]
    cancel_event(event, None, "医生临时有事")
    assert event.status == "cancelled"
    assert registry.get_job_ids() == []
    texts = [m.text for m in outbound()]
    assert len(texts) == 2 and all("【活动取消】" in t and "医生临时有事" in t for t in texts)
    cancel_event(event, None)  # again: nothing new
    assert len(outbound()) == 2


def test_cancelling_a_series_cancels_its_future_occurrences(community):
    head = make_event(community, recurrence="weekly")
    cancel_event(head, None)
    statuses = set(db.session.scalars(select(Event.status)))
    assert statuses == {"cancelled"}
    assert materialise_series(head) == []


def test_update_time_reschedules_and_resets_reminders(community, redis_client, clock):
    event = make_event(community)
    signup = signup_for(event.id, resident=_resident(community, 1)).signup
    signup.reminded_at = clock()
    db.session.commit()
    update_event(event, None, {"starts_at": local(2026, 11, 26, 9, 0), "ends_at": local(2026, 11, 26, 11, 0)})
    db.session.refresh(signup)
    assert signup.reminded_at is None
    registry = ScheduledJobRegistry("default", connection=redis_client)
    score = redis_client.zscore(registry.key, f"event-remind-{event.id}")
    assert int(score) == int(local(2026, 11, 25, 9, 0).timestamp())


def test_signup_views_and_progress_of_a_resident(community):
    event = make_event(community, capacity=1)
    signup_for(event.id, resident=_resident(community, 1))
    resident = _resident(community, 2)
    signup = signup_for(event.id, resident=resident, waitlist=True).signup
    view = signup_view(signup, with_event=True)
    assert view["status"] == "waiting" and view["waiting_position"] == 1
    assert view["event"]["places_left"] == 0 and view["event"]["waiting"] == 1
    assert [s.id for s in active_signups(resident.id)] == [signup.id]
    assert db.session.scalars(select(Signup).where(Signup.resident_id == resident.id)).one().position == 1


def test_a_series_head_past_its_first_date_still_edits_the_weeks_to_come(community, clock):
    head = make_event(community, capacity=30, recurrence="weekly")
    for n in range(3):
        signup_for(head.id, resident=_resident(community, n))
    clock.set(local(2026, 11, 25, 9, 0))
    with pytest.raises(EventError) as info:
        update_event(head, None, {"starts_at": local(2026, 12, 1, 9, 0)})
    assert info.value.code == "ended"
    update_event(head, None, {"capacity": 2, "place": "新地点"}, apply_to_series=True)
    future = db.session.scalars(select(Event).where(Event.series_id == head.id)).all()
    assert {(e.capacity, e.place) for e in future} == {(2, "新地点")}
    clock.advance(days=7)
    created = materialise_series(head)
    assert created and {(e.capacity, e.place) for e in created} == {(2, "新地点")}
    one_off = make_event(community, title="议事会", kind="meeting", starts_at=local(2026, 12, 3, 19, 0))
    clock.set(local(2026, 12, 4, 9, 0))
    with pytest.raises(EventError):
        update_event(one_off, None, {"place": "x"})
    assert update_event(one_off, None, {"description": "会议纪要已上墙"}).description == "会议纪要已上墙"
