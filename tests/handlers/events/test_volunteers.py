"""双报到: the member registry, hours of both kinds, each member's year, the report and its export,
and micro-wishes."""
from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.handlers.events.checkin import check_in, check_out
from app.handlers.events.errors import EventError
from app.handlers.events.hours import member_year, record_admin_hours
from app.handlers.events.report import community_report, export_xlsx
from app.handlers.events.signups import signup_for
from app.handlers.events.volunteers import register_member
from app.handlers.events.wishes import cancel_wish, claim_wish, fulfil_wish, post_wish
from app.models.audit import AppendOnlyError
from app.models.volunteers import HoursEntry, MemberProject, MicroWish, PartyMember, VolunteerProject
from tests import factories
from tests.handlers.events.support import local, make_event, outbound


@pytest.fixture
def world(app, clock):
    community = factories.community(name="富强新村社区")
    admin = factories.staff(community=community, roles=("community_admin",), name="王秀英")
    door = factories.staff(community=community, roles=("grid_worker",), name="孙婷")
    projects = {name: VolunteerProject(community_id=community.id, name=name) for name in ("环境整治", "四点半课堂")}
    db.session.add_all(projects.values())
    resident = factories.resident(community_id=community.id, name="周晓燕",
                                  identities=[("mp", "openid", "openid-zxy")])
    db.session.commit()
    member, created = register_member(community.id, {
        "name": "周晓燕", "phone": "139 0000 1003", "work_unit": "天宁区实验小学", "party_org": "实验小学党总支",
        "project_ids": [projects["四点半课堂"].id]}, resident=resident)
    assert created
    return {"community": community, "admin": admin, "door": door, "projects": projects, "resident": resident,
            "member": member}


# ---- registry -------------------------------------------------------------------------------

def test_registration_normalises_and_links_the_resident(world):
    member = world["member"]
    assert (member.phone, member.kind, member.resident_id) == ("13900001003", "party", world["resident"].id)
    chosen = db.session.scalars(select(MemberProject)).all()
    assert [(c.project_id, c.year) for c in chosen] == [(world["projects"]["四点半课堂"].id, 2026)]
    # Registering again updates the same registration.
    again, created = register_member(world["community"].id, {
        "name": "周晓燕", "work_unit": "天宁区实验小学（教务处）", "party_org": "实验小学党总支"},
        resident=world["resident"])
    assert not created and again.id == member.id and again.work_unit == "天宁区实验小学（教务处）"


@pytest.mark.parametrize("data, field", [
    ({"name": "张三", "party_org": "某支部"}, "work_unit"),
    ({"name": "张三", "work_unit": "某单位"}, "party_org"),
    ({"work_unit": "某单位", "party_org": "某支部"}, "name"),
    ({"name": "张三", "work_unit": "某单位", "party_org": "某支部", "phone": "12345"}, "phone"),
    ({"name": "张三", "work_unit": "某单位", "party_org": "某支部", "kind": "boss"}, "kind"),
    ({"name": "张三", "work_unit": "某单位", "party_org": "某支部", "project_ids": [999]}, "project_ids"),
])
def test_registration_refuses_bad_input(world, data, field):
    with pytest.raises(EventError) as info:
        register_member(world["community"].id, data, staff=world["admin"])
    assert info.value.field == field
    assert db.session.scalars(select(PartyMember)).all() == [world["member"]]


def test_volunteers_need_no_work_unit_and_phones_are_unique(world):
    volunteer, _ = register_member(world["community"].id, {"name": "吴建平", "kind": "volunteer",
                                                           "phone": "13900001004"}, staff=world["admin"])
    assert volunteer.kind == "volunteer"
    with pytest.raises(EventError) as info:
        register_member(world["community"].id, {"name": "冒名", "kind": "volunteer", "phone": "13900001004"},
                        staff=world["admin"])
    assert info.value.code == "duplicate_phone"


# ---- hours ----------------------------------------------------------------------------------

def _attend(world, clock, *, minutes_served: int) -> None:
    event = make_event(world["community"], title="楼道环境整治", kind="volunteer", volunteer_minutes=180,
                       starts_at=local(2026, 11, 21, 9, 0), duration=timedelta(hours=3),
                       project_id=world["projects"]["环境整治"].id)
    signup = signup_for(event.id, resident=world["resident"]).signup
    clock.set(local(2026, 11, 21, 9, 0))
    check_in(event, world["door"], signup_id=signup.id)
    clock.advance(minutes=minutes_served)
    check_out(event, world["door"], signup_id=signup.id)


