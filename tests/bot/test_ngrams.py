"""The character n-gram model (app/bot/ngrams.py) and the examples it learns from."""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from app.bot import CATEGORIES, INTENTS, Bot, BotDataError
from app.bot.data import DEFAULT_DATA_DIR
from app.bot.evaluation import read_file
from app.bot.ngrams import NgramModel, ngrams
from tests.bot.conftest import NOW

DATA = Path(__file__).parent / "data"
# What the model may learn from, and what it must never see (docs/bot.md, "Evaluation").
DEVELOPMENT_SETS = ("dev.tsv", "hotline.tsv", "holdout2.tsv", "holdout4.tsv")
HELD_OUT_SETS = ("holdout.tsv", "holdout3.tsv", "holdout5.tsv", "hotline2.tsv", "holdout6.tsv")


def test_features_are_the_characters_once_and_the_pairs_of_adjacent_chinese_characters():
    assert sorted(ngrams("电梯坏了 电梯")) == sorted(["电", "梯", "坏", "了", "电梯", "梯坏", "坏了", "电梯"])
    assert ngrams("ok 123") == []


def test_the_model_learns_which_characters_go_with_which_intent_and_category():
    rows = [("电梯坏了", "report_issue", "repair"), ("路灯坏了", "report_issue", "repair"),
            ("楼上太吵了", "report_issue", "noise"), ("谢谢你", "chitchat", None), ("谢谢大家", "chitchat", None)]
    model = NgramModel(rows)
    hits = model.features("楼道灯坏了")
    intents = model.intent_posterior(hits)
    assert math.isclose(sum(intents), 1.0) and max(intents) == intents[INTENTS.index("report_issue")]
    categories = model.category_posterior(hits)
    assert max(categories) == categories[CATEGORIES.index("repair")]
    assert model.intent_posterior(model.features("谢谢"))[INTENTS.index("chitchat")] > 0.9
    # Nothing known: the priors (3 reports, 2 thanks).
    unknown = model.intent_posterior([])
    assert math.isclose(unknown[INTENTS.index("report_issue")], 0.6)


def test_the_examples_are_the_development_sets_and_no_held_out_message():
    examples = read_file(DEFAULT_DATA_DIR / "examples.tsv")
    development = [e for name in DEVELOPMENT_SETS for e in read_file(DATA / name)]
    assert [(e.text, e.intent, e.category) for e in examples] == \
        [(e.text, e.intent, e.category) for e in development]
    held_out = {e.text for name in HELD_OUT_SETS if (DATA / name).exists() for e in read_file(DATA / name)}
    # On failure only the overlap is shown (those texts are in examples.tsv anyway): a held-out
    # set's messages are never printed.
    overlap = sorted(held_out & {e.text for e in examples})
    assert len(held_out) > 200 and overlap == [], overlap


def _data_copy(tmp_path, intents_edit=None, examples_text=None) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    if intents_edit:
        path = data / "intents.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace(*intents_edit), encoding="utf-8")
    if examples_text is not None:
        (data / "examples.tsv").write_text(examples_text, encoding="utf-8")
    return data


def test_weight_zero_leaves_only_the_cue_words(tmp_path, bot):
    data = _data_copy(tmp_path, ("  ngram_intent_weight: 3\n", "  ngram_intent_weight: 0\n"))
    words_only = Bot(data_dir=data, cache_dir=tmp_path / "cache")
    assert words_only.model.ngram_intent_weight == 0
    # The words leave this one open (a question, or a person wanted?):
    # the characters are consulted.
    open_text = "社区有人吗？急事"
    with_grams = bot.understand(open_text, now=NOW, chat_type="group").scores
    without = words_only.understand(open_text, now=NOW, chat_type="group").scores
    assert with_grams != without
    assert sum(with_grams.values()) == pytest.approx(sum(without.values()) + 3)   # the posterior sums to 1
    # Here the words decide whatever the characters say: they are not consulted at all.
    clear = "3栋楼道灯坏了好几天了，晚上根本看不见"
    assert bot.understand(clear, now=NOW).scores == words_only.understand(clear, now=NOW).scores


def test_without_examples_the_bot_still_works_on_its_words(tmp_path):
    data = _data_copy(tmp_path)
    (data / "examples.tsv").unlink()
    bot = Bot(data_dir=data, cache_dir=tmp_path / "cache")
    assert not bot.model.ngrams
    assert bot.understand("3栋楼道灯坏了", now=NOW, chat_type="group").intent == "report_issue"


def test_n_grams_alone_never_make_an_intent(bot):
    # No cue word at all: unclear (silence in a group, a person in a 1:1 chat), whatever the
    # characters resemble.
    assert bot.understand("情况不明。", now=NOW, chat_type="group").intent == "none"
    assert bot.understand("情况不明。", now=NOW, chat_type="private").intent == "human"


def test_a_short_answer_inside_a_flow_is_scored_on_the_cues_alone(bot):
    u = bot.understand("尊老金", now=NOW, state={"flow": "book_proxy", "step": "item"},
                       vocab=bot.default_vocabulary)
    assert u.flow_continues and u.intent == "book_proxy"


@pytest.mark.parametrize("content,message", [
    ("电梯坏了\tbroken\t\n", "examples.tsv:1: unknown intent 'broken'"),
    ("电梯坏了\n", "examples.tsv:1: expected text<TAB>intent"),
])
def test_a_broken_examples_file_is_named(tmp_path, content, message):
    data = _data_copy(tmp_path, examples_text=content)
    with pytest.raises(BotDataError, match=message):
        Bot(data_dir=data, cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("value", ["-1", "lots"])
def test_a_bad_weight_is_named(tmp_path, value):
    data = _data_copy(tmp_path, ("  ngram_intent_weight: 3\n", f"  ngram_intent_weight: {value}\n"))
    with pytest.raises(BotDataError, match="settings.ngram_intent_weight"):
        Bot(data_dir=data, cache_dir=tmp_path / "cache")
