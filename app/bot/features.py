"""Collecting the cues of one message: the feature vector the scoring reads."""
from __future__ import annotations

import re

from app.bot.model import CAT_OFFSET, N_CATS, N_FEATURES, NEUTRAL, REAL_WORD_FREQUENCY, Model
from app.bot.scan import phrase_spans, standing_singles

HAN_RUN = re.compile("[\u4e00-\u9fff]+")


def features(model: Model, text: str, chars: set[str] | None = None) -> list[float]:
    """Sum the weights of the cues found. Within one cue family (or category) the longest
    phrase at a place wins: "水压太小" counts once as a problem, and "水压" still counts
    for utilities. A neutral phrase ("人工智能") hides every shorter phrase inside it."""
    feats = [0.0] * N_FEATURES
    if not text:
        return feats
    covered = [0] * N_FEATURES   # per feature: end of the longest phrase counted so far
    hide_to = 0                  # end of the last neutral phrase
    hidden: list[tuple[int, int]] = []
    # Every phrase found in one pass in C (app/bot/scan.py), taken in order of start, the
    # longest first at each start.
    automaton = model.phrase_automaton
    for i, _neg_end, end, kind, hit in (phrase_spans(automaton, text) if automaton is not None else ()):
        if end <= hide_to:
            continue
        if kind:
            if kind == NEUTRAL:     # e.g. "人工智能", "修电脑": what is inside does not count
                hide_to = end
                hidden.append((i, end))
            elif not alike_fits(model, text, i, end):
                continue            # "6号楼水压" is no slip of 漏水: 楼 belongs to 号楼
        for f, w, is_category in hit:
            if end > covered[f]:
                covered[f] = end
                feats[f] += w
                if is_category and w > feats[f + N_CATS]:
                    feats[f + N_CATS] = w
    if chars is None:
        chars = set(text)
    # Single characters count only where they stand alone: where no word of jieba's dictionary
    # covers them ("修" in "来修一下", not in "装修"; the covering words are in the same automaton).
    if not model.single_chars.isdisjoint(chars):
        for x, single in standing_singles(model.single_automaton, text):
            if not (hidden and any(a <= x < b for a, b in hidden)):
                for f, w in single:
                    feats[f] += w
                    if f >= CAT_OFFSET and w > feats[f + N_CATS]:
                        feats[f + N_CATS] = w
    # Each regex runs only when a character it needs is in the text (app/bot/regexgate.py).
    index = model.pattern_index
    candidates = model.ungated.union(*map(index.__getitem__, chars & model.pattern_chars))
    searches = model.pattern_search
    for number in candidates:
        search, f, w, is_category, also = searches[number]
        if (also is None or not also.isdisjoint(chars)) and search(text):
            feats[f] += w
            if is_category and w > feats[f + N_CATS]:
                feats[f + N_CATS] = w
    return feats


def alike_fits(model: Model, text: str, start: int, end: int) -> bool:
    """A sound-alike variant found at text[start:end] is a slip only if its edge characters do
    not form a word with their neighbours outside it ("注意保暖" is not 医保, "有车违停" is not
    车位): a word of jieba's dictionary or a two-character phrase of the data files."""
    freq, known = model.word_freq, model.known_pairs
    if start > 0:
        pair = text[start - 1:start + 1]
        if pair in known or freq.get(pair, 0) >= REAL_WORD_FREQUENCY:
            return False
    if end < len(text):
        pair = text[end - 1:end + 1]
        if pair in known or freq.get(pair, 0) >= REAL_WORD_FREQUENCY:
            return False
    return True

