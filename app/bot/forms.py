"""A request filed without a category (the mini-program form, the API) read the way a chat
message is read, but taken as a report whatever its wording: its category, where (building,
unit, room) and whether it is an emergency — one understanding for every channel."""
from __future__ import annotations

import logging

from app.bot import slots as slot_mod
from app.bot.features import features
from app.bot.model import Model
from app.bot.scoring import category_scores, confidence_of, is_emergency, names_a_problem, report_category
from app.bot.types import FormClassification

log = logging.getLogger(__name__)


def classify_form(model: Model, text: str | None) -> FormClassification:
    """Never raises: a form must be filed whatever its text (category "other" when in doubt)."""
    raw = text if isinstance(text, str) else ("" if text is None else str(text))
    try:
        normalized = model.normalizer.normalize(raw)[0]
        chars = set(normalized)
        feats = features(model, normalized, chars)
        words = category_scores(feats)
        evidence = names_a_problem(feats, words)   # else "other", confidence 0: the resident picks
        chosen, cats = (report_category(model, normalized, words, None, chars) if evidence
                        else ("other", [0.0, 0.0]))
        ordered = sorted(cats, reverse=True)
        where = slot_mod.location_if_named(normalized, chars)
    except Exception:  # noqa: BLE001 - a form must be filed whatever its text
        log.exception("bot failed to classify a form of %d characters", len(raw))
        return FormClassification(category="other")
    return FormClassification(
        category=chosen, building=where.get("building"), unit=where.get("unit"), room=where.get("room"),
        urgency="emergency" if is_emergency(feats) else None,
        confidence=round(confidence_of(ordered[0], ordered[1]), 3), evidence=evidence)
