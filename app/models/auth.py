"""API bearer tokens (opaque, stored hashed) and staff invite codes."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, IdMixin, TimestampMixin


class ApiToken(IdMixin, TimestampMixin, Base):
    __tablename__ = "api_token"

    # sha256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    subject_kind: Mapped[str] = mapped_column(String(20))  # staff | resident
    subject_id: Mapped[int] = mapped_column(BigId, index=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[Optional[datetime]]
    label: Mapped[Optional[str]] = mapped_column(String(100))


class StaffInvite(IdMixin, TimestampMixin, Base):
    """A one-time code a staff member enters in the mini-program to bind their openid."""

    __tablename__ = "staff_invite"

    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[Optional[datetime]]
