"""Database commands."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.preflight import check_database
from app.db_setup import current_revision, head_revision, upgrade
from app.extensions import db


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema to the latest version (safe to run again)."""

    app = current_app._get_current_object()
    check_database(app)
    before = current_revision(app)
    if before is None and _has_tables(app):
        raise click.ClickException(
            "the database already has tables but no linli schema version (it was not created by "
            "`linli init-db`); point LINLI_DATABASE_URL at an empty database or one made by linli")
    upgrade(app)
    after = current_revision(app)
    if before == after:
        click.echo(f"数据库已是最新 / database already at the latest schema ({after})")
    else:
        click.echo(f"数据库已升级 / database upgraded: {before or 'empty'} → {after}")
    assert after == head_revision(app)


def _has_tables(app) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(db.engine_for(app)).get_table_names())


COMMANDS = [init_db]