def test_member_year_counts_both_kinds_against_the_target(world, clock):
    _attend(world, clock, minutes_served=170)  # 2.5 h of check-in hours (rounded down)
    record_admin_hours(world["member"], world["admin"], {"hours": 20, "served_on": "2026-06-01",
                                                         "note": "暑期四点半课堂"})
    year = member_year(world["member"], 2026)
    assert (year["hours_checkin"], year["hours_admin"], year["hours"]) == (2.5, 20.0, 22.5)
    assert year["target_hours"] == 24 and year["hours_remaining"] == 1.5
    assert year["met_hours"] is False and year["met_target"] is False and year["met_projects"] is True
    names = {p["name"]: p for p in year["projects"]}
    assert names["四点半课堂"]["chosen"] and not names["四点半课堂"]["served"]
    assert names["环境整治"]["served"] and not names["环境整治"]["chosen"]
    assert [e["title"] for e in year["events_attended"]] == ["楼道环境整治"]
    kinds = {e["kind"]: e for e in year["entries"]}
    assert kinds["checkin"]["recorded_by"]["name"] == "孙婷"
    assert kinds["admin"]["recorded_by"]["name"] == "王秀英"
    record_admin_hours(world["member"], world["admin"], {"hours": 1.5, "note": "整理台账"})
    assert member_year(world["member"], 2026)["met_target"] is True
    assert member_year(world["member"], 2025)["hours"] == 0


@pytest.mark.parametrize("data, field", [
    ({}, "hours"), ({"hours": 0}, "hours"), ({"hours": 25}, "hours"), ({"hours": "3"}, "hours"),
    ({"hours": -1}, "note"), ({"hours": 2, "served_on": "2026-12-01"}, "served_on"),
    ({"hours": 2, "served_on": "01/06/2026"}, "served_on"), ({"hours": 2, "event_id": 999}, "event_id"),
])
def test_admin_hours_refuse_bad_input(world, data, field):
    with pytest.raises(EventError) as info:
        record_admin_hours(world["member"], world["admin"], data)
    assert info.value.field == field
    assert db.session.scalars(select(HoursEntry)).all() == []


def test_corrections_are_new_entries_and_cannot_go_below_zero(world):
    entry = record_admin_hours(world["member"], world["admin"], {"hours": 3, "note": "环境整治"})
    with pytest.raises(EventError) as info:
        record_admin_hours(world["member"], world["admin"], {"hours": -4, "note": "录错了"})
    assert info.value.code == "negative_total"
    record_admin_hours(world["member"], world["admin"], {"hours": -1, "note": "多录了1小时"})
    assert member_year(world["member"])["hours"] == 2
    entry.minutes = 10
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()


# ---- report and export ----------------------------------------------------------------------

