"""Loading the operator-editable data files (app/bot/data/*.yaml).

Every file is checked when loaded; a mistake raises ``BotDataError`` naming the
file and the entry, so an operator who edits a file sees what to fix. The files
are watched by modification time: ``DataFiles.changed()`` tells the bot to
rebuild itself (no restart needed).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from app.bot.evaluation import LabelError, read_examples

# libyaml's C loader reads the data files ~10× faster than the pure-Python one (start-up time).
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Refuses a key listed twice in one mapping: in YAML the second silently wins, which is
    never what an operator who added a phrase twice with different weights meant."""


def _mapping_without_duplicates(loader, node, deep=False):
    seen: dict = {}
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"{key!r} is listed twice (lines {seen[key]} and {key_node.start_mark.line + 1})",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"

FILES = ("normalize.yaml", "t2s.yaml", "userdict.yaml", "intents.yaml", "categories.yaml", "slots.yaml",
         "faq.yaml", "replies.yaml", "vocabulary.yaml", "pinyin.yaml", "examples.tsv")


class BotDataError(ValueError):
    """A data file is missing or malformed."""


@dataclass
class RawData:
    normalize: dict
    t2s: dict[str, str]
    userdict: list[tuple[str, int | None, str | None]]
    intents: dict
    categories: dict
    slots: dict
    faq: list[dict]
    replies: dict
    vocabulary: dict
    pinyin: dict[str, str]   # character -> toneless reading (for sound-alike typos)
    examples: list[tuple[str, str, str | None]]   # labelled messages the n-gram model learns from


def _load_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_Loader) or {}
    except FileNotFoundError as exc:
        raise BotDataError(f"{path.name}: file is missing from {path.parent}") from exc
    except yaml.YAMLError as exc:
        raise BotDataError(f"{path.name}: not valid YAML: {exc}") from exc


def _weights(mapping: Any, where: str) -> dict[str, float]:
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise BotDataError(f"{where}: expected a mapping of phrase: weight")
    out: dict[str, float] = {}
    for phrase, weight in mapping.items():
        if not isinstance(phrase, (str, int)) or str(phrase).strip() == "":
            raise BotDataError(f"{where}: empty phrase")
        try:
            out[str(phrase).strip()] = float(weight)
        except (TypeError, ValueError) as exc:
            raise BotDataError(f"{where}: weight of {phrase!r} must be a number, got {weight!r}") from exc
    return out


def _check_regex(pattern: Any, where: str) -> str:
    if not isinstance(pattern, str) or not pattern:
        raise BotDataError(f"{where}: regex must be a non-empty string")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise BotDataError(f"{where}: bad regex {pattern!r}: {exc}") from exc
    return pattern


