"""Finding every cue phrase of a message in one pass in C (Aho–Corasick automata).

The cue scan used to try, at every character, the phrase lengths that start with its pair and
look each slice up; a single-character cue then asked jieba's dictionary, a few slices
around it, whether a word covers it. Both are now one call of ``pyahocorasick`` over the
message: one automaton holds the phrases of two or more characters, the other the
single-character cues together with the dictionary words that would swallow one of them
("装修" hides 修, "好像" hides 好). Python only sees what was found. The outcome is the same as
before (tests/bot/test_scan.py compares the two on every labelled message).
"""
from __future__ import annotations

import ahocorasick

# A single-character cue stands alone unless a dictionary word of 2..4 characters covers it
# (the window of HanSegmenter.stands_alone).
LONGEST_COVER = 4


def phrase_automaton(phrases: dict[str, tuple]) -> ahocorasick.Automaton | None:
    """Phrase -> (length, kind, hits) for every phrase of two or more characters."""
    if not phrases:
        return None
    automaton = ahocorasick.Automaton()
    for phrase, (kind, hit) in phrases.items():
        automaton.add_word(phrase, (len(phrase), kind, hit))
    automaton.make_automaton()
    return automaton


def covering_words(freq: dict[str, int], single_chars: frozenset[str]) -> list[str]:
    """The dictionary words (frequency > 0, 2..LONGEST_COVER characters) that contain a
    single-character cue: where one of them is in the text, the cue inside it is no word."""
    if not single_chars:
        return []
    return [w for w, f in freq.items()
            if f and 1 < len(w) <= LONGEST_COVER and not single_chars.isdisjoint(w)]


def single_automaton(single: dict[str, tuple], covers: list[str]) -> ahocorasick.Automaton | None:
    """A single-character cue -> its hits (a tuple); a covering word -> its length (an int)."""
    if not single:
        return None
    automaton = ahocorasick.Automaton()
    for ch, hits in single.items():
        automaton.add_word(ch, hits)
    for word in covers:
        automaton.add_word(word, len(word))
    automaton.make_automaton()
    return automaton


def phrase_spans(automaton: ahocorasick.Automaton, text: str) -> list[tuple]:
    """(start, -end, end, kind, hits) of every phrase in ``text``, in the order the cue scan
    counts them: by start, and at one start the longest first."""
    spans = [(end + 1 - length, -end - 1, end + 1, kind, hit)
             for end, (length, kind, hit) in automaton.iter(text)]
    spans.sort()
    return spans


def standing_singles(automaton: ahocorasick.Automaton, text: str) -> list[tuple[int, tuple]]:
    """(position, hits) of the single-character cues in ``text`` that no covering word covers,
    in the order of the text."""
    singles = []
    covers = []
    for end, value in automaton.iter(text):
        if value.__class__ is int:
            covers.append((end + 1 - value, end))   # the word's first and last index
        else:
            singles.append((end, value))
    if covers:
        return [(x, hits) for x, hits in singles if not any(a <= x <= b for a, b in covers)]
    return singles
