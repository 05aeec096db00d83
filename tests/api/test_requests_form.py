"""The report form reads like chat: the bot classifies a form without a category, suggests as the
resident types, and the staff's corrections come back through `linli bot suggest`."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.cli.bot import bot_group
from app.extensions import db
from app.handlers import requests as flow
from app.handlers.requests.classify import bot_corrections
from app.models.requests import RequestEvent, ServiceRequest
from tests import factories
from tests.api.test_requests import auth
from tests.factories.requests import build_world, report


@pytest.fixture
def app_overrides():
    # Each report of the corrections test is its own request, not a follow-up of the one before.
    return {"REQUEST_FOLLOWUP_SECONDS": 0}


@pytest.fixture
def world(app, clock):
    return build_world()


def _created(request_id: int) -> dict:
    return db.session.scalars(select(RequestEvent).where(
        RequestEvent.request_id == request_id, RequestEvent.kind == "created")).one().detail


def test_a_form_without_a_category_is_classified_by_the_bot(client, world):
    response = client.post("/api/v1/my/requests", headers=auth(world.resident),
                           json={"text": "3号楼2单元电梯坏了，困在里面出不来"})
    assert response.status_code == 201, response.get_json()
    row = db.session.get(ServiceRequest, response.get_json()["id"])
    assert row.category == "repair" and row.building_id == world.building.id and row.unit == "2"
    assert row.grid_id == world.grid.id
    detail = _created(row.id)
    assert detail["classified_by"] == "bot" and detail["source"] == "form" and detail["category"] == "repair"


def test_the_residents_own_category_and_place_win(client, world):
    response = client.post("/api/v1/my/requests", headers=auth(world.resident),
                           json={"text": "3号楼电梯坏了", "category": "safety", "building": "东门"})
    row = db.session.get(ServiceRequest, response.get_json()["id"])
    assert row.category == "safety" and row.urgency == "emergency" and row.building_id is None
    assert _created(row.id)["classified_by"] == "resident"


def test_text_the_bot_cannot_place_is_filed_as_other_and_the_answer_says_so(client, world):
    response = client.post("/api/v1/my/requests", headers=auth(world.resident), json={"text": "你好"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["category"] == "other"
    assert body["classification"]["needs_choice"] is True and "其他" in body["classification"]["message"]
    placed = client.post("/api/v1/my/requests", headers=auth(world.resident), json={"text": "楼道灯坏了"}).get_json()
    assert placed["classification"] == {"by": "bot", "needs_choice": False, "message": None}
    chosen = client.post("/api/v1/my/requests", headers=auth(world.resident),
                         json={"text": "你好", "category": "noise"}).get_json()
    assert chosen["classification"]["by"] == "resident" and chosen["category"] == "noise"


@pytest.mark.parametrize("text", ["你好", "今天天气不错", "3号楼", "谢谢"])
def test_the_suggestion_does_not_guess_a_category_for_text_without_a_problem(client, world, text):
    body = client.post("/api/v1/requests/classify", headers=auth(world.resident), json={"text": text}).get_json()
    assert body["category"] is None and body["needs_choice"] is True and body["message"] == "没能从描述中判断问题类型，请选择分类"
    assert body["confidence"] == 0.0


def test_the_form_suggestion_as_the_resident_types(client, world):
    response = client.post("/api/v1/requests/classify", headers=auth(world.resident),
                           json={"text": "5号楼楼下垃圾好几天没人清运，臭气熏天"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["category"] == "environment" and body["category_label"] == "环境卫生"
    assert body["building"] == "5" and body["urgency"] == "general"
    assert body["needs_choice"] is False and body["message"] is None and body["confidence"] > 0.25
    assert client.post("/api/v1/requests/classify", headers=auth(world.duty), json={"text": "停电了"}
                       ).get_json()["category"] == "utilities"
    unknown = client.post("/api/v1/requests/classify", headers=auth(world.resident), json={"text": "嗯嗯"}).get_json()
    assert unknown["category"] is None and unknown["building"] is None
    missing = client.post("/api/v1/requests/classify", headers=auth(world.resident), json={})
    assert missing.status_code == 400 and missing.get_json()["error"] == {
        "code": "invalid", "message": "缺少字段 text (missing field)", "field": "text"}
    too_long = client.post("/api/v1/requests/classify", headers=auth(world.resident), json={"text": "灯" * 2001})
    assert too_long.status_code == 400 and too_long.get_json()["error"]["field"] == "text"
    assert client.post("/api/v1/requests/classify", json={"text": "停电了"}).status_code == 401


def test_acting_in_a_community_makes_it_the_residents(client, world):
    stranger = factories.resident(name="新住户")
    db.session.commit()
    response = client.post("/api/v1/my/requests", headers=auth(stranger),
                           json={"text": "楼道堆物", "community_id": world.community.id})
    assert response.status_code == 201
    db.session.refresh(stranger)
    assert stranger.community_id == world.community.id


def _correct(world, text, bot_category, staff_category):
    _, request = report(world, text, category=bot_category, slots={})
    flow.reclassify(request, world.duty, category=staff_category)
    return request


def test_corrections_of_the_bot_are_counted_with_the_words_that_would_catch_them(client, world, cli_runner):
    _correct(world, "小区门口的流浪猫越来越多，晚上叫个不停", "noise", "environment")
    _correct(world, "流浪猫在楼道里拉屎", "other", "environment")
    _correct(world, "又有流浪猫钻进地下室", "other", "environment")
    _correct(world, "物业费收据一直不给开", "other", "property")
    # Staff correcting a category the resident chose is not the bot's mistake.
    mine = client.post("/api/v1/my/requests", headers=auth(world.resident),
                       json={"text": "流浪猫太多", "category": "noise"}).get_json()
    flow.reclassify(db.session.get(ServiceRequest, mine["id"]), world.duty, category="environment")
    # Neither is a correction that only changes the deadline class.
    _, kept = report(world, "楼道灯坏了", category="repair", slots={})
    flow.reclassify(kept, world.duty, urgency="emergency")

    corrections = bot_corrections()
    assert [(c.bot_category, c.staff_category, c.count) for c in corrections] == [
        ("other", "environment", 2), ("noise", "environment", 1), ("other", "property", 1)]
    assert corrections[0].words[0] == ("流浪", 2)
    assert "流浪" in dict(corrections[1].words)
    assert bot_corrections(community_id=world.community.id + 1000) == []

    result = cli_runner.invoke(bot_group, ["suggest", "--limit", "2"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["2", "other", "(其他)", "->", "environment", "(环境卫生)"]
    assert lines[1].startswith("      words for environment: 流浪 ×2")
    assert len([line for line in lines if "->" in line]) == 2
    unknown = cli_runner.invoke(bot_group, ["suggest", "--community", "没有这个社区"])
    assert unknown.exit_code == 1 and "no community named" in unknown.output


def test_suggest_says_when_there_is_nothing_to_learn(app, cli_runner):
    result = cli_runner.invoke(bot_group, ["suggest"])
    assert result.exit_code == 0 and result.output.strip() == "no corrections of the bot's categories yet"
