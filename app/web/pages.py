"""The start page (/), the public progress board (/board, 督办墙) and the service map (/map, 红色地图).

The board needs no login and shows nothing private (app/handlers/reports/board.py decides
what is public). It refreshes itself every BOARD_REFRESH_SECONDS by fetching its own
fragment (?partial=1), so a change shows within a minute on the hall's screen.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.handlers.calendar import readiness
from app.handlers.governance import public as governance_public
from app.handlers.governance import terms as governance_terms
from app.handlers.reports import board as board_report
from app.models import Building, Community
from app.web.demo import demo_community, demo_duty_staff
from app.web.login import current_staff
from app.web.support import arg_id, demo_mode, error_page, protect

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


def _chosen_community(page: str):
    """The ?community= of a public page, the only one, or the page that lists them (a response)."""
    community = _community_from_args()
    if community is None:
        if request.args.get("community"):
            return None, error_page("没有这个社区。请从列表中选择。", 404)
        communities = board_report.communities()
        if len(communities) != 1:
            return None, render_template("board_pick.html", communities=communities, page=page)
        community = communities[0]
    return community, None


@bp.get("/board")
def board():
    community, answer = _chosen_community("web_pages.board")
    if answer is not None:
        return answer
    data = board_report.board(community.id)
    template = "_board_items.html" if request.args.get("partial") else "board.html"
    return render_template(template, community=community, refresh=BOARD_REFRESH_SECONDS,
                           gov=governance_public.board_section(community.id, now()), **data)


@bp.get("/map")
def service_map():
    community, answer = _chosen_community("web_pages.service_map")
    if answer is not None:
        return answer
    service = (request.args.get("service") or "").strip()
    if service not in governance_terms.terms().services:
        service = None  # none or an unknown one: every station (the select says which services exist)
    data = governance_public.service_map(community.id, now(), service=service, building_id=arg_id("building"))
    buildings = db.session.scalars(select(Building).where(Building.community_id == community.id)
                                   .order_by(Building.id)).all()
    return render_template("map.html", community=community, map=data, all_buildings=buildings)
