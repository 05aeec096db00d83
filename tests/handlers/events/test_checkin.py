"""Check-in and check-out: signed codes with a nonce, check-in by list, and hours at check-out."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.handlers.events.checkin import check_in, check_out, make_checkin_code
from app.handlers.events.errors import EventError
from app.handlers.events.signups import signup_for
from app.models.events import CheckIn
from app.models.volunteers import HoursEntry, PartyMember
from tests import factories
from tests.handlers.events.support import local, make_event


@pytest.fixture
def setup(app, clock):
    community = factories.community()
    staff = factories.staff(community=community, roles=("grid_worker",))
    member_resident = factories.resident(community_id=community.id, name="周晓燕")
    plain_resident = factories.resident(community_id=community.id, name="陈桂芳")
    member = PartyMember(community_id=community.id, resident_id=member_resident.id, kind="party", name="周晓燕",
                         work_unit="实验小学", party_org="实验小学党总支")
    db.session.add(member)
    db.session.commit()
    event = make_event(community, title="楼道环境整治", kind="volunteer", capacity=2, volunteer_minutes=180,
                       starts_at=local(2026, 11, 28, 9, 0), duration=__import__("datetime").timedelta(hours=3))
    member_signup = signup_for(event.id, resident=member_resident).signup
    plain_signup = signup_for(event.id, resident=plain_resident).signup
    return {"community": community, "staff": staff, "event": event, "member": member,
            "member_signup": member_signup, "plain_signup": plain_signup}


def test_code_check_in_resent_scan_counts_once(setup, clock):
    event, staff, signup = setup["event"], setup["staff"], setup["member_signup"]
    clock.set(local(2026, 11, 28, 8, 55))
    code = make_checkin_code(signup)
    assert code["action"] == "checkin"
    first = check_in(event, staff, code=code["code"])
    assert not first.replay and first.signup.status == "attended" and first.checkin.method == "code"
    resent = check_in(event, staff, code=code["code"])
    assert resent.replay and resent.checkin.id == first.checkin.id
    # A fresh code for someone already checked in is not a second check-in either.
    again = check_in(event, staff, code=make_checkin_code(signup)["code"])
    assert again.replay
    assert len(db.session.scalars(select(CheckIn)).all()) == 1


def test_a_used_code_cannot_check_out(setup, clock):
    event, staff, signup = setup["event"], setup["staff"], setup["member_signup"]
    clock.set(local(2026, 11, 28, 8, 55))
    code = make_checkin_code(signup)["code"]
    check_in(event, staff, code=code)
    with pytest.raises(EventError) as info:
        check_out(event, staff, code=code)
    assert info.value.code == "code_used"


def test_check_out_credits_member_hours_rounded_down_and_capped(setup, clock):
    event, staff = setup["event"], setup["staff"]
    member_signup, plain_signup = setup["member_signup"], setup["plain_signup"]
    clock.set(local(2026, 11, 28, 8, 55))
    check_in(event, staff, code=make_checkin_code(member_signup)["code"])
    check_in(event, staff, signup_id=plain_signup.id)
    clock.set(local(2026, 11, 28, 11, 40))  # 2 h 45 min served → 2.5 h
    out = check_out(event, staff, code=make_checkin_code(member_signup)["code"])
    assert out.hours_entry is not None
    entry = out.hours_entry
    assert (entry.kind, entry.minutes, entry.year, entry.recorded_by_staff_id) == ("checkin", 150, 2026, staff.id)
    assert entry.served_on.isoformat() == "2026-11-28" and entry.signup_id == member_signup.id
    assert "08:55" in entry.note and "11:40" in entry.note
    # Not a registered member: checked out, no hours.
    plain_out = check_out(event, staff, signup_id=plain_signup.id)
    assert plain_out.hours_entry is None
    assert len(db.session.scalars(select(HoursEntry)).all()) == 1
    # Checking out again changes nothing.
    assert check_out(event, staff, signup_id=member_signup.id).replay
    assert len(db.session.scalars(select(HoursEntry)).all()) == 1


def test_hours_are_capped_at_what_the_event_credits(setup, clock):
    event, staff, signup = setup["event"], setup["staff"], setup["member_signup"]
    clock.set(local(2026, 11, 28, 8, 0))
    check_in(event, staff, signup_id=signup.id)
    clock.set(local(2026, 11, 28, 13, 0))
    assert check_out(event, staff, signup_id=signup.id).hours_entry.minutes == 180


def test_check_in_by_list_with_a_nonce_counts_once(setup, clock):
    event, staff, signup = setup["event"], setup["staff"], setup["plain_signup"]
    clock.set(local(2026, 11, 28, 9, 10))
    first = check_in(event, staff, signup_id=signup.id, nonce="tap-1")
    second = check_in(event, staff, signup_id=signup.id, nonce="tap-1")
    assert not first.replay and second.replay and first.checkin.method == "list"


def test_expired_and_forged_codes_are_refused(setup, clock, app):
    event, staff, signup = setup["event"], setup["staff"], setup["member_signup"]
    clock.set(local(2026, 11, 28, 8, 50))
    code = make_checkin_code(signup)["code"]
    clock.advance(seconds=app.config["EVENT_CHECKIN_CODE_SECONDS"] + 1)
    with pytest.raises(EventError) as info:
        check_in(event, staff, code=code)
    assert info.value.code == "code_expired" and info.value.status == 400
    fresh = make_checkin_code(signup)["code"]
    with pytest.raises(EventError) as info:
        check_in(event, staff, code=fresh[:-2] + ("AA" if not fresh.endswith("AA") else "BB"))
    assert info.value.code == "invalid_code"
    assert db.session.scalars(select(CheckIn)).all() == []


def test_someone_not_signed_up_cannot_check_in(setup, clock):
    event, staff, community = setup["event"], setup["staff"], setup["community"]
    other = make_event(community, title="四点半课堂", kind="class", starts_at=local(2026, 11, 28, 9, 0))
    stranger = factories.resident(community_id=community.id)
    db.session.commit()
    elsewhere = signup_for(other.id, resident=stranger).signup
    clock.set(local(2026, 11, 28, 9, 0))
    with pytest.raises(EventError) as info:
        check_in(event, staff, code=make_checkin_code(elsewhere)["code"])
    assert info.value.code == "wrong_event" and "未报名" in info.value.message
    with pytest.raises(EventError) as info:
        check_in(event, staff, signup_id=elsewhere.id)
    assert info.value.code == "not_signed_up" and info.value.status == 404
    assert db.session.scalars(select(CheckIn)).all() == []


def test_waiting_and_cancelled_people_cannot_check_in(setup, clock):
    event, staff, community = setup["event"], setup["staff"], setup["community"]
    late = factories.resident(community_id=community.id)
    db.session.commit()
    waiting = signup_for(event.id, resident=late, waitlist=True).signup
    with pytest.raises(EventError) as info:
        make_checkin_code(waiting)
    assert info.value.code == "waiting"
    clock.set(local(2026, 11, 28, 9, 0))
    with pytest.raises(EventError) as info:
        check_in(event, staff, signup_id=waiting.id)
    assert info.value.code == "waiting"


def test_check_in_window_and_check_out_before_check_in(setup, clock):
    event, staff, signup = setup["event"], setup["staff"], setup["member_signup"]
    clock.set(local(2026, 11, 28, 6, 59))
    with pytest.raises(EventError) as info:
        check_in(event, staff, signup_id=signup.id)
    assert info.value.code == "too_early"
    clock.set(local(2026, 11, 28, 9, 0))
    with pytest.raises(EventError) as info:
        check_out(event, staff, signup_id=signup.id)
    assert info.value.code == "not_checked_in"
    clock.set(local(2026, 11, 29, 0, 1))
    with pytest.raises(EventError) as info:
        check_in(event, staff, signup_id=signup.id)
    assert info.value.code == "too_late"


def test_check_in_records_are_append_only(setup, clock):
    event, staff, signup = setup["event"], setup["staff"], setup["member_signup"]
    clock.set(local(2026, 11, 28, 9, 0))
    row = check_in(event, staff, signup_id=signup.id).checkin
    from app.models.audit import AppendOnlyError
    row.method = "code"
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    # The database refuses it too (triggers), whatever client writes.
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    with pytest.raises(DBAPIError):
        db.session.execute(text("UPDATE event_checkin SET method = 'code'"))
    db.session.rollback()
    with pytest.raises(DBAPIError):
        db.session.execute(text("DELETE FROM event_checkin"))
    db.session.rollback()
