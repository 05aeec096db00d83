"""Moving old messages out of the hot ``message`` table into ``message_archive`` (docs/scaling.md).

A message is moved when it is older than the cut-off and nothing needs it in the hot table:

- no row points at it: every foreign key to ``message.id`` (a request's or a clock's source message,
  the staff reply that stopped a clock, an alert's outbound message, a suggestion, a vote, an
  outbound reply's ``in_reply_to``) is read from the models' metadata, so a table added later is
  respected without touching this module;
- an outbound message is settled (sent, failed or rejected): a queued, sending or unknown one still
  belongs to the outbox and its reconciler;
- the cut-off is at least ``MIN_RETENTION_DAYS`` ago, far beyond everything that looks a message up
  by its age or its dedupe key (WeChat's redeliveries within seconds, the resend window of minutes,
  the follow-up window, the dialogue state's TTL, the inbound sweep's give-up of hours).

Each batch is one transaction: its rows are locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: a row
a running request is about to reference is skipped, not waited for), copied into the archive and
deleted from ``message``. A crash rolls the batch back whole; the next run starts again from the
oldest message, so the command needs no state of its own to resume. A batch that meets a reference
written meanwhile (the foreign key refuses the delete) is rolled back and read again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import and_, delete, exists, func, insert, literal, or_, select, tuple_
from sqlalchemy.exc import IntegrityError

from app.clock import now
from app.database import dialect_name
from app.errors import DomainError
from app.extensions import db
from app.localtime import to_local
from app.models import Base, Direction, Message, OutboundStatus
from app.models.archive import message_archive

log = logging.getLogger(__name__)

MIN_RETENTION_DAYS = 7
DEFAULT_BATCH = 2000
RETRIES = 3
SETTLED = (OutboundStatus.SENT.value, OutboundStatus.FAILED.value, OutboundStatus.REJECTED.value)
MESSAGE = Message.__table__
COLUMNS = [column.name for column in MESSAGE.columns]


class ArchiveError(DomainError):
    code = "archive_refused"


@dataclass
class Plan:
    cutoff: datetime
    older: int = 0          # messages received before the cut-off
    movable: int = 0        # of which nothing needs any more
    unsettled: int = 0      # outbound ones still in the outbox
    referenced: int = 0     # pointed at by a request, clock, alert …
    oldest: datetime | None = None


@dataclass
class Progress:
    cutoff: datetime
    moved: int = 0
    batches: int = 0
    retried: int = 0
    last: tuple | None = field(default=None, repr=False)


def check_cutoff(cutoff: datetime) -> datetime:
    latest = now() - timedelta(days=MIN_RETENTION_DAYS)
    if cutoff > latest:
        raise ArchiveError(f"截止时间太近：至少要保留最近 {MIN_RETENTION_DAYS} 天的消息（去重和重投要用），"
                           f"截止时间最晚为 {to_local(latest):%Y-%m-%d %H:%M}", field="before")
    return cutoff


def _pointers(*, self_reference: bool = True) -> list:
    """Every column that points at message.id, wherever it is (the models' metadata)."""
    found = []
    for table in Base.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table.name == MESSAGE.name and key.column.name == "id":
                if table.name == MESSAGE.name and not self_reference:
                    continue
                found.append((table, key.parent.name))
    return found


def _free(target, *, self_reference: bool = True):
    """Nothing points at ``target``'s row (its outbound replies too, unless ``self_reference`` is off)."""
    clauses = []
    for table, column in _pointers(self_reference=self_reference):
        pointing = table.alias() if table.name == MESSAGE.name else table
        clauses.append(~exists().where(pointing.c[column] == target.c.id))
    return and_(*clauses)


def _old_and_settled(target, cutoff: datetime):
    # An outbound message still queued, sending or unknown belongs to the outbox and its reconciler.
    return and_(target.c.received_at < cutoff,
                or_(target.c.direction == Direction.IN.value, target.c.status.in_(SETTLED)))


def _movable(cutoff: datetime):
    """Old, settled, nothing points at it, and its outbound replies (if any) can go with it."""
    reply = MESSAGE.alias()
    blocked = exists().where(reply.c.in_reply_to_id == MESSAGE.c.id,
                             ~and_(_old_and_settled(reply, cutoff), _free(reply)))
    return and_(_old_and_settled(MESSAGE, cutoff), _free(MESSAGE, self_reference=False), ~blocked)


def plan(cutoff: datetime) -> Plan:
    """What a run would do (``--dry-run``): counts, nothing written."""
    check_cutoff(cutoff)
    result = Plan(cutoff=cutoff)
    result.older, result.oldest = db.session.execute(
        select(func.count(), func.min(Message.received_at)).where(Message.received_at < cutoff)).one()
    result.movable = db.session.scalar(select(func.count()).select_from(Message).where(_movable(cutoff)))
    result.unsettled = db.session.scalar(select(func.count()).select_from(Message).where(
        Message.received_at < cutoff, Message.direction == Direction.OUT.value,
        or_(Message.status.is_(None), Message.status.not_in(SETTLED))))
    result.referenced = result.older - result.movable - result.unsettled
    db.session.rollback()
    return result


def _batch_ids(cutoff: datetime, after: tuple | None, size: int) -> list[tuple]:
    query = (select(Message.received_at, Message.id).where(_movable(cutoff))
             .order_by(Message.received_at, Message.id).limit(size))
    if after is not None:
        query = query.where(tuple_(Message.received_at, Message.id) > tuple_(literal(after[0], Message.received_at.type),
                                                                             literal(after[1])))
    if dialect_name(db.session) == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Message)
    return [tuple(row) for row in db.session.execute(query)]


