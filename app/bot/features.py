"""Collecting the cues of one message: the feature vector the scoring reads."""
from __future__ import annotations

import re
from operator import add

from app.bot.model import CAT_OFFSET, N_CATS, N_FEATURES, REAL_WORD_FREQUENCY, Model

HAN_RUN = re.compile("[\u4e00-\u9fff]+")


def features(model: Model, text: str, chars: set[str] | None = None) -> list[float]:
    """Sum the weights of the cues found. Within one cue family (or category) the longest
    phrase at a place wins: "水压太小" counts once as a problem, and "水压" still counts
    for utilities. A neutral phrase ("人工智能") hides every shorter phrase inside it."""
    feats = [0.0] * N_FEATURES
    if not text:
        return feats
    multi = model.multi
    lengths = model.lengths
    neutral = model.neutral
    alike = model.alike
    n = len(text)
    covered = [0] * N_FEATURES   # per feature: end of the longest phrase counted so far
    hide_to = 0                  # end of the last neutral phrase
    hidden: list[tuple[int, int]] = []
    # Phrases have two or more characters: the first two index the lengths to try (the pairs
    # and their lookups are made in C; most positions start no phrase).
    for i, ls in enumerate(map(lengths.get, map(add, text, text[1:]))):
        if ls is None:
            continue
        for length in ls:
            end = i + length
            if end > n:
                continue
            phrase = text[i:end]
            hit = multi.get(phrase)
            if hit is None:
                continue
            if end <= hide_to:
                continue
            if phrase in neutral:   # e.g. "人工智能", "修电脑": what is inside does not count
                hide_to = end
                hidden.append((i, end))
            elif phrase in alike and not alike_fits(model, text, i, end):
                continue            # "6号楼水压" is no slip of 漏水: 楼 belongs to 号楼
            for f, w in hit:
                if end > covered[f]:
                    covered[f] = end
                    feats[f] += w
                    if f >= CAT_OFFSET and w > feats[f + N_CATS]:
                        feats[f + N_CATS] = w
    if chars is None:
        chars = set(text)
    # Single characters count only where they stand alone: where no word of jieba's dictionary
    # covers them ("修" in "来修一下", not in "装修"; HanSegmenter.stands_alone).
    if not model.single_chars.isdisjoint(chars):
        single = model.single
        stands_alone = model.cut_block.stands_alone
        single_chars = model.single_chars
        for run in HAN_RUN.finditer(text):
            block = run.group()
            if single_chars.isdisjoint(block):
                continue
            offset = run.start()
            for found in model.single_re.finditer(block):
                x = found.start()
                hit = single[found.group()]
                if stands_alone(block, x) and not (hidden and any(a <= offset + x < b for a, b in hidden)):
                    for f, w in hit:
                        feats[f] += w
                        if f >= CAT_OFFSET and w > feats[f + N_CATS]:
                            feats[f + N_CATS] = w
    index = model.pattern_index
    candidates = set(model.ungated)
    for ch in chars & model.pattern_chars:
        candidates.update(index[ch])
    patterns = model.patterns
    for number in candidates:
        pattern, f, w, _gate = patterns[number]
        if pattern.search(text):
            feats[f] += w
            if f >= CAT_OFFSET and w > feats[f + N_CATS]:
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

