"""The compiled data files: cue phrases, patterns, FAQ, vocabulary (rebuilt when a file changes).

The feature layout is fixed here: one slot per cue family (``CUES``), then per category
the summed weight and the strongest single word (``CAT_OFFSET``, ``CAT_MAX_OFFSET``).
"""
from __future__ import annotations

import re
from collections import Counter

import jieba

from app.bot import data as data_mod
from app.bot import scan
from app.bot import slots as slot_mod
from app.bot.ngrams import NgramModel
from app.bot.regexgate import required_sets
from app.bot.segment import HanSegmenter
from app.bot.text import Normalizer, word_regex
from app.bot.types import CATEGORIES, INTENTS, EventTerm, ServiceTerm, Vocabulary

# The cue families the scoring rules know. intents.yaml gives each its phrases.
CUES = ("report", "problem", "urgency", "place", "book", "service", "want", "when", "signup", "event", "progress",
        "own_ref", "cancel", "question", "info", "plan", "org", "rate_pos", "rate_mid", "rate_neg", "rate_word",
        "human", "greet", "thanks", "ack", "resolved", "chatter", "ad", "forward", "neighbour", "frame", "neutral",
        "promise", "overdue", "reschedule", "emergency")
CUE_INDEX = {name: i for i, name in enumerate(CUES)}
N_CUES = len(CUES)
N_CATS = len(CATEGORIES)
CAT_OFFSET = N_CUES                 # summed weights per category
CAT_MAX_OFFSET = N_CUES + N_CATS    # strongest single word per category
CAT_INDEX = {name: CAT_OFFSET + i for i, name in enumerate(CATEGORIES)}
N_FEATURES = N_CUES + 2 * N_CATS
SERVICE_INTENTS = ("report_issue", "book_proxy", "event_signup", "query_progress", "cancel", "ask_info", "rate",
                   "human")
NEEDS_REPLY_RULES = ("always", "never", "unanswered", "unsatisfied", "promised")

C = CUE_INDEX  # short alias in the scoring code


