"""The mini-program's recorded fake of the API (miniprogram/test/fixtures/api.json) is the API's real answers.

The jest tests replay the recording as their server. This test records the same story again
against the running app and fails when an answer's status or the shape of its JSON (the keys
and value types, recursively) no longer matches the committed recording, so the fake cannot
drift from the API. LINLI_RECORD_MINIPROGRAM=1 rewrites the recording instead.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from tests.miniprogram.recorder import record

FIXTURE = Path(__file__).resolve().parents[2] / "miniprogram" / "test" / "fixtures" / "api.json"


def shape(value):
    """Keys and JSON types, recursively; list items merged (a list's shape is the union of its items')."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        merged: dict = {}
        kinds = set()
        for item in value:
            s = shape(item)
            if isinstance(s, dict):
                merged.update({k: v for k, v in s.items() if k not in merged or v != "null"})
            else:
                kinds.add(s)
        return [merged] if merged else sorted(kinds)
    if value is None:
        return "null"
    return type(value).__name__


def test_the_recording_is_what_the_api_answers(client, cli_runner, fake_wechat, clock):
    entries = record(client, cli_runner, fake_wechat, clock)
    if os.environ.get("LINLI_RECORD_MINIPROGRAM") == "1":
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        FIXTURE.write_text(json.dumps({"recorded_at": "2026-11-17T09:30:00+08:00", "entries": entries},
                                      ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    committed = json.loads(FIXTURE.read_text(encoding="utf-8"))["entries"]
    assert [e["name"] for e in entries] == [e["name"] for e in committed], "the story changed: re-record"
    for live, kept in zip(entries, committed, strict=True):
        assert (live["method"], live["status"], live["auth"]) == (kept["method"], kept["status"], kept["auth"]), \
            live["name"]
        assert shape(live["response"]) == shape(kept["response"]), f"{live['name']}: answer changed, re-record"
