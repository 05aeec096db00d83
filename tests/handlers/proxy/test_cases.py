"""Cases (限时办理, 公开进度): deadlines in working days, transitions with who and when, overdue alerts."""
from __future__ import annotations

from datetime import timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.handlers.proxy import bookings as b
from app.handlers.proxy import cases, desk, views
from app.handlers.proxy.errors import CaseError
from app.models.alerts import Alert
from app.models.proxy import Case, CaseEvent
from tests import factories as f
from tests.handlers.proxy.support import local, outbound, resident, setup_community

UTC = timezone.utc


def _case(s, r, *, key="zunlaojin", responsible=None):
    return cases.create_case(community_id=s.community.id, item=s.item(key), resident_id=r.id,
                             responsible=responsible or s.duty, actor=s.duty)


def test_the_deadline_counts_working_days_across_a_holiday_and_a_make_up_day(app, clock):
    s = setup_community()
    clock.set(local(2026, 9, 28, 10, 0))  # Monday before National Day
    case = _case(s, resident(s.community))  # 尊老金: 10 working days
    # 29, 30 Sep, (1–7 Oct holiday), 8, 9, 10 (Saturday worked, 调休), 12, 13, 14, 15, 16 Oct.
    assert case.due_at == local(2026, 10, 16, 23, 59).replace(second=59).astimezone(UTC)
    assert case.status == "submitted" and len(case.code) == 6
    (event,) = cases.timeline(case)
    assert event.action == "created" and event.staff_id == s.duty.id and event.to_status == "submitted"


def test_transitions_record_who_and_when_and_refuse_skipping_steps(app, clock):
    s = setup_community()
    case = _case(s, resident(s.community))
    with pytest.raises(CaseError) as exc:
        cases.transition(case, "approved", staff=s.duty)
    assert exc.value.code == "bad_transition" and exc.value.status == 409 and "已转交部门" in exc.value.message
    clock.advance(hours=2)
    cases.transition(case, "forwarded", staff=s.duty, department="区民政局老龄科")
    assert case.forwarded_at == clock() and case.department == "区民政局老龄科"
    with pytest.raises(CaseError) as exc:
        cases.transition(case, "rejected", staff=s.admin)
    assert exc.value.field == "note"
    clock.advance(days=3)
    cases.transition(case, "approved", staff=s.admin, note="符合条件，次月起发放")
    cases.transition(case, "done", staff=s.duty, note="已告知居民")
    with pytest.raises(CaseError):
        cases.transition(case, "forwarded", staff=s.duty)
    with pytest.raises(CaseError) as exc:
        cases.transition(case, "lost", staff=s.duty)
    assert exc.value.field == "status"
    events = cases.timeline(case)
    assert [(e.action, e.from_status, e.to_status, e.staff_id) for e in events] == [
        ("created", None, "submitted", s.duty.id), ("forwarded", "submitted", "forwarded", s.duty.id),
        ("approved", "forwarded", "approved", s.admin.id), ("done", "approved", "done", s.duty.id)]
    assert events[2].note == "符合条件，次月起发放" and case.done_at == clock()


def test_the_station_can_reject_an_ineligible_application_directly(app, clock):
    s = setup_community()
    case = _case(s, resident(s.community))
    cases.transition(case, "rejected", staff=s.duty, note="未满80周岁")
    assert case.status == "rejected" and case.decided_at == clock()
    cases.transition(case, "done", staff=s.duty)