class Model:
    """An immutable, compiled snapshot of the data files (rebuilt when they change)."""

    def __init__(self, raw: data_mod.RawData, tokenizer: jieba.Tokenizer):
        self.raw = raw
        norm = raw.normalize
        variants: dict[str, str] = {}
        for wrong, right in (norm.get("typos") or {}).items():
            variants[str(wrong)] = str(right)
        for canonical, alts in (norm.get("synonyms") or {}).items():
            for alt in alts or []:
                variants[str(alt)] = str(canonical)
        t2s = dict(raw.t2s)
        for trad, simp in (norm.get("t2s_extra") or {}).items():
            t2s[str(trad)] = str(simp)
        self.normalizer = Normalizer(t2s, variants, norm.get("bot_names") or [])
        self.tokenizer = tokenizer

        settings = raw.intents.get("settings") or {}
        self.threshold = float(settings.get("threshold", 0.45))
        self.flow_override = float(settings.get("flow_override_score", 3.5))
        self.maybe_report_threshold = _number(settings, "maybe_report_threshold", 0.4)
        self.ngram_intent_weight = _number(settings, "ngram_intent_weight", 3.0)
        self.ngram_category_weight = _number(settings, "ngram_category_weight", 3.0)
        self.needs_reply_rules: dict[str, str] = {}
        for intent, rule in (raw.intents.get("needs_reply") or {}).items():
            if intent not in INTENTS or rule not in NEEDS_REPLY_RULES:
                raise data_mod.BotDataError(
                    f"intents.yaml needs_reply: {intent}: {rule} (intents: {', '.join(INTENTS)}; "
                    f"rules: {', '.join(NEEDS_REPLY_RULES)})")
            self.needs_reply_rules[intent] = rule
        speaks = raw.intents.get("group_speaks_for") or []
        unknown = [i for i in speaks if i not in INTENTS]
        if unknown:
            raise data_mod.BotDataError(f"intents.yaml group_speaks_for: unknown intents {unknown}")
        self.group_speaks_for = frozenset(speaks)

        # phrase -> ((feature, weight), ...); multi-character phrases are found by scanning,
        # single characters as jieba tokens.
        table: dict[str, dict[int, float]] = {}
        neutral: set[str] = set()
        for cue, phrases in raw.intents["cues"].items():
            if cue not in CUE_INDEX:
                raise data_mod.BotDataError(f"intents.yaml cues: unknown cue {cue!r} (known: {', '.join(CUES)})")
            for phrase, weight in phrases.items():
                if cue == "neutral":
                    table.setdefault(phrase.lower(), {})   # hides the shorter phrases inside it
                    neutral.add(phrase.lower())
                else:
                    self._add(table, phrase, CUE_INDEX[cue], weight)
        for cat, phrases in raw.categories["categories"].items():
            if cat not in CAT_INDEX:
                raise data_mod.BotDataError(f"categories.yaml: unknown category {cat!r}")
            for phrase, weight in phrases.items():
                self._add(table, phrase, CAT_INDEX[cat], weight)
        homophones = norm.get("homophones") or {}
        self.sound_alikes = sound_alike_variants(
            table, [self.normalize_phrase(str(w)) for w in homophones.get("words") or []],
            {str(w) for w in homophones.get("exclude") or []}, raw.pinyin, tokenizer.FREQ,
            int(homophones.get("max_char_frequency", 20000)))
        for variant, (_phrase, feats) in self.sound_alikes.items():
            table[variant] = dict(feats)
        self.multi: dict[str, tuple[tuple[int, float], ...]] = {}
        self.single: dict[str, tuple[tuple[int, float], ...]] = {}
        for phrase, feats in table.items():
            # A weight of 0 is kept: it counts nothing but covers shorter phrases of the same
            # family ("卫生间: 0" under environment keeps "卫生" from counting).
            item = tuple(feats.items())
            (self.single if len(phrase) == 1 else self.multi)[phrase] = item
        self.neutral = frozenset(neutral)
        self.alike = frozenset(self.sound_alikes)
        self.word_freq = tokenizer.FREQ
        # Two-character phrases of the data files are words too when checking a variant's edges.
        self.known_pairs = frozenset(p for p in table if len(p) == 2 and p not in self.alike)
        # What the scan needs of a phrase in one lookup: (kind, ((feature, weight, is a
        # category), ...)); kind 0 counts, NEUTRAL hides what is inside it, ALIKE is a
        # sound-alike variant whose edges must be checked.
        self.phrases = {phrase: (NEUTRAL if phrase in self.neutral else ALIKE if phrase in self.alike else 0,
                                 tuple((f, w, f >= CAT_OFFSET) for f, w in hit))
                        for phrase, hit in self.multi.items()}
        self.single_chars = frozenset(self.single)
        # The labelled examples, cleaned like a message; how often residents type each character.
        examples = [(self.normalize_phrase(text), intent, category) for text, intent, category in raw.examples]
        char_counts = Counter(ch for text, _i, _c in examples for ch in text)
        # The cue scan's two automata (app/bot/scan.py): the phrases; the single characters
        # with the dictionary words that cover one of them (the common characters first).
        self.phrase_automaton = scan.phrase_automaton(self.phrases, char_counts)
        self.single_automaton = scan.single_automaton(self.single,
                                                      scan.covering_words(tokenizer.FREQ, self.single_chars),
                                                      char_counts)
        # jieba's segmentation of one run of Chinese characters (single-character cues are
        # all Chinese, so punctuation and Latin text never need segmenting).
        self.cut_block = HanSegmenter(tokenizer)
        # The n-gram model learns from the examples as the bot reads them (cleaned like a message).
        ngram_model = NgramModel(examples,
                                 alpha=_number(settings, "ngram_alpha", 0.5, positive=True),
                                 temperature=_number(settings, "ngram_temperature", 1.0, positive=True))
        self.use_ngrams(ngram_model)

        # The regexes are gated on the rarest characters a match needs (app/bot/regexgate.py).
        # (regex, feature, weight, sets of characters a match needs one of each: set checks skip
        # most regexes)
        self.patterns: list[tuple[re.Pattern, int, float, list[frozenset[str]]]] = []
        self.pattern_index: dict[str, tuple[int, ...]] = {}   # character -> patterns that need it
        self.ungated: tuple[int, ...] = ()                   # patterns that always run
        for item in raw.intents["patterns"]:
            if item["cue"] not in CUE_INDEX:
                raise data_mod.BotDataError(f"intents.yaml patterns: unknown cue {item['cue']!r}")
            self.patterns.append((re.compile(item["regex"]), CUE_INDEX[item["cue"]], item["weight"],
                                  required_sets(item["regex"], char_counts)))
        for item in raw.categories["patterns"]:
            if item["category"] not in CAT_INDEX:
                raise data_mod.BotDataError(f"categories.yaml patterns: unknown category {item['category']!r}")
            self.patterns.append((re.compile(item["regex"]), CAT_INDEX[item["category"]], item["weight"],
                                  required_sets(item["regex"], char_counts)))

        index: dict[str, list[int]] = {}
        ungated = []
        for number, (_regex, _f, _w, gates) in enumerate(self.patterns):
            if not gates:
                ungated.append(number)
            else:
                for ch in gates[0]:
                    index.setdefault(ch, []).append(number)
        self.pattern_index = {ch: frozenset(numbers) for ch, numbers in index.items()}
        self.pattern_chars = frozenset(self.pattern_index)
        self.ungated = frozenset(ungated)
        # The index finds the patterns whose first set is in the text; the second set is checked
        # before the search (None: there is none).
        self.pattern_search = [(regex.search, f, w, f >= CAT_OFFSET, gates[1] if len(gates) > 1 else None)
                               for regex, f, w, gates in self.patterns]

        slots_cfg = raw.slots or {}
        self.rating = slot_mod.RatingMatcher(slots_cfg.get("ratings") or {}, slots_cfg.get("ratings_in_flow") or {})
        self.flow_intents = dict(slots_cfg.get("flow_intents") or {})
        self.faq = Faq(raw.faq, self.normalize_phrase)
        self.replies = raw.replies or {}
        self.default_vocabulary = vocabulary_from(raw.vocabulary)

    def use_ngrams(self, ngram_model: NgramModel) -> None:
        """Install an n-gram model (the bench swaps them to compare feature sets)."""
        self.ngrams = ngram_model

    @staticmethod
    def _add(table: dict, phrase: str, feature: int, weight: float) -> None:
        feats = table.setdefault(phrase.lower(), {})
        feats[feature] = feats.get(feature, 0.0) + weight

    def normalize_phrase(self, text: str) -> str:
        return self.normalizer.normalize(text)[0]


