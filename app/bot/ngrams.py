"""Character n-grams learned from labelled messages: a naive Bayes model beside the cue words.

The cue words and patterns generalise by structure; what they miss is the phrasing nobody
listed. Published work on short Chinese texts finds character bigrams as strong as word
features, and they cost no segmentation. This model learns, from the labelled messages in
``examples.tsv`` (the development sets; an operator may add their own), how often each
character and each pair of adjacent Chinese characters occurs in messages of each intent and,
among reports, of each category. Its posterior probabilities are added to the rule scores
with a weight from ``intents.yaml`` (``settings.ngram_intent_weight``,
``settings.ngram_category_weight``): a weight of 2 makes the model worth one strong cue.

Scoring is one dictionary lookup per character pair during the cue scan (``features.scan``)
and a few additions per pair found; the classes a feature never occurred with cost nothing,
because naive Bayes with add-α smoothing splits into a per-class constant for every known
feature plus a sparse bonus where the feature was seen:

    log P(c | x) ∝ log P(c) + Σ_f log((n_cf + α) / (N_c + α V))
                 = log P(c) + k · log(α / (N_c + α V)) + Σ_{f seen with c} log((n_cf + α) / α)

with k the number of known features in the message.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable

from app.bot.types import CATEGORIES, INTENTS

HAN_RUN = re.compile("[\u4e00-\u9fff]+")
N_INTENTS = len(INTENTS)
INTENT_POS = {name: i for i, name in enumerate(INTENTS)}
CATEGORY_POS = {name: N_INTENTS + i for i, name in enumerate(CATEGORIES)}
KINDS = ("uni", "bi")


def ngrams(text: str, kinds: tuple[str, ...] = KINDS, cut=None) -> list[str]:
    """The features of a cleaned text: its Chinese characters (once each) and the pairs of
    adjacent Chinese characters (as often as they occur). ``"word"`` adds jieba's words
    (``cut``: a segmenter of one run of Chinese characters), prefixed with a space so that
    they never collide with a character or a pair: only for measuring (bench/bot_ngrams.py);
    the bot itself does not segment every message."""
    runs = HAN_RUN.findall(text)
    out: list[str] = []
    if "uni" in kinds:
        out.extend(set("".join(runs)))
    if "bi" in kinds:
        for run in runs:
            out.extend(run[i:i + 2] for i in range(len(run) - 1))
    if "word" in kinds and cut is not None:
        for run in runs:
            out.extend(" " + word for word in cut(run))
    return out


class NgramModel:
    """Naive Bayes over character unigrams and bigrams (see the module docstring).

    ``table`` maps a feature to ``((class, bonus), ...)``: classes 0..9 are the intents in the
    order of ``INTENTS``, 10..19 the categories in the order of ``CATEGORIES``.
    """

    def __init__(self, rows: Iterable[tuple[str, str, str | None]], alpha: float = 0.5,
                 kinds: tuple[str, ...] = KINDS, temperature: float = 1.0, cut=None):
        self.kinds = kinds
        self.temperature = temperature
        self.cut = cut
        counts: dict[str, Counter] = {}
        class_totals = [0] * (N_INTENTS + len(CATEGORIES))
        class_docs = [0] * (N_INTENTS + len(CATEGORIES))
        for text, intent, category in rows:
            classes = [INTENT_POS[intent]]
            if intent == "report_issue" and category in CATEGORY_POS:
                classes.append(CATEGORY_POS[category])
            feats = ngrams(text, kinds, cut)
            for cls in classes:
                class_docs[cls] += 1
                class_totals[cls] += len(feats)
            for feat in feats:
                per_class = counts.setdefault(feat, Counter())
                for cls in classes:
                    per_class[cls] += 1
        self.size = sum(class_docs[:N_INTENTS])
        vocabulary = len(counts)
        self.table: dict[str, tuple[tuple[int, float], ...]] = {
            feat: tuple((cls, math.log((n + alpha) / alpha)) for cls, n in sorted(per_class.items()))
            for feat, per_class in counts.items()}
        # Per class: log prior, and the log-probability of a known feature never seen with the class.
        self.prior = [math.log(docs) if docs else -math.inf for docs in class_docs]
        self.base = [math.log(alpha / (total + alpha * vocabulary)) if vocabulary else 0.0
                     for total in class_totals]

    def __bool__(self) -> bool:
        return self.size > 0

    def features(self, text: str) -> list[tuple[tuple[int, float], ...]]:
        """The table entries of a cleaned text's features (``features.scan`` finds them itself)."""
        table = self.table
        return [hit for hit in (table.get(f) for f in ngrams(text, self.kinds, self.cut)) if hit is not None]

    def _posterior(self, hits, first: int, count: int) -> list[float]:
        prior, base = self.prior, self.base
        k = len(hits)
        logp = [prior[first + i] + k * base[first + i] for i in range(count)]
        last = first + count
        for hit in hits:
            for cls, bonus in hit:
                if first <= cls < last:
                    logp[cls - first] += bonus
        top = max(logp)
        if top == -math.inf:
            return [0.0] * count
        t = self.temperature
        weights = [math.exp((v - top) / t) for v in logp]
        total = sum(weights)
        return [w / total for w in weights]

    def intent_posterior(self, hits) -> list[float]:
        """P(intent | features), in the order of INTENTS."""
        return self._posterior(hits, 0, N_INTENTS)

    def category_posterior(self, hits) -> list[float]:
        """P(category | features, a report), in the order of CATEGORIES."""
        return self._posterior(hits, N_INTENTS, len(CATEGORIES))
