"""Private Redis and PostgreSQL servers that a test may kill and bring back.

Fault tests must never touch the machine's shared servers: each server here is
its own process on a spare loopback port, with its data in a temporary folder,
and goes away with the test session.

Use in a test module::

    pytest_plugins = ["tests.support.faults"]     # or import the fixtures by name

    @pytest.fixture
    def redis_url(private_redis):                  # the app fixture now uses it
        return private_redis.url

    @pytest.fixture
    def database_url(private_postgres):            # schema created, rows emptied by the app fixture
        return private_postgres.url

    def test_x(app, client, private_redis):
        with private_redis.down():                 # SIGKILL; restarted when the block ends
            ...
        private_postgres.kill(); ...; private_postgres.start()   # or by hand

``private_redis`` is a fresh redis-server per test (it starts in milliseconds).
``private_postgres`` is one server per session (initdb takes seconds), made
sure to be running at the start of every test that asks for it. Both have
``kill()`` (SIGKILL: what a crash or an OOM kill looks like), ``stop()``
(a clean shutdown), ``start()``, ``restart()``, ``down()`` (a context manager)
and ``url``. ``RedisServer`` and ``PostgresServer`` can be used outside pytest
too (bench/ uses them for a benchmark's own servers).

Run as root, PostgreSQL is started as the ``postgres`` user (it refuses root);
its folder is made under /tmp, not under pytest's root-only tmp dir.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

PG_BIN = Path(os.environ.get("LINLI_PG_BIN", "/usr/lib/postgresql/15/bin"))
START_TIMEOUT = 30.0


def spare_port() -> int:
    """A loopback port nobody listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class _Server:
    """A child process on a fixed port: start, kill -9, stop, restart on the same port."""

    name = "server"

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = Path(folder)
        self.port = port or spare_port()
        self.proc: subprocess.Popen | None = None

    # subclasses: _command(), _popen_kwargs(), _ready()
    def _command(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _popen_kwargs(self) -> dict:
        return {}

    def _ready(self) -> bool:
        return _port_open(self.port)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> "_Server":
        if self.running:
            return self
        log = open(self.folder / f"{self.name}.log", "ab")
        self.proc = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, **self._popen_kwargs())
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.folder}/{self.name}.log")
            if self._ready():
                return self
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"{self.name} did not start within {START_TIMEOUT:.0f} s on port {self.port}")

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown, open connections reset."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """A clean shutdown (SIGTERM), waited for."""
        self._signal(signal.SIGTERM)

    def _signal(self, sig: int) -> None:
        if not self.running:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        # The port must be free again before a restart binds it.
        deadline = time.monotonic() + 10
        while _port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self) -> "_Server":
        self.kill()
        return self.start()

    @contextmanager
    def down(self) -> Iterator["_Server"]:
        """Killed inside the block, running again after it (even when the block fails)."""
        self.kill()
        try:
            yield self
        finally:
            self.start()


class RedisServer(_Server):
    name = "redis"

    def _command(self) -> list[str]:
        return [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.folder), "--protected-mode", "no"]

    def _ready(self) -> bool:
        import redis
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.2).ping())
        except (redis.RedisError, OSError):
            return False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class PostgresServer(_Server):
    """initdb once into ``folder``/data.

    ``fsync`` is off by default (tests): only a machine crash loses data then, and
    a killed process does not — commits stay synchronous, so a kill -9 of the
    server loses nothing that was committed. Benchmarks pass ``fsync=True``.
    """

    name = "postgres"

    def __init__(self, folder: Path, port: int | None = None, *, fsync: bool = False) -> None:
        super().__init__(folder, port)
        self.fsync = fsync
        self.data = self.folder / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            self._ids = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        else:
            self._ids = {}
        if not (self.data / "PG_VERSION").exists():
            subprocess.run([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                            "-E", "UTF8", "--locale=C", "--no-sync"], check=True, capture_output=True,
                           **self._ids)

    def _command(self) -> list[str]:
        return [str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.folder}",
                "-c", f"fsync={'on' if self.fsync else 'off'}", "-c", "max_connections=200"]

    def _popen_kwargs(self) -> dict:
        return dict(self._ids)

    def _ready(self) -> bool:
        done = subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                              capture_output=True)
        return done.returncode == 0

    def stop(self) -> None:
        """pg_ctl's fast shutdown (the clean way an operator stops it)."""
        if not self.running:
            return
        subprocess.run([str(PG_BIN / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast", "-w"],
                       capture_output=True, **self._ids)
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends (a crash); the next start runs crash recovery."""
        if not self.running:
            return
        # Backends outliving the postmaster hold its shared memory and would make the
        # restart refuse to start: they are this postmaster's children, killed by pid.
        children = _children(self.proc.pid)
        self._signal(signal.SIGKILL)
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        (self.data / "postmaster.pid").unlink(missing_ok=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def create_schema(self) -> None:
        """linli's tables (the models' metadata, as the test database template does)."""
        from sqlalchemy import create_engine

        import app.models  # noqa: F401 - register every table
        from app.models.base import Base

        engine = create_engine(self.url)
        Base.metadata.create_all(engine)
        engine.dispose()

    def remove(self) -> None:
        self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisServer]:
    folder = tmp_path / "private-redis"
    folder.mkdir()
    server = RedisServer(folder).start()
    yield server
    server.kill()


@pytest.fixture(scope="session")
def _postgres_server() -> Iterator[PostgresServer]:
    folder = Path(tempfile.mkdtemp(prefix="linli-pg-"))
    server = PostgresServer(folder)
    server.start()
    server.create_schema()
    yield server
    server.remove()


@pytest.fixture
def private_postgres(_postgres_server) -> PostgresServer:
    """The session's private PostgreSQL, running (restarted if an earlier test left it down)."""
    return _postgres_server.start()