def _number(settings: dict, key: str, default: float, positive: bool = False) -> float:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (positive and value == 0):
        raise data_mod.BotDataError(f"intents.yaml settings.{key}: expected a number >= 0"
                                    f"{' (not 0)' if positive else ''}, got {value!r}")
    return float(value)


NEUTRAL, ALIKE = 1, 2   # kinds of phrase for the scan (Model.phrases)
REAL_WORD_FREQUENCY = 10   # a string jieba's dictionary counts this often is a word, not a slip


def sound_alike_variants(table: dict[str, dict[int, float]], words: list[str], exclude: set[str],
                         pinyin: dict[str, str], freq: dict[str, int],
                         max_char_frequency: int) -> dict[str, tuple[str, dict[int, float]]]:
    """Cue phrases with one character of a listed word replaced by a character that sounds the
    same (the slips of pinyin and voice input: 电题 for 电梯, 路登 for 路灯).

    A variant is left out when it would read as something else: when the new character is one
    of the most frequent characters (等, 为, 无 ...: "马路等" is no typo of 路灯), when the
    replacement makes a word of jieba's dictionary (无业, 午夜 are not slips of 物业), when it is
    already a phrase, or when it is listed under ``exclude``. Returns variant -> (phrase, features).
    """
    by_reading: dict[str, list[str]] = {}
    for ch, reading in pinyin.items():
        by_reading.setdefault(reading, []).append(ch)
    out: dict[str, tuple[str, dict[int, float]]] = {}
    words = [w for w in dict.fromkeys(words) if len(w) >= 2]
    for phrase, feats in list(table.items()):
        if not feats or len(phrase) < 2:
            continue   # neutral phrases only hide; single characters are matched as jieba words
        for word in words:
            start = phrase.find(word)
            if start < 0:
                continue
            for i in range(start, start + len(word)):
                reading = pinyin.get(phrase[i])
                if reading is None:
                    continue
                for ch in by_reading[reading]:
                    if ch == phrase[i] or freq.get(ch, 0) > max_char_frequency:
                        continue
                    variant = phrase[:i] + ch + phrase[i + 1:]
                    if variant in table or variant in out or variant in exclude:
                        continue
                    if any(freq.get(variant[k:k + 2], 0) >= REAL_WORD_FREQUENCY
                           for k in (i - 1, i) if 0 <= k and k + 2 <= len(variant)):
                        continue
                    out[variant] = (phrase, feats)
    return out


class Faq:
    """Answers to common questions: an entry answers when every one of its word lists has a hit."""

    def __init__(self, entries: list[dict], normalize):
        self.entries = []
        first_words: dict[str, list[int]] = {}
        for number, entry in enumerate(entries):
            groups = [tuple(w for w in (normalize(str(w)) for w in group) if w) for group in entry["match"]]
            exclude = tuple(normalize(str(w)) for w in entry.get("exclude") or [])
            self.entries.append((entry["key"], groups, exclude, str(entry["answer"]).strip()))
            for word in groups[0]:
                first_words.setdefault(word, []).append(number)
        # One search finds the entries whose first word list is hit; only those are checked.
        self.first_words = first_words
        self.first_re = word_regex(first_words)   # the longest first word at each place

    def answer(self, text: str) -> tuple[str, str] | None:
        if self.first_re is None:
            return None
        candidates: set[int] = set()
        position = 0
        while True:
            m = self.first_re.search(text, position)
            if m is None:
                break
            candidates.update(self.first_words[m.group()])
            position = m.start() + 1
        best = None
        best_score = 0
        for number in sorted(candidates):
            key, groups, exclude, answer = self.entries[number]
            if any(w and w in text for w in exclude):
                continue
            score = 0
            for group in groups:
                hit = max((len(w) for w in group if w and w in text), default=0)
                if not hit:
                    break
                score += hit
            else:
                if score > best_score:
                    best, best_score = (key, answer), score
        return best


def vocabulary_from(raw: dict) -> Vocabulary:
    services = [ServiceTerm(str(item["key"]), item.get("names") or [])
                for item in (raw.get("services") or []) if isinstance(item, dict) and item.get("key")]
    events = [EventTerm(str(item["key"]), item.get("names") or [], item.get("kind"))
              for item in (raw.get("events") or []) if isinstance(item, dict) and item.get("key")]
    return Vocabulary(services=services, events=events)