def test_report_and_xlsx_export(world, clock, tmp_path):
    _attend(world, clock, minutes_served=185)
    register_member(world["community"].id, {"name": "沈立新", "phone": "13900002001", "work_unit": "人民医院",
                                            "party_org": "医院党委"}, staff=world["admin"])
    register_member(world["community"].id, {"name": "吴建平", "kind": "volunteer"}, staff=world["admin"])
    record_admin_hours(world["member"], world["admin"], {"hours": 21, "served_on": "2026-07-01", "note": "暑托"})
    report = community_report(world["community"], 2026)
    assert (report["party_members"], report["volunteers"], report["party_members_met_target"]) == (2, 1, 1)
    assert (report["hours"], report["hours_checkin"], report["hours_admin"]) == (24.0, 3.0, 21.0)
    assert report["events"] == 1 and report["events_held"] == 1 and report["attendances"] == 1
    rows = {r["name"]: r for r in report["members"]}
    assert rows["周晓燕"]["met_target"] is True and rows["沈立新"]["met_target"] is False
    assert rows["吴建平"]["met_target"] is None

    path = tmp_path / "report.xlsx"
    export_xlsx(world["community"], 2026, str(path))
    book = load_workbook(path)
    assert book.sheetnames == ["汇总", "党员时长", "时长明细", "活动"]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(values_only=True)}
    assert summary["社区"] == "富强新村社区" and summary["达标党员人数"] == 1 and summary["总时长（小时）"] == 24
    members = list(book["党员时长"].iter_rows(values_only=True))
    assert members[0][:3] == ("编号", "姓名", "类型")
    zhou = next(r for r in members if r[1] == "周晓燕")
    assert zhou[2] == "在职党员" and zhou[6] == 3 and zhou[7] == 21 and zhou[8] == 24 and zhou[10] == "是"
    assert "环境整治" in zhou[9] and "四点半课堂" in zhou[9]
    entries = list(book["时长明细"].iter_rows(values_only=True))[1:]
    assert sorted((e[3], e[4], e[6]) for e in entries) == [("签到签退", 3, "孙婷"), ("管理员录入", 21, "王秀英")]
    events = list(book["活动"].iter_rows(values_only=True))
    assert events[1][1] == "楼道环境整治" and events[1][6] == 1
    # In memory too (the API streams these bytes).
    assert load_workbook(io.BytesIO(export_xlsx(world["community"], 2026))).sheetnames[0] == "汇总"


# ---- micro-wishes ---------------------------------------------------------------------------

def test_micro_wish_claimed_once_and_fulfilled(world, app):
    community = world["community"]
    wisher = factories.resident(community_id=community.id, name="蒋秀兰",
                                identities=[("miniprogram", "openid", "openid-jxl")])
    helpers = []
    for n in range(4):
        resident = factories.resident(community_id=community.id, name=f"党员{n}")
        helpers.append(PartyMember(community_id=community.id, resident_id=resident.id, kind="party",
                                   name=f"党员{n}", work_unit="单位", party_org="支部"))
    db.session.add_all(helpers)
    db.session.commit()
    wish = post_wish(wisher, {"title": "想要一副老花镜", "detail": "300度"})
    helper_ids = [h.id for h in helpers]
    results: list = [None] * 4
    barrier = threading.Barrier(4)

    def claim(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = claim_wish(wish.id, db.session.get(PartyMember, helper_ids[index]))
            except Exception as exc:  # noqa: BLE001
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(4)]
    [t.start() for t in threads]
    [t.join(timeout=60) for t in threads]
    winners = [r for r in results if isinstance(r, MicroWish)]
    losers = [r for r in results if isinstance(r, EventError)]
    assert len(winners) == 1 and len(losers) == 3 and {e.code for e in losers} == {"already_claimed"}
    db.session.expire_all()
    claimed = db.session.get(MicroWish, wish.id)
    assert claimed.status == "claimed"
    claimer = db.session.get(PartyMember, claimed.member_id)
    other = next(h for h in helpers if h.id != claimer.id)
    with pytest.raises(EventError) as info:
        fulfil_wish(wish.id, member=db.session.get(PartyMember, other.id))
    assert info.value.code == "not_claimer"
    done = fulfil_wish(wish.id, member=claimer, note="已送到家")
    assert done.status == "fulfilled" and done.fulfil_note == "已送到家"
    texts = [m.text for m in outbound(resident_id=wisher.id)]
    assert len(texts) == 2 and "认领" in texts[0] and "实现" in texts[1]
    assert all(m.channel == "miniprogram" for m in outbound(resident_id=wisher.id))


def test_wish_rules(world):
    resident = world["resident"]
    with pytest.raises(EventError) as info:
        post_wish(resident, {"title": " "})
    assert info.value.field == "title"
    wish = post_wish(resident, {"title": "修自行车"})
    with pytest.raises(EventError) as info:
        claim_wish(wish.id, world["member"])  # the member is the wisher
    assert info.value.code == "own_wish"
    assert cancel_wish(wish.id, resident).status == "cancelled"
    for n in range(3):
        post_wish(resident, {"title": f"心愿{n}"})
    with pytest.raises(EventError) as info:
        post_wish(resident, {"title": "第四个"})
    assert info.value.code == "too_many"
    stranger = factories.resident(community_id=None)
    db.session.commit()
    with pytest.raises(EventError) as info:
        post_wish(stranger, {"title": "x"})
    assert info.value.code == "no_community"
