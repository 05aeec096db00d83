"""The data files an operator edits: checked on load, reloaded without a restart."""
from __future__ import annotations

import logging
import os
import shutil
import time

import pytest

from app.bot import Bot, BotDataError
from app.bot.data import DEFAULT_DATA_DIR
from tests.bot.conftest import NOW


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, folder)
    return folder


def _touch_later(path):
    # Make sure the modification time moves even on coarse file systems.
    stamp = time.time() + 5
    os.utime(path, (stamp, stamp))


def test_an_edited_file_is_picked_up_without_a_restart(data_dir, tmp_path):
    bot = Bot(data_dir=data_dir, cache_dir=tmp_path / "cache")
    assert bot.understand("电梯坏了", now=NOW, chat_type="group").intent == "report_issue"
    assert bot.understand("茉莉花开了", now=NOW, chat_type="group").intent == "none"

    intents = data_dir / "intents.yaml"
    intents.write_text(intents.read_text(encoding="utf-8").replace(
        "  report:   # explicit", "  report:\n    茉莉花: 6\n  # explicit", 1), encoding="utf-8")
    _touch_later(intents)
    bot.reload_if_changed(force=True)
    assert bot.understand("茉莉花开了", now=NOW, chat_type="group").intent == "report_issue"


def test_faq_answers_come_from_the_file(data_dir, tmp_path):
    faq = data_dir / "faq.yaml"
    faq.write_text(faq.read_text(encoding="utf-8").replace("0519-88001234（工作时间）", "0519-12345678（工作时间）"),
                   encoding="utf-8")
    bot = Bot(data_dir=data_dir, cache_dir=tmp_path / "cache")
    u = bot.understand("社区居委会的电话是多少", now=NOW)
    assert u.intent == "ask_info" and "0519-12345678" in u.answer


def test_a_broken_edit_keeps_the_last_good_data(data_dir, tmp_path, caplog):
    bot = Bot(data_dir=data_dir, cache_dir=tmp_path / "cache")
    intents = data_dir / "intents.yaml"
    intents.write_text(intents.read_text(encoding="utf-8") + "\n  - cue: report\n    regex: \"([unclosed\"\n",
                       encoding="utf-8")
    _touch_later(intents)
    with caplog.at_level(logging.ERROR, logger="app.bot.engine"):
        assert bot.reload_if_changed(force=True) is False
    assert "bad regex" in caplog.text
    assert bot.understand("电梯坏了", now=NOW).intent == "report_issue"


@pytest.mark.parametrize("name,content,message", [
    ("intents.yaml", "cues: [1, 2]\n", "'cues' must map"),
    ("intents.yaml", "cues:\n  nonsense:\n    词: 1\n", "unknown cue 'nonsense'"),
    ("intents.yaml", "cues:\n  report:\n    投诉: lots\n", "weight of '投诉' must be a number"),
    ("faq.yaml", "faq:\n  - key: x\n    answer: y\n", "match must be a list"),
    ("categories.yaml", "categories:\n  weather:\n    雨: 1\n", "unknown category 'weather'"),
    ("normalize.yaml", "typos: [\n", "not valid YAML"),
    ("normalize.yaml", "homophones:\n  words: 电梯\n", "homophones: expected words"),
    ("normalize.yaml", "homophones:\n  max_char_frequency: many\n", "max_char_frequency: expected a whole number"),
    ("pinyin.yaml", "readings: [a, b]\n", "'readings' must map"),
    ("intents.yaml", "cues:\n  report:\n    投诉: 3\n    举报: 3\n    投诉: 2\n", "'投诉' is listed twice"),
])
def test_mistakes_name_the_file_and_the_entry(data_dir, tmp_path, name, content, message):
    (data_dir / name).write_text(content, encoding="utf-8")
    with pytest.raises(BotDataError, match=message.replace("[", r"\[").replace("(", r"\(")) as info:
        Bot(data_dir=data_dir, cache_dir=tmp_path / "cache")
    assert name in str(info.value)


def test_a_missing_file_is_named(data_dir, tmp_path):
    (data_dir / "faq.yaml").unlink()
    with pytest.raises(BotDataError, match="faq.yaml: file is missing"):
        Bot(data_dir=data_dir, cache_dir=tmp_path / "cache")
