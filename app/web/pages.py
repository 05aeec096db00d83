"""The start page (/) and the public progress board (/board, 督办墙).

The board needs no login and shows nothing private (app/handlers/reports/board.py decides
what is public). It refreshes itself every BOARD_REFRESH_SECONDS by fetching its own
fragment (?partial=1), so a change shows within a minute on the hall's screen.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select

from app.extensions import db
from app.handlers.calendar import readiness
from app.handlers.reports import board as board_report
from app.models import Community
from app.web.demo import demo_community, demo_duty_staff
from app.web.login import current_staff
from app.web.support import demo_mode, error_page, protect

bp = protect(Blueprint("web_pages", __name__, template_folder="templates", static_folder="static",
                          static_url_path="/static/web"))

BOARD_REFRESH_SECONDS = 20


@bp.get("/")
def start():
    community = demo_community() if demo_mode() else None
    duty = demo_duty_staff() if community is not None else None
    sla = int(current_app.config["REPLY_SLA_SECONDS"])
    nominal = int(current_app.config.get("REPLY_SLA_NOMINAL_SECONDS") or sla)
    return render_template("start.html", demo=demo_mode(), community=community, duty=duty,
                           communities=board_report.communities(), staff=current_staff(),
                           fast_clock=nominal != sla, sla_seconds=sla, nominal_seconds=nominal,
                           calendar=readiness.status())


def _community_from_args() -> Community | None:
    raw = (request.args.get("community") or "").strip()
    if not raw:
        return None
    if raw.isascii() and raw.isdigit() and len(raw) < 19:
        return db.session.get(Community, int(raw))
    if len(raw) > 64 or not raw.isprintable():
        return None  # no community code looks like this (and PostgreSQL refuses NUL in a query)
    return db.session.scalars(select(Community).where(Community.code == raw)).first()


@bp.get("/board")
def board():
    community = _community_from_args()
    if community is None:
        if request.args.get("community"):
            return error_page("没有这个社区。请从列表中选择。", 404)
        communities = board_report.communities()
        if len(communities) != 1:
            return render_template("board_pick.html", communities=communities)
        community = communities[0]
    data = board_report.board(community.id)
    template = "_board_items.html" if request.args.get("partial") else "board.html"
    return render_template(template, community=community, refresh=BOARD_REFRESH_SECONDS, **data)
