"""The refusals of proxy-handling: each is a DomainError with a machine code, a Chinese message for
residents and staff, the HTTP status it maps to and the field at fault.

The API's error handler answers them as ``{"error": {...}}``; chat handlers quote
``message``; the CLI prints it in one line. Every proxy refusal has a code, so it
comes first in the constructor.
"""
from __future__ import annotations

from typing import Any

from app.errors import DomainError


class ProxyError(DomainError):
    def __init__(self, code: str, message: str, *, status: int = 400, field: str | None = None,
                 extra: dict[str, Any] | None = None):
        super().__init__(message, code=code, status=status, field=field, extra=extra)


class BookingError(ProxyError):
    """A booking request that cannot be carried out."""

    @classmethod
    def from_error(cls, exc: ProxyError) -> "BookingError":
        """The same refusal raised by a step of the booking (a slot check, a case)."""
        return cls(exc.code, exc.message, status=exc.status, field=exc.field, extra=exc.extra)


class SlotError(ProxyError):
    """A slot that cannot be booked, or a station plan that cannot be used."""

    def __init__(self, code: str, message: str, *, status: int = 400, field: str | None = "slot_start",
                 extra: dict[str, Any] | None = None):
        super().__init__(code, message, status=status, field=field, extra=extra)


class CaseError(ProxyError):
    """A case (代办件) step that the rules refuse."""


class CatalogueError(ProxyError):
    """A catalogue entry or file that cannot be used; ``field`` names the culprit."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__("invalid", message, status=400, field=field)
