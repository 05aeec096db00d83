"""The bot: text in, understanding out.

How a message is understood (all weights and words live in app/bot/data/*.yaml):

1. normalise (繁体, full-width, emoji, typos, synonyms), strip @-mentions;
2. collect *cues*: every phrase of 2+ characters found in the text (within a
   cue family the longest match wins; "人工智能" hides "人工"), every
   single-character cue word that jieba cuts as a word of its own (so "修"
   counts in "来修一下" but not inside "装修"; segmentation uses a private
   jieba tokenizer with the community words, app/bot/segment.py), and the
   regex patterns; sound-alike slips of listed words (电题 for 电梯) are extra
   entries of the phrase table (``sound_alike_variants``);
3. combine the cues into one score per intent (``_intent_scores``; the
   combination rules are the structure: a problem word *and* a facility make a
   report, a question word *and* a service topic make an information request...);
4. the best intent with a confidence; below the threshold an addressed message
   goes to a person (``human``) and group chatter stays ``none``;
5. slots, the report category, ``needs_reply`` and ``should_reply``.
"""
from __future__ import annotations

import logging
import math
import re
import tempfile
import threading
import time as _time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jieba

from app.bot import data as data_mod
from app.bot import slots as slot_mod
from app.bot import timeparse
from app.bot.regexgate import required_chars
from app.bot.segment import HanSegmenter
from app.bot.text import Normalizer
from app.bot.types import (
    CATEGORIES,
    CHAT_GROUP,
    CHAT_PRIVATE,
    INTENTS,
    EventTerm,
    ServiceTerm,
    Understanding,
    Vocabulary,
)

log = logging.getLogger(__name__)

# The cue families the scoring rules know. intents.yaml gives each its phrases.
CUES = ("report", "problem", "urgency", "place", "book", "service", "want", "when", "signup", "event", "progress",
        "own_ref", "cancel", "question", "info", "plan", "org", "rate_pos", "rate_mid", "rate_neg", "rate_word",
        "human", "greet", "thanks", "ack", "resolved", "chatter", "ad", "forward", "neighbour", "frame", "neutral")
CUE_INDEX = {name: i for i, name in enumerate(CUES)}
N_CUES = len(CUES)
N_CATS = len(CATEGORIES)
CAT_OFFSET = N_CUES                 # summed weights per category
CAT_MAX_OFFSET = N_CUES + N_CATS    # strongest single word per category
CAT_INDEX = {name: CAT_OFFSET + i for i, name in enumerate(CATEGORIES)}
N_FEATURES = N_CUES + 2 * N_CATS
SERVICE_INTENTS = ("report_issue", "book_proxy", "event_signup", "query_progress", "cancel", "ask_info", "rate",
                   "human")
NEEDS_REPLY_RULES = ("always", "never", "unanswered", "unsatisfied")

C = CUE_INDEX  # short alias in the scoring code


