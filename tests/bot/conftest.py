"""A bot shared by the bot tests (loading jieba's dictionary once per session is enough)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.bot import Bot

# Tuesday 2026-11-17 09:30 in Shanghai, like the app's `clock` fixture.
NOW = datetime(2026, 11, 17, 1, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def bot(tmp_path_factory) -> Bot:
    return Bot(cache_dir=tmp_path_factory.mktemp("jieba-cache"))


@pytest.fixture(scope="session")
def understand(bot):
    def run(text, **kw):
        kw.setdefault("now", NOW)
        kw.setdefault("vocab", bot.default_vocabulary)
        return bot.understand(text, **kw)
    return run
