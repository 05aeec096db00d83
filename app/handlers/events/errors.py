"""The events domain's refusal: a Chinese message for residents and staff, a code for the API."""
from __future__ import annotations

from app.errors import DomainError


class EventError(DomainError):
    """A refusal by the events rules; the API answers it as JSON with its status (409 unless told)."""

    status = 409
    code = "event_error"


def refusal(message: str, code: str, status: int = 409, field: str | None = None, **extra) -> EventError:
    return EventError(message, code=code, status=status, field=field, extra=extra or None)
