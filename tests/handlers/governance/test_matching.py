"""Matching help: the resources that fit a need by kind, words, time, distance and quantity, explained."""
from __future__ import annotations

import pytest

from app.handlers.governance import claims, contributions, matching, needs, projects, resources, units
from tests.handlers.governance.support import member, point, world


@pytest.fixture
def w(app, clock):
    return world()


def test_suggestions_are_ranked_and_explained(w):
    near = units.register_unit(w.community.id, {"name": "富强小学", "kind": "school",
                                                "lat": point(150)[0], "lng": point(150)[1]}, w.admin)
    far = units.register_unit(w.community.id, {"name": "区文化馆", "kind": "government",
                                               "lat": point(3000)[0], "lng": point(3000)[1]}, w.admin)
    classroom = resources.register_resource(w.community.id, {
        "unit_id": near.id, "kind": "room", "title": "周末开放的教室", "tags": ["教室", "课堂"],
        "weekdays": [6, 7], "time_from": "08:00", "time_until": "17:00"}, w.admin)
    hall = resources.register_resource(w.community.id, {
        "unit_id": far.id, "kind": "room", "title": "多功能厅", "tags": ["课堂"], "weekdays": [6],
        "time_from": "09:00", "time_until": "12:00"}, w.admin)
    weekday_room = resources.register_resource(w.community.id, {
        "unit_id": near.id, "kind": "room", "title": "会议室", "weekdays": [1, 2, 3]}, w.admin)
    teacher = resources.register_resource(w.community.id, {
        "unit_id": near.id, "kind": "skill", "title": "退休教师辅导课堂", "tags": ["课堂"]}, w.admin)
    unrelated = resources.register_resource(w.community.id, {
        "unit_id": far.id, "kind": "vehicle", "title": "面包车"}, w.admin)
    need = needs.create_need(w.community.id, {
        "kind": "room", "title": "四点半课堂周六需要教室", "tags": ["课堂"], "weekdays": [6],
        "time_from": "09:00", "time_until": "11:00", "building_id": w.buildings["1"].id}, w.admin)

    found = matching.suggest(need)
    order = [m.resource.id for m in found]
    assert order[0] == classroom.id
    assert unrelated.id not in order                       # another kind with nothing in common
    assert order.index(hall.id) < order.index(weekday_room.id)   # a time that fits beats one that does not
    assert teacher.id in order                             # a skill, but about the class
    best = matching.match_view(found[0])
    assert best["fits"] and "类型相符：场地（+3）" in best["reasons"]
    assert any(r.startswith("关键词相同：课堂") for r in best["reasons"])
    assert any("时间吻合：每周六 09:00–11:00" in r for r in best["reasons"])
    assert any(r.startswith("距离约150米，步行可达") for r in best["reasons"])
    hall_view = matching.match_view(next(m for m in found if m.resource.id == hall.id))
    assert any("约3.0公里，较远" in r for r in hall_view["reasons"])
    weekday_view = matching.match_view(next(m for m in found if m.resource.id == weekday_room.id))
    assert not weekday_view["fits"] and any(r.startswith("时间不合适") for r in weekday_view["reasons"])


def test_a_used_up_resource_goes_last_and_quantities_are_compared(w):
    yan = member(w, w.residents[2])
    hours = resources.register_resource(w.community.id, {"member_id": yan.id, "kind": "hours",
                                                         "title": "周末志愿服务", "quantity": 4}, w.admin)
    plenty = resources.register_resource(w.community.id, {"member_id": yan.id, "kind": "hours",
                                                          "title": "假期志愿服务", "quantity": 40}, w.admin)
    first = needs.create_need(w.community.id, {"kind": "hours", "title": "陪伴独居老人"}, w.admin)
    claims.claim_need(first, {"member_id": yan.id, "resource_id": hours.id}, w.admin)
    project = projects.start_project(first, {"owner_staff_id": w.admin.id}, w.admin)
    contributions.record_contribution(project, {"member_id": yan.id, "kind": "hours", "quantity": 4,
                                                "resource_id": hours.id}, w.admin)
    need = needs.create_need(w.community.id, {"kind": "hours", "title": "陪伴老人聊天", "quantity": 10,
                                              "quantity_unit": "小时"}, w.admin)
    found = matching.suggest(need)
    assert [m.resource.id for m in found] == [plenty.id, hours.id]
    assert "剩余40小时，够用（+1）" in found[0].reasons
    assert not found[1].fits and "已全部用完（-3）" in found[1].reasons
    assert any("距离未知" in r for r in found[0].reasons)
