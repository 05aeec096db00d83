"""The staff console: the duty inbox with live countdowns and one-click reply, requests with their
timeline and the actions of their state.

Scoped exactly like the API: the inbox is the staff member's community and the roles of
``inbox.REPLY_ROLES`` (app/api/sla.py), requests are what ``requests.visible_clause`` lets
them see and each action is checked by ``requests.authorize`` (app/api/requests.py).
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from app.clock import now
from app.errors import DomainError, NotFound, ValidationError
from app.extensions import db
from app.handlers import inbox, sla
from app.handlers import requests as flow
from app.handlers.requests import (
    convert_possible,
    dismiss_possible,
    open_possible_query,
    possible_in_community,
    possible_view,
)
from app.models import Department, Staff
from app.models.requests import (
    CATEGORY_LABELS,
    LEVEL_LABELS,
    OPEN_STATUSES,
    STATUS_LABELS,
    URGENCY_LABELS,
    ServiceRequest,
)
from app.models.sla import ReplyClock
from app.web.filters import people_message
from app.web.login import current_staff, staff_required
from app.web.support import form_choice, form_text, page_count, parse_id, preload_clocks, protect

bp = protect(Blueprint("web_console", __name__, url_prefix="/console"))

PER_PAGE = 30
RECENT_HOURS = 12
DONE = ("resolved", "rated", "closed")
ACTIONS = {
    # action: (label, statuses it applies to)
    "reply": ("公开回复", OPEN_STATUSES),
    "dispatch": ("派单", OPEN_STATUSES),
    "start": ("开始处理", ("received", "acknowledged", "dispatched")),
    "escalate": ("吹哨上报", OPEN_STATUSES),
    "resolve": ("办结", OPEN_STATUSES),
    "merge": ("合并重复", OPEN_STATUSES),
    "reject": ("不予受理", OPEN_STATUSES),
    "reopen": ("重新办理", DONE),
}


# ---- the duty inbox --------------------------------------------------------------------------

POSSIBLE_SHOWN = 50


def _inbox_context(staff: Staff, *, errors: dict | None = None, typed: dict | None = None) -> dict:
    """``errors``/``typed`` are keyed by clock id, or ("possible", id) for a possible request's forms."""
    at = now()
    clocks = db.session.scalars(inbox.open_clocks_query(staff.community_id).limit(200)).all()
    answered = db.session.scalars(select(ReplyClock).where(
        ReplyClock.community_id == staff.community_id, ReplyClock.stopped_at >= at - timedelta(hours=RECENT_HOURS))
        .order_by(ReplyClock.stopped_at.desc()).limit(20)).all()
    names = {s.id: s.name for s in db.session.scalars(select(Staff).where(
        Staff.id.in_({c.stopped_by_staff_id for c in answered if c.stopped_by_staff_id})))}
    loaded = preload_clocks(list(clocks) + list(answered))  # noqa: F841 - kept alive for clock_view
    possible = [possible_view(p) for p in db.session.scalars(
        open_possible_query(staff.community_id).limit(POSSIBLE_SHOWN))]
    return {"open": [sla.clock_view(c, at) for c in clocks], "at": at, "errors": errors or {}, "typed": typed or {},
            "possible": possible, "categories": CATEGORY_LABELS,
            "answered": [{"view": sla.clock_view(c, at), "by": names.get(c.stopped_by_staff_id, "工作人员"),
                          "seconds": c.reply_seconds(), "late": c.stopped_at > c.due_at} for c in answered]}


@bp.get("/")
def home():
    return redirect(url_for("web_console.inbox"))


@bp.get("/inbox", endpoint="inbox")
@staff_required(*inbox.REPLY_ROLES)
def inbox_view():
    staff = current_staff()
    template = "console/_inbox_items.html" if request.args.get("partial") else "console/inbox.html"
    return render_template(template, **_inbox_context(staff))


