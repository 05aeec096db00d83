"""The private servers of tests/support/faults.py really go down and come back."""
from __future__ import annotations

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

pytest_plugins = ["tests.support.faults"]


def test_private_redis_is_killed_and_restarted_on_its_port(private_redis):
    client = redis.Redis.from_url(private_redis.url, socket_connect_timeout=0.5)
    client.set("k", "v")
    with private_redis.down():
        with pytest.raises(redis.ConnectionError):
            client.ping()
    assert client.ping()
    assert client.get("k") is None  # no persistence: a restart is a fresh, empty server


def test_private_postgres_survives_a_kill_with_its_data(private_postgres):
    engine = create_engine(private_postgres.url, pool_pre_ping=True)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS fault_probe (n int)"))
        conn.execute(text("DELETE FROM fault_probe"))
        conn.execute(text("INSERT INTO fault_probe VALUES (7)"))
    with private_postgres.down():
        with pytest.raises(OperationalError):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
    with engine.begin() as conn:
        assert conn.execute(text("SELECT n FROM fault_probe")).scalar_one() == 7
        conn.execute(text("DROP TABLE fault_probe"))
    engine.dispose()


def test_private_postgres_has_the_schema(private_postgres):
    engine = create_engine(private_postgres.url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM message")).scalar_one() >= 0
    engine.dispose()


class TestTheAppOnPrivateServers:
    @pytest.fixture
    def database_url(self, private_postgres):
        return private_postgres.url

    @pytest.fixture
    def redis_url(self, private_redis):
        return private_redis.url

    def test_the_app_fixture_uses_them(self, app, private_postgres, private_redis):
        from app.extensions import db, redis_ext

        assert db.engine.url.port == private_postgres.port
        assert redis_ext.client.connection_pool.connection_kwargs["port"] == private_redis.port
