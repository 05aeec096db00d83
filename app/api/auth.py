"""Mini-program login: ``POST /api/v1/auth/login`` and ``POST /api/v1/auth/bind``.

The mini-program calls ``wx.login()`` and sends the one-time ``code``; the
server exchanges it with WeChat (``code2session``) for the user's openid. A
staff member whose openid is bound gets a staff token; anyone else is a
resident (found or created from the openid). ``session_key`` is used by
nobody here and is never stored, logged or returned.

A staff member binds their WeChat once: log in (as a resident), then
``POST /auth/bind {"invite_code"}`` with the code printed by ``linli staff add``.
"""
from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app, g, jsonify, request
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.api.schemas import sla as schemas
from app.api.support import field, iso, json_body, route
from app.channels import wechat_api
from app.clock import now
from app.errors import ApiError, Conflict, ValidationError
from app.extensions import db, redis_ext
from app.handlers.audit import record
from app.handlers.org.auth import RESIDENT, STAFF, issue_token
from app.models import Channel, IdentityKind, Resident, ResidentIdentity, Staff
from app.models.auth import ApiToken, StaffInvite

CODE_WINDOW = 600  # seconds: the per-code (and per-invite) attempt window
IP_WINDOW = 60


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int):
        super().__init__("操作太频繁，请稍后再试 (too many attempts)", extra={"retry_after": retry_after})
        self.retry_after = retry_after


class UpstreamError(ApiError):
    status = 502
    code = "wechat_unavailable"


def _hit(key: str, limit: int, window: int) -> None:
    """Count one attempt in a fixed window; RateLimited when over ``limit``."""
    client = redis_ext.client
    pipe = client.pipeline()
    pipe.set(key, 0, ex=window, nx=True)
    pipe.incr(key)
    pipe.ttl(key)
    _, count, ttl = pipe.execute()
    if count > limit:
        raise RateLimited(max(1, int(ttl) if ttl and ttl > 0 else window))


def _client_address() -> str:
    return request.remote_addr or "unknown"


def check_rate(kind: str, secret: str) -> None:
    """Per client address and per code (hashed: codes are credentials and stay out of Redis)."""
    config = current_app.config
    _hit(f"linli:ratelimit:{kind}:ip:{_client_address()}", int(config["LOGIN_RATE_PER_IP"]), IP_WINDOW)
    digest = hashlib.sha256(secret.encode()).hexdigest()[:32]
    _hit(f"linli:ratelimit:{kind}:code:{digest}", int(config["LOGIN_RATE_PER_CODE"]), CODE_WINDOW)


def _rate_limited_response(exc: RateLimited):
    return jsonify(exc.body()), 429, {"Retry-After": str(exc.retry_after)}


def exchange_code(code: str) -> dict:
    """WeChat's code2session through the channels module; errors become 400/429/502 JSON."""

    try:
        session = wechat_api.code2session(code)
    except Exception as exc:  # noqa: BLE001 - classified below by WeChat's errcode
        errcode = getattr(exc, "errcode", None)
        if errcode is None:
            errcode = getattr(exc, "code", None)
        try:
            errcode = int(errcode) if errcode is not None else None
        except (TypeError, ValueError):
            errcode = None
        if errcode in (40029, 40163, 40226):  # invalid code, code already used, high-risk user blocked
            raise ValidationError("登录凭证无效或已使用，请重新登录 (invalid or used code)", field="code") from None
        if errcode == 45011:
            raise RateLimited(60) from None
        current_app.logger.warning("code2session failed: %s", type(exc).__name__)
        raise UpstreamError("微信登录服务暂时不可用，请稍后再试 (WeChat unavailable)") from None
    if not isinstance(session, dict) or not session.get("openid"):
        raise UpstreamError("微信登录服务返回异常，请稍后再试 (no openid)")
    return session


def _token_ttl() -> timedelta:
    return timedelta(days=int(current_app.config["LOGIN_TOKEN_DAYS"]))


def _identity(kind: str, value: str) -> ResidentIdentity | None:
    return db.session.scalars(select(ResidentIdentity).where(
        ResidentIdentity.channel == Channel.MINIPROGRAM.value, ResidentIdentity.kind == kind,
        ResidentIdentity.value == value)).first()


def resident_for(openid: str, unionid: str | None) -> Resident:
    """The resident with this mini-program openid, created on first login.

    With a unionid the resident already known from the official account or
    WeCom (same unionid) is reused, so one person is one resident.
    """
    found = _identity(IdentityKind.OPENID.value, openid)
    if found is not None:
        return found.resident
    resident = None
    if unionid:
        other = db.session.scalars(select(ResidentIdentity).where(
            ResidentIdentity.kind == IdentityKind.UNIONID.value, ResidentIdentity.value == unionid)).first()
        resident = other.resident if other is not None else None
    if resident is None:
        resident = Resident()
        db.session.add(resident)
    resident.identities.append(ResidentIdentity(channel=Channel.MINIPROGRAM.value, kind=IdentityKind.OPENID.value,
                                                value=openid))
    if unionid and not any(i.kind == IdentityKind.UNIONID.value and i.value == unionid for i in resident.identities):
        resident.identities.append(ResidentIdentity(channel=Channel.MINIPROGRAM.value,
                                                    kind=IdentityKind.UNIONID.value, value=unionid))
    try:
        db.session.commit()
    except IntegrityError:
        # The same user logged in twice at once: the other request created it.
        db.session.rollback()
        found = _identity(IdentityKind.OPENID.value, openid)
        if found is None:  # pragma: no cover - the unique key guarantees it
            raise
        return found.resident
    return resident


