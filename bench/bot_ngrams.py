"""Do character n-grams help the bot? Cross-validated on the development sets only.

    .venv/bin/python bench/bot_ngrams.py [--folds 5] [--grid] [--timing]

The n-gram model (app/bot/ngrams.py) learns from labelled messages, so it is scored on messages
it did not learn from: the development sets (dev, hotline, holdout2, holdout4 — never a held-out
set) are split into ``--folds`` parts; each part is classified by the full bot with the model
learned from the other parts, and the scores are summed over the parts. "leave holdout4 out"
learns from the three older sets and classifies holdout4 (the set written at the start of the
third round). The cue words were written on the same sets, so both figures favour the words;
what they compare fairly is one feature set of the model against another.

Feature sets: none (cue words and patterns only), character bigrams, characters + bigrams (the
default), jieba words, words + bigrams. Words need every message segmented (the bot otherwise
segments only the runs with a single-character cue word), so ``--timing`` also measures what each
costs against bare ``jieba.lcut`` on the messages of bench/bot_throughput.py. ``--grid`` tries
weights and temperatures of the default feature set.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jieba  # noqa: E402

from app.bot import Bot  # noqa: E402
from app.bot.evaluation import Example, evaluate, read_file  # noqa: E402
from app.bot.ngrams import NgramModel  # noqa: E402
from bench.bot_throughput import NOW, messages  # noqa: E402

DATA = ROOT / "tests" / "bot" / "data"
DEVELOPMENT = ("dev.tsv", "hotline.tsv", "holdout2.tsv", "holdout4.tsv")
FEATURES = {"none": (), "bi": ("bi",), "uni+bi": ("uni", "bi"), "word": ("word",), "word+bi": ("word", "bi")}


def use(bot: Bot, examples: list[Example], kinds: tuple[str, ...], weight: float, temperature: float) -> None:
    """Replace the bot's n-gram model by one learned from ``examples`` with these settings."""
    model = bot.model
    rows = [(model.normalize_phrase(e.text), e.intent, e.category) for e in examples]
    model.ngram_intent_weight = model.ngram_category_weight = weight if kinds else 0.0
    model.use_ngrams(NgramModel(rows if kinds else [], kinds=kinds, temperature=temperature, cut=model.cut_block))


class Totals:
    def __init__(self):
        self.n = self.intent = self.silent = self.cat_n = self.cat = self.tp = self.fp = self.fn = 0

    def add(self, result) -> None:
        self.n += result.total
        self.intent += result.correct
        self.silent += sum(v for (gold, pred), v in result.confusion.items()
                           if gold == pred or {gold, pred} <= {"none", "chitchat"})
        self.cat_n += result.category_total
        self.cat += result.category_correct
        self.tp += result.nr_tp
        self.fp += result.nr_fp
        self.fn += result.nr_fn

    def row(self) -> str:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        return (f"{self.intent / self.n:.3f} | {self.silent / self.n:.3f} | {self.cat / self.cat_n:.3f} | "
                f"{p:.3f} | {r:.3f}")


def cross_validated(bot, sets, kinds, weight, temperature, folds) -> Totals:
    pool = [e for name in DEVELOPMENT for e in sets[name]]
    order = list(range(len(pool)))
    random.Random(14).shuffle(order)
    totals = Totals()
    for fold in range(folds):
        test = [pool[i] for k, i in enumerate(order) if k % folds == fold]
        train = [pool[i] for k, i in enumerate(order) if k % folds != fold]
        use(bot, train, kinds, weight, temperature)
        totals.add(evaluate(bot, test, NOW, chat_type="group"))
    return totals


def left_out(bot, sets, name, kinds, weight, temperature) -> Totals:
    use(bot, [e for other in DEVELOPMENT if other != name for e in sets[other]], kinds, weight, temperature)
    totals = Totals()
    totals.add(evaluate(bot, sets[name], NOW, chat_type="group"))
    return totals


def cost(bot, sets, kinds, weight, temperature, msgs) -> float:
    """Classification CPU time of the messages / bare jieba.lcut's, best of 3 interleaved rounds."""
    use(bot, [e for name in DEVELOPMENT for e in sets[name]], kinds, weight, temperature)
    vocab = bot.default_vocabulary
    best_bot = best_bare = float("inf")
    for _ in range(3):
        start = time.process_time()
        for m in msgs:
            jieba.lcut(m)
        best_bare = min(best_bare, time.process_time() - start)
        start = time.process_time()
        for m in msgs:
            bot.understand(m, now=NOW, chat_type="group", vocab=vocab)
        best_bot = min(best_bot, time.process_time() - start)
    return best_bot / best_bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--grid", action="store_true", help="weights and temperatures of characters + bigrams")
    parser.add_argument("--timing", action="store_true", help="also the cost of each feature set")
    args = parser.parse_args()
    bot = Bot(auto_reload=False)
    weight, temperature = bot.model.ngram_intent_weight, bot.model.ngrams.temperature
    sets = {name: read_file(DATA / name) for name in DEVELOPMENT}
    msgs = messages(5000) if args.timing else []
    if args.timing:
        jieba.initialize()
    print(f"{args.folds}-fold cross-validation over {sum(len(v) for v in sets.values())} development messages; "
          f"weight {weight:g}, temperature {temperature:g}")
    print()
    print("| n-gram features | what | intent accuracy | silent merged | category | needs_reply P | needs_reply R |"
          + (" × bare jieba.lcut |" if args.timing else ""))
    print("|---|---|---:|---:|---:|---:|---:|" + ("---:|" if args.timing else ""))
    for label, kinds in FEATURES.items():
        cv = cross_validated(bot, sets, kinds, weight, temperature, args.folds)
        extra = f" {cost(bot, sets, kinds, weight, temperature, msgs):.2f} |" if args.timing else ""
        print(f"| {label} | cross-validated | {cv.row()} |{extra}")
        print(f"| {label} | leave holdout4 out | {left_out(bot, sets, 'holdout4.tsv', kinds, weight, temperature).row()} |"
              + (" |" if args.timing else ""))
    if args.grid:
        print()
        print("| weight | temperature | what | intent accuracy | silent merged | category | needs_reply P | needs_reply R |")
        print("|---:|---:|---|---:|---:|---:|---:|---:|")
        for w in (1.5, 2.0, 3.0, 4.0):
            for t in (1.0, 2.0, 4.0):
                cv = cross_validated(bot, sets, FEATURES["uni+bi"], w, t, args.folds)
                lo = left_out(bot, sets, "holdout4.tsv", FEATURES["uni+bi"], w, t)
                print(f"| {w:g} | {t:g} | cross-validated | {cv.row()} |")
                print(f"| {w:g} | {t:g} | leave holdout4 out | {lo.row()} |")


if __name__ == "__main__":
    main()
