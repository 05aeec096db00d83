"""The `linli` command: a Flask CLI group bound to the app factory."""
from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from app import create_app
from app.cli.preflight import describe_operational_error


def _create_app():
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, load_dotenv=False,
             set_debug_flag=False)
def cli() -> None:
    """linli 邻里 — WeChat resident services for urban communities."""


# Modules with a COMMANDS list of click commands; each feature adds its own line.
CLI_MODULES = [
    "app.cli.db",
    "app.cli.data",
    "app.cli.run",
    "app.cli.settings",
    "app.cli.staff",
    "app.cli.sla",
    "app.cli.calendar",
    "app.cli.events",
    "app.cli.proxy",
    "app.cli.bot",
    "app.cli.bot_suggest",
    "app.cli.governance",
    "app.cli.outbox",
    "app.cli.messages",
    "app.cli.timer",
    "app.cli.reports",
]


def _register_commands() -> None:
    import importlib

    for name in CLI_MODULES:
        for command in importlib.import_module(name).COMMANDS:
            cli.add_command(command)


_register_commands()


def main() -> None:
    """Entry point: operational failures become one clear line, not a traceback."""

    try:
        cli.main(prog_name="linli")
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - last line of defence for operators
        message = describe_operational_error(exc)
        if message is None:
            raise
        click.echo(f"linli: {message}", err=True)
        sys.exit(1)
