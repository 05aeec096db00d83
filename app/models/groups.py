"""Resident groups: a chat on a channel, mapped to a community (and a grid)."""
from __future__ import annotations

import enum
from typing import Optional

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, IdMixin, TimestampMixin


class GroupKind(str, enum.Enum):
    RESIDENT = "resident"  # 居民群: residents and duty staff
    DUTY = "duty"          # 值班群: staff only; alerts are pushed here


class ResidentGroup(IdMixin, TimestampMixin, Base):
    __tablename__ = "resident_group"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    grid_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("grid.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default=GroupKind.RESIDENT.value)
    # WeCom group robot push URL (contains its key: a secret, never logged or shown).
    webhook_url: Mapped[Optional[str]] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(default=True)

    def staff_view(self) -> dict:
        return {"id": self.id, "community_id": self.community_id, "grid_id": self.grid_id,
                "channel": self.channel, "chat_id": self.chat_id, "name": self.name, "kind": self.kind,
                "has_webhook": bool(self.webhook_url), "active": self.active}
