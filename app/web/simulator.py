"""/try — the group simulator of the demo community (embedded default and development only;
404 in production).

The visitor writes in a resident group as a demo resident (or as themselves); each message
goes into linli exactly as the group bridge delivers one (``ingest.receive_entry``: stored
once, understood by the bot, a request and its reply clock opened by the same core). The
second pane is the duty staff member on duty now: their inbox with its countdown and the
one-click reply (``inbox.reply``, as in the console and the mini-program), and the alerts and
posts linli sent, read from the sent-messages record. With LINLI_DEMO_CLOCK_FACTOR (e.g. 30)
the one-hour clock lasts two minutes and the warning and breach alerts fire while one watches.
"""
from __future__ import annotations

import secrets
import uuid

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for

from app.channels.ingest import receive_entry
from app.clock import now
from app.errors import DomainError
from app.extensions import db
from app.handlers import inbox, sla
from app.handlers.reports.outbound import chat_log, sent_messages
from app.web.demo import demo_community, demo_duty_staff, demo_groups, demo_residents
from app.web.filters import people_message
from app.web.support import demo_mode, error_page, form_text, preload_clocks, protect

bp = protect(Blueprint("web_try", __name__, url_prefix="/try"))

VISITOR = "visitor"


@bp.before_request
def _only_in_demo():
    if not demo_mode():
        abort(404)


def _visitor_id() -> str:
    if "try_visitor" not in session:
        session["try_visitor"] = "try-visitor-" + secrets.token_hex(6)
    return session["try_visitor"]


def _scene():
    community = demo_community()
    if community is None:
        return None
    groups = demo_groups(community)
    chosen = request.values.get("group") or (groups[0].chat_id if groups else "")
    group = next((g for g in groups if g.chat_id == chosen), groups[0] if groups else None)
    return community, groups, group


def _clock_settings() -> dict:
    sla_seconds = int(current_app.config["REPLY_SLA_SECONDS"])
    nominal = int(current_app.config.get("REPLY_SLA_NOMINAL_SECONDS") or sla_seconds)
    return {"sla_seconds": sla_seconds, "nominal_seconds": nominal, "fast": nominal != sla_seconds,
            "warn_seconds": int(current_app.config["REPLY_WARN_SECONDS"])}


def _staff_context(community) -> dict:
    at = now()
    clocks = db.session.scalars(inbox.open_clocks_query(community.id).limit(30)).all()
    sent = sent_messages(community.id, limit=30)
    loaded = preload_clocks(clocks)  # noqa: F841 - kept alive for clock_view
    return {"duty": demo_duty_staff(), "open": [sla.clock_view(c, at) for c in clocks],
            "alerts": [m for m in sent if m.alert], "at": at}


def _context(scene, **extra) -> dict:
    community, groups, group = scene
    return {"community": community, "groups": groups, "group": group, "residents": demo_residents(),
            "lines": chat_log(group.chat_id) if group else [], "clock": _clock_settings(),
            "typed": {"member": session.get("try_member", "")}, "errors": {}, **_staff_context(community), **extra}


@bp.get("")
def page():
    scene = _scene()
    if scene is None or scene[2] is None:
        return error_page("还没有演示社区。请先运行 linli seed-demo（make run 会自动运行）。", 404)
    part = request.args.get("partial")
    template = {"group": "try/_group.html", "staff": "try/_staff.html"}.get(part, "try/page.html")
    return render_template(template, **_context(scene))


def _sender(residents: list[dict]) -> tuple[str, str]:
    member = request.form.get("member") or VISITOR
    known = {r["member"]: r["nickname"] for r in residents}
    if member in known:
        return member, known[member]
    name = form_text("nickname", label="您在群里的昵称", max_length=30, required=False) or "新邻居"
    return _visitor_id(), name


@bp.post("/send")
def send():
    scene = _scene()
    if scene is None or scene[2] is None:
        return error_page("还没有演示社区。请先运行 linli seed-demo。", 404)
    group = scene[2]
    typed = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        member, name = _sender(demo_residents())
        text = form_text("text", label="消息", max_length=1000)
    except DomainError as exc:
        return render_template("try/page.html", **_context(scene, typed=typed,
                                                           errors={"send": people_message(exc.message)})), 400
    result = receive_entry({"chat_id": group.chat_id, "msg_id": uuid.uuid4().hex, "sender_id": member,
                            "sender_name": name, "text": text, "mentioned": bool(request.form.get("mention")),
                            "channel": "group"})
    if result["status"] not in ("stored", "duplicate"):
        message = "；".join(e["message"] for e in result.get("errors", [])) or "消息未能送达"
        return render_template("try/page.html", **_context(scene, typed=typed, errors={"send": message})), 400
    session["try_member"] = request.form.get("member") or VISITOR
    return redirect(url_for("web_try.page", group=group.chat_id))


@bp.post("/reply/<int(max=9223372036854775807):clock_id>")
def reply(clock_id: int):
    scene = _scene()
    duty = demo_duty_staff()
    if scene is None or duty is None:
        return error_page("演示社区现在没有值班人员。", 404)
    typed = request.form.get("text") or ""
    try:
        clock = inbox.clock_in_community(clock_id, duty)
        inbox.reply(clock, duty, form_text("text", label="回复内容", max_length=1000))
    except DomainError as exc:
        db.session.rollback()
        context = _context(scene, typed={clock_id: typed}, errors={clock_id: people_message(exc.message)})
        return render_template("try/page.html", **context), exc.status
    flash("已以值班人员身份公开回复，计时已停止。", "ok")
    return redirect(url_for("web_try.page", group=scene[2].chat_id if scene[2] else None))