@bp.post("/inbox/<int(max=9223372036854775807):clock_id>/reply")
@staff_required(*inbox.REPLY_ROLES)
def inbox_reply(clock_id: int):
    staff = current_staff()
    typed = request.form.get("text") or ""
    try:
        clock = inbox.clock_in_community(clock_id, staff)
        text = form_text("text", label="回复内容", max_length=1000)
        inbox.reply(clock, staff, text)
    except NotFound:
        raise
    except DomainError as exc:
        context = _inbox_context(staff, errors={clock_id: people_message(exc.message)}, typed={clock_id: typed})
        if clock_id not in {c["id"] for c in context["open"]}:
            context["page_error"] = people_message(exc.message)  # no longer open: say it at the top
        return render_template("console/inbox.html", **context), exc.status
    flash("已公开回复，计时已停止。", "ok")
    return redirect(url_for("web_console.inbox") + f"#answered-{clock_id}")


@bp.post("/inbox/possible/<int(max=9223372036854775807):possible_id>/<action>")
@staff_required(*inbox.REPLY_ROLES)
def inbox_possible(possible_id: int, action: str):
    """疑似诉求: the person on duty makes it a request (its clock starts; a reply may go at once) or dismisses it."""
    if action not in ("convert", "dismiss"):
        raise NotFound("没有这个操作")
    staff = current_staff()
    row = possible_in_community(possible_id, staff)
    key = ("possible", possible_id)
    typed = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        if action == "convert":
            category = form_choice("category", CATEGORY_LABELS, label="类别", required=False)
            created = convert_possible(row, staff, category=category,
                                       reply=form_text("reply", label="回复内容", max_length=1000, required=False))
            message = f"已转为诉求 {created.code}" + ("，并已公开回复。" if typed.get("reply", "").strip()
                                                   else "，一小时回复计时已开始。")
        else:
            dismiss_possible(row, staff, note=form_text("note", label="备注", max_length=200, required=False))
            message = "已标记为不是诉求，不会在群里回复。"
    except DomainError as exc:
        db.session.rollback()
        context = _inbox_context(staff, errors={key: people_message(exc.message)}, typed={key: typed})
        if possible_id not in {p["id"] for p in context["possible"]}:
            context["page_error"] = people_message(exc.message)  # decided meanwhile: say it at the top
        return render_template("console/inbox.html", **context), exc.status
    flash(message, "ok")
    return redirect(url_for("web_console.inbox") + "#possible")


# ---- requests ---------------------------------------------------------------------------------

@bp.get("/requests")
@staff_required(community=False)
def requests_list():
    staff = current_staff()
    flow.authorize(staff, "view")
    which = request.args.get("status", "open")
    statement = select(ServiceRequest).where(flow.visible_clause(staff))
    if which == "open":
        statement = statement.where(ServiceRequest.status.in_(OPEN_STATUSES))
    elif which == "overdue":
        statement = statement.where(ServiceRequest.status.in_(OPEN_STATUSES), ServiceRequest.due_at <= now())
    elif which in STATUS_LABELS:
        statement = statement.where(ServiceRequest.status == which)
    else:
        which = "all"
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    pages = page_count(total, PER_PAGE)
    page = min(max(1, request.args.get("page", 1, type=int) or 1), pages)
    rows = db.session.scalars(statement.order_by(ServiceRequest.due_at, ServiceRequest.id)
                              .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return render_template("console/requests.html", rows=rows, which=which, page=page, pages=pages, total=total,
                           at=now(), labels=STATUS_LABELS, categories=CATEGORY_LABELS)


def _load(request_id: int, staff: Staff) -> ServiceRequest:
    row = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.id == request_id, flow.visible_clause(staff))).first()
    if row is None:
        raise NotFound("诉求不存在")
    return row


def _people(row: ServiceRequest) -> dict:
    staff = db.session.scalars(select(Staff).where(Staff.community_id == row.community_id, Staff.active.is_(True))
                               .order_by(Staff.id)).all()
    departments = db.session.scalars(select(Department).order_by(Department.id)).all()
    return {"colleagues": staff, "departments": departments}


