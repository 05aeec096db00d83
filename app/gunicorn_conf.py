"""gunicorn settings for linli: ``gunicorn -c python:app.gunicorn_conf wsgi:app``.

Hooks and the worker class live here; bind address and worker count stay on the command line.
"""
from __future__ import annotations

# gunicorn's sync worker, with Chinese pages for requests it cannot parse (app/gunicorn_worker.py).
worker_class = "app.gunicorn_worker.Worker"


def post_worker_init(worker) -> None:
    """Build the bot (jieba dictionary, data files: ~1-2 s) before the worker takes requests.

    Otherwise the first WeChat delivery a fresh worker gets pays for it, and
    WeChat gives a passive reply only 5 seconds.
    """
    from app.bot import get_bot

    get_bot()
