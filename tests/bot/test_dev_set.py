"""The labelled sets: the bot must not fall below the scores recorded in docs/bot.md.

dev.tsv is what the vocabulary was built on; holdout.tsv was written after the
vocabulary was frozen and is never used to tune it, so its floor is lower.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from app.bot.evaluation import evaluate, read_file, report
from tests.bot.conftest import NOW

DATA = Path(__file__).parent / "data"

# Recorded floors (a little below the scores in docs/bot.md, so the test catches regressions).
FLOORS = {
    "dev.tsv": {"accuracy": 0.98, "macro_f1": 0.97, "category": 0.97, "nr_precision": 0.97, "nr_recall": 0.97},
    "holdout.tsv": {"accuracy": 0.88, "macro_f1": 0.87, "category": 0.70, "nr_precision": 0.95, "nr_recall": 0.85},
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_scores_stay_above_the_recorded_floor(bot, name):
    examples = read_file(DATA / name)
    result = evaluate(bot, examples, NOW, chat_type="group")
    summary = "\n".join(report(result))
    floor = FLOORS[name]
    assert result.accuracy >= floor["accuracy"], summary
    assert result.macro_f1 >= floor["macro_f1"], summary
    assert result.category_accuracy >= floor["category"], summary
    assert result.needs_reply_precision >= floor["nr_precision"], summary
    assert result.needs_reply_recall >= floor["nr_recall"], summary


def test_the_sets_are_big_enough_and_cover_every_label():
    from app.bot import CATEGORIES, INTENTS

    dev, holdout = read_file(DATA / "dev.tsv"), read_file(DATA / "holdout.tsv")
    assert len(dev) >= 400 and len(holdout) >= 150
    for examples in (dev, holdout):
        assert {e.intent for e in examples} == set(INTENTS)
        assert {e.category for e in examples if e.intent == "report_issue"} == set(CATEGORIES)
        assert all(e.needs_reply is not None for e in examples)
    # The held-out set is not a copy of the development set.
    assert not {e.text for e in dev} & {e.text for e in holdout}
