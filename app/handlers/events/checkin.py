"""Check-in and check-out at the door: the resident's signed code, or the list.

The mini-program shows a signed code with a fresh nonce (itsdangerous, aged by the
app's clock); staff scan it, or pick the person from the list. A nonce counts once,
so a re-sent scan is a replay, not a second check-in. Check-out credits volunteer
hours to registered members (hours.credit_checkin_hours).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.audit import record
from app.handlers.events.errors import refusal
from app.handlers.events.hours import credit_checkin_hours
from app.models import Staff
from app.models.events import CheckIn, Event, EventStatus, Signup, SignupStatus
from app.models.volunteers import HoursEntry

# Check-in opens this long before the start and closes this long after the end.
CHECKIN_OPENS_BEFORE = timedelta(hours=2)
CHECKIN_CLOSES_AFTER = timedelta(hours=12)


class ClockSigner(TimestampSigner):
    # Code age follows the app's clock, so tests (and the FrozenClock) control expiry.
    def get_timestamp(self) -> int:
        return int(clock_now().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="linli.event-checkin", signer=ClockSigner)


def make_checkin_code(signup: Signup) -> dict[str, Any]:
    """A signed code for the mini-program to show as a QR code; each call has a fresh nonce."""
    if signup.status not in (SignupStatus.CONFIRMED.value, SignupStatus.ATTENDED.value):
        if signup.status == SignupStatus.WAITING.value:
            raise refusal("您还在候补名单上，转为正式报名后才有签到码", "waiting")
        raise refusal("这条报名已取消或已结束，没有签到码", "not_confirmed")
    event = db.session.get(Event, signup.event_id)
    if event.status != EventStatus.PUBLISHED.value:
        raise refusal("活动已取消", "cancelled")
    nonce = secrets.token_urlsafe(12)
    code = _serializer().dumps({"s": signup.id, "e": signup.event_id, "n": nonce})
    seconds = current_app.config["EVENT_CHECKIN_CODE_SECONDS"]
    return {"code": code, "nonce": nonce, "expires_at": clock_now() + timedelta(seconds=seconds),
            "action": "checkout" if signup.checked_in_at else "checkin"}


def read_checkin_code(code: str) -> tuple[int, int, str]:
    """(signup id, event id, nonce) from a code; refuses an expired, forged or malformed one."""
    if not isinstance(code, str) or not code or len(code) > 500:
        raise refusal("签到码无效", "invalid_code", 400, field="code")
    try:
        data = _serializer().loads(code, max_age=current_app.config["EVENT_CHECKIN_CODE_SECONDS"])
    except SignatureExpired:
        raise refusal("签到码已过期，请居民刷新小程序中的签到码", "code_expired", 400, field="code") from None
    except BadSignature:
        raise refusal("签到码无效", "invalid_code", 400, field="code") from None
    try:
        return int(data["s"]), int(data["e"]), str(data["n"])
    except (KeyError, TypeError, ValueError):
        raise refusal("签到码无效", "invalid_code", 400, field="code") from None


@dataclass
class CheckResult:
    signup: Signup
    checkin: CheckIn
    replay: bool = False
    hours_entry: HoursEntry | None = None


@dataclass
class _Scan:
    event: Event
    staff: Staff
    kind: str          # "in" or "out"
    signup_id: int
    nonce: str
    method: str        # "code" or "list"


def _identify(event: Event, staff: Staff, kind: str, code: str | None, signup_id: int | None,
              nonce: str | None) -> _Scan:
    if code:
        signup_id, code_event_id, nonce = read_checkin_code(code)
        if code_event_id != event.id:
            raise refusal("这张签到码不是本活动的：该居民未报名本活动", "wrong_event")
        return _Scan(event, staff, kind, signup_id, nonce, "code")
    if signup_id is not None:
        return _Scan(event, staff, kind, signup_id, (nonce or "").strip()[:64] or f"list-{signup_id}-{kind}", "list")
    raise refusal("请扫描签到码或从名单中选择", "invalid", 400, field="code")


def _check_signup(scan: _Scan) -> Signup:
    event = scan.event
    signup = db.session.get(Signup, scan.signup_id)
    if signup is None or signup.event_id != event.id:
        raise refusal("该居民未报名本活动", "not_signed_up", 404)
    if event.status != EventStatus.PUBLISHED.value:
        raise refusal("活动已取消", "cancelled")
    moment = clock_now()
    if moment < event.starts_at - CHECKIN_OPENS_BEFORE:
        raise refusal(f"签到尚未开始（活动开始前{int(CHECKIN_OPENS_BEFORE.total_seconds() // 3600)}小时开放）",
                      "too_early")
    if moment > event.ends_at + CHECKIN_CLOSES_AFTER:
        raise refusal("活动已结束太久，不能再签到，请由管理员补录时长", "too_late")
    if signup.status == SignupStatus.WAITING.value:
        raise refusal("该居民在候补名单上，还没有获得名额", "waiting")
    if signup.status == SignupStatus.CANCELLED.value:
        raise refusal("该居民已取消报名", "cancelled_signup")
    return signup


def _write(scan: _Scan, signup: Signup) -> CheckResult:
    """Record the check-in (or check-out and its hours) and commit."""
    moment = clock_now()
    row = CheckIn(event_id=scan.event.id, signup_id=signup.id, kind=scan.kind, method=scan.method, nonce=scan.nonce,
                  at=moment, staff_id=scan.staff.id)
    db.session.add(row)
    hours_entry = None
    if scan.kind == "in":
        signup.status = SignupStatus.ATTENDED.value
        signup.checked_in_at = moment
    else:
        signup.checked_out_at = moment
        hours_entry = credit_checkin_hours(scan.event, signup, scan.staff)
    db.session.flush()
    record("staff", scan.staff.id, f"event.check{scan.kind}", signup, community_id=scan.event.community_id,
           detail={"event_id": scan.event.id, "method": scan.method})
    db.session.commit()
    return CheckResult(signup, row, hours_entry=hours_entry)


def _lost_race(scan: _Scan) -> CheckResult | None:
    """A concurrent scan of the same code (or the same person) won: its row is the answer."""
    existing = db.session.scalars(select(CheckIn).where(
        or_(CheckIn.nonce == scan.nonce, (CheckIn.signup_id == scan.signup_id) & (CheckIn.kind == scan.kind)))).first()
    if existing is None:  # pragma: no cover - the unique keys guarantee a row
        return None
    if existing.signup_id == scan.signup_id and existing.kind == scan.kind:
        return CheckResult(db.session.get(Signup, scan.signup_id), existing, replay=True)
    raise refusal("这张签到码已经用过了，请居民刷新签到码", "code_used") from None


def _scan(event: Event, staff: Staff, kind: str, *, code: str | None, signup_id: int | None,
          nonce: str | None) -> CheckResult:
    scan = _identify(event, staff, kind, code, signup_id, nonce)
    used = db.session.scalars(select(CheckIn).where(CheckIn.nonce == scan.nonce)).first()
    if used is not None:
        if used.signup_id == scan.signup_id and used.kind == kind and used.event_id == event.id:
            return CheckResult(db.session.get(Signup, scan.signup_id), used, replay=True)
        raise refusal("这张签到码已经用过了，请居民刷新签到码", "code_used")
    signup = _check_signup(scan)
    existing = db.session.scalars(select(CheckIn).where(CheckIn.signup_id == signup.id, CheckIn.kind == kind)).first()
    if existing is not None:
        # Checked in (or out) already with another code: count once, say so.
        return CheckResult(signup, existing, replay=True)
    if kind == "out" and signup.checked_in_at is None:
        raise refusal("该居民还没有签到，不能签退", "not_checked_in")
    try:
        return _write(scan, signup)
    except IntegrityError:
        db.session.rollback()
        result = _lost_race(scan)
        if result is None:  # pragma: no cover
            raise
        return result
    except BaseException:
        db.session.rollback()
        raise


def check_in(event: Event, staff: Staff, *, code: str | None = None, signup_id: int | None = None,
             nonce: str | None = None) -> CheckResult:
    return _scan(event, staff, "in", code=code, signup_id=signup_id, nonce=nonce)


def check_out(event: Event, staff: Staff, *, code: str | None = None, signup_id: int | None = None,
              nonce: str | None = None) -> CheckResult:
    return _scan(event, staff, "out", code=code, signup_id=signup_id, nonce=nonce)
