"""The bot: text in, understanding out (all weights and words live in app/bot/data/*.yaml).

Normalise the text (繁体, full-width, emoji, typos, synonyms); collect *cues* (phrases of 2+
characters, longest match per family; single-character cues only where jieba cuts them as a word;
regex patterns; sound-alike slips); combine them into one score per intent (``scoring.intent_scores``:
a problem word *and* a facility make a report…); take the best intent with a confidence (below the
threshold an addressed message goes to a person, group chatter stays ``none``); then slots, the
report category, ``needs_reply`` and ``should_reply`` (docs/bot.md tells the whole story)."""
from __future__ import annotations

import logging
import re
import threading
import time as _time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.bot import data as data_mod
from app.bot import slots as slot_mod
from app.bot import timeparse
from app.bot.dictionary import default_cache_dir, load_tokenizer
from app.bot.features import HAN_RUN, features
from app.bot.forms import classify_form
from app.bot.model import SERVICE_INTENTS, Model
from app.bot.scoring import (
    FAQ_BONUS,
    FAQ_SURE,
    FOR_SERVICE_SCORE,
    FRAME,
    FRAME_ADDRESSED,
    THANKS_GREET_ACK,
    add_ngram_evidence,
    broken_promise,
    can_change,
    category_scores,
    confidence_of,
    intent_scores,
    is_emergency,
    report_category,
    runner_up,
    top_values,
)
from app.bot.types import CHAT_GROUP, CHAT_PRIVATE, INTENTS, FormClassification, Understanding, Vocabulary

