"""Parsers that check one LINLI_* setting's text and return its value (a ValueError says what is wrong)."""
from __future__ import annotations

from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true/false")


def parse_positive_int(raw: str) -> int:
    value = int(raw.strip())
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def parse_non_negative_int(raw: str) -> int:
    value = int(raw.strip())
    if value < 0:
        raise ValueError("must be zero or a positive integer")
    return value


def parse_timezone(raw: str) -> str:
    try:
        ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {raw!r}") from exc
    return raw.strip()


def parse_str(raw: str) -> str:
    return raw.strip()


# Requests (诉求): deadline classes after Beijing 12345 and the categories the bot knows.
REQUEST_DEADLINE_CLASSES = ("emergency", "utilities", "general", "complex")
REQUEST_CATEGORIES = ("repair", "utilities", "environment", "parking", "ebike", "noise", "property", "safety",
                      "neighbor", "other")


def parse_pairs(raw: str, keys: tuple[str, ...], value_ok: Callable[[str], bool], what: str) -> str:
    """Check "key=value,key=value" against known keys; returns it normalised (no spaces)."""
    pairs = []
    for part in raw.replace("，", ",").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip().lower(), value.strip().lower()
        if not sep or key not in keys:
            raise ValueError(f"{part.strip()!r}: expected key=value with key one of {', '.join(keys)}")
        if not value_ok(value):
            raise ValueError(f"{part.strip()!r}: {what}")
        pairs.append(f"{key}={value}")
    return ",".join(pairs)


def parse_resolution_deadlines(raw: str) -> str:
    return parse_pairs(raw, REQUEST_DEADLINE_CLASSES,
                        lambda v: bool(v[:-1].isdigit() and int(v[:-1]) > 0 and v[-1:] in ("m", "h", "d")),
                        "the limit is a positive number with m (minutes), h (hours) or d (working days)")


def parse_category_classes(raw: str) -> str:
    return parse_pairs(raw, REQUEST_CATEGORIES, lambda v: v in REQUEST_DEADLINE_CLASSES,
                        f"the class is one of {', '.join(REQUEST_DEADLINE_CLASSES)}")


def parse_aes_key(raw: str) -> str:
    """WeChat/WeCom EncodingAESKey: 43 letters and digits (base64 of a 32-byte AES key without '=')."""
    value = raw.strip()
    if len(value) != 43 or not (value.isascii() and value.isalnum()):
        raise ValueError("must be the 43-character EncodingAESKey from the WeChat/WeCom console")
    return value


def parse_wechat_account(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("mp", "miniprogram"):
        raise ValueError("expected mp or miniprogram")
    return value
