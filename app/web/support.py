"""What every web blueprint shares: CSRF on POST, Chinese error pages, form fields, demo mode.

Bad input never becomes a traceback: a handler's refusal (DomainError) and a bad form value
are shown in Chinese on the page, which the views re-render with what the user typed.
"""
from __future__ import annotations

import logging
import math
import re

from flask import Blueprint, current_app, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from app.errors import DomainError, ValidationError
from app.extensions import db
from app.models import Message, Resident, ResidentGroup
from app.models.requests import ServiceRequest
from app.web.filters import people_message

log = logging.getLogger(__name__)

csrf = CSRFProtect()

# C0 controls other than tab/newline and lone surrogates: nothing a person types (the API refuses them too).
BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
MAX_ID = 2**63 - 1

HTTP_MESSAGES = {
    400: "请求有误，请返回重试。", 403: "您没有权限查看这个页面。", 404: "没有这个页面，或者它已不存在。",
    405: "不支持这种操作。", 413: "提交的内容太大。", 429: "操作太频繁，请稍后再试。",
}


def demo_mode() -> bool:
    """The embedded default and development: the simulator and the local sent-messages record exist."""
    return current_app.config.get("ENV") != "production"


def error_page(message: str, status: int):
    return render_template("error.html", message=message, status=status), status


def http_error_page(exc: HTTPException):
    """An HTTP error (404, 405, 413…) as the Chinese page, keeping the error's own headers
    (a 405's Allow, a 429's Retry-After) but not its content type."""
    code = exc.code or 500
    body, status = error_page(HTTP_MESSAGES.get(code, "请求未能完成。"), code)
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    return body, status, headers


def protect(bp: Blueprint) -> Blueprint:
    """CSRF check on every unsafe method of this blueprint, and Chinese error pages."""

    @bp.before_request
    def _csrf():
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()

    @bp.errorhandler(CSRFError)
    def _csrf_error(exc):
        return error_page("页面已过期或来源不明，请刷新页面后重新提交。", 400)

    @bp.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        return error_page(people_message(exc.message), exc.status)

    bp.register_error_handler(HTTPException, http_error_page)

    return bp


def form_text(name: str, *, label: str, max_length: int, required: bool = True) -> str | None:
    value = (request.form.get(name) or "").strip()
    if BAD_TEXT.search(value):
        raise ValidationError(f"{label}含有无法识别的字符，请重新输入", field=name)
    if not value:
        if required:
            raise ValidationError(f"请填写{label}", field=name)
        return None
    if len(value) > max_length:
        raise ValidationError(f"{label}不能超过 {max_length} 个字（现在 {len(value)} 个）", field=name)
    return value


def form_choice(name: str, choices, *, label: str, required: bool = True) -> str | None:
    value = (request.form.get(name) or "").strip()
    if not value and not required:
        return None
    if value not in set(choices):
        raise ValidationError(f"请选择{label}", field=name)
    return value


def parse_id(raw: str | None, *, label: str, name: str, required: bool = True) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        if required:
            raise ValidationError(f"请填写{label}", field=name)
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ID:
        raise ValidationError(f"{label}必须是正整数编号", field=name)
    return int(raw)


def arg_id(name: str) -> int | None:
    """An optional id in the query string; a bad one is treated as absent (the page shows the default)."""
    raw = (request.args.get(name) or "").strip()
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_ID:
        return int(raw)
    return None


def page_count(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def preload(model, ids) -> list:
    """Load these rows in one query so the handlers' views find them in the session (no query each).

    Keep the returned list alive while rendering: the session's identity map holds rows weakly.
    """
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return []
    return list(db.session.scalars(select(model).where(model.id.in_(wanted))))


def preload_clocks(clocks) -> list:
    """What ``sla.clock_view`` reads for each clock: its message, group, resident and request."""
    return (preload(Message, (c.message_id for c in clocks)) + preload(ResidentGroup, (c.group_id for c in clocks))
            + preload(Resident, (c.resident_id for c in clocks))
            + preload(ServiceRequest, (c.request_id for c in clocks)))