def _move(ids: list[int]) -> int:
    """Copy and delete ``ids`` and their outbound replies (which ``_movable`` made sure can go too)."""
    replies = select(Message.id).where(Message.in_reply_to_id.in_(ids))
    if dialect_name(db.session) == "postgresql":
        replies = replies.with_for_update(skip_locked=True)
    ids = sorted(set(ids) | set(db.session.scalars(replies)))
    source = select(*(Message.__table__.c[name] for name in COLUMNS),
                    literal(now(), message_archive.c.archived_at.type)).where(Message.id.in_(ids))
    db.session.execute(insert(message_archive).from_select([*COLUMNS, "archived_at"], source))
    deleted = db.session.execute(delete(Message).where(Message.id.in_(ids))
                                 .execution_options(synchronize_session=False)).rowcount
    if deleted != len(ids):  # cannot happen under the row locks; refuse to commit a partial copy
        raise RuntimeError(f"archive batch: {deleted} of {len(ids)} messages deleted")
    return deleted


def archive(cutoff: datetime, *, batch_size: int = DEFAULT_BATCH, max_batches: int | None = None,
            on_batch: Callable[[Progress], None] | None = None) -> Progress:
    """Move every movable message older than ``cutoff``, ``batch_size`` per transaction."""
    check_cutoff(cutoff)
    progress = Progress(cutoff=cutoff)
    db.session.rollback()
    while max_batches is None or progress.batches < max_batches:
        for attempt in range(RETRIES + 1):
            rows = _batch_ids(cutoff, progress.last, batch_size)
            if not rows:
                db.session.rollback()
                return progress
            try:
                moved = _move([row[1] for row in rows])
                db.session.commit()
                break
            except IntegrityError:
                # A reference to one of these rows was committed after they were read: read again.
                db.session.rollback()
                progress.retried += 1
                if attempt == RETRIES:
                    raise
        progress.moved += moved
        progress.batches += 1
        progress.last = rows[-1]
        if on_batch is not None:
            on_batch(progress)
    return progress


def find_message(message_id: int) -> tuple[dict, bool] | None:
    """A message by id from the hot table or the archive: (its columns, archived?)."""
    row = db.session.execute(select(Message.__table__).where(Message.id == message_id)).mappings().first()
    if row is not None:
        return dict(row), False
    row = db.session.execute(select(message_archive).where(message_archive.c.id == message_id)).mappings().first()
    return (dict(row), True) if row is not None else None
