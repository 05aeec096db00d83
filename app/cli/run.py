"""Running the service: `linli serve` (everything, embedded), `linli worker`, `linli cron`."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from app import embedded_redis
from app.cli.preflight import check_database, check_redis, check_schema
from app.embedded_redis import die_with_parent
from app.extensions import redis_ext
from app.jobs import ALL_QUEUES
from workers.runner import run_cron, run_worker, wait_for_database, wait_for_redis
from workers.timer import start_thread as start_timer_thread


def _child(args: list[str]) -> subprocess.Popen:

    # Own process group, so a Ctrl-C in the terminal reaches only the supervisor,
    # which then stops the children in order; and the kernel stops the child if
    # the supervisor itself is killed.
    return subprocess.Popen(args, start_new_session=True, preexec_fn=die_with_parent(os.getpid()))


def _gunicorn_options() -> list[str]:
    import gunicorn.config

    known = {setting.name for setting in gunicorn.config.KNOWN_SETTINGS}
    # gunicorn >= 24 opens a control socket at a fixed path in $HOME by default; two
    # instances on one machine would fight over it, and we do not use it.
    return ["--no-control-socket"] if "control_socket_disable" in known else []


def _metrics_folder(instance_path: str) -> str:
    """An empty folder where each web process keeps its /metrics counts (prometheus_client's
    multiprocess mode), so a scrape adds up all of them; emptied at each start."""
    folder = os.path.join(instance_path, "metrics")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)
    return folder


def _stop_children(children: list[tuple[str, subprocess.Popen]], timeout: float = 20.0) -> None:
    for _name, proc in reversed(children):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for name, proc in reversed(children):
        remaining = max(0.1, deadline - time.monotonic())
        try:
            proc.wait(remaining)
        except subprocess.TimeoutExpired:
            click.echo(f"linli: {name} did not stop in time; killing it", err=True)
            # The whole group: gunicorn's workers and the RQ scheduler process too.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


# Restart policy of `linli serve`: 1 s, 2 s, 4 s … at most 30 s after an exit; a child that ran this
# long counts as healthy again (the backoff starts over); one that exits this many times in a row,
# each time soon after starting, is broken rather than unlucky (like systemd's StartLimitBurst).
RESTART_MAX_DELAY = 30.0
STABLE_AFTER = 60.0
GIVE_UP_AFTER = 5


class Supervised:
    """One child of `linli serve`, started again with backoff whenever it exits."""

    def __init__(self, name: str, start):
        self.name, self._start = name, start
        self.proc: subprocess.Popen | None = None
        self.delay, self.due, self.started, self.quick_exits = 1.0, 0.0, 0.0, 0

    def start(self) -> None:
        self.proc = self._start()
        self.started = time.monotonic()
        if self.proc is None:  # the embedded Redis already answers (another process started it): look later
            self.due = self.started + 5.0

    def check(self, now: float) -> bool:
        """Start it when due, note when it exited; False once it keeps failing."""
        if self.proc is None:
            if now >= self.due:
                self.start()
            return True
        code = self.proc.poll()
        if code is None:
            return True
        ran = now - self.started
        if ran >= STABLE_AFTER:
            self.delay, self.quick_exits = 1.0, 0
        else:
            self.quick_exits += 1
        if self.quick_exits >= GIVE_UP_AFTER:
            click.echo(f"linli: {self.name} exited {self.quick_exits} times in a row (last code {code}); "
                       "stopping", err=True)
            return False
        click.echo(f"linli: {self.name} exited with code {code} after {ran:.0f} s; restarting in "
                   f"{self.delay:.0f} s", err=True)
        self.proc, self.due = None, now + self.delay
        self.delay = min(self.delay * 2, RESTART_MAX_DELAY)
        return True


def _supervised(app, host: str, port: int, web_workers: int) -> list[Supervised]:
    python = sys.executable
    web = [python, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(web_workers),
           "--timeout", "30", "--graceful-timeout", "10", "--access-logfile", "-", *_gunicorn_options(),
           "--env", f"PROMETHEUS_MULTIPROC_DIR={_metrics_folder(app.instance_path)}",
           "--config", "python:app.gunicorn_conf", "app:create_app()"]
    children = [Supervised("worker", lambda: _child([python, "-m", "app.cli", "worker"])),
                Supervised("cron", lambda: _child([python, "-m", "app.cli", "cron"])),
                Supervised("web", lambda: _child(web))]
    if app.config.get("REDIS_EMBEDDED"):
        # The embedded Redis is supervised too (first, stopped last): worker and cron wait for it.
        # A daemon the set-up commands left running is taken over, or it would outlive serve.
        if embedded_redis.stop_daemon(app.instance_path):
            click.echo("linli: the embedded Redis an earlier command left running is now run by serve")
        redis_child = Supervised("embedded Redis", lambda: embedded_redis.start(app.instance_path, persist=True))
        redis_child.start()
        if redis_child.proc is not None:
            children.insert(0, redis_child)
        click.echo(f"linli: embedded Redis on {embedded_redis.socket_path(app.instance_path)}")
    return children


@click.command("serve")
@click.option("--host", default=None, help="Listen address (LINLI_HOST).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Listen port (LINLI_PORT).")
@click.option("--web-workers", type=click.IntRange(min=1), default=None, help="Web server processes (LINLI_WEB_WORKERS).")
@with_appcontext
def serve(host: str | None, port: int | None, web_workers: int | None) -> None:
    """Run everything: embedded Redis (if no LINLI_REDIS_URL), an RQ worker with scheduler, cron and the web
    server; each is started again (with backoff) when it exits."""

    app = current_app._get_current_object()
    check_database(app)
    check_schema(app)

    stop_requested = {"signal": None}

    def _on_signal(signum, _frame):
        stop_requested["signal"] = signum

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    children: list[Supervised] = []
    exit_code = 0
    try:
        children = _supervised(app, host or app.config["HOST"], port or app.config["PORT"],
                               web_workers or app.config["WEB_WORKERS"])
        check_redis(app)
        click.echo(f"linli: serving on http://{host or app.config['HOST']}:{port or app.config['PORT']} "
                   "(Ctrl-C to stop)")
        while stop_requested["signal"] is None:
            if not all(child.check(time.monotonic()) for child in children):
                exit_code = 1
                break
            time.sleep(0.2)
    finally:
        redis_children = [c for c in children if c.name == "embedded Redis"]
        _stop_children([(c.name, c.proc) for c in children if c.proc is not None and c not in redis_children])
        for child in redis_children:
            embedded_redis.stop(child.proc)
        click.echo("linli: stopped")
    sys.exit(exit_code)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--no-scheduler", is_flag=True, help="Do not run the scheduler for timed jobs in this worker.")
@click.option("--queue", "queue_names", multiple=True, help="Queue to listen on (repeatable; default: all).")
@with_appcontext
def worker(burst: bool, no_scheduler: bool, queue_names: tuple[str, ...]) -> None:
    """Run an RQ worker (with its scheduler). Production runs any number of these."""

    app = current_app._get_current_object()
    unknown = [q for q in queue_names if q not in ALL_QUEUES]
    if unknown:
        raise click.BadParameter(f"unknown queue {unknown[0]!r}; choose from {', '.join(ALL_QUEUES)}",
                                 param_hint="--queue")
    if burst:
        check_database(app)
        check_redis(app)
    else:
        # A daemon waits for the database and Redis (one line each, then backoff) rather than exiting
        # into its supervisor's restart loop.
        wait_for_database(app, "worker")
        wait_for_redis(redis_ext.client_for(app), "worker")
    ok = run_worker(app, queue_names or ALL_QUEUES, burst=burst, with_scheduler=not no_scheduler)
    sys.exit(0 if ok or burst else 1)


@click.command("cron")
@click.option("--no-timer", is_flag=True, help="Do not run the timer for precise alerts in this process.")
@with_appcontext
def cron(no_timer: bool) -> None:
    """Run the periodic sweeps (`rq cron workers.cron`, made to wait out Redis outages), and the timer."""

    app = current_app._get_current_object()
    wait_for_redis(redis_ext.client_for(app), "cron")
    if not no_timer:
        start_timer_thread(app)
    run_cron(app)


COMMANDS = [serve, worker, cron]
