"""Operator commands for outbound messages nobody settled.

linli outbox stuck [--older-than SECONDS]      queued / sending / unknown rows, oldest first, with their age
linli outbox resolve ID --sent|--failed|--retry
linli outbox reconcile                           run the reconciler once (cron runs it every 15 s)
"""
from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext

from app.cli.types import ID
from app.clock import now
from app.handlers.messaging.outbox import OutboxError, resolve, stuck
from workers.sends import reconcile


def age_text(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def _why(message) -> str:
    handling = message.handling or {}
    if message.status == "sending":
        return "lease expired at " + message.check_at.isoformat(timespec="seconds") if message.check_at else "sending"
    if message.status == "queued" and handling.get("route") == "bridge_outbox":
        return "waiting for the bridge to pull it"
    if message.status == "queued" and handling.get("deferred_until"):
        return "deferred until " + handling["deferred_until"][:19]
    return (message.error or message.error_code or "-").replace("\n", " ")[:80]


@click.group("outbox")
def outbox() -> None:
    """Outbound messages: list the stuck ones and settle them."""


@outbox.command("stuck")
@click.option("--older-than", type=click.IntRange(min=0), default=None,
              help="Seconds since queued (default LINLI_OUTBOX_STUCK_SECONDS); 'unknown' rows are always listed.")
@with_appcontext
def stuck_command(older_than: int | None) -> None:
    """List outbound messages still queued, sending or unknown."""
    rows = stuck(older_than)
    if not rows:
        click.echo("没有卡住的外发消息 (nothing stuck)")
        return
    at = now()
    table = [("id", "status", "age", "channel", "route", "recipient", "attempts", "why")]
    for message in rows:
        handling = message.handling or {}
        table.append((str(message.id), message.status, age_text(at - message.received_at), message.channel,
                      handling.get("route") or "-", message.recipient_id or message.chat_id or "-",
                      str(message.attempts or 0), _why(message)))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]) - 1)]
    for r in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(r[:-1], widths, strict=True)) + "  " + r[-1])


@outbox.command("resolve")
@click.argument("message_id", type=ID)
@click.option("--sent", "how", flag_value="sent", help="It did arrive (checked with the recipient).")
@click.option("--failed", "how", flag_value="failed", help="Give up on it.")
@click.option("--retry", "how", flag_value="retry", help="Send it again (for 'unknown': only if it did not arrive).")
@with_appcontext
def resolve_command(message_id: int, how: str | None) -> None:
    """Settle one outbound message by hand."""
    if how is None:
        raise click.UsageError("say how: --sent, --failed or --retry")
    try:
        message = resolve(message_id, how)
    except OutboxError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"消息 {message.id}: {message.handling['resolved']['was']} → {message.status}")


@outbox.command("reconcile")
@with_appcontext
def reconcile_command() -> None:
    """Resolve expired send leases and hand lost queued messages to a worker, once."""
    counts = reconcile()
    click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))


COMMANDS = [outbox]
