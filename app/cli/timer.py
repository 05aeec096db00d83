"""`linli timer`: the reply clock's alerts at their time, to the millisecond (workers/timer.py).

`linli cron` runs one in a thread already; run more (any number, on any host) for redundancy:
each due entry is taken by exactly one of them.
"""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.preflight import check_database, check_redis
from workers.timer import run_timer


@click.command("timer")
@with_appcontext
def timer() -> None:
    """Run precise jobs (reply-clock warnings and breaches) at their due time and send them at once."""
    app = current_app._get_current_object()
    check_database(app)
    check_redis(app)
    run_timer(app)


COMMANDS = [timer]
