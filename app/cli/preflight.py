"""Start-up checks that fail with one line an operator can act on."""
from __future__ import annotations

import click
import redis
from flask import Flask
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from app.db_setup import current_revision, head_revision
from app.embedded_redis import EmbeddedRedisError
from app.extensions import db, redis_ext


def describe_operational_error(exc: BaseException) -> str | None:
    """A one-line explanation for errors operators cause, None for bugs."""
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        reason = str(exc.orig).strip().splitlines()[0] if getattr(exc, "orig", None) else type(exc).__name__
        return f"cannot use the database ({reason}); check LINLI_DATABASE_URL and that the server is running"
    if isinstance(exc, sa_exc.ProgrammingError) and "does not exist" in str(exc):
        return "the database schema is missing or old; run `linli init-db`"
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return f"cannot reach Redis ({exc}); check LINLI_REDIS_URL and that the server is running"
    if isinstance(exc, EmbeddedRedisError):
        return str(exc)
    return None


def check_database(app: Flask) -> None:
    with app.app_context():
        try:
            db.session.execute(text("SELECT 1"))
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
            raise click.ClickException(describe_operational_error(exc)) from None


def check_schema(app: Flask) -> None:
    if current_revision(app) != head_revision(app):
        raise click.ClickException("the database schema is not up to date; run `linli init-db` first")


def check_redis(app: Flask) -> None:
    try:
        redis_ext.client_for(app).ping()
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise click.ClickException(describe_operational_error(exc)) from None
