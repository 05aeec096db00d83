"""Form fields → the body the co-governance handlers read (the same dict as the API's JSON), and the
one shape of every form action of these pages (``submit``).

The handlers check every field and refuse in Chinese naming it, so this only converts what
a form cannot express: numbers arrive as text, a party is one select ("unit:3" / "member:7"),
weekdays are checkboxes. A value that does not convert is passed on as typed, and the
handler's refusal ("数量必须是数字") is what the page shows.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from flask import flash, redirect, render_template, request

from app.errors import DomainError, ValidationError
from app.extensions import db
from app.web.filters import people_message
from app.web.support import BAD_TEXT


def _integer(raw: str) -> Any:
    text = raw.strip()
    body = text[1:] if text.startswith("-") else text
    return int(text) if body.isascii() and body.isdigit() and len(body) < 19 else text


def _number(raw: str) -> Any:
    try:
        value = float(raw.strip())
    except ValueError:
        return raw.strip()
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def form_body(*, ints: Iterable[str] = (), numbers: Iterable[str] = (), skip: Iterable[str] = (),
              party_select: bool = True) -> dict[str, Any]:
    """The form's filled-in fields (blank ones left out, as an API caller would).

    ``party_select``: the form's "party" is the unit-or-member select (not 议事's four parties).
    """
    ints, numbers = set(ints), set(numbers)
    skip = {"csrf_token", "weekdays", *skip} | ({"party"} if party_select else set())
    body: dict[str, Any] = {}
    for name, raw in request.form.items():
        if name in skip:
            continue
        if BAD_TEXT.search(raw):
            raise ValidationError("填写的内容含有无法识别的字符，请重新输入", field=name)
        if not raw.strip():
            continue
        body[name] = _integer(raw) if name in ints else _number(raw) if name in numbers else raw.strip()
    if "weekdays" in request.form:
        body["weekdays"] = [_integer(v) for v in request.form.getlist("weekdays") if v.strip()]
    if party_select:
        body.update(party())
    return body


def party() -> dict[str, int]:
    """The "party" select: a partner unit or a 双报到 member."""
    raw = (request.form.get("party") or "").strip()
    if not raw:
        return {}
    kind, _, number = raw.partition(":")
    if kind not in ("unit", "member") or not (number.isascii() and number.isdigit()) or len(number) > 18:
        raise ValidationError("请选择单位或党员", field="party")
    return {f"{kind}_id": int(number)}


def form_ids(name: str) -> list[int]:
    """The ticked ids of a repeated field (request_ids, group_ids); what is not an id is left out."""
    return [int(v) for v in request.form.getlist(name) if v.isascii() and v.isdigit() and len(v) < 19]


def typed() -> dict[str, Any]:
    """What the user typed, to fill the form again after a refusal."""
    values: dict[str, Any] = {k: v for k, v in request.form.items() if k != "csrf_token"}
    values["weekdays"] = request.form.getlist("weekdays")
    return values


# "…（unit_id）…" and "room（场地）": the handlers name API fields for callers; a page shows the words.
API_NAME = re.compile(r"（[A-Za-z_]+）")
KEY_AND_LABEL = re.compile(r"\b[a-z_]+（([^（）]+)）")


def gov_message(message: str) -> str:
    return people_message(KEY_AND_LABEL.sub(r"\1", API_NAME.sub("", message or "")))


def submit(action: Callable[[], tuple[str, str]], template: str, context: Callable[[str], dict]):
    """Run a form's action: ``action()`` calls the handler and returns (what to tell the user, where to go).

    Done: the message is flashed and the browser redirected (a reload does not post twice). Refused
    (a DomainError, bad input included): nothing half-written stays (rollback) and ``template`` is
    rendered again with ``context(message)`` — the Chinese reason and what was typed — under the
    refusal's status.
    """
    try:
        message, target = action()
    except DomainError as exc:
        db.session.rollback()
        return render_template(template, **context(gov_message(exc.message))), exc.status
    flash(message, "ok")
    return redirect(target)
