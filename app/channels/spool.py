"""A short local durable spool for deliveries the database could not take.

When PostgreSQL is unreachable a WeChat delivery must neither get a 5xx (the
resident sees "该公众号暂时无法提供服务") nor be lost (WeChat does not resend a
delivery that got an answer). So the decoded delivery is appended as one JSON
line to ``<instance>/spool/inbound.jsonl`` and fsync'ed before the answer
goes out; ``drain`` stores and handles the lines once the database is back.

- Appends from several processes (gunicorn workers) take an exclusive flock
  on the file and write one line with one ``write``; an appender that finds
  the file renamed under it (a drain started) reopens the new one.
- ``drain`` renames the file aside (so new deliveries go to a fresh file),
  handles every line, and deletes the renamed file only when every line went
  into the database. A crash in between leaves the renamed file, which the
  next drain takes again: storing is exactly-once by the delivery's dedupe
  key, so a line handled twice is stored and answered once.
- A drainer thread per process retries with backoff while the spool is not
  empty; the next callback request starts it again in a new process.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from flask import Flask, current_app

log = logging.getLogger(__name__)

SPOOL_FILE = "inbound.jsonl"
DRAINING_SUFFIX = ".draining"
# Backoff of the drainer thread between attempts while the database stays down.
RETRY_DELAYS = (0.5, 1, 2, 5, 10, 30)

_drainers: dict[str, threading.Thread] = {}
_drainers_lock = threading.Lock()


class SpoolError(OSError):
    """The spool could not be written (disk full, read-only): the caller cannot accept the delivery."""


def folder(instance_path: str | os.PathLike | None = None) -> Path:
    return Path(instance_path or current_app.instance_path) / "spool"


def append(entry: dict[str, Any], instance_path: str | os.PathLike | None = None) -> None:
    """Append one entry durably (fsync'ed) before the delivery is acknowledged."""
    base = folder(instance_path)
    line = (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    try:
        base.mkdir(parents=True, exist_ok=True)
        path = base / SPOOL_FILE
        while True:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if _same_file(fd, path):
                    os.write(fd, line)
                    os.fsync(fd)
                    break
            finally:
                os.close(fd)  # also releases the lock
        _fsync_dir(base)  # the file's creation must survive a crash too
    except OSError as exc:
        raise SpoolError(f"cannot write the inbound spool in {base}: {exc}") from exc


def _same_file(fd: int, path: Path) -> bool:
    """False when a drain renamed the file between our open and our lock."""
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def pending(instance_path: str | os.PathLike | None = None) -> bool:
    """Anything waiting (cheap: a directory listing only when the folder exists)."""
    base = folder(instance_path)
    try:
        entries = list(base.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return False
    for path in entries:
        if not path.name.startswith("inbound"):
            continue
        if path.name.endswith(DRAINING_SUFFIX):
            return True
        try:
            if path.stat().st_size > 0:
                return True
        except FileNotFoundError:
            # Drained and removed (or renamed for draining) by another thread or process since the
            # listing: that drainer has it. Raising here once ended the drainer thread.
            continue
    return False


def drain(store: Callable[[dict], None], instance_path: str | os.PathLike | None = None) -> int:
    """Hand every spooled entry to ``store``; returns how many were handed. Raises when ``store`` does.

    Only one process drains at a time (a non-blocking lock); the others return 0.
    """
    base = folder(instance_path)
    if not base.is_dir():
        return 0
    with open(base / "drain.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0
        _rotate(base)
        done = 0
        for path in sorted(base.glob("inbound.*" + DRAINING_SUFFIX)):
            for entry in _entries(path):
                store(entry)
                done += 1
            path.unlink()
            _fsync_dir(base)
        return done


def _rotate(base: Path) -> None:
    """Move the live file aside under the appenders' lock, so nothing is appended to it afterwards."""
    path = base / SPOOL_FILE
    if not path.exists():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _same_file(fd, path) and os.fstat(fd).st_size > 0:
            os.rename(path, base / f"inbound.{time.time_ns()}{DRAINING_SUFFIX}")
            _fsync_dir(base)
    finally:
        os.close(fd)


def _entries(path: Path):
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                yield json.loads(raw)
            except ValueError:
                # Only a line cut by a crash mid-write can be unreadable; it was never acknowledged.
                log.error("inbound spool %s line %d is not JSON (cut by a crash?); skipped", path.name, number)


def ensure_drainer(app: Flask, store: Callable[[dict], None]) -> None:
    """Start this process's drainer thread unless it runs; it ends when the spool is empty."""
    key = app.instance_path
    with _drainers_lock:
        thread = _drainers.get(key)
        if thread is not None and thread.is_alive():
            return
        thread = threading.Thread(target=_drain_loop, args=(app, store), name="linli-spool-drainer", daemon=True)
        _drainers[key] = thread
        thread.start()


def _drain_loop(app: Flask, store: Callable[[dict], None]) -> None:
    attempt = 0
    while True:
        time.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])
        with app.app_context():
            try:
                count = drain(store, app.instance_path)
                if count:
                    log.info("inbound spool: %d spooled deliveries stored and handled", count)
            except Exception:  # noqa: BLE001 - the database is still down: try again later
                log.warning("inbound spool: could not drain yet (attempt %d)", attempt + 1, exc_info=True)
                attempt += 1
                continue
            if not pending(app.instance_path):
                return
        attempt = 0
