"""Character n-grams learned from labelled messages: a naive Bayes model beside the cue words.

The cue words and patterns generalise by structure; what they miss is the phrasing nobody
listed. Published work on short Chinese texts finds character bigrams as strong as word
features, and they cost no segmentation. This model learns, from the labelled messages in
``examples.tsv`` (the development sets; an operator may add their own), how often each
character and each pair of adjacent Chinese characters occurs in messages of each intent and,
among reports, of each category. Its posterior probabilities are added to the rule scores
with a weight from ``intents.yaml`` (``settings.ngram_intent_weight``,
``settings.ngram_category_weight``): a weight of 3 makes the model worth one decisive cue.

The bot consults it only when it could change what the words decide (``scoring.ngrams_can_decide``,
``scoring.category_open``: about half the messages); then it costs one dictionary lookup per
character and per character pair and one sum of the vectors found (packed into integers, so
the sum runs in C): each known feature carries its log-probability under every class, so

    log P(c | x) = log P(c) + Σ_f log((n_cf + α) / (N_c + α V)) + const

with n_cf how often feature f occurs in the examples of class c, N_c all feature occurrences of
class c, V the vocabulary, and features never seen in the examples left out.
"""
from __future__ import annotations

import math
import re
import struct
import sys
from itertools import repeat
from operator import add
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


SCALE = 1024            # fixed point: 1/1024 of a nat
# A field per class of 32 bits (64 if the data make a feature's value so large that a text of
# MAX_VOTE_CHARS characters could overflow 32): a text has at most 3 features per character
# (its characters, its pairs, and in a bench its words), so the sum of a message's vectors never
# carries from one field into the next. The bot reads at most 600 characters of a message.
MAX_VOTE_CHARS = 100_000
ZEROS = repeat(0)   # the default of a missed lookup: map(table.get, keys, ZEROS)
# A pair of adjacent characters as one integer: the 8 bytes of the two characters in UTF-32 of
# the machine's byte order, the first in the low half on a little-endian machine. A text's
# pairs are then read from its UTF-32 bytes (every other pair from offset 0, the rest from
# offset 4) without making a string of each character and each pair and hashing it.
UTF32 = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"


def pair_key(pair: str) -> int:
    return int.from_bytes(pair.encode(UTF32, "surrogatepass"), sys.byteorder)


