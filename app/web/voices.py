"""Console pages of 百姓说事: the residents' suggestions by state, a suggestion's page with its public
answer (sent back to the group it was said in, else to the resident), promotion to a 议事 topic and
closing; and a suggestion recorded for a resident met on a round or on the phone.

The same handlers and roles as app/api/governance/suggestions.py: every community staff member
sees them; COLLECTORS (grid workers too: 每日巡、经常访) record, answer and close; EDITORS promote
one to a topic. Another community's suggestion is "not found" (the handler's own check).
"""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from sqlalchemy import func, select

from app.extensions import db
from app.handlers.governance import suggestions, terms
from app.handlers.governance.roles import COLLECTORS, EDITORS, VIEWERS
from app.models import ResidentGroup, Staff, Suggestion
from app.models.governance import SUGGESTION_STATUSES
from app.web.govforms import form_body, submit, typed
from app.web.login import current_staff, staff_required
from app.web.support import protect

bp = protect(Blueprint("web_voices", __name__, url_prefix="/console"))

SOURCES = {"chat": "居民在群里或私信里说的", "api": "居民在小程序里提的", "staff": "工作人员代为登记"}
# The default tab: what still needs someone (not yet answered, or answered but not yet closed).
OPEN = ["new", "answered"]


def _list_context(staff: Staff, *, error: str | None = None) -> dict:
    which = request.args.get("status") or "open"
    status = OPEN if which == "open" else [which] if which in SUGGESTION_STATUSES else None
    rows = suggestions.suggestions(staff.community_id, status=status)
    counts = dict(db.session.execute(select(Suggestion.status, func.count()).where(
        Suggestion.community_id == staff.community_id).group_by(Suggestion.status)).all())
    return {"suggestions": [suggestions.suggestion_view(r, for_staff=True) for r in rows], "which": which,
            "statuses": SUGGESTION_STATUSES, "counts": counts, "open_count": sum(counts.get(s, 0) for s in OPEN),
            "can_collect": staff.has_role(*COLLECTORS), "error": error, "typed": typed() if error else {},
            "prefixes": said_as()}


def said_as() -> list[str]:
    """A few of the words the bot takes as a suggestion at the start of a message (the shortest)."""
    return sorted(terms.terms().suggestion_prefixes, key=len)[:3]


@bp.get("/suggestions")
@staff_required(*VIEWERS)
def suggestions_page():
    return render_template("console/suggestions.html", **_list_context(current_staff()))


@bp.post("/suggestions")
@staff_required(*COLLECTORS)
def suggestion_record():
    staff = current_staff()

    def record():
        row, _created = suggestions.collect(staff.community_id, form_body(party_select=False).get("text"),
                                            resident=None, source="staff", staff=staff)
        return f"已登记建议 {row.code}。答复后会显示在百姓说事公开列表上。", \
            url_for("web_voices.suggestion_page", suggestion_id=row.id)

    return submit(record, "console/suggestions.html", lambda error: _list_context(staff, error=error))


def _reply_place(row: Suggestion) -> str:
    """Where the public answer goes, in words."""
    if row.reply_kind == "group":
        group = db.session.get(ResidentGroup, row.group_id) if row.group_id else None
        return f"发回居民群“{group.name}”" if group else "发回原来的居民群"
    if row.reply_kind == "user":
        return "私信发给提建议的居民"
    return "没有可发回的地方（代为登记的建议），答复显示在公开列表上"


def _detail_context(staff: Staff, suggestion_id: int, *, error: str | None = None,
                    action: str | None = None) -> dict:
    row = suggestions.suggestion_in(staff.community_id, suggestion_id)
    return {"s": suggestions.suggestion_view(row, for_staff=True), "source_label": SOURCES.get(row.source, row.source),
            "reply_place": _reply_place(row), "close_reason": (row.detail or {}).get("close_reason"),
            "can_collect": staff.has_role(*COLLECTORS), "can_promote": staff.has_role(*EDITORS),
            "error": error, "failed_action": action, "typed": typed() if error else {}}


@bp.get("/suggestions/<int(max=9223372036854775807):suggestion_id>")
@staff_required(*VIEWERS)
def suggestion_page(suggestion_id: int):
    return render_template("console/suggestion.html", **_detail_context(current_staff(), suggestion_id))


def _act(suggestion_id: int, action: str, run):
    """One of the suggestion's actions: ``run(row, body)`` calls the handler and returns what to say."""
    staff = current_staff()
    row = suggestions.suggestion_in(staff.community_id, suggestion_id)
    here = url_for("web_voices.suggestion_page", suggestion_id=suggestion_id)
    return submit(lambda: (run(row, form_body(party_select=False), staff), here), "console/suggestion.html",
                  lambda error: _detail_context(staff, suggestion_id, error=error, action=action))


def _answer(row: Suggestion, body: dict, staff: Staff) -> str:
    sent = suggestions.answer(row, body.get("answer"), staff)
    return f"已公开答复 {row.code}，" + ("答复已" + _reply_place(row) + "。" if sent else "答复显示在公开列表上。")


def _promote(row: Suggestion, body: dict, staff: Staff) -> str:
    topic = suggestions.promote(row, {k: body[k] for k in ("title", "detail") if k in body}, staff)
    return f"建议 {row.code} 已转为{topic.label}（收集问题），可在议事里办理。"


def _close(row: Suggestion, body: dict, staff: Staff) -> str:
    suggestions.close(row, body.get("reason"), staff)
    return f"建议 {row.code} 已关闭。"


@bp.post("/suggestions/<int(max=9223372036854775807):suggestion_id>/answer")
@staff_required(*COLLECTORS)
def suggestion_answer(suggestion_id: int):
    return _act(suggestion_id, "answer", _answer)


@bp.post("/suggestions/<int(max=9223372036854775807):suggestion_id>/promote")
@staff_required(*EDITORS)
def suggestion_promote(suggestion_id: int):
    return _act(suggestion_id, "promote", _promote)


@bp.post("/suggestions/<int(max=9223372036854775807):suggestion_id>/close")
@staff_required(*COLLECTORS)
def suggestion_close(suggestion_id: int):
    return _act(suggestion_id, "close", _close)
