"""The one-pass cue scan (app/bot/scan.py) finds what the slice-by-slice scan found."""
from __future__ import annotations

import shutil
from pathlib import Path

from app.bot import Bot
from app.bot.data import DEFAULT_DATA_DIR
from app.bot.evaluation import read_file
from app.bot.scan import phrase_spans, standing_singles

DATA = Path(__file__).parent / "data"


def _texts(model) -> list[str]:
    files = sorted(DATA.glob("*.tsv")) + [DEFAULT_DATA_DIR / "examples.tsv"]
    texts = [model.normalizer.normalize(e.text)[0] for path in files for e in read_file(path)]
    return texts + ["", "修", "装修好了吗修一下", "人工智能修电脑坏了", "a好b 好的 好像",
                    # SENTINEL ends the stop words (app/bot/scan.py): never a match of its own
                    "\x00", "的\x00了\x00吗\x00。\x00 \x00", "好\x00修\x00", "水\x00压太小\x00", "\x00\x00装修"]


def _slice_scan(model, text: str) -> list[tuple]:
    """Every phrase, by start and the longest first: each slice looked up in the table."""
    longest = max(map(len, model.phrases))
    return [(i, -end, end, *model.phrases[text[i:end]])
            for i in range(len(text)) for end in range(min(len(text), i + longest), i + 1, -1)
            if text[i:end] in model.phrases]


def test_every_phrase_is_found_in_the_order_the_scan_counts_them(bot):
    model = bot.model
    texts = _texts(model)
    assert len(texts) > 2000
    assert [phrase_spans(model.phrase_automaton, t) for t in texts] == [_slice_scan(model, t) for t in texts]


def test_a_single_character_cue_counts_where_no_dictionary_word_covers_it(bot):
    model = bot.model
    stands_alone = model.cut_block.stands_alone
    for text in _texts(model):
        expected = [(x, model.single[ch]) for x, ch in enumerate(text) if ch in model.single and stands_alone(text, x)]
        assert standing_singles(model.single_automaton, text) == expected, text
    assert [x for x, _ in standing_singles(model.single_automaton, "来修一下")] == [1]
    assert standing_singles(model.single_automaton, "装修") == []


def test_a_community_word_covers_a_single_character_cue(tmp_path):
    """The covering words come from the dictionary with the community's words (userdict.yaml)."""
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    model = Bot(data_dir=data, cache_dir=tmp_path / "cache", auto_reload=False).model
    assert [x for x, _ in standing_singles(model.single_automaton, "车修")] == [0, 1]
    path = data / "userdict.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  - 车修 5 n\n", encoding="utf-8")
    model = Bot(data_dir=data, cache_dir=tmp_path / "cache", auto_reload=False).model
    assert standing_singles(model.single_automaton, "车修") == []
