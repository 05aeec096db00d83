"""`linli config`: every setting, its environment variable, default and current value."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from config import SETTINGS


@click.command("config")
@click.option("--markdown", is_flag=True, help="Print a Markdown table (as in the README).")
@with_appcontext
def show_config(markdown: bool) -> None:
    """Show every setting with its environment variable and current value (secrets hidden)."""
    if markdown:
        click.echo("| variable | default | meaning |")
        click.echo("|---|---|---|")
    for setting in SETTINGS:
        if markdown:
            default = "" if setting.default is None else f"`{setting.default}`"
            click.echo(f"| `{setting.env}` | {default} | {setting.help} |")
            continue
        value = current_app.config.get(setting.key)
        shown = "***" if setting.secret and value else value
        click.echo(f"{setting.env}={shown if shown is not None else ''}    # {setting.help}")


COMMANDS = [show_config]
