"""Masking of personal data for anything that is not the staff API.

Phone numbers and names of residents are stored whole; every view that is
not the staff API (bot replies in groups, public board, logs) shows them
through these functions.
"""
from __future__ import annotations

import re

_DIGITS = re.compile(r"\d")


def mask_phone(phone: str | None) -> str | None:
    """13812345678 → 138****5678; shorter numbers keep only the last 2 digits."""
    if not phone:
        return phone
    digits = "".join(_DIGITS.findall(phone))
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) >= 4:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_name(name: str | None) -> str | None:
    """张三华 → 张*华, 张三 → 张*, Li Lei → L*i."""
    if not name:
        return name
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
