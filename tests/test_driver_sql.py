"""DriverStatement (app/driver_sql.py): a Core statement compiled once, run on the driver's cursor.

On the test's real database (SQLite embedded, PostgreSQL in the second pass): the row it
writes is the one SQLAlchemy would write, each run is committed on its own, errors come
back as SQLAlchemy's, and the pooled connection is left as the ORM expects it.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import bindparam, event, exists, select
from sqlalchemy.exc import DBAPIError

from app.database import conflict_insert
from app.driver_sql import DriverStatement
from app.extensions import db
from app.models import Message
from app.models.requests import ServiceRequest

ARRIVED = datetime(2026, 12, 6, 20, 30, 15, 250000, tzinfo=timezone.utc)


def message_insert():
    """An INSERT … SELECT with a JSON value, a datetime, a column default (attempts), an IN list of
    constants and a conflict clause: what the express answer's INSERT has."""
    table = Message.__table__
    names = ("direction", "channel", "dedupe_key", "sender_id", "is_staff", "msg_type", "text", "received_at",
             "handling")
    values = select(*[bindparam(name, type_=table.c[name].type) for name in names]).where(
        ~exists().where(ServiceRequest.code == bindparam("code"),
                        ServiceRequest.status.in_(["received", "acknowledged"])))
    return conflict_insert(db.engine.dialect.name)(table).from_select(list(names), values).on_conflict_do_nothing().returning(table.c.id)


def values(**changes):
    return {"direction": "in", "channel": "mp", "dedupe_key": "mp:driver-1", "sender_id": "o-driver", "is_staff": False,
            "msg_type": "text", "text": "3栋楼道灯坏了", "received_at": ARRIVED,
            "handling": {"intent": "report_issue", "slots": {"building": "3栋"}}, "code": "R20261206-0001",
            **changes}


def stored(message_id: int) -> Message:
    db.session.expire_all()
    return db.session.get(Message, message_id)


def test_the_row_is_the_one_sqlalchemy_would_write(app):
    statement = DriverStatement(db.engine, message_insert())
    assert "code" in statement.needed and "attempts" not in statement.needed
    [message_id] = statement.run(values())
    row = stored(message_id)
    assert row.handling == {"intent": "report_issue", "slots": {"building": "3栋"}}
    assert row.received_at.replace(tzinfo=timezone.utc) == ARRIVED
    assert row.attempts == 0 and row.is_staff is False and row.text == "3栋楼道灯坏了"


def test_each_run_is_committed_and_a_conflict_returns_nothing(app):
    statement = DriverStatement(db.engine, message_insert())
    [message_id] = statement.run(values())
    with db.engine.connect() as other:   # another connection sees it at once
        assert other.scalar(select(Message.id).where(Message.dedupe_key == "mp:driver-1")) == message_id
    assert statement.run(values(text="again")) is None
    assert stored(message_id).text == "3栋楼道灯坏了"


def test_a_missing_value_is_named(app):
    statement = DriverStatement(db.engine, message_insert())
    given = values()
    del given["sender_id"]
    with pytest.raises(ValueError, match="sender_id"):
        statement.run(given)


def test_a_driver_error_is_sqlalchemys_and_the_connection_serves_the_orm_after_it(app):
    statement = DriverStatement(db.engine, message_insert())
    with pytest.raises(DBAPIError):
        statement.run(values(channel=None))   # NOT NULL
    # The pooled connection is back in transaction mode: an ORM rollback undoes its write.
    db.session.add(Message(direction="in", channel="mp", dedupe_key="mp:rolled-back", sender_id="o", text="x",
                           received_at=ARRIVED))
    db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(Message.id).where(Message.dedupe_key == "mp:rolled-back")) is None
    assert statement.run(values()) is not None


def test_the_engines_statement_listeners_see_it(app):
    statement = DriverStatement(db.engine, message_insert())
    seen = []

    def listener(conn, cursor, sql, parameters, context, executemany):
        seen.append(sql.split(None, 1)[0])

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        statement.run(values())
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert seen == ["INSERT"]
