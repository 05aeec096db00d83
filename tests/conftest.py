"""Fixtures: a real database and a real Redis for every test, isolated per test.

Embedded by default (a SQLite file copied from a template per test, and an
embedded Redis server for the session). ``LINLI_TEST_DATABASE_URL`` and
``LINLI_TEST_REDIS_URL`` point the suite at real servers instead (CI runs it
both ways).
"""
from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone

import pytest
import redis
from sqlalchemy import create_engine, text

import app.models  # noqa: F401 - register every table
from app import create_app, embedded_redis
from app.clock import FrozenClock, set_app_clock
from app.extensions import db, redis_ext
from app.models.base import Base

# Shared fixtures (fake_wechat: a fake WeChat/WeCom API on loopback).
pytest_plugins = ["tests.support.fixtures"]

TEST_DATABASE_URL = os.environ.get("LINLI_TEST_DATABASE_URL") or None
TEST_REDIS_URL = os.environ.get("LINLI_TEST_REDIS_URL") or None


def _normalise(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if TEST_REDIS_URL:
        yield TEST_REDIS_URL
        return
    folder = tmp_path_factory.mktemp("redis")
    proc = embedded_redis.start(folder, persist=False)
    yield embedded_redis.url_for(folder)
    embedded_redis.stop(proc)


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Create the schema once: a template SQLite file, or the PostgreSQL test database."""
    if TEST_DATABASE_URL:
        engine = create_engine(_normalise(TEST_DATABASE_URL))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        Base.metadata.create_all(engine)
        engine.dispose()
        yield None
        return
    folder = tmp_path_factory.mktemp("dbtemplate")
    path = folder / "template.db"
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    yield path


def _truncate_postgres(engine) -> None:
    """Empty every table after a test.

    TRUNCATE of ~50 tables costs over a second per test (new relfilenodes), so
    rows are deleted instead, with triggers (append-only guards, FK checks)
    switched off for this session only; that needs a superuser, which the
    test server has. Without one we fall back to TRUNCATE.
    """
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
    except Exception:  # noqa: BLE001 - not a superuser: the slow but sure way
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(chr(34) + t + chr(34) for t in tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def database_url(database_template, tmp_path):
    if database_template is None:
        yield _normalise(TEST_DATABASE_URL)
        return
    path = tmp_path / "linli.db"
    shutil.copyfile(database_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def app_overrides() -> dict:
    """Override in a test module to change settings for its apps."""
    return {}


@pytest.fixture
def app(database_url, redis_url, tmp_path, app_overrides):
    overrides = {"DATABASE_URL": database_url, "REDIS_URL": redis_url,
                 "INSTANCE_PATH": str(tmp_path / "instance"), **app_overrides}
    application = create_app("test", overrides=overrides)
    client = redis_ext.client_for(application)
    client.flushdb()
    with application.app_context():
        yield application
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            _truncate_postgres(db.engine)
        db.engine.dispose()
    client.flushdb()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def cli_runner(app):
    return app.test_cli_runner()


@pytest.fixture
def redis_client(app) -> redis.Redis:
    return redis_ext.client_for(app)


@pytest.fixture
def clock(app) -> FrozenClock:
    """A frozen clock at a fixed Tuesday morning, installed on the app."""
    frozen = FrozenClock(datetime(2026, 11, 17, 1, 30, tzinfo=timezone.utc))  # 09:30 in Shanghai
    set_app_clock(app, frozen)
    return frozen


@pytest.fixture
def session(app):
    return db.session


def pytest_addoption(parser):
    parser.addoption("--screenshots", default=None,
                     help="tests/browser: save a screenshot of each page into this folder (docs/screenshots)")


def pytest_report_header(config):
    return (f"linli test backends: database={'postgresql' if TEST_DATABASE_URL else 'sqlite (embedded)'}, "
            f"redis={'server' if TEST_REDIS_URL else 'embedded'}")
