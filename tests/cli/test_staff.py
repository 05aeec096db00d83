"""`linli staff add` with bad arguments: one clear line and exit 1, nothing created, never a traceback."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.cli import cli
from app.extensions import db
from app.models import Staff
from tests import factories


@pytest.fixture
def community(app):
    row = factories.community(name="富强新村社区")
    db.session.commit()
    return row


def add(cli_runner, *extra):
    return cli_runner.invoke(cli, ["staff", "add", "--community", "富强新村社区", "--role", "duty", *extra])


def test_staff_add_creates_a_member_with_a_clean_name(cli_runner, community):
    result = add(cli_runner, "--name", "  张伟 ", "--phone", "13800000001", "--wework-userid", "zhangwei")
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(Staff.name)).all() == ["张伟"]


@pytest.mark.parametrize("extra, says", [
    (["--name", ""], "the name must not be empty"),
    (["--name", "   "], "the name must not be empty"),
    (["--name", "张\x01伟"], "the name contains control characters"),
    (["--name", "张" * 101], "the name is longer than 100 characters"),
    (["--name", "张伟", "--phone", "1" * 31], "the phone number is longer than 30 characters"),
    (["--name", "张伟", "--wework-userid", "u" * 65], "the WeCom userid is longer than 64 characters"),
])
def test_staff_add_refuses_bad_fields_in_one_line(cli_runner, community, extra, says):
    result = add(cli_runner, *extra)
    assert result.exit_code == 1 and says in result.output and "Traceback" not in result.output
    assert db.session.scalar(select(func.count()).select_from(Staff)) == 0


def test_a_wework_userid_already_taken_is_one_line_not_a_traceback(cli_runner, community):
    """Found by hand: the second member with the same WeCom userid died on the unique constraint."""
    assert add(cli_runner, "--name", "张伟", "--wework-userid", "zhangwei").exit_code == 0
    result = add(cli_runner, "--name", "李娜", "--wework-userid", "zhangwei")
    assert result.exit_code == 1 and "already exists" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert db.session.scalars(select(Staff.name)).all() == ["张伟"]
