"""word_regex (app/bot/text.py) matches like the alternation of its words, longest first."""
from __future__ import annotations

import re
from pathlib import Path

from app.bot.evaluation import read_file
from app.bot.text import word_regex

DATA = Path(__file__).parent / "data"


def _alternation(words) -> re.Pattern:
    return re.compile("|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)))


def test_the_trie_finds_what_the_alternation_finds(bot):
    model = bot.model
    texts = [model.normalizer.normalize(e.text)[0] for path in sorted(DATA.glob("*.tsv")) for e in read_file(path)]
    texts += ["飞线冲电", "冲电冲电器", "", "a.b*c", "电瓶车电瓶"]
    word_lists = [list(model.normalizer.variants), list(model.faq.first_words),
                  ["冲电", "飞线冲电", "电", "电瓶车", "电瓶", "a.b", "*"], ["", "好", "好的"]]
    for words in word_lists:
        trie, plain = word_regex(words), _alternation(words)
        for text in texts:
            assert [m.span() for m in trie.finditer(text)] == [m.span() for m in plain.finditer(text)], (words[:3], text)
    assert word_regex([]) is None