class NgramModel:
    """Naive Bayes over character unigrams and bigrams (see the module docstring).

    ``table`` maps a feature to its 20 log-probabilities, packed into one integer: one
    per intent (in the order of ``INTENTS``), then one per category among reports (in the order
    of ``CATEGORIES``).
    """

    def __init__(self, rows: Iterable[tuple[str, str, str | None]], alpha: float = 0.5,
                 kinds: tuple[str, ...] = KINDS, temperature: float = 1.0, cut=None):
        self.kinds = kinds
        self.temperature = temperature
        self.cut = cut
        n_classes = N_INTENTS + len(CATEGORIES)
        counts: dict[str, dict[int, int]] = {}   # feature -> {class: occurrences}, sparse
        class_totals = [0] * n_classes
        class_docs = [0] * n_classes
        for text, intent, category in rows:
            classes = [INTENT_POS[intent]]
            if intent == "report_issue" and category in CATEGORY_POS:
                classes.append(CATEGORY_POS[category])
            feats = ngrams(text, kinds, cut)
            for cls in classes:
                class_docs[cls] += 1
                class_totals[cls] += len(feats)
            for feat in feats:
                per_class = counts.get(feat)
                if per_class is None:
                    per_class = counts[feat] = {}
                for cls in classes:
                    per_class[cls] = per_class.get(cls, 0) + 1
        self.size = sum(class_docs[:N_INTENTS])
        self.prior = [math.log(docs) if docs else -math.inf for docs in class_docs]
        # Each feature's 20 log-probabilities log((n + α) / (N_c + α V)) are packed as fixed-point
        # fields of one integer (``field_bits`` each, 1/SCALE of a nat, shifted to be >= 0), so that
        # summing a message's features is one sum() of integers in C. The shift is the same for
        # every class, so it cancels in the posterior; the rounding (< 0.001 nat per feature) is
        # far below what the temperature smooths away. A feature is the packed value of a
        # feature never seen (n = 0 everywhere) plus, for the few classes it was seen with, the
        # difference log((n + α) / α): one shift per class seen, not 20 logarithms.
        vocabulary = len(counts)
        unseen = [math.log(alpha / (total + alpha * vocabulary)) if vocabulary else 0.0 for total in class_totals]
        shift = -min(unseen)
        base_fields = [round((value + shift) * SCALE) for value in unseen]
        most = max((n for per_class in counts.values() for n in per_class.values()), default=0)
        largest = max(base_fields) + round(math.log((most + alpha) / alpha) * SCALE)
        bits = self.field_bits = 32 if (largest + 1) * 3 * MAX_VOTE_CHARS < 1 << 32 else 64
        # The posteriors read the fields of a sum in one call: its bytes, unpacked as integers.
        self._fields = struct.Struct(f"<{n_classes}{'I' if bits == 32 else 'Q'}")
        # ... only the fields a posterior needs: (first field, count) -> a Struct of them
        code = "I" if bits == 32 else "Q"
        self._parts = {(0, N_INTENTS): struct.Struct(f"<{N_INTENTS}{code}"),
                       (N_INTENTS, len(CATEGORIES)): struct.Struct(f"<{len(CATEGORIES)}{code}")}
        base = 0
        for cls, value in enumerate(base_fields):
            base |= value << (bits * cls)
        bonus: dict[int, int] = {}   # occurrences -> round(log((n + α) / α) · SCALE)
        table: dict[str, int] = {}
        for feat, per_class in counts.items():
            packed = base
            for cls, n in per_class.items():
                step = bonus.get(n)
                if step is None:
                    step = bonus[n] = round(math.log((n + alpha) / alpha) * SCALE)
                packed += step << (bits * cls)
            table[feat] = packed
        self.table = table
        self.pairs = {pair_key(feat): packed for feat, packed in table.items() if len(feat) == 2}

    def __bool__(self) -> bool:
        return self.size > 0

    def features(self, text: str) -> list[int]:
        """The packed vectors of a cleaned text's known features (the posteriors sum them)."""
        get = self.table.get
        if len(text) > MAX_VOTE_CHARS:
            text = text[:MAX_VOTE_CHARS]
        if self.kinds != KINDS or self.cut is not None:
            return [vector for vector in map(get, ngrams(text, self.kinds, self.cut)) if vector is not None]
        # The same features as ngrams(), with the loops in C: the table holds only Chinese
        # characters and pairs of them, so the other characters and pairs simply miss.
        vectors = list(filter(None, map(get, set(text))))
        vectors.extend(filter(None, map(get, map(add, text, text[1:]))))
        return vectors

    def vote(self, text: str, chars: set[str] | None = None) -> int:
        """The sum of the packed vectors of a cleaned text's known features, in one C loop per
        kind (what the posteriors read; the same as ``sum(self.features(text))``, 0 when none
        is known). ``chars``: ``set(text)`` when the caller has it already."""
        if self.kinds != KINDS or self.cut is not None:
            return sum(self.features(text))
        if len(text) > MAX_VOTE_CHARS:
            text, chars = text[:MAX_VOTE_CHARS], None
        total = sum(map(self.table.get, chars if chars is not None else set(text), ZEROS))
        if len(text) > 1:
            # The pairs, as integers (pair_key): the sum of the same vectors, in another order
            # (integers: the order cannot change the sum).
            get = self.pairs.get
            data = memoryview(text.encode(UTF32, "surrogatepass"))
            size = len(data)
            total += sum(map(get, data[:size - size % 8].cast("Q"), ZEROS))
            size -= 4
            total += sum(map(get, data[4:4 + size - size % 8].cast("Q"), ZEROS))
        return total

    def _posterior(self, vectors: list[int] | int, first: int, count: int) -> list[float]:
        logp = self.prior[first:first + count]
        # A vote of 0 (nothing known) adds 0.0 to every class: the same as no vote.
        total = vectors if vectors.__class__ is int else sum(vectors)
        if total:
            fields = self._fields
            part = self._parts.get((first, count))
            data = total.to_bytes(fields.size, "little")
            if part is not None:   # the fields of these classes only
                values = part.unpack_from(data, first * (self.field_bits // 8))
            else:
                values = fields.unpack(data)[first:first + count]
            scale = SCALE
            logp = [p + value / scale for p, value in zip(logp, values, strict=True)]
        top = max(logp)
        if top == -math.inf:
            return [0.0] * count
        t = self.temperature
        exp = math.exp
        weights = [exp((v - top) / t) for v in logp]
        total_weight = sum(weights)
        return [w / total_weight for w in weights]

    def intent_posterior(self, vectors: list[int] | int) -> list[float]:
        """P(intent | features), in the order of INTENTS (``vectors``: from ``features``, or
        their sum from ``vote``)."""
        return self._posterior(vectors, 0, N_INTENTS)

    def category_posterior(self, vectors: list[int] | int) -> list[float]:
        """P(category | features, a report), in the order of CATEGORIES."""
        return self._posterior(vectors, N_INTENTS, len(CATEGORIES))
