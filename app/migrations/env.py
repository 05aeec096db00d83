"""Alembic environment: runs inside the linli app so it uses the app's database."""
from __future__ import annotations

from alembic import context

from app.models import Base

config = context.config


def _app():
    app = config.attributes.get("flask_app")
    if app is None:  # run through the plain `alembic` command
        from app import create_app
        app = create_app()
    return app


def run_migrations_online() -> None:
    from app.extensions import db

    app = _app()
    with app.app_context():
        connectable = db.engine
        with connectable.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()


run_migrations_online()
