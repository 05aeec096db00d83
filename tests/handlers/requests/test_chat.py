"""The bot's rating (回访) dialogue and the “my progress” lines."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.handlers import requests as flow
from app.handlers.requests import chat
from app.models.requests import ServiceRequest
from tests import factories
from tests.factories.requests import inbound_message, make_ctx, report

# ---- rating through the bot ------------------------------------------------------------------

def _resolved(world) -> ServiceRequest:
    _, request = report(world)
    flow.resolve(request, world.duty, note="已更换灯泡")
    return request


def _rate_ctx(world, text, *, slots=None, state=None):
    message, inbound = inbound_message(text)
    return make_ctx(message, inbound, resident=world.resident, group=world.group, community_id=world.community.id,
                    intent="rate", slots=slots, state=state)


def test_handle_rate_with_nothing_to_rate(world):
    reply = chat.handle_rate(_rate_ctx(world, "满意"))
    assert reply.text.startswith("您目前没有待评价的诉求") and reply.detail["nothing_to_rate"]


def test_handle_rate_with_a_rating_closes_the_latest_resolved_request(world):
    request = _resolved(world)
    reply = chat.handle_rate(_rate_ctx(world, "满意", slots={"rating": "satisfied"}))
    assert request.code in reply.text and "感谢" in reply.text
    db.session.refresh(request)
    assert request.status == "closed" and request.rating == "satisfied"


def test_handle_rate_unsatisfied_reopens(world):
    request = _resolved(world)
    reply = chat.handle_rate(_rate_ctx(world, "不满意，灯还是不亮"))
    db.session.refresh(request)
    assert request.status == "in_progress" and "重新办理" in reply.text


def test_rating_flow_asks_then_takes_the_next_message(world):
    request = _resolved(world)
    ctx = _rate_ctx(world, "我要评价")
    reply = chat.handle_rate(ctx)
    assert ctx.state == {"flow": "rate", "request_id": request.id, "attempts": 0}
    assert "满意" in reply.text
    follow = _rate_ctx(world, "基本满意吧", state=ctx.state)
    reply = chat.continue_rating(follow)
    assert follow.state == {} and "基本满意" in reply.text
    db.session.refresh(request)
    assert request.status == "closed" and request.rating == "basically"


def test_rating_flow_gives_up_after_two_unclear_answers(world):
    request = _resolved(world)
    ctx = _rate_ctx(world, "嗯？", state={"flow": "rate", "request_id": request.id, "attempts": 0})
    reply = chat.continue_rating(ctx)
    assert ctx.state["attempts"] == 1 and "请回复" in reply.text
    ctx2 = _rate_ctx(world, "啥", state=ctx.state)
    reply = chat.continue_rating(ctx2)
    assert ctx2.state == {} and reply.detail["gave_up"]
    db.session.refresh(request)
    assert request.status == "resolved"


@pytest.mark.parametrize("text,rating", [
    ("满意", "satisfied"), ("非常满意！", "satisfied"), ("基本满意", "basically"), ("一般", "basically"),
    ("不满意", "unsatisfied"), ("不太满意", "unsatisfied"), ("还是没解决", "unsatisfied"), ("1", "satisfied"),
    ("今天天气", None), ("", None)])
def test_parse_rating(text, rating):
    assert flow.parse_rating(text) == rating


# ---- progress --------------------------------------------------------------------------------

def test_progress_lines_list_the_residents_own_requests(world, clock):
    _, lamp = report(world, "3号楼2单元楼道灯坏了")
    _, leak = report(world, "楼顶漏水", chat_id="chat-other", category="repair", slots={})
    flow.resolve(lamp, world.duty, note="已修")
    someone_else = factories.resident(community_id=world.community.id)
    db.session.commit()
    flow.create_request(community_id=world.community.id, text="别人的诉求", resident=someone_else)
    message, inbound = inbound_message("我报的修了没有")
    ctx = make_ctx(message, inbound, resident=world.resident, group=world.group, community_id=world.community.id,
                   intent="query_progress")
    lines = chat.progress_lines(ctx)
    assert len(lines) == 2
    assert lines[0] == f"诉求{leak.code}「楼顶漏水」：已接收，应于11月26日23:59前办结"
    assert lines[1].startswith(f"诉求{lamp.code}「3号楼2单元楼道灯坏了」：已办结（待评价），请回复")
    ctx.now = clock.advance(days=10)
    assert chat.progress_lines(ctx)[0].endswith("前办结（已超期）")
    flow.supervise_overdue(leak.id)
    assert chat.progress_lines(ctx)[0].endswith("前办结（已超期，已督办）")
    ctx.resident = None
    assert chat.progress_lines(ctx) == []
