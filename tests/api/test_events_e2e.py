"""End to end: announce → sign up by chat → waiting-list promotion → check-in/out → hours on the member's year.

Staff act through the API; residents talk to the real bot and conversation router through the WeChat
server simulator (signed, encrypted pushes to /wechat/mp, passive replies checked); everything the
service sends goes through the outbox and the send worker to the fake WeChat/WeCom API.
"""
from __future__ import annotations

import pytest
from rq import SimpleWorker

from app.extensions import db
from app.handlers.events.reminders import remind_due
from app.handlers.org.auth import RESIDENT, STAFF, issue_token
from tests import factories
from tests.channels.conftest import CHANNEL_SETTINGS, WECHAT_AES_KEY, WECHAT_TOKEN
from tests.handlers.events.support import local
from tests.support.fixtures import CREDENTIALS
from tests.support.wechat_sim import WeChatSimulator
from workers.jobs import ALL_QUEUES
from workers.runner import build_worker


@pytest.fixture
def app_overrides():
    return dict(CHANNEL_SETTINGS)


def _bearer(kind: str, row) -> dict:
    return {"Authorization": f"Bearer {issue_token(kind, row.id).token}"}


def _run_workers(app) -> None:
    build_worker(app, list(ALL_QUEUES), worker_class=SimpleWorker).work(burst=True)
    db.session.expire_all()


def test_announce_sign_up_by_chat_promotion_check_in_out_and_hours(app, client, clock, fake_wechat):
    community = factories.community(name="富强新村社区")
    admin = factories.staff(community=community, roles=("community_admin",), name="王秀英")
    door = factories.staff(community=community, roles=("grid_worker",), name="孙婷")
    factories.group(community=community, channel="group", chat_id="fq-grid-1", name="第一网格居民群",
                    webhook_url=fake_wechat.webhook_url("FQGRID1"))
    member = factories.resident(community_id=community.id, name="周晓燕",
                                identities=[("mp", "openid", "o-zhou")])
    factories.resident(community_id=community.id, name="陈桂芳", identities=[("mp", "openid", "o-chen")])
    db.session.commit()
    staff_auth, door_auth = _bearer(STAFF, admin), _bearer(STAFF, door)
    member_auth = _bearer(RESIDENT, member)
    sim = WeChatSimulator(client, token=WECHAT_TOKEN, aes_key=WECHAT_AES_KEY, appid=CREDENTIALS["WECHAT_APPID"])

    def say(openid: str, text: str) -> str:
        result = sim.post(sim.text_xml(openid, text), aes=True)
        assert result.status == 200 and result.reply["ToUserName"] == openid
        return result.reply_content

    # The member registers for 双报到 in the mini-program.
    registered = client.post("/api/v1/my/party-member", json={
        "name": "周晓燕", "phone": "13900001003", "work_unit": "天宁区实验小学", "party_org": "实验小学党总支"},
        headers=member_auth)
    assert registered.status_code == 201
    member_id = registered.get_json()["member"]["id"]

    # Staff create, publish and announce a volunteer cleanup with one place.
    created = client.post("/api/v1/events", headers=staff_auth, json={
        "title": "楼道环境整治志愿服务", "kind": "volunteer", "starts_at": "2026-11-21T09:00:00+08:00",
        "ends_at": "2026-11-21T12:00:00+08:00", "place": "1栋门口", "capacity": 1, "volunteer_hours": 3,
        "aliases": ["大扫除", "楼道清扫"], "publish": True})
    assert created.status_code == 201
    event_id = created.get_json()["id"]
    assert client.post(f"/api/v1/events/{event_id}/announce", headers=staff_auth).status_code == 200
    _run_workers(app)
    (posted,) = fake_wechat.sent("/cgi-bin/webhook/send")
    assert posted.body["text"]["content"].startswith("【活动通知】楼道环境整治志愿服务")
    assert "“大扫除报名”" in posted.body["text"]["content"]

    # Residents sign up by chat; the second one joins the waiting list.
    assert say("o-chen", "周六大扫除报个名").startswith("报名成功！楼道环境整治志愿服务")
    offer = say("o-zhou", "大扫除还能报吗")
    assert "名额已满" in offer and "排队候补" in offer
    assert "排第1位" in say("o-zhou", "好")
    assert "候补第1位" in say("o-zhou", "我报的活动怎么样了")

    # A cancellation by chat promotes her and the service tells her through the WeChat API.
    assert "已为您取消“楼道环境整治志愿服务”" in say("o-chen", "取消报名")
    _run_workers(app)
    notices = [c.body for c in fake_wechat.sent("/cgi-bin/message/custom/send") if c.body["touser"] == "o-zhou"]
    assert len(notices) == 1 and notices[0]["text"]["content"].startswith("【候补转正】")
    mine = client.get("/api/v1/my/signups", headers=member_auth).get_json()["items"]
    assert mine[0]["status"] == "confirmed" and mine[0]["promoted_at"]

    # The day before: one reminder to her, none to the neighbour who cancelled.
    clock.set(local(2026, 11, 20, 9, 0))
    assert remind_due() == 1
    _run_workers(app)
    reminders = [c.body for c in fake_wechat.sent("/cgi-bin/message/custom/send")
                 if c.body["text"]["content"].startswith("【活动提醒】")]
    assert [r["touser"] for r in reminders] == ["o-zhou"]

    # On the day: she shows her code, the grid worker scans it in and (with a fresh code) out.
    signup_id = mine[0]["id"]
    clock.set(local(2026, 11, 21, 8, 50))
    code = client.get(f"/api/v1/my/signups/{signup_id}/code", headers=member_auth).get_json()["code"]
    scanned = client.post(f"/api/v1/events/{event_id}/checkin", json={"code": code}, headers=door_auth)
    assert scanned.status_code == 201
    assert client.post(f"/api/v1/events/{event_id}/checkin", json={"code": code},
                       headers=door_auth).get_json()["replay"] is True
    clock.set(local(2026, 11, 21, 11, 25))
    code = client.get(f"/api/v1/my/signups/{signup_id}/code", headers=member_auth).get_json()["code"]
    out = client.post(f"/api/v1/events/{event_id}/checkout", json={"code": code}, headers=door_auth).get_json()
    assert out["hours_entry"]["hours"] == 2.5 and out["hours_entry"]["kind"] == "checkin"

    # The hours are on her year, for her and for the party organisation's report.
    year = client.get(f"/api/v1/party-members/{member_id}/year?year=2026", headers=staff_auth).get_json()
    assert (year["hours_checkin"], year["hours_admin"], year["hours"]) == (2.5, 0.0, 2.5)
    assert year["hours_remaining"] == 21.5 and year["met_target"] is False
    assert [e["title"] for e in year["events_attended"]] == ["楼道环境整治志愿服务"]
    assert client.get("/api/v1/my/party-member", headers=member_auth).get_json()["year"]["hours"] == 2.5
    report = client.get("/api/v1/volunteers/report?year=2026", headers=staff_auth).get_json()
    assert report["hours_checkin"] == 2.5 and report["attendances"] == 1