def _login_response(subject: Staff | Resident) -> dict:
    if isinstance(subject, Staff):
        issued = issue_token(STAFF, subject.id, ttl=_token_ttl(), label="miniprogram")
        user = {"kind": "staff", **subject.staff_view()}
    else:
        issued = issue_token(RESIDENT, subject.id, ttl=_token_ttl(), label="miniprogram")
        user = {"kind": "resident", **subject.own_view(), "community_id": subject.community_id}
    return {"token": issued.token, "token_type": "Bearer", "expires_at": iso(issued.expires_at), "user": user}


@route("/auth/login", ["POST"], auth="none", tags=["auth"],
       summary="Log in with a wx.login() code: a staff token if the openid is bound to staff, else a resident token",
       body={"type": "object", "required": ["code"], "properties": {"code": {"type": "string", "maxLength": 128}}},
       responses={"200": {"description": "token, expires_at and the user (kind staff|resident)"},
                  "400": {"description": "missing or invalid code (field: code)"},
                  "429": {"description": "too many attempts (retry_after seconds)"},
                  "502": {"description": "WeChat unavailable"}},
       returns=schemas.LOGIN, errors={429: ["rate_limited"], 502: ["wechat_unavailable"]})
def auth_login():
    data = json_body()
    code = field(data, "code", str, max_length=128)
    try:
        check_rate("login", code)
    except RateLimited as exc:
        return _rate_limited_response(exc)
    try:
        session = exchange_code(code)
    except RateLimited as exc:
        return _rate_limited_response(exc)
    openid, unionid = session["openid"], session.get("unionid")
    staff = db.session.scalars(select(Staff).where(Staff.openid == openid)).first()
    if staff is not None and staff.active:
        return _login_response(staff)
    return _login_response(resident_for(openid, unionid))


def _resident_openid(resident: Resident) -> str | None:
    for identity in resident.identities:
        if identity.channel == Channel.MINIPROGRAM.value and identity.kind == IdentityKind.OPENID.value:
            return identity.value
    return None


@route("/auth/bind", ["POST"], auth="any", tags=["auth"],
       summary="Bind the logged-in WeChat user to a staff account with an invite code (from `linli staff add`)",
       body={"type": "object", "required": ["invite_code"],
             "properties": {"invite_code": {"type": "string", "maxLength": 20}}},
       responses={"200": {"description": "a staff token (the resident token used is revoked)"},
                  "400": {"description": "invalid, used or expired invite code (field: invite_code)"},
                  "409": {"description": "already bound"},
                  "429": {"description": "too many attempts"}},
       returns=schemas.LOGIN, errors={409: ["conflict"], 429: ["rate_limited"]})
def auth_bind():
    data = json_body()
    code = field(data, "invite_code", str, max_length=20).upper().replace(" ", "")
    try:
        check_rate("bind", code)
    except RateLimited as exc:
        return _rate_limited_response(exc)
    subject = g.subject
    if isinstance(subject, Staff):
        raise Conflict("当前微信已绑定工作人员账号 (already bound to staff)", field="invite_code")
    openid = _resident_openid(subject)
    if openid is None:
        raise ValidationError("请先在小程序中用微信登录 (log in with the mini-program first)", field="invite_code")
    invite = db.session.scalars(select(StaffInvite).where(StaffInvite.code == code)).first()
    if invite is None or invite.used_at is not None or invite.expires_at <= now():
        raise ValidationError("邀请码无效、已使用或已过期 (invalid, used or expired invite code)", field="invite_code")
    staff = db.session.get(Staff, invite.staff_id)
    if staff is None or not staff.active:
        raise ValidationError("该工作人员账号已停用 (staff account inactive)", field="invite_code")
    if staff.openid and staff.openid != openid:
        raise Conflict("该工作人员已绑定其他微信，请联系管理员 (bound to another WeChat)", field="invite_code")
    other = db.session.scalars(select(Staff).where(Staff.openid == openid, Staff.id != staff.id)).first()
    if other is not None:
        raise Conflict("当前微信已绑定其他工作人员账号 (this WeChat is bound to another staff member)",
                       field="invite_code")
    used = db.session.execute(update(StaffInvite).where(StaffInvite.id == invite.id, StaffInvite.used_at.is_(None))
                              .values(used_at=now()).execution_options(synchronize_session=False))
    if used.rowcount != 1:
        db.session.rollback()
        raise ValidationError("邀请码已使用 (invite code already used)", field="invite_code")
    staff.openid = openid
    record("staff", staff.id, "staff.bound_wechat", staff, community_id=staff.community_id,
           detail={"invite_id": invite.id, "resident_id": subject.id})
    # The resident token that made this call is no longer this person's login.
    header = request.headers.get("Authorization", "")[7:].strip()
    db.session.execute(update(ApiToken).where(
        ApiToken.token_hash == hashlib.sha256(header.encode()).hexdigest(), ApiToken.revoked_at.is_(None))
        .values(revoked_at=now()).execution_options(synchronize_session=False))
    db.session.commit()
    return _login_response(staff)
