"""Slots other than time: building/unit/room/floor, phone, rating, service and event names."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Mapping

from app.bot.numerals import NUMERAL_CHARS, to_int
from app.bot.text import word_regex
from app.bot.types import EventTerm, ServiceTerm, Vocabulary

CN = f"[{NUMERAL_CHARS}]"
NUM = rf"(?:\d{{1,3}}|{CN}{{1,4}})"

# "5-2-301": building-unit-room. Not a date (4-digit first part) nor a phone.
RE_TRIPLE = re.compile(r"(?<![\d-])(\d{1,3})-(\d{1,2})-(\d{3,4})(?![\d-])")
RE_BUILDING = re.compile(rf"(?:第)?({NUM}|[a-z])\s*(?:号楼|号楼栋|栋楼?|幢楼?|座楼?|#楼?|号院楼)")
RE_UNIT = re.compile(rf"({NUM})\s*(?:单元|门洞)")
RE_ROOM_AFTER = re.compile(rf"^\s*(?:的)?(\d{{3,4}}|{CN}{{3,4}})\s*(?:室|房|号|户)?")
RE_ROOM = re.compile(rf"(?<!\d)(\d{{3,4}}|{CN}{{3,4}})\s*(?:室|房间?|户)(?!子|东|屋|价)")
RE_FLOOR = re.compile(rf"(?<![\d号栋幢单元-])({NUM})\s*(?:楼|层)(?![道下上梯栋房盘主顶])")
RE_PAIR = re.compile(r"(?<![\d-])(\d{1,3})-(\d{3,4})(?:室|房|号)?(?![\d-])")
RE_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
RE_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?(\d{7,8})(?!\d)")


def _num(raw: str) -> str | None:
    if len(raw) == 1 and "a" <= raw <= "z":
        return raw.upper()
    value = to_int(raw)
    return None if value is None else str(value)


DIGITS = frozenset("0123456789")
LOCATION_CHARS = frozenset("楼栋幢座室单")


def location_if_named(text: str, chars: set[str]) -> dict:
    """``location`` for a text whose characters (``chars``) could name a place; most do not,
    and the regexes are the slow part of the slots."""
    if DIGITS.isdisjoint(chars) and LOCATION_CHARS.isdisjoint(chars):
        return {}
    return location(text, chars)


# A character every match of the regex holds: without one the search is skipped (it would find nothing).
BUILDING_NEEDS = frozenset("号栋幢座#")
UNIT_NEEDS = frozenset("单门")
ROOM_NEEDS = frozenset("室房户")
FLOOR_NEEDS = frozenset("楼层")


def location(text: str, chars: set[str] | None = None) -> dict:
    """building / unit / room / floor named in ``text`` (``chars``: its set of characters, if known)."""
    if chars is None:
        chars = set(text)
    slots: dict = {}
    dash = "-" in chars
    m = RE_TRIPLE.search(text) if dash else None
    if m:
        slots["building"], slots["unit"], slots["room"] = m.group(1), m.group(2), m.group(3)
        return slots
    end = None
    m = RE_BUILDING.search(text) if not BUILDING_NEEDS.isdisjoint(chars) else None
    if m:
        value = _num(m.group(1))
        if value and value != "0":
            slots["building"] = value
            end = m.end()
    mu = RE_UNIT.search(text) if not UNIT_NEEDS.isdisjoint(chars) else None
    if mu:
        value = _num(mu.group(1))
        if value and value != "0":
            slots["unit"] = value
            end = max(end or 0, mu.end())
    if end is not None:
        mr = RE_ROOM_AFTER.match(text[end:])
        if mr:
            value = _num(mr.group(1))
            if value:
                slots["room"] = value
    if "room" not in slots:
        mr = RE_ROOM.search(text) if not ROOM_NEEDS.isdisjoint(chars) else None
        if mr:
            value = _num(mr.group(1))
            if value:
                slots["room"] = value
    if "building" not in slots and "room" not in slots:
        mp = RE_PAIR.search(text) if dash else None
        if mp and not RE_MOBILE.search(text):
            slots["building"], slots["room"] = mp.group(1), mp.group(2)
    if "room" not in slots:
        mf = RE_FLOOR.search(text) if not FLOOR_NEEDS.isdisjoint(chars) else None
        if mf:
            value = _num(mf.group(1))
            if value and 0 < int(value) <= 60 if value.isdigit() else False:
                slots["floor"] = value
    return slots


def phone(text: str) -> str | None:
    m = RE_MOBILE.search(text)
    if m:
        return "".join(m.groups())
    m = RE_LANDLINE.search(text)
    if m:
        return "".join(m.groups())
    return None


class RatingMatcher:
    """Satisfaction words → satisfied | basically | unsatisfied; longest phrase wins ("不满意" over "满意")."""

    def __init__(self, words: Mapping[str, Iterable[str]], loose: Mapping[str, Iterable[str]] | None = None):
        self.table = {str(w).lower(): rating for rating, items in words.items() for w in items or ()}
        self.loose = {str(w).lower(): rating for rating, items in (loose or {}).items() for w in items or ()}
        self.re = _alternation(self.table)
        self.loose_re = _alternation({**self.table, **self.loose})

    def find(self, text: str, loose: bool = False) -> str | None:
        pattern = self.loose_re if loose else self.re
        if pattern is None:
            return None
        m = pattern.search(text)
        if not m:
            return None
        return self.table.get(m.group()) or self.loose.get(m.group())


def _alternation(words: Iterable[str]) -> re.Pattern | None:
    """The longest of ``words`` at the leftmost place (their alternation, longest first)."""
    return word_regex(words)


class TermMatcher:
    """Finds a service or event by its names and aliases, tolerating one wrong character.

    Names are normalised with the same function as messages (繁体, typos), so
    "遵老金" finds "尊老金" through the typo list, and "尊老经" through the
    one-character tolerance (names of 3+ characters only: two-character names
    would match too much).
    """

    def __init__(self, terms, normalize):
        self.names: list[tuple[str, str]] = []   # (normalised name, key)
        for term in terms:
            for name in term.names:
                norm = normalize(name)
                if norm:
                    self.names.append((norm, term.key))
        self.names.sort(key=lambda item: len(item[0]), reverse=True)
        self.re = _alternation(n for n, _ in self.names)
        self.by_name: dict[str, list[str]] = {}
        for name, key in self.names:
            keys = self.by_name.setdefault(name, [])
            if key not in keys:
                keys.append(key)   # two events may share a name ("义诊" every Saturday)
        self.fuzzy = [(n, k, set(n)) for n, k in self.names if len(n) >= 3]
        # Every name (even with one wrong character) contains one of these characters.
        self.gate = frozenset(ch for n, _ in self.names for ch in n[:2])

    def find_all(self, text: str, chars: set[str] | None = None) -> list[str]:
        """``chars``: ``set(text)`` when the caller has it (a set is checked against the gate
        without making a string of each character again)."""
        keys: list[str] = []
        if self.re is not None and not self.gate.isdisjoint(text if chars is None else chars):
            for m in self.re.finditer(text):
                for key in self.by_name[m.group()]:
                    if key not in keys:
                        keys.append(key)
        return keys

    def find(self, text: str, fuzzy: bool = True, chars: set[str] | None = None) -> str | None:
        keys = self.find_all(text, chars)
        if keys:
            return keys[0]
        if chars is None:
            chars = set(text)
        if not fuzzy or not self.fuzzy or self.gate.isdisjoint(chars):
            return None
        for name, key, name_chars in self.fuzzy:
            if len(name_chars & chars) < len(name_chars) - 1:
                continue
            n = len(name)
            for i in range(len(text) - n + 1):
                window = text[i:i + n]
                diff = 0
                for a, b in zip(window, name, strict=False):
                    if a != b:
                        diff += 1
                        if diff > 1:
                            break
                # One substitution, and not at the first character of a 3-character name
                # (a different first character usually means a different thing).
                if diff == 1 and (n > 3 or window[0] == name[0]):
                    return key
        return None


@lru_cache(maxsize=64)
def _matchers(vocab: Vocabulary, normalize) -> tuple[TermMatcher, TermMatcher]:
    return TermMatcher(vocab.services, normalize), TermMatcher(vocab.events, normalize)


# The same Vocabulary object is usually passed again and again (the CLI, a benchmark, one
# community's cached terms): remember the last one by identity to skip hashing all its terms.
_last: list = [None, None, None]   # [vocab, normalize, matchers]


def vocabulary_matchers(vocab: Vocabulary, normalize) -> tuple[TermMatcher, TermMatcher]:
    last_vocab, last_normalize, matchers = _last
    if last_vocab is vocab and last_normalize == normalize:
        return matchers
    try:
        matchers = _matchers(vocab, normalize)
    except TypeError:   # an unhashable vocabulary (e.g. lists inside): build without caching
        matchers = TermMatcher(vocab.services, normalize), TermMatcher(vocab.events, normalize)
    _last[:] = [vocab, normalize, matchers]
    return matchers


def pick_event(keys: list[str], events: Iterable[EventTerm], day: str | None, zone=None) -> str | None:
    """Of several matching events, prefer the one on the date the resident named (in local time)."""
    if not keys:
        return None
    if day and len(keys) > 1:
        by_key = {e.key: e for e in events}
        for key in keys:
            event = by_key.get(key)
            starts = getattr(event, "starts_at", None)
            if starts is None:
                continue
            if zone is not None and starts.tzinfo is not None:
                starts = starts.astimezone(zone)
            if starts.date().isoformat() == day:
                return key
    return keys[0]


__all__ = ["location", "phone", "RatingMatcher", "TermMatcher", "vocabulary_matchers", "pick_event",
           "ServiceTerm", "EventTerm"]
