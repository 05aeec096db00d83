"""/dashboard — 一目了然 for community and street admins: charts over a chosen period, each also
downloadable as .xlsx (/dashboard/export/<chart>.xlsx with the same period).

Who sees what is the API's statistics rule (``requests.authorize(staff, "stats")``): duty
staff, grid leaders and community admins their community, street admins their street.
"""
from __future__ import annotations

import json
from datetime import date
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request

from app.clock import now
from app.errors import DomainError, ValidationError
from app.handlers import requests as flow
from app.handlers.reports import export, stats
from app.localtime import to_local
from app.web.filters import people_message
from app.web.login import current_staff, staff_required
from app.web.support import error_page, protect

bp = protect(Blueprint("web_dashboard", __name__))

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _day(name: str, label: str) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(f"{label}格式不对，请按 2025-01-31 这样填写", field=name) from None


def _data():
    staff = current_staff()
    flow.authorize(staff, "stats")
    communities = stats.scope(staff)
    if not communities:
        raise ValidationError("您的账号没有所属社区或街道，无法查看统计")
    at = now()
    span = stats.period(_day("from", "开始日期"), _day("to", "结束日期"), to_local(at).date())
    return stats.dashboard(communities, span, at)


def _charts(data: dict) -> dict:
    """What the page's charts draw, from the same tables the downloads use."""
    charts = {}
    for name in export.CHARTS:
        title, headers, rows = export.table(name, data)
        charts[name] = {"title": title, "headers": headers, "rows": rows}
    return charts


@bp.get("/dashboard")
@staff_required(community=False)
def dashboard():
    typed = {"from": request.args.get("from", ""), "to": request.args.get("to", "")}
    try:
        data = _data()
    except DomainError as exc:
        if exc.status == 403:
            return error_page(people_message(exc.message), 403)
        return render_template("dashboard.html", data=None, error=people_message(exc.message), typed=typed), 400
    charts = _charts(data)
    query = {"from": data["period"].first.isoformat(), "to": data["period"].last.isoformat()}
    return render_template("dashboard.html", data=data, error=None, typed=query, query=query,
                           charts_json=json.dumps(charts, ensure_ascii=False, default=str).replace("<", "\\u003c"))


@bp.get("/dashboard/export/<chart>.xlsx")
@staff_required(community=False)
def dashboard_export(chart: str):
    data = _data()
    title, headers, rows = export.table(chart, data)
    body = export.workbook(title, headers, rows)
    filename = f"linli-{chart}-{data['period'].first.isoformat()}-{data['period'].last.isoformat()}.xlsx"
    disposition = f"attachment; filename={filename}; filename*=UTF-8''{quote(title + '.xlsx')}"
    return Response(body, mimetype=XLSX, headers={"Content-Disposition": disposition})
