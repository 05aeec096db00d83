"""Operator commands given impossible arguments: one clear line from click (exit 2), never a traceback."""
from __future__ import annotations

import pytest

from app.cli import cli

HUGE = str(10**20)   # past the database's 64-bit integers: overflowed the driver in a traceback


@pytest.mark.parametrize("args", [
    ["messages", "show", HUGE],
    ["outbox", "resolve", HUGE, "--sent"],
    ["station", "hours", HUGE, "--hours", "工作日 08:30-11:30"],
    ["station", "close", HUGE, "--date", "2027-01-05"],
    ["station", "open", HUGE, "--date", "2027-01-05"],
    ["staff", "token", HUGE],
    ["staff", "token", "0"],
    ["reports", "rollup", "--from", "2026-01-01", "--to", "2026-01-02", "--community", HUGE],
    ["reports", "rollup", "--from", "0001-01-01", "--to", "9999-12-31"],
    ["serve", "--port", "99999999"],
    ["serve", "--web-workers", "0"],
])
def test_impossible_arguments_are_one_line(app, cli_runner, args):
    result = cli_runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Invalid value" in result.output and "Traceback" not in result.output
