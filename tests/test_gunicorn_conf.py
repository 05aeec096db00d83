from app.bot import engine
from app.gunicorn_conf import post_worker_init


def test_worker_init_builds_the_bot_before_the_first_request(app, monkeypatch):
    monkeypatch.setattr(engine, "_default", {})
    post_worker_init(worker=None)
    assert isinstance(engine._default.get("bot"), engine.Bot)