def load(data_dir: Path | str | None = None) -> RawData:
    folder = Path(data_dir) if data_dir else DEFAULT_DATA_DIR
    normalize = _load_yaml(folder / "normalize.yaml")
    t2s_raw = _load_yaml(folder / "t2s.yaml")
    t2s: dict[str, str] = {}
    for simp, trads in (t2s_raw.get("map") or {}).items():
        if not isinstance(simp, str) or len(simp) != 1:
            raise BotDataError(f"t2s.yaml: key {simp!r} must be one simplified character")
        for trad in str(trads):
            t2s[trad] = simp

    userdict: list[tuple[str, int | None, str | None]] = []
    for entry in (_load_yaml(folder / "userdict.yaml").get("words") or []):
        parts = str(entry).split()
        if not parts:
            continue
        word = parts[0]
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        tag = parts[-1] if len(parts) > 1 and not parts[-1].isdigit() else None
        userdict.append((word, freq, tag))

    intents = _load_yaml(folder / "intents.yaml")
    cues = intents.get("cues") or {}
    if not isinstance(cues, dict):
        raise BotDataError("intents.yaml: 'cues' must map cue names to phrase: weight mappings")
    intents["cues"] = {name: _weights(value, f"intents.yaml cues.{name}") for name, value in cues.items()}
    patterns = []
    for i, item in enumerate(intents.get("patterns") or []):
        where = f"intents.yaml patterns[{i}]"
        if not isinstance(item, dict) or "cue" not in item:
            raise BotDataError(f"{where}: needs cue, weight and regex")
        patterns.append({"cue": str(item["cue"]), "weight": float(item.get("weight", 1)),
                         "regex": _check_regex(item.get("regex"), where)})
    intents["patterns"] = patterns

    categories = _load_yaml(folder / "categories.yaml")
    cats = categories.get("categories") or {}
    categories["categories"] = {name: _weights(value, f"categories.yaml {name}") for name, value in cats.items()}
    cat_patterns = []
    for i, item in enumerate(categories.get("patterns") or []):
        where = f"categories.yaml patterns[{i}]"
        if not isinstance(item, dict) or "category" not in item:
            raise BotDataError(f"{where}: needs category, weight and regex")
        cat_patterns.append({"category": str(item["category"]), "weight": float(item.get("weight", 1)),
                             "regex": _check_regex(item.get("regex"), where)})
    categories["patterns"] = cat_patterns

    faq = _load_yaml(folder / "faq.yaml").get("faq") or []
    for i, entry in enumerate(faq):
        where = f"faq.yaml entry {i} ({entry.get('key') if isinstance(entry, dict) else entry!r})"
        if not isinstance(entry, dict) or not entry.get("key") or not entry.get("answer"):
            raise BotDataError(f"{where}: needs key, match and answer")
        match = entry.get("match")
        if not isinstance(match, list) or not match or not all(isinstance(g, list) and g for g in match):
            raise BotDataError(f"{where}: match must be a list of word lists (all lists must match)")
    homophones = normalize.get("homophones") or {}
    if not isinstance(homophones, dict) or not isinstance(homophones.get("words") or [], list) \
            or not isinstance(homophones.get("exclude") or [], list):
        raise BotDataError("normalize.yaml homophones: expected words: [..] and exclude: [..] lists")
    limit = homophones.get("max_char_frequency", 20000)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise BotDataError(f"normalize.yaml homophones.max_char_frequency: expected a whole number >= 0, "
                           f"got {limit!r}")

    pinyin: dict[str, str] = {}
    readings = _load_yaml(folder / "pinyin.yaml").get("readings") or {}
    if not isinstance(readings, dict):
        raise BotDataError("pinyin.yaml: 'readings' must map a reading to its characters")
    for reading, chars in readings.items():
        if not isinstance(reading, str) or not isinstance(chars, str):
            raise BotDataError(f"pinyin.yaml: {reading!r}: expected a reading and a string of characters")
        for ch in chars:
            pinyin.setdefault(ch, reading)
    return RawData(normalize=normalize, t2s=t2s, userdict=userdict, intents=intents, categories=categories,
                   slots=_load_yaml(folder / "slots.yaml"), faq=faq, replies=_load_yaml(folder / "replies.yaml"),
                   vocabulary=_load_yaml(folder / "vocabulary.yaml"), pinyin=pinyin,
                   examples=_load_examples(folder / "examples.tsv"))


def _load_examples(path: Path) -> list[tuple[str, str, str | None]]:
    """The labelled messages of examples.tsv (the format of `linli bot eval`). Optional: without
    the file the n-gram model is empty and only the cue words count."""
    try:
        with path.open(encoding="utf-8") as handle:
            examples = read_examples(handle, path.name)
    except FileNotFoundError:
        return []
    except UnicodeDecodeError as exc:
        raise BotDataError(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except LabelError as exc:
        raise BotDataError(str(exc)) from exc
    return [(e.text, e.intent, e.category) for e in examples]


def mtimes(data_dir: Path | str | None = None) -> tuple:
    folder = Path(data_dir) if data_dir else DEFAULT_DATA_DIR
    out = []
    for name in FILES:
        try:
            out.append(os.stat(folder / name).st_mtime_ns)
        except OSError:
            out.append(None)
    return tuple(out)
