"""Operator commands for the stored messages (docs/scaling.md, "The messages table").

linli messages archive [--before DATE | --older-than 180d] [--batch-size 2000] [--max-batches N] [--dry-run]
linli messages show ID      one message, from the hot table or the archive
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.preflight import check_schema
from app.cli.sla import parse_moment
from app.cli.types import ID
from app.clock import now
from app.handlers.messaging.archive import DEFAULT_BATCH, ArchiveError, Progress, archive, find_message, plan
from app.localtime import to_local

AGE = re.compile(r"^\s*(\d+)\s*d?\s*$")


def _when(moment: datetime | None) -> str:
    return to_local(moment).strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


def _cutoff(before: str | None, older_than: str | None) -> datetime:
    if before and older_than:
        raise click.UsageError("give --before or --older-than, not both")
    if before:
        return parse_moment(before, "--before")
    if older_than is None:
        days = int(current_app.config["MESSAGE_RETENTION_DAYS"])
    else:
        match = AGE.match(older_than)
        if match is None:
            raise click.BadParameter(f"{older_than!r}: say a number of days, e.g. 180d", param_hint="--older-than")
        days = int(match.group(1))
    return now() - timedelta(days=days)


@click.group("messages")
def messages() -> None:
    """Stored messages: archive old ones, look one up."""


@messages.command("archive")
@click.option("--before", default=None, help="Archive messages received before this date (YYYY-MM-DD, local time).")
@click.option("--older-than", default=None,
              help="Archive messages older than this many days, e.g. 180d (default LINLI_MESSAGE_RETENTION_DAYS).")
@click.option("--batch-size", type=click.IntRange(min=1, max=10000), default=DEFAULT_BATCH, show_default=True,
              help="Messages moved per transaction.")
@click.option("--max-batches", type=click.IntRange(min=1), default=None,
              help="Stop after this many batches (the next run goes on where it stopped).")
@click.option("--dry-run", is_flag=True, help="Only count what would be moved.")
@with_appcontext
def archive_command(before: str | None, older_than: str | None, batch_size: int, max_batches: int | None,
                    dry_run: bool) -> None:
    """Move old messages nothing needs any more from `message` into `message_archive`."""
    check_schema(current_app)
    cutoff = _cutoff(before, older_than)
    try:
        if dry_run:
            counts = plan(cutoff)
            click.echo(f"截止 {_when(cutoff)}（cut-off）：早于它的消息 {counts.older}，"
                       f"可归档 {counts.movable}，仍被诉求/时钟/告警等引用而保留 {counts.referenced}，"
                       f"外发未结而保留 {counts.unsettled}"
                       + (f"；最早一条 {_when(counts.oldest)}" if counts.oldest else ""))
            return
        started = time.monotonic()

        def report(progress: Progress) -> None:
            if progress.batches % 10 == 0:
                click.echo(f"  已归档 {progress.moved} 条（{progress.batches} 批，{time.monotonic() - started:.0f} s）")

        done = archive(cutoff, batch_size=batch_size, max_batches=max_batches, on_batch=report)
    except ArchiveError as exc:
        raise click.ClickException(exc.message) from None
    stopped = max_batches is not None and done.batches >= max_batches
    click.echo(f"已归档 {done.moved} 条消息（archived），{done.batches} 批，用时 {time.monotonic() - started:.1f} s"
               + ("；已到 --max-batches，再运行一次继续" if stopped else "")
               + (f"；{done.retried} 批因同时有新引用而重读" if done.retried else ""))


@messages.command("show")
@click.argument("message_id", type=ID)
@with_appcontext
def show_command(message_id: int) -> None:
    """Print one message, whether it is still in `message` or already archived."""
    found = find_message(message_id)
    if found is None:
        raise click.ClickException(f"没有 id 为 {message_id} 的消息（no such message）")
    row, archived = found
    where = f"归档于 {_when(row['archived_at'])}" if archived else "在线表"
    click.echo(f"#{row['id']} {row['direction']} {row['channel']} {_when(row['received_at'])} [{where}]")
    click.echo(f"  会话 {row['chat_id'] or '-'}  发送人 {row['sender_name'] or row['sender_id'] or '-'}  "
               f"类型 {row['msg_type']}  状态 {row['status'] or '-'}")
    click.echo(f"  {row['text'] or ''}")


COMMANDS = [messages]
