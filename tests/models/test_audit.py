import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models import AuditLog
from app.models.audit import AppendOnlyError


def _entry():
    row = AuditLog(actor_type="system", action="test.created", detail={"a": 1})
    db.session.add(row)
    db.session.commit()
    return row


def test_audit_rows_cannot_be_updated_through_the_orm(app):
    row = _entry()
    row.action = "changed"
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()


def test_audit_rows_cannot_be_deleted_through_the_orm(app):
    row = _entry()
    db.session.delete(row)
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"])
def test_the_database_refuses_updates_and_deletes(app, statement):
    _entry()
    with pytest.raises(DBAPIError):
        db.session.execute(text(statement))
        db.session.commit()
    db.session.rollback()
    assert db.session.query(AuditLog).count() == 1