log = logging.getLogger(__name__)


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
        self.tokenizer = load_tokenizer(self.cache_dir)
        self._user_words: set[str] = set()
        self.model = self._build()

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
        flow = state.get("flow") if isinstance(state, dict) else None
        u = Understanding(text=raw_text, mentioned=mentioned)

        chars = set(text)
        feats = features(model, text, chars)
        if feats[FRAME] >= FRAME_ADDRESSED:
            addressed = True   # a third-person work order ("来电人反映…") is written to the service
        vocab = vocab if vocab is not None else NO_VOCABULARY
        services, events = slot_mod.vocabulary_matchers(vocab, model.normalize_phrase)
        service_key = services.find(text, fuzzy=False, chars=chars)
        event_keys = events.find_all(text, chars)
        cats = category_scores(feats)
        scores = intent_scores(feats, facts, bool(service_key), bool(event_keys), len(text), cats)
        best, cue_top, s2 = top_values(scores)
        # The n-grams re-weigh what the cue words found; alone they never make an intent (a
        # message without any cue is unclear: at most a possible report, see below). Inside a
        # flow a short answer belongs to the flow, so there only the cues count.
        # They are looked up only when they could change the decision (ngrams_can_decide).
        posterior = grams = None
        weight = model.ngram_intent_weight
        s1 = cue_top
        if cue_top > 0 and not flow and weight and model.ngrams and can_change(s1, s2, weight, model.threshold):
            grams = model.ngrams.vote(text, chars)
            posterior = model.ngrams.intent_posterior(grams)
            add_ngram_evidence(scores, posterior, weight)
            best, s1, s2 = top_values(scores)
        u.scores = scores

        if s2 < 0.0:
            s2 = 0.0   # the runner-up counts from 0
        confidence = confidence_of(s1, s2)
        faq = FAQ_NOT_ASKED   # the FAQ's answer, asked at most once
        if best == "ask_info" and confidence < FAQ_SURE:
            faq = model.faq.answer(text)
            if faq:
                # "小区的垃圾几点收走啊": a doubtful question the FAQ can answer is a question for the service.
                s1 = scores["ask_info"] = s1 + FAQ_BONUS
                confidence = confidence_of(s1, s2)

        if not text:
            intent, confidence, u.reason = ("chitchat", 0.9, "emoji only") if facts["emoji_only"] else (
                "none", 1.0, "empty")
        elif flow:
            intent, confidence = self._in_flow(model, flow, best, s1, confidence, scores, u)
        elif best in ("chitchat", "none"):
            intent = best
            if cue_top == 0:
                intent, confidence = self._unclear(text, addressed, u)
        elif confidence >= model.threshold:
            intent = best
        else:
            # "社区有人吗？急事": a person or a question? Either way it is for the service, so
            # unsure between two service intents is not a reason for silence: a person answers.
            for_service = s2 >= FOR_SERVICE_SCORE and runner_up(scores, best) in SERVICE_INTENTS
            intent, confidence = self._unclear(text, addressed or for_service, u, guess=best)
        if confidence < 0.0:
            confidence = 0.0
        elif confidence > 1.0:
            confidence = 1.0
        u.intent, u.confidence = intent, round(confidence, 3)
        if intent == "report_issue":
            u.report_likelihood = u.confidence
        elif chat_type == CHAT_GROUP and not addressed and intent in ("none", "chitchat") and text:
            # When unsure, do not go silent on a possible report: staff decide (docs/bot.md §4).
            u.report_likelihood = self._report_likelihood(model, text, chars, scores, posterior, cue_top)
            u.maybe_report = u.report_likelihood >= model.maybe_report_threshold

        slots: dict[str, Any] = slot_mod.location_if_named(text, chars)
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
        if not slot_mod.DIGITS.isdisjoint(chars):
            number = slot_mod.phone(text)
            if number:
                slots["phone"] = number
        if not service_key and text and intent in ("book_proxy", "ask_info", "cancel", "query_progress"):
            service_key = services.find(text, fuzzy=True, chars=chars)
        if service_key:
            slots["service"] = service_key
        if not event_keys and text and intent in ("event_signup", "cancel", "query_progress", "ask_info"):
            fuzzy_event = events.find(text, fuzzy=True, chars=chars)
            event_keys = [fuzzy_event] if fuzzy_event else []
        if event_keys:
            slots["event"] = slot_mod.pick_event(event_keys, vocab.events, slots.get("date"), _zone(tz))
        if text and (intent == "rate" or flow == "rate"):
            rating = model.rating.find(text, loose=(flow == "rate"))
            if rating:
                slots["rating"] = rating
        u.slots = slots

        if intent == "report_issue":
            u.category = report_category(model, text, cats, grams, chars)[0]
            u.emergency = is_emergency(feats)
        elif intent == "chitchat":
            kind, weight = None, 0.0
            for name, index in THANKS_GREET_ACK:   # the strongest (ties: the first)
                if feats[index] > weight:
                    kind, weight = name, feats[index]
            u.chitchat_kind = kind
        if intent == "ask_info":
            found = model.faq.answer(text) if faq is FAQ_NOT_ASKED else faq
            if not found and service_key:
                # "尊老经怎么办理" found the item despite the typo: ask the FAQ with its proper names.
                names = next((t.names for t in vocab.services if t.key == service_key), ())
                found = model.faq.answer(text + " " + " ".join(model.normalize_phrase(n) for n in names))
            if found:
                u.faq_key, u.answer = found

        rule = model.needs_reply_rules.get(intent, "never")
        u.needs_reply = (rule == "always" or (rule == "unanswered" and u.answer is None)
                         or (rule == "unsatisfied" and slots.get("rating") == "unsatisfied")
                         or (rule == "promised" and broken_promise(feats)))
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

    def classify_form(self, text: str | None) -> FormClassification:
        """What a request filed without a category is about (app/bot/forms.py). Never raises."""
        if self.auto_reload:
            self.reload_if_changed()
        return classify_form(self.model, text)

    @staticmethod
    def _report_likelihood(model: Model, text: str, chars: set[str], scores: dict[str, float], posterior,
                           cue_top: float) -> float:
        """How much a message the bot leaves silent looks like a report, 0..1: the confidence
        the report score would have against the best other intent. Without any cue word the
        n-grams were not counted in the scores; here they are (a possible report is no answer)."""
        report = scores["report_issue"]
        if posterior is None and model.ngram_intent_weight and model.ngrams and cue_top == 0:
            vote = model.ngrams.vote(text, chars)
            if vote:
                report += model.ngram_intent_weight * model.ngrams.intent_posterior(vote)[0]
        other = None   # the best other intent's score (a loop: cheaper than max() of a generator)
        for intent, value in scores.items():
            if intent != "report_issue" and (other is None or value > other):
                other = value
        return round(confidence_of(report, other), 3)

    def _unclear(self, text: str, addressed: bool, u: Understanding, guess: str | None = None):
        # Something addressed to the service that we cannot place: a person answers rather than a guess.
        u.reason = f"unclear (best guess {guess})" if guess else "no cue"
        if addressed and re.search(r"[\u4e00-\u9fff]", text):
            return "human", 0.3
        return "none", 0.5

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


NO_VOCABULARY = Vocabulary()   # one object: the matchers are cached by its identity
FAQ_NOT_ASKED = object()
RESCHEDULE_TO = re.compile("(改|换|调|挪|推迟|延后|提前|推)(到|在|成|为)")


def _zone(tz: str):
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


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
