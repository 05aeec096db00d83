"""Staff login for the web console: the staff invite code or a one-time link, a session cookie, logout.

- Invite code: the code printed by `linli staff add` (or `linli web-demo`); it also binds the
  mini-program, so logging in here does not use it up. Attempts are limited per address
  and per code (LINLI_LOGIN_RATE_PER_IP / LINLI_LOGIN_RATE_PER_CODE).
- One-time link: `linli staff token ID --link` prints /console/login/link?token=…; opening it
  asks for one click (a POST: link previewers that fetch it do not log anybody in), which
  uses the link up.
The session cookie is signed with LINLI_SECRET_KEY, HTTP-only, SameSite=Lax; it holds the
staff id only and is checked against the database on every request (a deactivated member
is logged out at once).
"""
from __future__ import annotations

import functools
import hashlib
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from sqlalchemy import select, update

from app.clock import now
from app.errors import ValidationError
from app.extensions import db, redis_ext
from app.handlers.audit import record
from app.models import Staff
from app.models.auth import ApiToken, StaffInvite
from app.web.demo import demo_duty_staff
from app.web.support import demo_mode, error_page, form_text, protect

bp = protect(Blueprint("web_login", __name__, url_prefix="/console"))

LINK_LABEL = "web-login-link"
LINK_TTL = timedelta(hours=24)
WINDOWS = {"ip": 60, "code": 600}
CACHE_KEY = "linli.web_staff"


def current_staff() -> Staff | None:
    # Cached per request (not on g: an app context may outlive one request, as in tests).
    if CACHE_KEY in request.environ:
        return request.environ[CACHE_KEY]
    staff = None
    staff_id = session.get("staff_id")
    if isinstance(staff_id, int):
        staff = db.session.get(Staff, staff_id)
        if staff is not None and not staff.active:
            staff = None
    request.environ[CACHE_KEY] = staff
    return staff


def staff_required(*roles: str, community: bool = True):
    """Log in first (redirect), then the roles (403 page); ``community``: community staff only, as the API."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            staff = current_staff()
            if staff is None:
                return redirect(url_for("web_login.login", next=request.full_path.rstrip("?")))
            if community and staff.community_id is None:
                return error_page("这个页面仅限社区工作人员使用。", 403)
            if roles and not staff.has_role(*roles):
                return error_page("您的角色不能使用这个页面。", 403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _safe_next(raw: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    raw = (raw or "").strip()
    parts = urlsplit(raw)
    if not raw.startswith("/") or raw.startswith("//") or parts.scheme or parts.netloc or "\\" in raw:
        return url_for("web_console.inbox")
    return raw


def _over_limit(kind: str, value: str) -> bool:
    limit = int(current_app.config["LOGIN_RATE_PER_IP" if kind == "ip" else "LOGIN_RATE_PER_CODE"])
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    key = f"linli:ratelimit:web-login:{kind}:{digest}"
    pipe = redis_ext.client.pipeline()
    pipe.set(key, 0, ex=WINDOWS[kind], nx=True)
    pipe.incr(key)
    _, count = pipe.execute()
    return int(count) > limit


def fresh_session() -> None:
    """Forget the session and its CSRF token (Flask-WTF also keeps the token on g for the request)."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def start_session(staff: Staff, how: str) -> None:
    fresh_session()  # a new session (and CSRF token) for the new login
    session["staff_id"] = staff.id
    session.permanent = False
    record("staff", staff.id, "staff.web_login", staff, community_id=staff.community_id, detail={"via": how})
    db.session.commit()


def _staff_for_invite(code: str) -> Staff | None:
    invite = db.session.scalars(select(StaffInvite).where(StaffInvite.code == code)).first()
    if invite is None or invite.expires_at <= now():
        return None
    staff = db.session.get(Staff, invite.staff_id)
    return staff if staff is not None and staff.active else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_staff() is not None:
            return redirect(next_url)
        return render_template("console/login.html", next=next_url, code="", error=None)
    typed = (request.form.get("code") or "").strip()
    try:
        code = form_text("code", label="邀请码", max_length=20).upper().replace(" ", "").replace("-", "")
    except ValidationError as exc:
        return render_template("console/login.html", next=next_url, code=typed, error=exc.message), 400
    if _over_limit("ip", request.remote_addr or "unknown") or _over_limit("code", code):
        return render_template("console/login.html", next=next_url, code=typed,
                               error="尝试次数太多，请过几分钟再试。"), 429
    staff = _staff_for_invite(code)
    if staff is None:
        return render_template("console/login.html", next=next_url, code=typed,
                               error="邀请码不正确或已过期，请向社区管理员索取新的邀请码。"), 400
    start_session(staff, "invite_code")
    return redirect(next_url)


def _link_row(token: str) -> ApiToken | None:
    if not token or len(token) > 200:
        return None
    row = db.session.scalars(select(ApiToken).where(
        ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest(), ApiToken.label == LINK_LABEL)).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now():
        return None
    return row


@bp.route("/login/link", methods=["GET", "POST"])
def login_link():
    token = (request.values.get("token") or "").strip()
    row = _link_row(token)
    staff = db.session.get(Staff, row.subject_id) if row is not None else None
    if staff is None or not staff.active:
        return error_page("登录链接无效、已使用或已过期。请运行 linli staff token 编号 --link 重新生成。", 400)
    if request.method == "GET":
        return render_template("console/link.html", staff=staff, token=token)
    used = db.session.execute(update(ApiToken).where(ApiToken.id == row.id, ApiToken.revoked_at.is_(None))
                              .values(revoked_at=now()).execution_options(synchronize_session=False))
    db.session.commit()
    if used.rowcount != 1:
        return error_page("登录链接已使用。", 400)
    start_session(staff, "link")
    return redirect(url_for("web_console.inbox"))


@bp.post("/logout")
def logout():
    fresh_session()
    return redirect(url_for("web_login.login"))


@bp.post("/login/demo")
def login_demo():
    """One click to the demo's duty staff member: the embedded default and development only."""
    staff = demo_duty_staff() if demo_mode() else None
    if staff is None:
        return error_page("没有这个页面，或者它已不存在。", 404)
    start_session(staff, "demo")
    return redirect(_safe_next(request.form.get("next")))