def test_the_resident_is_told_of_the_decision_and_the_result_once(app, clock):
    s = setup_community()
    r = resident(s.community)
    booking = b.book(resident=r, item=s.item(), station=s.station, slot_start=local(2026, 11, 17, 10, 0),
                     idempotency_key="k").booking
    case = desk.complete(booking, staff=s.duty)
    cases.transition(case, "forwarded", staff=s.duty)
    assert outbound(resident_id=r.id) == []  # forwarding is internal
    cases.transition(case, "approved", staff=s.duty)
    cases.notify_resident(case)  # a second attempt queues nothing new
    cases.transition(case, "done", staff=s.duty)
    sent = outbound(resident_id=r.id)
    assert [m.dedupe_key for m in sent] == [f"proxy:case:{case.id}:approved", f"proxy:case:{case.id}:done"]
    openid = r.identities[0].value
    assert {(m.channel, m.recipient_id) for m in sent} == {("mp", openid)}
    assert "已审批通过" in sent[0].text and "已办结" in sent[1].text and case.code in sent[1].text


def test_reassigning_names_a_new_responsible_person(app, clock):
    s = setup_community()
    case = _case(s, resident(s.community))
    cases.assign(case, s.admin, staff=s.duty, note="休假交接")
    assert case.responsible_staff_id == s.admin.id
    assert cases.timeline(case)[-1].detail == {"from_staff_id": s.duty.id, "to_staff_id": s.admin.id}
    with pytest.raises(CaseError) as exc:
        cases.assign(case, f.staff(roles=("duty",)), staff=s.duty)
    assert exc.value.code == "wrong_community"
    street = f.staff(roles=("street_admin",), community=s.community)
    with pytest.raises(CaseError) as exc:
        cases.assign(case, street, staff=s.duty)
    assert exc.value.code == "wrong_role"


def test_case_events_are_append_only_in_the_database(app, clock):
    s = setup_community()
    case = _case(s, resident(s.community))
    event_id = cases.timeline(case)[0].id
    with pytest.raises(DBAPIError):
        db.session.execute(text("UPDATE proxy_case_event SET note = 'x' WHERE id = :id"), {"id": event_id})
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DBAPIError):
        db.session.execute(text("DELETE FROM proxy_case_event WHERE id = :id"), {"id": event_id})
    db.session.rollback()
    assert db.session.get(CaseEvent, event_id) is not None


def test_overdue_cases_raise_one_supervision_alert_each(app, clock):
    s = setup_community()
    late = _case(s, resident(s.community, name="张三华"))
    ok = _case(s, resident(s.community, name="李四"), key="dibao")  # 30 working days
    finished = _case(s, resident(s.community, name="王五"), key="shengyu_dengji")  # 3 working days
    for status in ("forwarded", "approved", "done"):
        cases.transition(finished, status, staff=s.duty)
    assert cases.sweep_overdue() == 0
    clock.set(local(2026, 12, 2, 9, 0))  # after 1 Dec, 尊老金's deadline
    assert cases.sweep_overdue() == 1
    assert cases.sweep_overdue() == 0  # never twice
    (alert,) = db.session.scalars(select(Alert)).all()
    assert alert.key == f"case:{late.id}:overdue" and alert.kind == "overdue"
    assert "张*华" in alert.text and "张三华" not in alert.text and "12月1日" in alert.text and "李建国" in alert.text
    assert {r.staff_id for r in alert.recipients} == {s.duty.id, s.admin.id}
    assert cases.timeline(late)[-1].action == "overdue" and late.overdue_alerted_at == clock()
    assert cases.is_overdue(late) and not cases.is_overdue(ok) and not cases.is_overdue(finished)


def test_public_view_masks_the_resident_and_shows_the_named_staff(app, clock):
    s = setup_community()
    case = _case(s, resident(s.community, name="张三华"))
    cases.transition(case, "forwarded", staff=s.duty, note="内部备注：电话13812345678")
    view = views.public_view(case)
    assert view["resident"] == "张*华" and view["responsible"] == "李建国"
    assert view["status_label"] == "已转交部门" and view["due_date"] == "2026-12-01"
    assert [step["action"] for step in view["steps"]] == ["created", "forwarded"]
    flat = repr(view)
    assert "13812345678" not in flat and "张三华" not in flat and "内部备注" not in flat
    assert db.session.scalars(select(Case)).one().id == case.id
