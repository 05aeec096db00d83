"""Collecting the cues of one message: the feature vector the scoring reads, and the
character n-grams the learned model knows (found in the same pass)."""
from __future__ import annotations

import re

from app.bot.model import CAT_OFFSET, N_CATS, N_FEATURES, REAL_WORD_FREQUENCY, Model

HAN_RUN = re.compile("[\u4e00-\u9fff]+")


def features(model: Model, text: str, chars: set[str] | None = None) -> list[float]:
    """The cue features of a cleaned text (``scan`` without the n-grams)."""
    return scan(model, text, chars)[0]


def scan(model: Model, text: str, chars: set[str] | None = None) -> tuple[list[float], list]:
    """Sum the weights of the cues found, and collect the n-gram model's entries for the text's
    characters and character pairs (``ngrams.NgramModel.table``).

    Within one cue family (or category) the longest phrase at a place wins: "水压太小" counts
    once as a problem, and "水压" still counts for utilities. A neutral phrase ("人工智能")
    hides every shorter phrase inside it."""
    feats = [0.0] * N_FEATURES
    grams: list = []
    if not text:
        return feats, grams
    if chars is None:
        chars = set(text)
    gram_get = model.ngram_table.get
    for ch in chars:
        gram = gram_get(ch)
        if gram is not None:
            grams.append(gram)
    multi = model.multi
    lengths = model.lengths
    neutral = model.neutral
    alike = model.alike
    n = len(text)
    covered = [0] * N_FEATURES   # per feature: end of the longest phrase counted so far
    hide_to = 0                  # end of the last neutral phrase
    hidden: list[tuple[int, int]] = []
    for i in range(n - 1):
        pair = text[i:i + 2]
        gram = gram_get(pair)
        if gram is not None:
            grams.append(gram)
        # Phrases have two or more characters: the first two index the lengths to try.
        ls = lengths.get(pair)
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
    # Single characters count only where jieba cuts them as a word of their own ("修" in
    # "来修一下", not in "装修"). Without any such character in the text, segmenting it could
    # not change anything, so it is skipped.
    if not model.single_chars.isdisjoint(chars):
        single = model.single
        singles_at = model.cut_block.single_positions
        single_chars = model.single_chars
        for run in HAN_RUN.finditer(text):
            block = run.group()
            if single_chars.isdisjoint(block):
                continue   # this run has no single-character cue: its segmentation cannot matter
            offset = run.start()
            for x in singles_at(block):
                hit = single.get(block[x])
                if hit and not (hidden and any(a <= offset + x < b for a, b in hidden)):
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
    return feats, grams


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

