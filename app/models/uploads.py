"""Photos uploaded from the mini-program (request photos, resolution photos).

The file lives under the instance folder (``uploads/``); this row says who uploaded it and which
community may see it. ``key`` is the random name in its URL.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, IdMixin, TimestampMixin


class Upload(IdMixin, TimestampMixin, Base):
    __tablename__ = "upload"

    key: Mapped[str] = mapped_column(String(64), unique=True)
    uploader_kind: Mapped[str] = mapped_column(String(20))   # resident | staff
    uploader_id: Mapped[int] = mapped_column(BigId, index=True)
    # The uploader's community when uploading; a resident without one gets the request's on attaching.
    community_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)

    @property
    def path(self) -> str:
        """The URL path it is served at (the API's, relative to the server)."""
        return f"/api/v1/uploads/{self.key}.jpg"
