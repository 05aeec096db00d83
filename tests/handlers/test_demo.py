"""`linli seed-demo`: the demo community, its roster, and idempotence."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.handlers import demo
from app.handlers.demo import seed_demo
from app.models import (
    AuditLog,
    Building,
    Community,
    Department,
    DutyShift,
    Grid,
    Resident,
    ResidentGroup,
    Staff,
    Street,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
MODELS = (Street, Community, Grid, Building, Department, Staff, ResidentGroup, DutyShift, Resident)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_demo_builds_a_realistic_community(app, clock):
    summary = seed_demo()
    community = db.session.get(Community, summary.community_id)
    assert community.name == "富强新村社区"
    grids = db.session.scalars(select(Grid).where(Grid.community_id == community.id)).all()
    assert len(grids) == 4
    buildings = db.session.scalars(select(Building).where(Building.community_id == community.id)).all()
    assert 30 <= len(buildings) <= 40
    assert all(b.grid_id is not None for b in buildings)
    assert {len([b for b in buildings if b.grid_id == g.id]) for g in grids} == {9}

    staff = db.session.scalars(select(Staff)).all()
    for grid in grids:
        members = [s for s in staff if s.grid_id == grid.id]
        workers = [s for s in members if s.has_role("grid_worker")]
        assert len(workers) == 2, grid.name  # one full-time, one party-member part-time
        assert {w.title for w in workers} == {"专职网格员", "党员兼职网格员"}
        assert len([s for s in members if s.has_role("grid_leader")]) == 1
    admins = [s for s in staff if s.has_role("community_admin")]
    assert {a.title for a in admins} == {"党总支书记", "居委会主任"}
    assert len([s for s in staff if s.has_role("duty")]) >= 5
    street_admin = next(s for s in staff if s.has_role("street_admin"))
    assert street_admin.street_id == community.street_id and street_admin.community_id is None
    departments = db.session.scalars(select(Department)).all()
    assert len(departments) == 3
    for department in departments:
        assert any(s.department_id == department.id and s.has_role("department") for s in staff)
    assert all(s.wework_userid and s.phone for s in staff)

    groups = db.session.scalars(select(ResidentGroup).where(ResidentGroup.community_id == community.id)).all()
    resident_groups = [g for g in groups if g.kind == "resident"]
    assert {g.grid_id for g in resident_groups} == {g.id for g in grids}
    assert all(g.channel == "group" for g in groups)
    assert len([g for g in groups if g.kind == "duty"]) == 1

    residents = db.session.scalars(select(Resident)).all()
    assert len(residents) >= 3
    assert all(r.community_id == community.id and r.building_id and r.identities for r in residents)
    assert summary.admin_id == next(s.id for s in admins if s.title == "党总支书记")


def test_the_roster_covers_every_minute_from_two_days_ago_for_fourteen_days(app, clock):
    summary = seed_demo()
    shifts = db.session.scalars(select(DutyShift).where(DutyShift.community_id == summary.community_id)
                                .order_by(DutyShift.starts_at)).all()
    today = clock().astimezone(SHANGHAI).date()
    first = datetime.combine(today - timedelta(days=2), datetime.min.time(), tzinfo=SHANGHAI)
    last = datetime.combine(today + timedelta(days=14), datetime.min.time(), tzinfo=SHANGHAI)
    leads = [s for s in shifts if s.is_lead]
    members = [s for s in shifts if not s.is_lead]
    for series in (leads, members):
        assert series[0].starts_at == first
        assert series[-1].ends_at == last
        for before, after in zip(series, series[1:], strict=False):
            assert before.ends_at == after.starts_at  # contiguous at midnight: no gap, no overlap
        for shift in series:
            local = shift.starts_at.astimezone(SHANGHAI)
            assert (local.hour, local.minute) == (0, 0)
            assert shift.ends_at - shift.starts_at == timedelta(hours=24)
    assert len(leads) == len(members) == 16
    # The rotation really rotates: several people, and the lead is a community admin.
    assert len({s.staff_id for s in members}) == 4
    assert all(s.staff.has_role("community_admin") for s in leads)
    assert all(s.staff.has_role("duty") for s in shifts)
    now_ = clock()
    on_duty = [s for s in shifts if s.starts_at <= now_ < s.ends_at]
    assert sorted(s.is_lead for s in on_duty) == [False, True]
    # 23:59:59 and 00:00 local belong to consecutive shifts.
    midnight = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI)
    just_before = [s for s in members if s.starts_at <= midnight - timedelta(seconds=1) < s.ends_at]
    at_midnight = [s for s in members if s.starts_at <= midnight < s.ends_at]
    assert len(just_before) == len(at_midnight) == 1 and just_before[0].id != at_midnight[0].id


def test_seeding_twice_does_not_duplicate(app, clock):
    seed_demo()
    sizes = {model: count(model) for model in MODELS}
    again = seed_demo()
    assert {model: count(model) for model in MODELS} == sizes
    assert all(bucket["created"] == 0 for bucket in again.counts.values()), again.counts
    assert again.counts["buildings"]["existing"] == sizes[Building]
    assert any("已存在" in line for line in again.lines())
    assert len(db.session.scalars(select(AuditLog).where(AuditLog.action == "demo.seeded")).all()) == 2


def test_seeding_again_repairs_changed_demo_rows_but_keeps_a_swapped_shift(app, clock):
    summary = seed_demo()
    building = db.session.scalars(select(Building).where(Building.number == "5")).one()
    building.floors = 99
    today_shift = db.session.scalars(select(DutyShift).where(
        DutyShift.starts_at <= clock(), DutyShift.ends_at > clock(), DutyShift.is_lead.is_(False))).one()
    substitute = db.session.scalars(select(Staff).where(Staff.name == "孙婷")).one()
    today_shift.staff_id = substitute.id  # a swap (换班) made by the admin
    db.session.commit()

    again = seed_demo()
    db.session.expire_all()
    assert db.session.get(Building, building.id).floors == 6
    assert again.counts["buildings"]["updated"] == 1
    assert db.session.get(DutyShift, today_shift.id).staff_id == substitute.id
    assert again.community_id == summary.community_id


def test_seeding_a_day_later_extends_the_roster(app, clock):
    seed_demo()
    before = count(DutyShift)
    clock.advance(days=1)
    again = seed_demo()
    assert count(DutyShift) == before + 2
    assert again.counts["shifts"]["created"] == 2


_CALLS: list = []


def record_extra(community):
    _CALLS.append(community.id)
    return ["extra: 代办站 1 个"]


def test_demo_extras_are_called_with_the_community(app, clock, monkeypatch):
    _CALLS.clear()
    monkeypatch.setattr(demo, "DEMO_EXTRAS", (record_extra,))
    summary = seed_demo()
    assert _CALLS == [summary.community_id]
    assert "  extra: 代办站 1 个" in summary.lines()


def failing_extra(community):
    raise RuntimeError("broken extra")


def test_a_failing_extra_leaves_nothing_half_written(app, clock, monkeypatch):
    monkeypatch.setattr(demo, "DEMO_EXTRAS", (failing_extra,))
    with pytest.raises(RuntimeError):
        seed_demo()
    db.session.expire_all()
    assert count(Community) == 0 and count(DutyShift) == 0


def test_demo_clashing_with_imported_data_is_a_clear_error(app, clock):
    from tests import factories

    # Someone else (another phone number) already holds a demo WeCom account id.
    factories.staff(name="别人", wework_userid="zhangli", phone="13700000000",
                    community=factories.community(name="别的社区"))
    db.session.commit()
    with pytest.raises(demo.DemoError, match="zhangli"):
        seed_demo()
    db.session.expire_all()
    assert db.session.scalars(select(Community.name)).all() == ["别的社区"]
