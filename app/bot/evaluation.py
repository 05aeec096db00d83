"""Scoring the bot against a labelled file (used by `linli bot eval` and the tests).

File format: UTF-8, tab-separated, one message per line: text, intent, category
(empty unless report_issue), and optionally needs_reply (1/0, true/false). Blank
lines and lines starting with "#" are skipped, except the directive
``#! chat-type: private`` (or ``group``), which sets how the lines after it are
understood: 12345 hotline records are written to the service, like a 1:1 chat.
Lines before any directive use the chat type the caller passes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable

from app.bot.types import CATEGORIES, INTENTS

# needs_reply that follows from the intent alone; ask_info and rate depend on the answer/rating.
DERIVED_NEEDS_REPLY = {"report_issue": True, "human": True, "none": False, "chitchat": False,
                       "book_proxy": False, "event_signup": False, "query_progress": False, "cancel": False}


class LabelError(ValueError):
    pass


@dataclass
class Example:
    line: int
    text: str
    intent: str
    category: str | None
    needs_reply: bool | None
    chat_type: str | None = None   # from a "#! chat-type:" directive; None: the caller's default


CHAT_TYPES = ("group", "private")


@dataclass
class Miss:
    """A labelled line the bot got wrong (intent, category or needs_reply), and what it said."""

    example: Example
    intent: str
    category: str | None
    needs_reply: bool
    confidence: float
    maybe_report: bool


# In a group both stay silent: for what a resident sees they are one class.
SILENT = frozenset(("none", "chitchat"))


@dataclass
class Result:
    total: int = 0
    correct: int = 0
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    category_total: int = 0          # gold report_issue rows
    category_correct: int = 0        # ... with the right intent and category
    category_given_intent: int = 0   # gold and predicted report_issue
    category_correct_given_intent: int = 0
    nr_tp: int = 0
    nr_fp: int = 0
    nr_fn: int = 0
    nr_tn: int = 0
    nr_rows: int = 0
    nr_derived: bool = False
    # maybe_report: group messages left silent that the bot marks as possible reports
    maybe_needed: int = 0            # ... that need a reply (a miss of needs_reply that staff still see)
    maybe_not_needed: int = 0        # ... that do not (staff look at them for nothing)
    errors: list[Miss] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def silent_merged_accuracy(self) -> float:
        """Intent accuracy with none and chitchat counted as one class (both stay silent in a group)."""
        right = sum(v for (gold, pred), v in self.confusion.items() if gold == pred or {gold, pred} <= SILENT)
        return right / self.total if self.total else 0.0

    @property
    def missed_replies(self) -> list[Miss]:
        """The misses that matter most: a person had to reply and the bot did not start the clock."""
        return [m for m in self.errors if m.example.needs_reply is not False and not m.needs_reply
                and (m.example.needs_reply or DERIVED_NEEDS_REPLY.get(m.example.intent))]

    @property
    def with_possible_reports(self) -> tuple[float, float]:
        """needs_reply (precision, recall) if the possible reports counted as asking for a reply."""
        tp, fp, fn = self.nr_tp + self.maybe_needed, self.nr_fp + self.maybe_not_needed, self.nr_fn - self.maybe_needed
        return (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0)

    def per_intent(self) -> dict[str, tuple[float, float, float, int]]:
        out = {}
        for intent in INTENTS:
            tp = self.confusion.get((intent, intent), 0)
            gold = sum(v for (g, _), v in self.confusion.items() if g == intent)
            pred = sum(v for (_, p), v in self.confusion.items() if p == intent)
            precision = tp / pred if pred else 0.0
            recall = tp / gold if gold else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            out[intent] = (precision, recall, f1, gold)
        return out

    @property
    def macro_f1(self) -> float:
        rows = [v for v in self.per_intent().values() if v[3] > 0]
        return sum(r[2] for r in rows) / len(rows) if rows else 0.0

    @property
    def category_accuracy(self) -> float:
        return self.category_correct / self.category_total if self.category_total else 0.0

    @property
    def category_accuracy_given_intent(self) -> float:
        return (self.category_correct_given_intent / self.category_given_intent
                if self.category_given_intent else 0.0)

    @property
    def needs_reply_precision(self) -> float:
        return self.nr_tp / (self.nr_tp + self.nr_fp) if self.nr_tp + self.nr_fp else 0.0

    @property
    def needs_reply_recall(self) -> float:
        return self.nr_tp / (self.nr_tp + self.nr_fn) if self.nr_tp + self.nr_fn else 0.0


def _bool(raw: str, where: str) -> bool | None:
    value = raw.strip().lower()
    if value == "":
        return None
    if value in ("1", "true", "yes", "y", "是"):
        return True
    if value in ("0", "false", "no", "n", "否"):
        return False
    raise LabelError(f"{where}: needs_reply must be 1/0 or true/false, got {raw!r}")


def read_examples(lines: Iterable[str], source: str = "input") -> list[Example]:
    examples = []
    chat_type: str | None = None
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if line.startswith("#!"):
            key, _, value = line[2:].partition(":")
            if key.strip().lower() != "chat-type" or value.strip().lower() not in CHAT_TYPES:
                raise LabelError(f"{source}:{number}: unknown directive {line!r} "
                                 f"(known: '#! chat-type: group' or '#! chat-type: private')")
            chat_type = value.strip().lower()
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        where = f"{source}:{number}"
        if len(parts) < 2:
            raise LabelError(f"{where}: expected text<TAB>intent<TAB>category, got {len(parts)} column(s)")
        text, intent = parts[0], parts[1].strip()
        if intent not in INTENTS:
            raise LabelError(f"{where}: unknown intent {intent!r} (one of {', '.join(INTENTS)})")
        category = parts[2].strip() if len(parts) > 2 and parts[2].strip() else None
        if category is not None and category not in CATEGORIES:
            raise LabelError(f"{where}: unknown category {category!r} (one of {', '.join(CATEGORIES)})")
        if intent == "report_issue" and category is None:
            category = "other"
        needs_reply = _bool(parts[3], where) if len(parts) > 3 else None
        examples.append(Example(number, text, intent, category, needs_reply, chat_type))
    return examples


def read_file(path: str | Path) -> list[Example]:
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as handle:
            return read_examples(handle, path.name)
    except UnicodeDecodeError as exc:
        raise LabelError(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def evaluate(bot, examples: list[Example], now: datetime, chat_type: str = "group",
             mentioned: bool = False, vocab=None) -> Result:
    result = Result()
    vocab = vocab if vocab is not None else bot.default_vocabulary
    for ex in examples:
        u = bot.understand(ex.text, now=now, chat_type=ex.chat_type or chat_type, mentioned=mentioned, vocab=vocab)
        result.total += 1
        key = (ex.intent, u.intent)
        result.confusion[key] = result.confusion.get(key, 0) + 1
        ok = u.intent == ex.intent
        if ok:
            result.correct += 1
        if ex.intent == "report_issue":
            result.category_total += 1
            if ok and u.category == ex.category:
                result.category_correct += 1
            if ok:
                result.category_given_intent += 1
                if u.category == ex.category:
                    result.category_correct_given_intent += 1
        gold_nr = ex.needs_reply
        if gold_nr is None:
            gold_nr = DERIVED_NEEDS_REPLY.get(ex.intent)
            if gold_nr is not None:
                result.nr_derived = True
        if gold_nr is not None:
            result.nr_rows += 1
            if u.needs_reply and gold_nr:
                result.nr_tp += 1
            elif u.needs_reply:
                result.nr_fp += 1
            elif gold_nr:
                result.nr_fn += 1
            else:
                result.nr_tn += 1
            if u.maybe_report and not u.needs_reply:
                if gold_nr:
                    result.maybe_needed += 1
                else:
                    result.maybe_not_needed += 1
        if not ok or (ex.intent == "report_issue" and u.category != ex.category) or (
                gold_nr is not None and gold_nr != u.needs_reply):
            result.errors.append(Miss(ex, u.intent, u.category, u.needs_reply, u.confidence, u.maybe_report))
    return result


def report(result: Result) -> list[str]:
    """Human-readable lines: accuracy, per-intent P/R/F1, macro-F1, categories, needs_reply, confusion."""
    lines = [f"messages: {result.total}",
             f"intent accuracy: {result.accuracy:.3f} ({result.correct}/{result.total})",
             f"intent macro-F1: {result.macro_f1:.3f}",
             f"intent accuracy with none and chitchat as one class (both silent in a group): "
             f"{result.silent_merged_accuracy:.3f}", "",
             f"{'intent':<16}{'precision':>10}{'recall':>10}{'F1':>8}{'support':>9}"]
    for intent, (p, r, f1, n) in result.per_intent().items():
        lines.append(f"{intent:<16}{p:>10.3f}{r:>10.3f}{f1:>8.3f}{n:>9}")
    lines.append("")
    lines.append(f"category accuracy (report_issue rows, intent and category right): "
                 f"{result.category_accuracy:.3f} ({result.category_correct}/{result.category_total})")
    lines.append(f"category accuracy (given the intent was right): {result.category_accuracy_given_intent:.3f} "
                 f"({result.category_correct_given_intent}/{result.category_given_intent})")
    if result.nr_rows:
        source = "labelled" if not result.nr_derived else "labelled or derived from the intent"
        lines.append(f"needs_reply precision: {result.needs_reply_precision:.3f}  recall: "
                     f"{result.needs_reply_recall:.3f}  ({result.nr_rows} rows, {source})")
        flagged = result.maybe_needed + result.maybe_not_needed
        precision, recall = result.with_possible_reports
        lines.append(f"possible reports (maybe_report: silent in a group, for the duty inbox): {flagged}, "
                     f"{result.maybe_needed} of them needing a reply; counted as replies: needs_reply "
                     f"precision {precision:.3f}  recall {recall:.3f}")
    else:
        lines.append("needs_reply: not derivable from this file")
    lines.append("")
    lines.append("confusion matrix (rows: expected, columns: predicted)")
    short = {i: i[:6] for i in INTENTS}
    lines.append(f"{'':<16}" + "".join(f"{short[i]:>8}" for i in INTENTS))
    for gold in INTENTS:
        row = [result.confusion.get((gold, pred), 0) for pred in INTENTS]
        if any(row) or any(result.confusion.get((g, gold), 0) for g in INTENTS):
            lines.append(f"{gold:<16}" + "".join(f"{v:>8}" for v in row))
    return lines