def default_cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "linli-bot-cache"


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
        self.single_chars = frozenset(self.single)
        # jieba's segmentation of one run of Chinese characters (single-character cues are
        # all Chinese, so punctuation and Latin text never need segmenting).
        self.cut_block = HanSegmenter(tokenizer)
        lengths: dict[str, set[int]] = {}
        for phrase in self.multi:
            lengths.setdefault(phrase[:2], set()).add(len(phrase))
        # first two characters -> the phrase lengths to try there, longest first
        self.lengths = {pair: tuple(sorted(ls, reverse=True)) for pair, ls in lengths.items()}

        # (regex, feature, weight, characters a match needs: a set check skips most regexes)
        self.patterns: list[tuple[re.Pattern, int, float, frozenset[str] | None]] = []
        self.pattern_index: dict[str, tuple[int, ...]] = {}   # character -> patterns that need it
        self.ungated: tuple[int, ...] = ()                   # patterns that always run
        for item in raw.intents["patterns"]:
            if item["cue"] not in CUE_INDEX:
                raise data_mod.BotDataError(f"intents.yaml patterns: unknown cue {item['cue']!r}")
            self.patterns.append((re.compile(item["regex"]), CUE_INDEX[item["cue"]], item["weight"],
                                  required_chars(item["regex"])))
        for item in raw.categories["patterns"]:
            if item["category"] not in CAT_INDEX:
                raise data_mod.BotDataError(f"categories.yaml patterns: unknown category {item['category']!r}")
            self.patterns.append((re.compile(item["regex"]), CAT_INDEX[item["category"]], item["weight"],
                                  required_chars(item["regex"])))

        index: dict[str, list[int]] = {}
        ungated = []
        for number, (_regex, _f, _w, gate) in enumerate(self.patterns):
            if gate is None:
                ungated.append(number)
            else:
                for ch in gate:
                    index.setdefault(ch, []).append(number)
        self.pattern_index = {ch: tuple(numbers) for ch, numbers in index.items()}
        self.pattern_chars = frozenset(self.pattern_index)
        self.ungated = tuple(ungated)

        slots_cfg = raw.slots or {}
        self.rating = slot_mod.RatingMatcher(slots_cfg.get("ratings") or {}, slots_cfg.get("ratings_in_flow") or {})
        self.flow_intents = dict(slots_cfg.get("flow_intents") or {})
        self.faq = _Faq(raw.faq, self.normalize_phrase)
        self.replies = raw.replies or {}
        self.default_vocabulary = _vocabulary_from(raw.vocabulary)

    @staticmethod
    def _add(table: dict, phrase: str, feature: int, weight: float) -> None:
        feats = table.setdefault(phrase.lower(), {})
        feats[feature] = feats.get(feature, 0.0) + weight

    def normalize_phrase(self, text: str) -> str:
        return self.normalizer.normalize(text)[0]


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


class _Faq:
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
        self.first_re = re.compile("|".join(re.escape(w) for w in sorted(first_words, key=len, reverse=True))) \
            if first_words else None

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


def _vocabulary_from(raw: dict) -> Vocabulary:
    services = [ServiceTerm(str(item["key"]), item.get("names") or [])
                for item in (raw.get("services") or []) if isinstance(item, dict) and item.get("key")]
    events = [EventTerm(str(item["key"]), item.get("names") or [], item.get("kind"))
              for item in (raw.get("events") or []) if isinstance(item, dict) and item.get("key")]
    return Vocabulary(services=services, events=events)


