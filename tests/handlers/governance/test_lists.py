"""The three lists end to end: a unit registers resources, a recurring need from the requests is claimed
by a unit and a 双报到 member, becomes a project with progress, and the hours count — in the project, in the
member's 双报到 hours and in the street office's workbook."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.errors import DomainError
from app.extensions import db
from app.handlers.governance import (
    claims,
    contributions,
    export,
    hotspots,
    needs,
    projects,
    report,
    resources,
    units,
)
from app.models import Contribution, HoursEntry, MicroWish, ProjectUpdate
from app.models.audit import AppendOnlyError
from tests.handlers.governance.support import make_request, member, world


@pytest.fixture
def w(app, clock):
    return world()


def test_a_unit_registers_resources_with_when_and_how_much(w):
    clinic = units.register_unit(w.community.id, {
        "name": "红梅街道社区卫生服务中心", "kind": "hospital", "contact_name": "钱医生", "phone": "0519-86609120",
        "lat": 31.7805, "lng": 119.9702}, w.admin)
    room = resources.register_resource(w.community.id, {
        "unit_id": clinic.id, "kind": "skill", "title": "每周二义诊（量血压、测血糖）", "tags": "义诊,量血压,慢病",
        "quantity": 40, "quantity_unit": "小时", "weekdays": [2], "time_from": "08:30", "time_until": "11:00",
        "available_from": "2026-01-01", "available_until": "2026-12-31"}, w.admin)
    view = resources.resource_view(room)
    assert view["owner"] == {"type": "unit", "unit_id": clinic.id, "name": "红梅街道社区卫生服务中心",
                             "kind_label": "医疗卫生"}
    assert view["when"] == "每周二 08:30–11:00（2026-01-01至2026-12-31）"
    assert (view["remaining"], view["tags"]) == (40.0, ["义诊", "量血压", "慢病"])
    assert [r.id for r in resources.resources(w.community.id, unit_id=clinic.id)] == [room.id]


@pytest.mark.parametrize("body, field, words", [
    ({"kind": "skill", "title": "x"}, "unit_id", "单位"),
    ({"unit_id": 1, "member_id": 1, "kind": "skill", "title": "x"}, "unit_id", "其中一个"),
    ({"unit_id": 99999, "kind": "skill", "title": "x"}, "unit_id", "没有找到"),
    ({"unit_id": "U", "kind": "skill", "title": "x"}, "unit_id", "编号"),
])
def test_a_resource_needs_exactly_one_known_owner(w, body, field, words):
    with pytest.raises(DomainError) as caught:
        resources.register_resource(w.community.id, body, w.admin)
    assert caught.value.field == field and words in caught.value.message


def test_bad_resource_fields_are_named_in_chinese(w):
    unit = units.register_unit(w.community.id, {"name": "XX小学", "kind": "school"}, w.admin)
    cases = [({"kind": "spaceship"}, "kind", "资源类型取值无效"), ({"quantity": -3}, "quantity", "大于0"),
             ({"time_from": "25:00"}, "time_from", "HH:MM"), ({"weekdays": [0, 8]}, "weekdays", "星期"),
             ({"time_from": "10:00", "time_until": "09:00"}, "time_until", "晚于"),
             ({"available_from": "2026-05-01", "available_until": "2026-04-01"}, "available_until", "不能早于"),
             ({"titel": "typo"}, "titel", "不认识的字段")]
    for extra, field, words in cases:
        body = {"unit_id": unit.id, "kind": "room", "title": "教室", **extra}
        with pytest.raises(DomainError) as caught:
            resources.register_resource(w.community.id, body, w.admin)
        assert caught.value.field == field and words in caught.value.message, extra
    assert resources.resources(w.community.id) == []


def test_a_recurring_need_promoted_from_requests_is_claimed_and_becomes_a_project_with_counted_hours(w):
    # The same problem in building 2, again and again: a hot spot.
    for days in (40, 20, 3):
        make_request(w, w.buildings["2"], "environment", f"2号楼楼道堆物{days}", days)
    make_request(w, w.buildings["1"], "environment", "1号楼一次", 2)
    spots = hotspots.hotspots(w.community.id)
    assert len(spots) == 1 and spots[0].view()["count"] == 3 and spots[0].building_id == w.buildings["2"].id
    need = needs.promote_requests(w.community.id, spots[0].request_ids,
                                  {"kind": "hours", "tags": ["楼道", "清理"], "quantity": 12, "quantity_unit": "小时",
                                   "weekdays": [6], "beneficiaries": 60}, w.duty)
    assert need.source == "requests" and need.request_ids == spots[0].request_ids
    assert need.building_id == w.buildings["2"].id and "2号楼环境卫生问题" in need.title
    with pytest.raises(DomainError, match="已经汇总"):
        needs.promote_requests(w.community.id, spots[0].request_ids[:1], {}, w.duty)

    school = units.register_unit(w.community.id, {"name": "富强小学", "kind": "school", "lat": 31.7817,
                                                  "lng": 119.9700}, w.admin)
    offer = resources.register_resource(w.community.id, {
        "unit_id": school.id, "kind": "hours", "title": "教师志愿服务队楼道清理", "tags": ["清理", "楼道"],
        "quantity": 30, "weekdays": [6, 7]}, w.admin)
    yan = member(w, w.residents[2])

    # 双向认领: the community assigns the school's offer; the member claims herself.
    school_claim, created = claims.assign_resource(need, {"resource_id": offer.id}, w.duty)
    assert created and school_claim.direction == "assigned" and school_claim.unit_id == school.id
    again, created = claims.assign_resource(need, {"resource_id": offer.id}, w.duty)
    assert again.id == school_claim.id and not created           # a replay, not a second partner
    yan_claim, _ = claims.claim_need(need, {}, None, member=yan)
    assert need.status == "claimed" and yan_claim.member_id == yan.id

    project = projects.start_project(need, {"owner_staff_id": w.duty.id, "plan": "每周六上午清理一次",
                                            "deadline": "2026-12-31"}, w.duty)
    assert project.code == "GJ2026-001" and project.lead_unit_id == school.id and need.status == "in_project"
    projects.report_progress(project, {"progress": 40, "note": "清理了两个单元"}, w.duty)
    contributions.record_contribution(project, {"unit_id": school.id, "kind": "hours", "quantity": 6,
                                                "resource_id": offer.id}, w.duty)
    entry = contributions.record_contribution(project, {"member_id": yan.id, "kind": "hours", "quantity": 2.5,
                                                        "note": "周六上午"}, w.duty)
    contributions.record_contribution(project, {"unit_id": school.id, "kind": "items", "quantity": 20,
                                                "quantity_unit": "个", "note": "垃圾袋"}, w.duty)

    # The member's hours count for 双报到 too, recorded by the same staff member.
    hours = db.session.get(HoursEntry, entry.hours_entry_id)
    assert (hours.member_id, hours.minutes, hours.kind, hours.recorded_by_staff_id) == (yan.id, 150, "admin", w.duty.id)
    assert "GJ2026-001" in hours.note
    assert resources.remaining(offer) == 24.0

    projects.complete_project(project, {"summary": "四个单元楼道清理完毕", "beneficiaries": 72}, w.duty)
    view = projects.project_view(project, detail=True)
    assert (view["status"], view["progress"], view["hours"]) == ("done", 100, 8.5)
    assert [u["kind"] for u in view["timeline"]] == ["created", "progress", "done"]
    assert {(c["party"]["name"], c["kind"], c["quantity"]) for c in view["contributions"]} == {
        ("富强小学", "hours", 6.0), ("周晓燕", "hours", 2.5), ("富强小学", "items", 20.0)}
    assert db.session.get(type(need), need.id).status == "done"

    data = report.community_report(w.community, 2026)
    school_row = next(u for u in data["units"] if u["name"] == "富强小学")
    assert (school_row["needs_claimed"], school_row["projects"], school_row["hours"]) == (1, 1, 6.0)
    assert school_row["other"] == "物资20个"
    yan_row = next(m for m in data["members"] if m["name"] == "周晓燕")
    assert (yan_row["project_hours"], yan_row["volunteer_hours"]) == (2.5, 2.5)
    assert data["summary"]["projects_done"] == 1 and data["summary"]["hours"] == 8.5
    assert data["summary"]["beneficiaries"] == 72

    book = load_workbook(io.BytesIO(export.export_xlsx(w.community, 2026, w.admin)))
    assert book.sheetnames == ["汇总表", "共建单位", "在职党员", "项目清单", "需求清单", "资源清单", "议事记录"]
    units_sheet = book["共建单位"]
    assert "驻区单位参与社区共建情况统计表" in units_sheet["A1"].value and "填报单位" in units_sheet["A2"].value
    assert [c.value for c in units_sheet[3]][:3] == ["序号", "单位名称", "单位类型"]
    assert [c.value for c in units_sheet[4]][:3] == [1, "富强小学", "学校"]
    assert units_sheet.cell(5, 1).value == "合计" and units_sheet.cell(5, 9).value == 6.0
    project_sheet = book["项目清单"]
    assert project_sheet.cell(4, 2).value == "GJ2026-001" and project_sheet.cell(4, 11).value == 8.5


def test_contributions_are_append_only_and_corrected_by_negative_entries(w):
    unit = units.register_unit(w.community.id, {"name": "物业公司", "kind": "property"}, w.admin)
    need = needs.create_need(w.community.id, {"kind": "goods", "title": "楼道灭火器"}, w.admin)
    claims.claim_need(need, {"unit_id": unit.id}, w.admin)
    project = projects.start_project(need, {"owner_staff_id": w.admin.id}, w.admin)
    entry = contributions.record_contribution(project, {"unit_id": unit.id, "kind": "items", "quantity": 10}, w.admin)
    with pytest.raises(DomainError, match="请填写备注"):
        contributions.record_contribution(project, {"unit_id": unit.id, "kind": "items", "quantity": -2}, w.admin)
    with pytest.raises(DomainError, match="不能为负"):
        contributions.record_contribution(project, {"unit_id": unit.id, "kind": "items", "quantity": -12,
                                                    "note": "录错"}, w.admin)
    contributions.record_contribution(project, {"unit_id": unit.id, "kind": "items", "quantity": -2, "note": "录多了"},
                                      w.admin)
    assert projects.totals(project.id)[0]["quantity"] == 8.0
    entry.quantity = 99
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalars(select(Contribution.quantity).order_by(Contribution.id)).all() == [10.0, -2.0]


def test_only_partners_contribute_and_a_need_without_partners_cannot_start(w):
    unit = units.register_unit(w.community.id, {"name": "供电所", "kind": "government"}, w.admin)
    stranger = units.register_unit(w.community.id, {"name": "某公司", "kind": "company"}, w.admin)
    need = needs.create_need(w.community.id, {"kind": "skill", "title": "老旧电线排查"}, w.admin)
    with pytest.raises(DomainError) as caught:
        projects.start_project(need, {"owner_staff_id": w.admin.id}, w.admin)
    assert caught.value.code == "no_partner"
    claims.claim_need(need, {"unit_id": unit.id}, w.admin)
    with pytest.raises(DomainError) as caught:
        projects.start_project(need, {}, w.admin)
    assert caught.value.field == "owner_staff_id"
    with pytest.raises(DomainError) as caught:
        projects.start_project(need, {"owner_staff_id": w.other_admin.id}, w.admin)
    assert caught.value.field == "owner_staff_id" and caught.value.status == 404
    project = projects.start_project(need, {"owner_staff_id": w.admin.id}, w.admin)
    with pytest.raises(DomainError) as caught:
        contributions.record_contribution(project, {"unit_id": stranger.id, "kind": "hours", "quantity": 2}, w.admin)
    assert caught.value.code == "not_partner" and "供电所" in caught.value.message
    with pytest.raises(DomainError, match="已经立项"):
        projects.start_project(need, {"owner_staff_id": w.admin.id}, w.admin)
    with pytest.raises(DomainError, match="不能超过24小时"):
        contributions.record_contribution(project, {"unit_id": unit.id, "kind": "hours", "quantity": 30}, w.admin)
    with pytest.raises(DomainError, match="将来"):
        contributions.record_contribution(project, {"unit_id": unit.id, "kind": "hours", "quantity": 2,
                                                    "served_on": "2030-01-01"}, w.admin)


def test_a_withdrawn_claim_reopens_the_need_and_claiming_again_reactivates_it(w):
    yan = member(w, w.residents[2])
    need = needs.create_need(w.community.id, {"kind": "skill", "title": "辅导孩子作业"}, w.admin)
    claim, _ = claims.claim_need(need, {}, None, member=yan)
    claims.withdraw_claim(claim, "临时出差", None, resident_id=yan.resident_id)
    assert need.status == "open" and claim.status == "withdrawn"
    again, created = claims.claim_need(need, {"note": "回来了"}, None, member=yan)
    assert again.id == claim.id and created and again.status == "active" and need.status == "claimed"
    needs.close_need(needs.create_need(w.community.id, {"kind": "room", "title": "借场地"}, w.admin), "已解决", w.admin)
    closed = needs.needs(w.community.id, status=["closed"])[0]
    with pytest.raises(DomainError, match="不能再认领"):
        claims.claim_need(closed, {}, None, member=yan)


def test_a_micro_wish_becomes_a_need_once(w):
    wish = MicroWish(community_id=w.community.id, resident_id=w.residents[0].id, title="家门口装个扶手",
                     detail="腿脚不便，上下台阶困难")
    db.session.add(wish)
    db.session.commit()
    need = needs.promote_wish(w.community.id, wish.id, {"kind": "goods"}, w.admin)
    assert (need.source, need.wish_id, need.title, need.building_id) == ("wish", wish.id, "家门口装个扶手",
                                                                         w.buildings["1"].id)
    with pytest.raises(DomainError, match="已经在需求清单"):
        needs.promote_wish(w.community.id, wish.id, {}, w.admin)
    public = needs.public_need_view(need)
    assert "wish_id" not in public and "request_ids" not in public


def test_progress_updates_are_append_only(w):
    unit = units.register_unit(w.community.id, {"name": "XX物业", "kind": "property"}, w.admin)
    need = needs.create_need(w.community.id, {"kind": "skill", "title": "修理健身器材"}, w.admin)
    claims.claim_need(need, {"unit_id": unit.id}, w.admin)
    project = projects.start_project(need, {"owner_staff_id": w.admin.id}, w.admin)
    update = db.session.scalars(select(ProjectUpdate)).one()
    db.session.delete(update)
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DomainError) as caught:
        projects.report_progress(project, {"progress": 120, "note": "x"}, w.admin)
    assert caught.value.field == "progress"
    projects.cancel_project(project, "单位撤出", w.admin)
    assert need.status == "claimed"
    with pytest.raises(DomainError, match="已取消"):
        projects.report_progress(project, {"progress": 50, "note": "x"}, w.admin)
