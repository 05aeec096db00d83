"""Record the real API's answers to the calls the mini-program makes, on the demo community.

The recording drives the running Flask app (test client, real SQLite and Redis, the fake
WeChat API for code2session) through what a duty member and two residents do in the
mini-program: log in, bind an invite code, report, answer, dispatch, rate, book, check in,
sign up, register for 双报到, post a micro-wish. Each answer is kept with its method, path,
query, body, status and which token sent it; ``miniprogram/test/fixtures/api.json`` holds
the result and the jest tests replay it as the server (miniprogram/test/support/fake-server.js).

Re-record after an API change:  LINLI_RECORD_MINIPROGRAM=1 .venv/bin/python -m pytest -q \
    -p no:cacheprovider tests/miniprogram/test_recorded_api.py
"""
from __future__ import annotations

import io
import re
from typing import Any

from PIL import Image

from app.cli import cli
from workers.sla import sweep_reply_clocks

COMMUNITY = "富强新村社区"


class Recorder:
    def __init__(self, client, cli_runner, fake_wechat, clock):
        self.client = client
        self.cli = cli_runner
        self.wx = fake_wechat
        self.clock = clock
        self.tokens: dict[str, str] = {}
        self.entries: list[dict[str, Any]] = []

    # ---- plumbing ----------------------------------------------------------------------------

    def call(self, name: str, method: str, path: str, *, who: str | None, query: dict | None = None,
             body: Any = None, expect: int | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        url = "/api/v1" + path
        response = self.client.open(url, method=method, query_string=query or None,
                                    json=body if body is not None else None, headers=headers)
        data = response.get_json(silent=True)
        if expect is not None:
            assert response.status_code == expect, (name, response.status_code, data)
        self.entries.append({"name": name, "method": method, "path": url, "query": query or {},
                             "body": body, "auth": who, "status": response.status_code, "response": data})
        return data

    def upload(self, name: str, who: str, *, expect: int) -> Any:
        """wx.uploadFile: one photo in the multipart field ``file`` (the answer is JSON text)."""
        photo = io.BytesIO()
        Image.new("RGB", (640, 480), (90, 120, 160)).save(photo, "JPEG")
        photo.seek(0)
        response = self.client.post("/api/v1/uploads", headers={"Authorization": f"Bearer {self.tokens[who]}"},
                                    content_type="multipart/form-data", data={"file": (photo, "photo.jpg")})
        data = response.get_json(silent=True)
        assert response.status_code == expect, (name, response.status_code, data)
        self.entries.append({"name": name, "method": "POST", "path": "/api/v1/uploads", "query": {},
                             "body": None, "auth": who, "status": response.status_code, "response": data})
        return data

    def login(self, name: str, code: str, openid: str, who: str) -> dict:
        self.wx.add_session(code, openid)
        data = self.call(name, "POST", "/auth/login", who=None, body={"code": code}, expect=200)
        self.tokens[who] = data["token"]
        return data

    def cli_out(self, *args: str) -> str:
        result = self.cli.invoke(cli, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    # ---- the story ---------------------------------------------------------------------------

    def run(self) -> list[dict[str, Any]]:
        self.cli_out("seed-demo")
        community_id = self.setup_staff()
        self.requests(community_id)
        self.roster()
        self.alerts(community_id)
        self.proxy(community_id)
        self.events(community_id)
        self.volunteers(community_id)
        return self.entries

    def setup_staff(self) -> int:
        out = self.cli_out("staff", "add", "--community", COMMUNITY, "--name", "赵值班", "--role", "duty",
                           "--role", "community_admin", "--phone", "13900000199")
        invite = re.search(r"invite code: (\w+)", out).group(1)
        self.login("login_new_staff_as_resident", "code-staff-1", "openid-staff", "pending")
        self.tokens["stranger"] = self.tokens["pending"]
        bad = self.call("bind_bad_code", "POST", "/auth/bind", who="pending", body={"invite_code": "WRONG234"})
        assert bad["error"]["field"] == "invite_code"
        bound = self.call("bind", "POST", "/auth/bind", who="pending", body={"invite_code": invite}, expect=200)
        self.tokens["staff"] = bound["token"]
        self.login("login_staff", "code-staff-2", "openid-staff", "staff")
        me = self.call("me_staff", "GET", "/me", who="staff", expect=200)
        self.login("login_resident", "code-resident-1", "openid-resident-1", "resident")
        self.call("me_resident", "GET", "/me", who="resident", expect=200)
        self.login("login_neighbour", "code-resident-2", "openid-resident-2", "neighbour")
        self.call("unauthorized", "GET", "/me", who=None, expect=401)
        self.profile(me["staff"]["community_id"])
        return me["staff"]["community_id"]

    def profile(self, community_id: int) -> None:
        self.call("profile_empty", "GET", "/my/profile", who="resident", expect=200)
        self.call("communities", "GET", "/communities", who=None, expect=200)
        buildings = self.call("buildings", "GET", f"/communities/{community_id}/buildings", who=None, expect=200)
        self.call("profile_bad_phone", "PATCH", "/my/profile", who="resident", expect=400,
                  body={"name": "王秀英", "phone": "12345"})
        self.call("profile_update", "PATCH", "/my/profile", who="resident", expect=200, body={
            "name": "王秀英", "phone": "13912345678", "community_id": community_id,
            "building_id": buildings["items"][2]["id"], "unit": "2", "room": "501"})
        self.wx.add_phone("phone-code-1", "13800138000")
        self.call("profile_phone_code", "PATCH", "/my/profile", who="resident", expect=200,
                  body={"phone_code": "phone-code-1"})
        self.call("profile_phone_code_used", "PATCH", "/my/profile", who="resident", expect=400,
                  body={"phone_code": "phone-code-1"})
        self.call("profile", "GET", "/my/profile", who="resident", expect=200)

    def requests(self, community_id: int) -> None:
        photo = self.upload("upload", "resident", expect=201)
        report = {"text": "3栋2单元楼道灯坏了，晚上很黑，老人上下楼不方便", "community_id": community_id,
                  "building": "3", "unit": "2", "room": "501", "photos": [photo["url"]]}
        self.call("report_missing_text", "POST", "/my/requests", who="resident",
                  body={**report, "text": ""}, expect=400)
        self.call("classify", "POST", "/requests/classify", who="resident", expect=200,
                  body={"text": "3栋2单元楼道灯坏了"})
        self.call("classify_unclear", "POST", "/requests/classify", who="resident", expect=200,
                  body={"text": "麻烦问一下"})
        first = self.call("report", "POST", "/my/requests", who="resident", body=report, expect=201)
        second = self.call("report_second", "POST", "/my/requests", who="resident", expect=201, body={
            "text": "小区门口有人乱停车，堵住了消防通道", "category": "parking", "community_id": community_id})
        inbox = self.call("inbox", "GET", "/inbox", who="staff", query={"per_page": "50"}, expect=200)
        clock = next(c for c in inbox["items"] if (c["request"] or {}).get("id") == first["id"])
        self.call("inbox_reply", "POST", f"/inbox/{clock['id']}/reply", who="staff", expect=200,
                  body={"text": "收到，已通知网格员今天上午来查看更换。"})
        self.call("inbox_reply_again", "POST", f"/inbox/{clock['id']}/reply", who="staff", expect=409,
                  body={"text": "收到"})
        self.call("requests_open", "GET", "/requests", who="staff", query={"status": "open", "sort": "due"},
                  expect=200)
        rid = first["id"]
        self.call("request_detail_new", "GET", f"/requests/{rid}", who="staff", expect=200)
        self.call("request_dispatch", "POST", f"/requests/{rid}/dispatch", who="staff", body={}, expect=200)
        self.call("request_start", "POST", f"/requests/{rid}/start", who="staff", expect=200)
        self.call("request_escalate_no_reason", "POST", f"/requests/{rid}/escalate", who="staff",
                  body={"level": "community", "reason": ""}, expect=400)
        self.call("request_escalate", "POST", f"/requests/{rid}/escalate", who="staff", expect=200,
                  body={"level": "community", "reason": "楼道灯线路老化，需要社区统一报修"})
        done = self.upload("upload_staff", "staff", expect=201)
        self.call("request_resolve", "POST", f"/requests/{rid}/resolve", who="staff", expect=200,
                  body={"note": "已更换3栋2单元全部楼道灯，线路已检修。", "photos": [done["url"]]})
        self.call("request_detail_resolved", "GET", f"/requests/{rid}", who="staff", expect=200)
        self.call("my_request_resolved", "GET", f"/my/requests/{rid}", who="resident", expect=200)
        self.call("my_request_rate", "POST", f"/my/requests/{rid}/rate", who="resident", expect=200,
                  body={"rating": "satisfied", "comment": "修得很快，谢谢！"})
        self.call("request_detail_second", "GET", f"/requests/{second['id']}", who="staff", expect=200)
        self.call("request_reject", "POST", f"/requests/{second['id']}/reject", who="staff", expect=200,
                  body={"reason": "消防通道占用请拨打119或联系物业，社区已转告物业巡查。"})
        self.call("request_start_rejected", "POST", f"/requests/{second['id']}/start", who="staff", expect=409)
        self.call("my_requests", "GET", "/my/requests", who="resident", expect=200)

    def roster(self) -> None:
        self.call("roster_on_duty", "GET", "/roster/on-duty", who="staff", expect=200)
        self.call("roster_mine", "GET", "/roster/mine", who="staff", expect=200)
        week = self.call("roster_week", "GET", "/roster", who="staff", expect=200)
        members = [s for s in week["items"] if not s["is_lead"]]
        self.call("roster_gaps", "GET", "/roster/gaps", who="staff", expect=200)
        self.call("roster_swap", "POST", "/roster/swap", who="staff", expect=200, body={
            "shift_id": members[1]["id"], "with_shift_id": members[2]["id"], "reason": "家中有事，与同事换班"})
        self.call("roster_swap_none", "POST", "/roster/swap", who="staff", expect=400,
                  body={"shift_id": members[1]["id"]})

    def alerts(self, community_id: int) -> None:
        late = self.call("report_late", "POST", "/my/requests", who="neighbour", expect=201, body={
            "text": "12栋楼顶水箱漏水，楼上一直在滴水", "community_id": community_id, "building": "12"})
        self.clock.advance(minutes=61)
        sweep_reply_clocks()
        self.call("inbox_overdue", "GET", "/inbox", who="staff", query={"per_page": "50"}, expect=200)
        self.call("sla_alerts", "GET", "/sla/alerts", who="staff", expect=200)
        self.call("sla_stats", "GET", "/stats/sla", who="staff", expect=200)
        self.call("request_detail_overdue", "GET", f"/requests/{late['id']}", who="staff", expect=200)

    def proxy(self, community_id: int) -> None:
        query = {"community_id": str(community_id)}
        catalogue = self.call("catalogue", "GET", "/catalogue", who=None, query=query, expect=200)
        stations = self.call("stations", "GET", "/stations", who=None, query=query, expect=200)
        station = stations["stations"][0]["id"]
        # 10:31 on Tuesday: today's slots from 11:00, tomorrow's all day.
        today = self.call("slots_today", "GET", f"/stations/{station}/slots", who="resident",
                          query={"date": "2026-11-17"}, expect=200)
        tomorrow = self.call("slots", "GET", f"/stations/{station}/slots", who="resident",
                             query={"date": "2026-11-18"}, expect=200)
        key = catalogue["items"][0]["key"]
        booking = {"service_key": key, "station_id": station, "slot_start": today["slots"][0]["start"],
                   "idempotency_key": "mp-book-1"}
        booked = self.call("book", "POST", "/my/bookings", who="resident", body=booking, expect=201)
        self.call("book_replay", "POST", "/my/bookings", who="resident", body=booking, expect=200)
        self.call("book_again", "POST", "/my/bookings", who="resident", expect=409,
                  body={**booking, "slot_start": tomorrow["slots"][0]["start"], "idempotency_key": "mp-book-2"})
        other = self.call("book_other", "POST", "/my/bookings", who="resident", expect=201, body={
            "service_key": catalogue["items"][1]["key"], "station_id": station,
            "slot_start": tomorrow["slots"][1]["start"], "idempotency_key": "mp-book-3"})
        self.call("reschedule", "POST", f"/my/bookings/{other['code']}/reschedule", who="resident", expect=200,
                  body={"slot_start": tomorrow["slots"][3]["start"]})
        self.call("my_bookings", "GET", "/my/bookings", who="resident", expect=200)
        self.call("desk_bookings", "GET", f"/stations/{station}/bookings", who="staff",
                  query={"date": "2026-11-17"}, expect=200)
        self.call("desk_check_in_tomorrow", "POST", f"/bookings/{other['id']}/check-in", who="staff", expect=409)
        self.call("desk_check_in", "POST", f"/bookings/{booked['id']}/check-in", who="staff", expect=200)
        case = self.call("desk_complete", "POST", f"/bookings/{booked['id']}/complete", who="staff", expect=201,
                         body={"note": "材料齐全，已受理"})
        self.call("cases", "GET", "/cases", who="staff", expect=200)
        self.call("case_forward", "POST", f"/cases/{case['id']}/transitions", who="staff", expect=200,
                  body={"status": "forwarded", "department": "街道民政科", "note": "已报街道审核"})
        self.call("my_cases", "GET", "/my/cases", who="resident", expect=200)
        self.call("cancel_booking", "POST", f"/my/bookings/{other['code']}/cancel", who="resident", expect=200)

    def events(self, community_id: int) -> None:
        query = {"community_id": str(community_id)}
        listed = self.call("events", "GET", "/events", who="resident", query=query, expect=200)
        self.call("event_signup_demo", "POST", f"/events/{listed['items'][0]['id']}/signup", who="resident",
                  expect=201, body={"idempotency_key": "mp-signup-0"})
        today = self.call("event_create", "POST", "/events", who="staff", expect=201, body={
            "title": "楼道清理志愿服务", "kind": "volunteer", "place": "3栋楼下",
            "starts_at": "2026-11-17T11:00:00+08:00", "ends_at": "2026-11-17T12:00:00+08:00",
            "capacity": 10, "volunteer_hours": 1, "publish": True})
        signed = self.call("event_signup", "POST", f"/events/{today['id']}/signup", who="resident", expect=201,
                           body={"idempotency_key": "mp-signup-1"})
        small = self.call("event_create_small", "POST", "/events", who="staff", expect=201, body={
            "title": "垃圾分类宣传志愿服务", "kind": "volunteer", "place": "小区北门",
            "starts_at": "2026-11-21T09:00:00+08:00", "ends_at": "2026-11-21T11:00:00+08:00",
            "capacity": 1, "volunteer_hours": 2, "publish": True})
        self.call("event_signup_neighbour", "POST", f"/events/{small['id']}/signup", who="neighbour", expect=201,
                  body={"idempotency_key": "mp-signup-2"})
        self.call("event_signup_full", "POST", f"/events/{small['id']}/signup", who="resident", expect=409,
                  body={"idempotency_key": "mp-signup-3"})
        waiting = self.call("event_signup_waitlist", "POST", f"/events/{small['id']}/signup", who="resident",
                            expect=201, body={"idempotency_key": "mp-signup-4", "waitlist": True})
        self.call("event_detail", "GET", f"/events/{small['id']}", who="resident", expect=200)
        self.call("events_after_signup", "GET", "/events", who="resident", query=query, expect=200)
        self.call("my_signups", "GET", "/my/signups", who="resident", expect=200)
        code = self.call("checkin_code", "GET", f"/my/signups/{signed['signup']['id']}/code", who="resident",
                         expect=200)
        self.call("checkin_code_waiting", "GET", f"/my/signups/{waiting['signup']['id']}/code", who="resident",
                  expect=409)
        self.call("staff_events", "GET", "/events", who="staff", expect=200)
        self.call("event_signups", "GET", f"/events/{small['id']}/signups", who="staff", expect=200)
        self.call("event_checkin", "POST", f"/events/{today['id']}/checkin", who="staff", expect=201,
                  body={"code": code["code"], "nonce": "scan-1"})
        self.call("event_checkin_again", "POST", f"/events/{today['id']}/checkin", who="staff", expect=200,
                  body={"code": code["code"], "nonce": "scan-1"})
        self.call("event_checkin_bad", "POST", f"/events/{today['id']}/checkin", who="staff", expect=400,
                  body={"code": "not-a-code", "nonce": "scan-2"})
        self.call("event_signups_checked", "GET", f"/events/{today['id']}/signups", who="staff", expect=200)
        self.call("event_cancel_neighbour", "POST", f"/events/{small['id']}/cancel", who="neighbour", expect=200)
        self.call("my_signups_promoted", "GET", "/my/signups", who="resident", expect=200)

    def volunteers(self, community_id: int) -> None:
        self.call("party_member_missing", "GET", "/my/party-member", who="resident", expect=404)
        self.call("party_member_register", "POST", "/my/party-member", who="resident", expect=201, body={
            "name": "陈桂芳", "phone": "13900003101", "work_unit": "市第一人民医院", "party_org": "医院第二党支部",
            "kind": "party", "community_id": community_id})
        projects = self.call("volunteer_projects", "GET", "/volunteer-projects", who="resident",
                             query={"community_id": str(community_id)}, expect=200)
        if projects["items"]:
            self.call("party_member_projects", "POST", "/my/party-member/projects", who="resident", expect=200,
                      body={"project_ids": [projects["items"][0]["id"]]})
        self.call("party_member", "GET", "/my/party-member", who="resident", expect=200)
        # Both residents have a community since they reported in it: they can post wishes.
        self.call("wish_post", "POST", "/my/wishes", who="resident", expect=201,
                  body={"title": "帮忙修一下自行车", "detail": "车胎漏气"})
        neighbours = self.call("wish_post_neighbour", "POST", "/my/wishes", who="neighbour", expect=201,
                               body={"title": "帮忙换个灯泡", "detail": "厨房灯坏了，够不着"})
        self.call("my_wishes", "GET", "/my/wishes", who="resident", expect=200)
        self.call("wishes_open", "GET", "/wishes", who="resident", expect=200)
        self.call("wish_claim", "POST", f"/wishes/{neighbours['id']}/claim", who="resident", expect=200)
        self.call("wish_fulfil", "POST", f"/wishes/{neighbours['id']}/fulfil", who="resident", expect=200,
                  body={"note": "已帮助实现"})
        self.call("my_wishes_neighbour", "GET", "/my/wishes", who="neighbour", expect=200)
        self.call("wishes_not_member", "GET", "/wishes", who="neighbour", expect=403)


def record(client, cli_runner, fake_wechat, clock) -> list[dict[str, Any]]:
    return Recorder(client, cli_runner, fake_wechat, clock).run()