class Bot:
    """Loads the data files and the jieba dictionary once; ``understand`` is thread-safe."""

    RELOAD_CHECK_SECONDS = 2.0

    def __init__(self, data_dir: str | Path | None = None, cache_dir: str | Path | None = None,
                 auto_reload: bool = True):
        self.data_dir = Path(data_dir) if data_dir else data_mod.DEFAULT_DATA_DIR
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.auto_reload = auto_reload
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._mtimes = data_mod.mtimes(self.data_dir)
        self.tokenizer = self._tokenizer()
        self._user_words: set[str] = set()
        self.model = self._build()

    # --- loading -------------------------------------------------------------------------
    def _tokenizer(self) -> jieba.Tokenizer:
        jieba.setLogLevel(logging.WARNING)   # jieba logs "Building prefix dict" at DEBUG to stderr
        tokenizer = jieba.Tokenizer()
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tokenizer.tmp_dir = str(self.cache_dir)
        except OSError:
            log.warning("bot cache dir %s is not writable; jieba uses the system temp dir", self.cache_dir)
        tokenizer.cache_file = "linli-jieba.cache"
        tokenizer.initialize()
        return tokenizer

    def _build(self) -> Model:
        raw = data_mod.load(self.data_dir)
        # Only the community words: cue phrases are found by scanning, and adding them to the
        # dictionary would glue single-character cues ("吗" in "有吗") into longer tokens.
        words: dict[str, tuple[int | None, str | None]] = {w: (f, t) for w, f, t in raw.userdict}
        for word in self._user_words - set(words):
            self.tokenizer.del_word(word)
        for word, (freq, tag) in words.items():
            if word not in self._user_words:
                self.tokenizer.add_word(word, freq, tag)
        self._user_words = set(words)
        return Model(raw, self.tokenizer)

    def reload_if_changed(self, force: bool = False) -> bool:
        """Rebuild from the data files if one changed since the last load. Returns True if reloaded."""
        now = _time.monotonic()
        if not force and now - self._checked_at < self.RELOAD_CHECK_SECONDS:
            return False
        with self._lock:
            self._checked_at = now
            current = data_mod.mtimes(self.data_dir)
            if not force and current == self._mtimes:
                return False
            try:
                model = self._build()
            except data_mod.BotDataError as exc:
                # Keep answering with the last good data; the operator sees why in the log.
                log.error("bot data not reloaded: %s", exc)
                self._mtimes = current
                return False
            self.model, self._mtimes = model, current
            log.info("bot data reloaded from %s", self.data_dir)
            return True

    # --- understanding -------------------------------------------------------------------
    def understand(self, text: str | None, now: datetime | None = None, tz: str = "Asia/Shanghai",
                   chat_type: str = CHAT_PRIVATE, mentioned: bool = False, vocab: Vocabulary | None = None,
                   state: dict | None = None) -> Understanding:
        if self.auto_reload:
            self.reload_if_changed()
        model = self.model
        raw_text = text if isinstance(text, str) else ("" if text is None else str(text))
        try:
            return self._understand(model, raw_text, now, tz, chat_type, mentioned, vocab, state)
        except Exception:  # noqa: BLE001 - the bot must answer whatever it is sent
            log.exception("bot failed on a message of %d characters", len(raw_text))
            addressed = chat_type != CHAT_GROUP or mentioned
            return Understanding(text=raw_text, intent="human" if addressed else "none", confidence=0.0,
                                 needs_reply=addressed and bool(raw_text.strip()), should_reply=addressed,
                                 reason="error")

    def _understand(self, model: Model, raw_text: str, now, tz, chat_type, mentioned, vocab, state):
        if now is None:
            # Callers pass the message time (the router: app.clock.now()); this pure package
            # cannot import the app's clock, so a bare call falls back to the system time.
            now = datetime.fromtimestamp(_time.time(), tz=timezone.utc)
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
        text, facts = model.normalizer.normalize(raw_text)
        mentioned = bool(mentioned or facts["mentioned"])
        addressed = chat_type != CHAT_GROUP or mentioned
        flow = (state or {}).get("flow") if isinstance(state, dict) else None
        u = Understanding(text=raw_text, mentioned=mentioned)

        chars = set(text)
        feats = self._features(model, text, chars)
        if feats[_FRAME] >= FRAME_ADDRESSED:
            addressed = True   # a third-person work order ("来电人反映…") is written to the service
        vocab = vocab if vocab is not None else Vocabulary()
        services, events = slot_mod.vocabulary_matchers(vocab, model.normalize_phrase)
        service_key = services.find(text, fuzzy=False)
        event_keys = events.find_all(text)
        scores = _intent_scores(feats, facts, bool(service_key), bool(event_keys), len(text))
        u.scores = scores

        best, s1, s2 = _top_two(scores)
        confidence = _confidence(s1, s2)
        if best == "ask_info" and confidence < FAQ_SURE and model.faq.answer(text):
            # "小区的垃圾几点收走啊": a doubtful question the FAQ can answer is a question for the service.
            s1 = scores["ask_info"] = s1 + FAQ_BONUS
            confidence = _confidence(s1, s2)

        if not text:
            intent, confidence, u.reason = ("chitchat", 0.9, "emoji only") if facts["emoji_only"] else (
                "none", 1.0, "empty")
        elif flow:
            intent, confidence = self._in_flow(model, flow, best, s1, confidence, scores, u)
        elif best in ("chitchat", "none"):
            intent = best
            if s1 == 0:
                intent, confidence = self._unclear(text, addressed, u)
        elif confidence >= model.threshold:
            intent = best
        else:
            intent, confidence = self._unclear(text, addressed, u, guess=best)
        u.intent, u.confidence = intent, round(min(max(confidence, 0.0), 1.0), 3)

        # Slots.
        slots: dict[str, Any] = {}
        has_digit = not DIGITS.isdisjoint(chars)
        if has_digit or not LOCATION_CHARS.isdisjoint(chars):
            slots.update(slot_mod.location(text))
        if timeparse.TIME_HINT.search(text):
            slots.update(timeparse.parse(text, now, tz))
            moved = RESCHEDULE_TO.search(text) if intent == "book_proxy" else None
            if moved:
                # "下周一改到周三": the time after "改到" is the new one, not the old one before it.
                target = timeparse.parse(text[moved.end():], now, tz)
                if target:
                    for key in ("date", "time", "period", "datetime", "invalid_time"):
                        slots.pop(key, None)
                    slots.update(target)
        if has_digit:
            number = slot_mod.phone(text)
            if number:
                slots["phone"] = number
        if not service_key and text and intent in ("book_proxy", "ask_info", "cancel", "query_progress"):
            service_key = services.find(text, fuzzy=True)
        if service_key:
            slots["service"] = service_key
        if not event_keys and text and intent in ("event_signup", "cancel", "query_progress", "ask_info"):
            fuzzy_event = events.find(text, fuzzy=True)
            event_keys = [fuzzy_event] if fuzzy_event else []
        if event_keys:
            slots["event"] = slot_mod.pick_event(event_keys, vocab.events, slots.get("date"), _zone(tz))
        if text and (intent == "rate" or flow == "rate"):
            rating = model.rating.find(text, loose=(flow == "rate"))
            if rating:
                slots["rating"] = rating
        u.slots = slots

        if intent == "report_issue":
            u.category = _category(feats)
        elif intent == "chitchat":
            kinds = (("thanks", feats[C["thanks"]]), ("greet", feats[C["greet"]]), ("ack", feats[C["ack"]]))
            kind, weight = max(kinds, key=lambda kv: kv[1])
            u.chitchat_kind = kind if weight > 0 else None
        if intent == "ask_info":
            found = model.faq.answer(text)
            if not found and service_key:
                # "尊老经怎么办理" found the item despite the typo: ask the FAQ with its proper names.
                names = next((t.names for t in vocab.services if t.key == service_key), ())
                found = model.faq.answer(text + " " + " ".join(model.normalize_phrase(n) for n in names))
            if found:
                u.faq_key, u.answer = found

        rule = model.needs_reply_rules.get(intent, "never")
        u.needs_reply = (rule == "always" or (rule == "unanswered" and u.answer is None)
                         or (rule == "unsatisfied" and slots.get("rating") == "unsatisfied"))
        if chat_type != CHAT_GROUP or mentioned:
            u.should_reply = True
        else:
            u.should_reply = intent in model.group_speaks_for or u.flow_continues
        if u.needs_reply:
            u.should_reply = True
        return u

    def _in_flow(self, model: Model, flow: str, best: str, s1: float, confidence: float, scores, u):
        """A message inside a multi-turn flow answers the flow unless it cancels or clearly says something else."""
        flow_intent = flow if flow in INTENTS else model.flow_intents.get(flow)
        if scores["cancel"] >= 1.5 and best in ("cancel", "none", "chitchat") or (
                best == "cancel" and confidence >= model.threshold):
            u.reason = "leaves the flow"
            return "cancel", max(confidence, 0.8)
        if (best in SERVICE_INTENTS and best != flow_intent and best != "cancel" and s1 >= model.flow_override
                and confidence >= 0.6):
            u.reason = "new request inside a flow"
            return best, confidence
        u.flow_continues = True
        u.reason = f"answers the {flow} flow"
        return (flow_intent or best), 0.9

    def _unclear(self, text: str, addressed: bool, u: Understanding, guess: str | None = None):
        # Something addressed to the service that we cannot place: a person answers rather than a guess.
        u.reason = f"unclear (best guess {guess})" if guess else "no cue"
        if addressed and re.search(r"[\u4e00-\u9fff]", text):
            return "human", 0.3
        return "none", 0.5

    # --- features --------------------------------------------------------------------------
    @staticmethod
    def _features(model: Model, text: str, chars: set[str] | None = None) -> list[float]:
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
        for i in range(n - 1):
            # Phrases have two or more characters: the first two index the lengths to try.
            ls = lengths.get(text[i:i + 2])
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
                elif phrase in alike and not _alike_fits(model, text, i, end):
                    continue            # "6号楼水压" is no slip of 漏水: 楼 belongs to 号楼
                for f, w in hit:
                    if end > covered[f]:
                        covered[f] = end
                        feats[f] += w
                        if f >= CAT_OFFSET and w > feats[f + N_CATS]:
                            feats[f + N_CATS] = w
        if chars is None:
            chars = set(text)
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
        return feats

    def segment(self, text: str) -> list[str]:
        """The bot's segmentation of a message (community words kept whole; Chinese runs only)."""
        model = self.model
        normalized = model.normalizer.normalize(text)[0]
        return [token for run in HAN_RUN.findall(normalized) for token in model.cut_block(run)]

    def faq_answer(self, text: str) -> tuple[str, str] | None:
        return self.model.faq.answer(self.model.normalize_phrase(text))

    @property
    def replies(self) -> dict:
        return self.model.replies

    @property
    def default_vocabulary(self) -> Vocabulary:
        return self.model.default_vocabulary


