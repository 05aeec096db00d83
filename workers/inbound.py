"""The inbound backstop: spooled deliveries and stored-but-unhandled messages (app/channels/recovery.py)."""
from __future__ import annotations

from app.channels.recovery import sweep
from workers.jobs import job


@job("inbound.sweep")
def sweep_inbound() -> dict:
    """Drain this node's spool and handle inbound messages whose handling never finished."""
    return sweep()
