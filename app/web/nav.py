"""What every page's header needs: the logged-in staff member, the menu for their roles, the server time."""
from __future__ import annotations

from flask import Flask

from app.clock import now
from app.handlers.governance.roles import VIEWERS
from app.handlers.inbox import REPLY_ROLES
from app.localtime import iso
from app.models import Role, Staff
from app.web.login import current_staff
from app.web.support import demo_mode

STATS_ROLES = (Role.DUTY.value, Role.GRID_LEADER.value, Role.COMMUNITY_ADMIN.value, Role.STREET_ADMIN.value)


def nav_items(staff: Staff | None) -> list[tuple[str, str]]:
    items = [("web_pages.board", "督办墙"), ("web_pages.service_map", "服务地图")]
    if staff is not None:
        if staff.community_id is not None and staff.has_role(*REPLY_ROLES):
            items += [("web_console.inbox", "值班收件箱")]
        items += [("web_console.requests_list", "诉求")]
        if staff.community_id is not None:
            items += [("web_desk.desk", "代办台"), ("web_desk.events_page", "活动"), ("web_office.roster_page", "值班表")]
            if staff.has_role(Role.COMMUNITY_ADMIN):
                items += [("web_office.alerts_page", "告警")]
            if staff.has_role(*REPLY_ROLES):
                items += [("web_office.sent_page", "发送记录")]
            if staff.has_role(*VIEWERS):
                items += [("web_gov.needs_page", "共建"), ("web_topics.topics_page", "议事"),
                          ("web_voices.suggestions_page", "百姓说事"), ("web_stations.stations_page", "站点")]
        if staff.has_role(*STATS_ROLES):
            items += [("web_dashboard.dashboard", "统计")]
    if demo_mode():
        items += [("web_try.page", "试一试")]
    return items


def register(app: Flask) -> None:
    @app.context_processor
    def _globals():
        return {"web_staff": current_staff, "nav_items": nav_items, "server_now": lambda: iso(now()),
                "demo_mode": demo_mode}
