"""A real `linli worker` process on the test's database and Redis, talking to the test's fake WeChat."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq import Worker

from app.extensions import redis_ext

ROOT = Path(__file__).resolve().parents[2]
PASSED_ON = ("WECHAT_API_BASE", "WEWORK_API_BASE", "WEWORK_CORP_ID", "WEWORK_SECRET", "WEWORK_AGENT_ID",
             "WECHAT_APPID", "WECHAT_SECRET")


def worker_env(app, instance: Path, **settings: object) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env.update({
        "LINLI_ENV": "development",
        "LINLI_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "LINLI_REDIS_URL": app.config["REDIS_URL"],
        "LINLI_INSTANCE_PATH": str(instance),
        "LINLI_LOG_LEVEL": "INFO",
    })
    for key in PASSED_ON:
        env[f"LINLI_{key}"] = str(app.config[key])
    env.update({f"LINLI_{k}": str(v) for k, v in settings.items()})
    return env


def start_worker(env: dict[str, str], log_path: Path, *args: str) -> subprocess.Popen:
    """Start `python -m app.cli worker` in its own process group; return once it is registered."""
    connection = redis_ext.client
    before = {w.name for w in Worker.all(connection=connection)}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", "worker", *args], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"worker exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        if {w.name for w in Worker.all(connection=connection)} - before:
            return proc
        time.sleep(0.1)
    kill(proc)
    pytest.fail(f"worker did not start:\n{log_path.read_text(errors='replace')}")


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *_descendants(child)]
    return found


def kill(proc: subprocess.Popen) -> None:
    """kill -9 the worker and its work horse (RQ puts the horse in a session of its own)."""
    for pid in [*_descendants(proc.pid), proc.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        kill(proc)


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")