def _alike_fits(model: Model, text: str, start: int, end: int) -> bool:
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


HAN_RUN = re.compile("[\u4e00-\u9fff]+")
# Moving a booking: what follows is the new time ("D7K3Q9 改到明天上午9点", "下周一调到周三").
RESCHEDULE_TO = re.compile("(改|换|调|挪|推迟|延后|提前|推)(到|在|成|为)")
DIGITS = frozenset("0123456789")
LOCATION_CHARS = frozenset("楼栋幢座室单")


def _top_two(scores: dict[str, float]) -> tuple[str, float, float]:
    """The best intent (ties: the order of INTENTS), its score and the runner-up's score."""
    best, s1, s2 = "none", -1.0, -1.0
    for intent in INTENTS:
        value = scores[intent]
        if value > s1:
            best, s1, s2 = intent, value, s1
        elif value > s2:
            s2 = value
    return best, s1, max(s2, 0.0)


def _zone(tz: str):
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def _cap(value: float, top: float = 6.0) -> float:
    return value if value < top else top


def _confidence(s1: float, s2: float) -> float:
    if s1 <= 0:
        return 0.0
    return (1.0 - math.exp(-s1 / 2.0)) * (s1 / (s1 + max(s2, 0.0)))


def _category_scores(f: list[float]) -> list[float]:
    """Per category: its strongest word plus half of the others (two weak hints < one clear word)."""
    totals = f[CAT_OFFSET:CAT_MAX_OFFSET]
    tops = f[CAT_MAX_OFFSET:]
    return [top + 0.5 * (total - top) if total else 0.0 for total, top in zip(totals, tops, strict=True)]


