"""Finding every cue phrase of a message in one pass in C (Aho–Corasick automata).

The cue scan used to try, at every character, the phrase lengths that start with its pair and
look each slice up; a single-character cue then asked jieba's dictionary, a few slices
around it, whether a word covers it. Both are now one call of ``pyahocorasick`` over the
message: one automaton holds the phrases of two or more characters, the other the
single-character cues together with the dictionary words that would swallow one of them
("装修" hides 修, "好像" hides 好). Python only sees what was found. The outcome is the same as
before (tests/bot/test_scan.py compares the two on every labelled message).

pyahocorasick finds a node's child by a linear search of its children, in the order they
were added, and the root has thousands (every first character of a phrase). So the words go in
by how often residents type their characters (the labelled examples): the common characters
are found among the first children. A character that starts no word would still pass all of
the root's children; for the ones residents type, a "stop" word (the character and SENTINEL,
value None) puts them among the first too. Neither changes what is found: a stop word matches
only where the text has SENTINEL, and those matches are dropped.
"""
from __future__ import annotations

import ahocorasick

# A single-character cue stands alone unless a dictionary word of 2..4 characters covers it
# (the window of HanSegmenter.stands_alone).
LONGEST_COVER = 4
SENTINEL = "\x00"   # ends the stop words (a character no cue phrase or dictionary word holds)


def _in_frequency_order(automaton: ahocorasick.Automaton, words: dict[str, object],
                        counts: dict[str, int] | None) -> None:
    """Add ``words`` (word -> value) with the stop words, the common characters first (see the
    module docstring); without ``counts`` in the given order."""
    if not counts or any(SENTINEL in w for w in words):
        for word, value in words.items():
            automaton.add_word(word, value)
        return
    ranked = sorted(counts, key=counts.__getitem__, reverse=True)
    rank = {ord(ch): chr(0x20 + i) for i, ch in enumerate(ranked)}   # a sort key: common = low
    firsts = {w[0] for w in words}
    items = list(words.items())
    items.extend((ch + SENTINEL, None) for ch in ranked if ch not in firsts and ch != SENTINEL)
    items.sort(key=lambda item: item[0].translate(rank))
    for word, value in items:
        automaton.add_word(word, value)


def phrase_automaton(phrases: dict[str, tuple], counts: dict[str, int] | None = None) -> ahocorasick.Automaton | None:
    """Phrase -> (length, kind, hits) for every phrase of two or more characters (``counts``:
    how often residents type each character, for the order of the words)."""
    if not phrases:
        return None
    automaton = ahocorasick.Automaton()
    _in_frequency_order(automaton, {phrase: (len(phrase), kind, hit) for phrase, (kind, hit) in phrases.items()},
                        counts)
    automaton.make_automaton()
    return automaton


def covering_words(freq: dict[str, int], single_chars: frozenset[str]) -> list[str]:
    """The dictionary words (frequency > 0, 2..LONGEST_COVER characters) that contain a
    single-character cue: where one of them is in the text, the cue inside it is no word."""
    if not single_chars:
        return []
    return [w for w, f in freq.items()
            if f and 1 < len(w) <= LONGEST_COVER and not single_chars.isdisjoint(w)]


def single_automaton(single: dict[str, tuple], covers: list[str],
                     counts: dict[str, int] | None = None) -> ahocorasick.Automaton | None:
    """A single-character cue -> its hits (a tuple); a covering word -> its length (an int)."""
    if not single:
        return None
    automaton = ahocorasick.Automaton()
    words: dict[str, object] = dict(single)
    for word in covers:
        words[word] = len(word)
    _in_frequency_order(automaton, words, counts)
    automaton.make_automaton()
    return automaton


def phrase_spans(automaton: ahocorasick.Automaton, text: str) -> list[tuple]:
    """(start, -end, end, kind, hits) of every phrase in ``text``, in the order the cue scan
    counts them: by start, and at one start the longest first."""
    found = automaton.iter(text)
    if SENTINEL in text:
        found = [item for item in found if item[1] is not None]   # the stop words
    spans = [(end + 1 - length, -end - 1, end + 1, kind, hit) for end, (length, kind, hit) in found]
    spans.sort()
    return spans


def standing_singles(automaton: ahocorasick.Automaton, text: str) -> list[tuple[int, tuple]]:
    """(position, hits) of the single-character cues in ``text`` that no covering word covers,
    in the order of the text."""
    singles = []
    covered: set[int] = set()   # the positions inside a covering word
    found = automaton.iter(text)
    if SENTINEL in text:
        found = [item for item in found if item[1] is not None]   # the stop words
    for end, value in found:
        if value.__class__ is int:
            covered.update(range(end + 1 - value, end + 1))
        else:
            singles.append((end, value))
    if covered:
        return [single for single in singles if single[0] not in covered]
    return singles
