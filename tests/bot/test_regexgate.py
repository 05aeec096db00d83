"""The regex gates (app/bot/regexgate.py) never skip a pattern that would have matched."""
from __future__ import annotations

from pathlib import Path

from app.bot.data import DEFAULT_DATA_DIR
from app.bot.evaluation import read_file
from app.bot.regexgate import required_sets

DATA = Path(__file__).parent / "data"


def test_every_match_holds_a_character_of_every_gate(bot):
    model = bot.model
    files = sorted(DATA.glob("*.tsv")) + [DEFAULT_DATA_DIR / "examples.tsv"]
    texts = [model.normalizer.normalize(e.text)[0] for path in files for e in read_file(path)]
    matched = 0
    for regex, _feature, _weight, gates in model.patterns:
        for text in texts:
            if regex.search(text):
                matched += 1
                assert all(not gate.isdisjoint(text) for gate in gates), (regex.pattern, text)
    assert matched > 1000


def test_a_pattern_of_alternatives_gets_a_second_gate_from_every_alternative():
    # Each alternative's cheapest required character (all cost the same here: the first one)
    # makes the first gate, each one's next cheapest the second.
    assert required_sets("等了[0-9]+天|(都|已经)过去[0-9]+天|(拖|等)到现在") == [frozenset("等过到"), frozenset("了去现")]
    assert required_sets("(a|b)c|d") == [frozenset("cd"), frozenset("abd")]
    assert required_sets("a|[0-9]+") == []   # an alternative with no required character: no gate
