"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from app import create_app
from app.db_setup import current_revision, head_revision, upgrade
from app.extensions import db
from app.models.base import Base
from tests.conftest import TEST_DATABASE_URL, _normalise


@pytest.fixture
def fresh_database(tmp_path):
    """An empty database: a new SQLite file, or a new PostgreSQL schema."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'fresh.db'}", {}
        return
    schema = f"mig_{uuid.uuid4().hex[:8]}"
    url = _normalise(TEST_DATABASE_URL)
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield url, {"connect_args": {"options": f"-csearch_path={schema}"}}
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _app_for(url, engine_options, tmp_path):
    application = create_app("test", overrides={"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "i"),
                                                "REDIS_URL": "redis://127.0.0.1:1/0"})
    if engine_options:
        application.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **application.config["SQLALCHEMY_ENGINE_OPTIONS"], **engine_options}
        db.init_app(application)
    return application


def test_upgrade_twice_and_matches_models(fresh_database, tmp_path):
    url, options = fresh_database
    application = _app_for(url, options, tmp_path)
    upgrade(application)
    upgrade(application)  # safe to run twice
    assert current_revision(application) == head_revision(application)
    with application.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == [], f"models and migrations differ; run `make migration`: {diff}"
    with application.app_context():
        db.engine.dispose()


def test_init_db_command(fresh_database, tmp_path):
    url, options = fresh_database
    application = _app_for(url, options, tmp_path)
    runner = application.test_cli_runner()
    from app.cli.db import init_db
    first = runner.invoke(init_db)
    assert first.exit_code == 0, first.output
    assert head_revision(application) in first.output
    second = runner.invoke(init_db)
    assert second.exit_code == 0, second.output
    assert "已是最新" in second.output
    with application.app_context():
        db.engine.dispose()


def test_init_db_refuses_a_database_with_foreign_tables_in_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'other.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE street (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    application = _app_for(url, {}, tmp_path)
    from app.cli.db import init_db
    result = application.test_cli_runner().invoke(init_db)
    assert result.exit_code != 0
    assert "no linli schema version" in result.output
    assert "Traceback" not in result.output
    with application.app_context():
        db.engine.dispose()
