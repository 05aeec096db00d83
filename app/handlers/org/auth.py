"""Issuing and checking API bearer tokens."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.models import Resident, Staff
from app.models.auth import ApiToken

STAFF = "staff"
RESIDENT = "resident"
DEFAULT_TTL = timedelta(days=7)


@dataclass
class IssuedToken:
    token: str
    expires_at: object
    row: ApiToken


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(subject_kind: str, subject_id: int, *, ttl: timedelta = DEFAULT_TTL,
                label: str | None = None) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    row = ApiToken(token_hash=_hash(token), subject_kind=subject_kind, subject_id=subject_id,
                   expires_at=now() + ttl, label=label)
    db.session.add(row)
    db.session.commit()
    return IssuedToken(token=token, expires_at=row.expires_at, row=row)


def resolve_token(token: str) -> Staff | Resident | None:
    """The active staff member or resident the token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    row = db.session.scalars(select(ApiToken).where(ApiToken.token_hash == _hash(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now():
        return None
    if row.subject_kind == STAFF:
        staff = db.session.get(Staff, row.subject_id)
        return staff if staff is not None and staff.active else None
    if row.subject_kind == RESIDENT:
        return db.session.get(Resident, row.subject_id)
    return None


def revoke_token(token: str) -> bool:
    row = db.session.scalars(select(ApiToken).where(ApiToken.token_hash == _hash(token))).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now()
    db.session.commit()
    return True
