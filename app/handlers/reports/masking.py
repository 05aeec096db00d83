"""Names for the public: the board shows a resident as a surname and two stars, whatever the name.

``app.models.masking.mask_name`` keeps the length (张*华 tells a three-character name); on a screen
in the service hall, seen by neighbours, even that narrows it down. No ids either.
"""
from __future__ import annotations

PUBLIC_RESIDENT = "居民"


def public_name(name: str | None) -> str:
    """陈桂芳 → 陈**, 老刘 → 老**, none → 居民: one fixed shape for every name."""
    name = (name or "").strip()
    if not name:
        return PUBLIC_RESIDENT
    return name[0] + "**"