# Feature positions used by the scoring (looked up once, not per message).
_ACK = CUE_INDEX["ack"]
_AD = CUE_INDEX["ad"]
_BOOK = CUE_INDEX["book"]
_CANCEL = CUE_INDEX["cancel"]
_CHATTER = CUE_INDEX["chatter"]
_EVENT = CUE_INDEX["event"]
_FORWARD = CUE_INDEX["forward"]
_FRAME = CUE_INDEX["frame"]
FRAME_ADDRESSED = 1.5
FAQ_SURE = 0.6     # below this confidence an ask_info guess is checked against the FAQ ...
FAQ_BONUS = 1.5    # ... and an answer found there raises it
_GREET = CUE_INDEX["greet"]
_HUMAN = CUE_INDEX["human"]
_INFO = CUE_INDEX["info"]
_NEIGHBOUR = CUE_INDEX["neighbour"]
_ORG = CUE_INDEX["org"]
_OWN_REF = CUE_INDEX["own_ref"]
_PLACE = CUE_INDEX["place"]
_PLAN = CUE_INDEX["plan"]
_PROBLEM = CUE_INDEX["problem"]
_PROGRESS = CUE_INDEX["progress"]
_QUESTION = CUE_INDEX["question"]
_RATE_MID = CUE_INDEX["rate_mid"]
_RATE_NEG = CUE_INDEX["rate_neg"]
_RATE_POS = CUE_INDEX["rate_pos"]
_RATE_WORD = CUE_INDEX["rate_word"]
_REPORT = CUE_INDEX["report"]
_RESOLVED = CUE_INDEX["resolved"]
_SERVICE = CUE_INDEX["service"]
_SIGNUP = CUE_INDEX["signup"]
_THANKS = CUE_INDEX["thanks"]
_URGENCY = CUE_INDEX["urgency"]
_WANT = CUE_INDEX["want"]
_WHEN = CUE_INDEX["when"]