def _detail(row: ServiceRequest, staff: Staff, *, error: str | None = None, action: str | None = None,
            typed: dict | None = None) -> dict:
    clock = db.session.scalars(select(ReplyClock).where(ReplyClock.request_id == row.id)).first()
    actions = [(name, label) for name, (label, statuses) in ACTIONS.items()
               if row.status in statuses and staff.roles & flow.ACTION_ROLES[name]]
    events = flow.timeline(row)
    actors = {s.id: s.name for s in db.session.scalars(select(Staff).where(
        Staff.id.in_({e["actor_id"] for e in events if e["actor_type"] == "staff" and e["actor_id"]})))}
    return {"row": row, "clock": sla.clock_view(clock) if clock else None, "events": events, "actors": actors,
            "actions": actions, "error": error, "failed_action": action, "typed": typed or {}, "at": now(),
            "labels": STATUS_LABELS, "categories": CATEGORY_LABELS, "urgencies": URGENCY_LABELS,
            "levels": LEVEL_LABELS, "assignee": db.session.get(Staff, row.assignee_id) if row.assignee_id else None,
            **_people(row)}


@bp.get("/requests/<int(max=9223372036854775807):request_id>")
@staff_required(community=False)
def request_detail(request_id: int):
    staff = current_staff()
    row = _load(request_id, staff)
    flow.authorize(staff, "view", row)
    return render_template("console/request.html", **_detail(row, staff))


def _run(action: str, row: ServiceRequest, staff: Staff) -> str:
    """Read the action's form fields and call the handler; returns the success message."""
    if action == "reply":
        flow.reply_publicly(row, staff, form_text("text", label="回复内容", max_length=1000))
        return "已公开回复居民。"
    if action == "dispatch":
        target_id = parse_id(request.form.get("staff_id"), label="派给谁", name="staff_id", required=False)
        target = db.session.get(Staff, target_id) if target_id else None
        if target_id and target is None:
            raise ValidationError("没有这位工作人员", field="staff_id")
        flow.dispatch(row, staff, staff=target, note=form_text("note", label="派单说明", max_length=500,
                                                               required=False))
        return "已派单。"
    if action == "start":
        flow.start(row, staff)
        return "已开始处理。"
    if action == "escalate":
        level = form_choice("level", ("community", "street", "department"), label="上报到哪一级")
        department_id = parse_id(request.form.get("department_id"), label="部门", name="department_id",
                                 required=level == "department")
        flow.escalate(row, staff, level=level, reason=form_text("reason", label="吹哨理由", max_length=500),
                      department_id=department_id if level == "department" else None)
        return "已吹哨上报。"
    if action == "resolve":
        flow.resolve(row, staff, note=form_text("note", label="办结说明", max_length=1000))
        return "已办结，已请居民评价。"
    if action == "merge":
        code = form_text("into", label="合并到的诉求编号", max_length=20).upper()
        into = db.session.scalars(select(ServiceRequest).where(
            ServiceRequest.code == code, flow.visible_clause(staff))).first()
        if into is None:
            raise ValidationError(f"没有编号为 {code} 的诉求", field="into")
        flow.merge(row, staff, into=into)
        return f"已合并到 {into.code}。"
    if action == "reject":
        flow.reject(row, staff, reason=form_text("reason", label="不予受理的理由", max_length=500))
        return "已不予受理，并告知居民理由。"
    flow.reopen(row, staff, reason=form_text("reason", label="重新办理的理由", max_length=500))
    return "已重新办理。"


@bp.post("/requests/<int(max=9223372036854775807):request_id>/<action>")
@staff_required(community=False)
def request_action(request_id: int, action: str):
    staff = current_staff()
    if action not in ACTIONS:
        raise NotFound("没有这个操作")
    row = _load(request_id, staff)
    try:
        flow.authorize(staff, action, row)
        message = _run(action, row, staff)
    except DomainError as exc:
        db.session.rollback()
        typed = {k: v for k, v in request.form.items() if k != "csrf_token"}
        context = _detail(row, staff, error=people_message(exc.message), action=action, typed=typed)
        return render_template("console/request.html", **context), exc.status
    flash(message, "ok")
    return redirect(url_for("web_console.request_detail", request_id=row.id))
