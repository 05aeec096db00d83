"""Text clean-up before understanding: control characters, full-width forms,
traditional characters (繁体 → 简体), WeChat emoticons, emoji, typos and synonyms.

Everything here is a table lookup or one compiled regex pass, because the whole
classification must stay within 1.5× the cost of bare jieba segmentation.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Mapping

# WeChat renders its built-in emoticons as "[微笑]" / "[强]" in text messages.
WECHAT_EMOTICON = re.compile(r"\[[\u4e00-\u9fff]{1,4}\]|/:[a-z]{2,8}")
# @-mentions: WeCom ends them with U+2005 (four-per-em space), WeChat with a space.
MENTION = re.compile(r"@([^\s@\u2005,，:：]{1,20})[\s\u2005]?")
HAS_CONTENT = re.compile(r"[0-9a-z\u3400-\u9fff]")

# Longest text we analyse: anything longer is an article or a paste, and the
# first part says what it is. Keeps a 5,000-character paste cheap.
MAX_ANALYSED_CHARS = 600


def _emoji_codepoints() -> Iterable[int]:
    ranges = [(0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2B00, 0x2BFF), (0x2300, 0x23FF), (0xFE00, 0xFE0F),
              (0x1F3FB, 0x1F3FF), (0xE0020, 0xE007F)]
    for lo, hi in ranges:
        yield from range(lo, hi + 1)
    yield from (0x200D, 0x20E3, 0x3030, 0x303D, 0x3297, 0x3299, 0x00A9, 0x00AE, 0x2122, 0x2139)


# A six-character code a resident copies from a confirmation (booking code D7K3Q9,
# check-in code): its letters must not be read as words ("VX" is WeChat slang in ads,
# "WWW" a link), so it is blanked before classification. Callers read codes from the raw text.
CODE_LIKE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{6}(?![A-Za-z0-9])")
# Six letters or digits in a row, which every match of CODE_LIKE holds: a regex that starts with
# a character class is scanned for quickly, one that starts with a look-behind is tried at
# every place, and few messages hold such a run.
CODE_RUN = re.compile(r"[A-Za-z0-9]{6}")


def _mask_code(match: re.Match) -> str:
    token = match.group()
    if token.isdigit():
        return token  # times, amounts, room numbers stay
    if token.isupper() or any(c.isdigit() for c in token):
        return " "
    return token


# The full-width punctuation residents type most (the "，" of a Chinese keyboard is in four
# messages of ten) and its NFKC form: replacing these first leaves most texts already normal,
# and NFKC of the rest is the same (each replacement is the character's own compatibility
# decomposition, so the texts are compatibility-equivalent and share one normal form).
COMMON_FULL_WIDTH = tuple((ch, unicodedata.normalize("NFKC", ch)) for ch in "，：？！；（）")


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, without the general (slow) algorithm for a text
    whose only non-normal characters are common full-width punctuation."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    for full, half in COMMON_FULL_WIDTH:
        if full in text:
            text = text.replace(full, half)
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def char_class(codepoints: Iterable[int]) -> re.Pattern | None:
    """A regex of one character of ``codepoints`` (runs of consecutive ones as ranges)."""
    parts: list[str] = []
    points = sorted(set(codepoints))
    i = 0
    while i < len(points):
        j = i
        while j + 1 < len(points) and points[j + 1] == points[j] + 1:
            j += 1
        lo, hi = re.escape(chr(points[i])), re.escape(chr(points[j]))
        parts.append(lo if i == j else f"{lo}-{hi}")
        i = j + 1
    return re.compile("[" + "".join(parts) + "]") if parts else None


def build_variant_regex(variants: Iterable[str]) -> re.Pattern | None:
    """Finds the longest variant at the leftmost place, so "飞线冲电" wins over "冲电"."""
    return word_regex(v for v in variants if v)


def word_regex(words: Iterable[str]) -> re.Pattern | None:
    """A regex of ``words`` that matches like their alternation longest first ("飞线冲电|冲电"):
    at the leftmost place, the longest word. Written as a trie ("电(?:梯|瓶车)"): the regex
    engine tries one branch per character instead of every word. An empty word matches where
    no other does, as last in the alternation."""
    root: dict = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}   # a word ends here
    return re.compile(_trie_pattern(root)) if root else None


def _trie_pattern(node: dict) -> str:
    branches = [re.escape(ch) + _trie_pattern(child) for ch, child in node.items() if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    # The children start with different characters, so at most one branch fits; where a word
    # also ends here, the longer one is tried first (greedy) and the shorter one is the rest.
    return f"(?:{body})?" if "" in node else body


class Normalizer:
    def __init__(self, t2s: Mapping[str, str], variants: Mapping[str, str], bot_names: Iterable[str]):
        table: dict[int, str | None] = {}
        for cp in range(0x20):
            table[cp] = " "
        table[0x7F] = " "
        for cp in range(0x80, 0xA0):
            table[cp] = " "
        for cp in (0x200B, 0x200C, 0x200E, 0x200F, 0x2060, 0xFEFF, 0x00AD):
            table[cp] = None
        for cp in (0x2028, 0x2029, 0x2005, 0x3000, 0x00A0):
            table[cp] = " "
        for cp in _emoji_codepoints():
            table[cp] = None
        for trad, simp in t2s.items():
            if len(trad) == 1:
                table[ord(trad)] = simp
        self.table = table
        # str.translate looks every character up in the table, a miss costing an exception
        # inside; most messages hold no character of it (no emoji, 繁体 or control
        # character), and one regex search over a character class tells.
        self.table_chars = char_class(table)
        self.variants = {k.lower(): v for k, v in variants.items()}
        self.variant_re = build_variant_regex(self.variants)
        self.bot_names = {self._basic(n).strip() for n in bot_names if n}
        self._variant_get = self.variants.__getitem__

    def _basic(self, text: str) -> str:
        text = nfkc(text)
        if self.table_chars is not None and self.table_chars.search(text):
            text = text.translate(self.table)
        return text.lower()

    def apply_variants(self, text: str) -> str:
        if self.variant_re is None:
            return text
        return self.variant_re.sub(lambda m: self._variant_get(m.group()), text)

    def normalize(self, raw: str | None) -> tuple[str, dict]:
        """Return (clean text, facts) where facts tell about emoji, mentions and length."""
        text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
        facts = {"length": len(text), "emoticons": 0, "mentioned": False, "emoji_only": False}
        if len(text) > MAX_ANALYSED_CHARS:
            text = text[:MAX_ANALYSED_CHARS]
            facts["truncated"] = True
        if "[" in text or "/:" in text:
            text, count = WECHAT_EMOTICON.subn(" ", text)
            facts["emoticons"] = count
        had_visible = bool(text.strip())
        if len(text) >= 6 and CODE_RUN.search(text):
            text = CODE_LIKE.sub(_mask_code, text)
        text = self._basic(text)
        if "@" in text:
            text = self._strip_mentions(text, facts)
        text = " ".join(text.split())
        if self.variant_re is not None:
            text = self.variant_re.sub(lambda m: self._variant_get(m.group()), text)
        if not HAS_CONTENT.search(text):
            # Nothing but emoji, emoticons or punctuation left.
            facts["emoji_only"] = had_visible or facts["emoticons"] > 0
        return text, facts

    def _strip_mentions(self, text: str, facts: dict) -> str:
        def repl(match: re.Match) -> str:
            name = match.group(1)
            for bot in self.bot_names:
                if name.startswith(bot):
                    facts["mentioned"] = True
                    return " " + name[len(bot):] + " "
            return name + " "   # "@网格员" keeps the word: it may mean something
        return MENTION.sub(repl, text)