def _intent_scores(f: list[float], facts: dict, has_service: bool, has_event: bool, length: int) -> dict[str, float]:
    """The structure of the understanding: how cues combine into intents."""
    # Caps (inline rather than min(): this runs for every message).
    report = f[_REPORT]
    if report > 6.0:
        report = 6.0
    problem = f[_PROBLEM]
    if problem > 6.0:
        problem = 6.0
    urgency = f[_URGENCY]
    if urgency > 2.0:
        urgency = 2.0
    place = f[_PLACE]
    if place > 2.0:
        place = 2.0
    book = f[_BOOK]
    if book > 6.0:
        book = 6.0
    want = f[_WANT]
    if want > 2.0:
        want = 2.0
    when = f[_WHEN]
    if when > 2.0:
        when = 2.0
    service = f[_SERVICE] + (2.0 if has_service else 0.0)
    if service > 4.0:
        service = 4.0
    signup = f[_SIGNUP]
    if signup > 6.0:
        signup = 6.0
    event = f[_EVENT] + (2.0 if has_event else 0.0)
    if event > 4.0:
        event = 4.0
    progress = f[_PROGRESS]
    if progress > 6.0:
        progress = 6.0
    own_ref = f[_OWN_REF]
    if own_ref > 4.0:
        own_ref = 4.0
    cancel = f[_CANCEL]
    if cancel > 6.0:
        cancel = 6.0
    question = f[_QUESTION]
    if question > 3.0:
        question = 3.0
    info = f[_INFO]
    if info > 4.0:
        info = 4.0
    org = f[_ORG]
    if org > 2.0:
        org = 2.0
    plan = f[_PLAN]
    if plan > 4.0:
        plan = 4.0
    rate = f[_RATE_POS]
    if f[_RATE_MID] > rate:
        rate = f[_RATE_MID]
    if f[_RATE_NEG] > rate:
        rate = f[_RATE_NEG]
    rate += f[_RATE_WORD] if f[_RATE_WORD] < 2.0 else 2.0
    human = f[_HUMAN]
    if human > 6.0:
        human = 6.0
    ack = f[_ACK] if length <= 8 else 0.5 * f[_ACK]   # "好的" alone is an answer; "好热闹" is not
    chit = f[_GREET] + f[_THANKS] + ack
    if chit > 6.0:
        chit = 6.0
    resolved = f[_RESOLVED]
    if resolved > 4.0:
        resolved = 4.0
    frame = f[_FRAME]
    if frame > 3.0:
        frame = 3.0
    noise_words = f[_CHATTER] + f[_NEIGHBOUR]
    if noise_words > 6.0:
        noise_words = 6.0
    ad = f[_AD] + f[_FORWARD]
    if ad > 8.0:
        ad = 8.0
    cats = _category_scores(f)
    best_cat = max(cats)
    topic = _cap(best_cat + 0.3 * (sum(cats) - best_cat), 4.0)

    s: dict[str, float] = {}
    # A report: a complaint word or a problem, about a thing the community looks after;
    # or a nuisance named on its own ("楼下饭店油烟直接排到我家窗户").
    if report or problem:
        r = report + problem + 0.6 * topic + (0.5 * urgency if (problem or topic >= 1.5) else 0.0)
    else:
        r = 0.45 * topic + (0.5 * urgency if topic >= 2 else 0.0)
    if frame and (problem or topic >= 1.5):
        # "来电人称小区热水供应中断已三天": the hotline frame states a problem, so it is a report;
        # the frame alone ("来电人咨询…", "来电人要求回电") says nothing about what is wanted.
        r += 0.5 * frame
    if topic:
        r += 0.3 * place
    if question and not (report or problem):
        r *= 0.4          # "小区的充电桩在哪里": a question about a facility, not a complaint
    r -= 1.5 * resolved + 1.5 * plan
    follow_up = own_ref and (progress or question or (own_ref >= 2.5 and problem))
    if follow_up:
        r *= 0.4          # "我报的漏水修了没有", "我反映的漏水到现在都没人来看": about an existing report
    if rate >= 3 and not report:
        r *= 0.6          # "不太满意，灯还是一闪一闪的": the rating explains itself
    if not topic and not report:
        r *= 0.6          # "我家电脑开不了机": a problem, but nothing the community looks after
    elif not topic and not problem and (service or book >= 2 or signup >= 2):
        r *= 0.6          # "希望社区派人上门帮其母亲办理高龄津贴认证": asking for a service, not a complaint
    s["report_issue"] = r

    b = book
    if want >= 1 and service:
        b += 1.5
    if book:
        b += 0.5 * min(service, 2.0)
    if service and when and (book or want or question):
        b += 1.0          # an item and a day: wants a slot
    elif book and when:
        b += 0.8          # "约明天下午两点"
    if question and not book:
        b *= 0.5
    s["book_proxy"] = b

    g = signup
    if signup:
        if event:
            g += 0.8 * min(event, 2.0) + (0.5 if when else 0.0)
        elif signup < 4:
            g *= 0.5      # "我想去公园": joining, but nothing the community organises
    elif want >= 1 and event:
        g += 0.8
    s["event_signup"] = g

    p = progress
    if own_ref:
        p += own_ref if follow_up else 0.4 * own_ref
    elif progress < 3:
        p *= 0.5          # "路灯什么时候能修" without "my ...": a complaint or a general question
    if rate >= 3:
        p *= 0.5          # "不满意，到现在还是没修": a rating that says why
    s["query_progress"] = p

    c = cancel
    if cancel and (book or signup or event or service or own_ref):
        c += 1.0
    s["cancel"] = c
    if cancel >= 2:
        s["event_signup"] *= 0.4    # "取消报名", "退掉我的活动报名"
        s["book_proxy"] *= 0.4
    own_item = own_ref >= 2 and (progress or question)
    if own_item:
        s["event_signup"] *= 0.5    # "我报名的义诊成功了吗": about an existing signup
        s["book_proxy"] *= 0.5

    a = 0.0
    if question or plan:
        topical = info + plan + 0.8 * service + 0.6 * org + 0.6 * event + 0.5 * min(topic, 2.0)
        if topical:
            a = 0.6 * question + topical
    elif service and not (book or signup or cancel or progress or problem):
        a = 0.8 * service + 0.5 * info     # a bare "尊老金": what about it? tell them
    elif info >= 1.5 and (org or service):
        a = 0.5 * info + 0.5 * org + 0.5 * service
    if (signup >= 2.5 and event) or book >= 2:
        a *= 0.5          # "义诊我想去，需要带什么吗": the request comes first, the question with it
    if own_item and p >= 3:
        a *= 0.5          # "之前登记的老年卡可以领了吗": about their own application
    s["ask_info"] = a

    s["rate"] = rate
    s["human"] = human
    s["chitchat"] = chit
    nz = noise_words + ad
    if length > 200:
        nz += min(3.0, (length - 200) / 100.0)
    s["none"] = nz

    # Advertisements and forwarded articles mention drains and locks too.
    if ad >= 2.0:
        for key in SERVICE_INTENTS:
            s[key] *= 0.5
    # Thanks and greetings are politeness around a request, not a competing intent.
    strongest_service = max(s["report_issue"], s["book_proxy"], s["event_signup"], s["query_progress"], s["cancel"],
                            s["ask_info"], s["rate"], s["human"])
    if strongest_service >= 2.0:
        s["chitchat"] *= 0.4
        s["none"] *= 0.6
    if resolved and chit:
        s["chitchat"] += resolved
    return s


def _category(f: list[float]) -> str:
    cats = _category_scores(f)
    best = max(range(N_CATS), key=lambda i: cats[i])
    if cats[best] < 1.0:
        return "other"
    return CATEGORIES[best]


_default: dict[str, Bot] = {}
_default_lock = threading.Lock()
_config: dict[str, Any] = {"cache_dir": None, "data_dir": None}


def configure(cache_dir: str | Path | None = None, data_dir: str | Path | None = None) -> None:
    """Set where ``get_bot()`` keeps jieba's cache and reads data (before its first use)."""
    if cache_dir is not None:
        _config["cache_dir"] = cache_dir
    if data_dir is not None:
        _config["data_dir"] = data_dir


def get_bot() -> Bot:
    """The shared bot: built once per process (jieba dictionary + data files)."""
    bot = _default.get("bot")
    if bot is None:
        with _default_lock:
            bot = _default.get("bot")
            if bot is None:
                bot = Bot(data_dir=_config["data_dir"], cache_dir=_config["cache_dir"])
                _default["bot"] = bot
    return bot
