"""Inbound messages: finishing a deferred report, and the backstop for spooled or unhandled deliveries."""
from __future__ import annotations

from app.channels.recovery import sweep
from app.handlers.requests import finish_deferred
from workers.jobs import job


@job("inbound.finish")
def finish_message(message_id: int) -> dict:
    """Create the request a report was answered with in the callback (once; nothing when done already)."""
    request = finish_deferred(message_id)
    return {"message_id": message_id, "request_id": request.id if request is not None else None}


@job("inbound.sweep")
def sweep_inbound() -> dict:
    """Drain this node's spool, handle stored-but-unhandled messages, finish deferred reports left pending."""
    return sweep()
