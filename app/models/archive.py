"""Old messages moved out of the hot ``message`` table (``linli messages archive``).

``message_archive`` has every column of ``message`` (same names and types, built from it so the two
cannot drift apart) plus ``archived_at``; only the primary key is indexed, so moving a row costs one
insert. It has no foreign keys and no unique dedupe key: a row is only ever copied in, inside the
transaction that deletes it from ``message``.

The two partial indexes below make "is anything still pointing at this message?" an index probe for
the archive's batches and for PostgreSQL's own foreign-key check when a message row is deleted
(without them each deleted row would scan ``reply_clock`` and ``message``).
"""
from __future__ import annotations

from sqlalchemy import Column, Index, Table, text

from app.models.base import Base, UTCDateTime
from app.models.messages import Message
from app.models.sla import ReplyClock

message_archive = Table(
    "message_archive", Base.metadata,
    *(Column(column.name, column.type, primary_key=column.primary_key, nullable=column.nullable,
             autoincrement=False) for column in Message.__table__.columns),
    Column("archived_at", UTCDateTime(), nullable=False),
)

# Outbound replies point at the inbound message they answer (rare: most rows have NULL here).
Index("ix_message_in_reply_to", Message.__table__.c.in_reply_to_id,
      postgresql_where=text("in_reply_to_id IS NOT NULL"), sqlite_where=text("in_reply_to_id IS NOT NULL"))
# The staff reply that stopped a clock.
Index("ix_reply_clock_stop_message", ReplyClock.__table__.c.stop_message_id,
      postgresql_where=text("stop_message_id IS NOT NULL"), sqlite_where=text("stop_message_id IS NOT NULL"))
# Messages by age: the archive's scan (oldest first) and its dry-run counts.
Index("ix_message_received", Message.__table__.c.received_at, Message.__table__.c.id)
