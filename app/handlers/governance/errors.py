"""The governance domain's refusals: a DomainError with a code, a Chinese message and the field at fault."""
from __future__ import annotations

from app.errors import DomainError


class GovernanceError(DomainError):
    status = 400
    code = "invalid"


def refuse(message: str, code: str = "invalid", status: int = 400, *, field: str | None = None,
           extra: dict | None = None) -> GovernanceError:
    """The error to raise: ``raise refuse("…", "not_found", 404, field="need_id")``."""
    return GovernanceError(message, code=code, status=status, field=field, extra=extra)


def not_found(what: str, field: str | None = None) -> GovernanceError:
    return refuse(f"没有找到这个{what}", "not_found", 404, field=field)
