"""Every call the mini-program makes is an operation of /api/v1/openapi.json.

miniprogram/utils/endpoints.js is the only list of calls (pages name its entries; a jest test
checks that nothing else reaches the network). Each entry must match the document: method and
path, authentication, the query and body fields it sends are declared, and every field the
document requires is one the app always sends. The enums the app labels (categories, ratings,
escalation levels, case steps, member kinds) are the document's.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

MINIPROGRAM = Path(__file__).resolve().parents[2] / "miniprogram"


def endpoints() -> dict:
    text = (MINIPROGRAM / "utils" / "endpoints.js").read_text(encoding="utf-8")
    body = re.search(r"/\* endpoints:start \*/(.*)/\* endpoints:end \*/", text, re.S).group(1)
    return json.loads(body)


def labels(name: str) -> set[str]:
    text = (MINIPROGRAM / "utils" / "labels.js").read_text(encoding="utf-8")
    block = re.search(rf"const {name} = \{{(.*?)\}}", text, re.S).group(1)
    return set(re.findall(r"(\w+):", block))


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def operation(document, entry):
    return document["paths"].get(entry["path"], {}).get(entry["method"].lower())


ENTRIES = sorted(endpoints().items())


@pytest.mark.parametrize("name, entry", ENTRIES, ids=[name for name, _ in ENTRIES])
def test_each_call_is_a_declared_operation(document, name, entry):
    op = operation(document, entry)
    if entry.get("pending"):
        assert op is None, f"{name}: {entry['path']} exists now; drop its 'pending' mark"
        pytest.xfail(f"{name}: {entry['method']} {entry['path']} is not in the API yet ({entry['pending']})")
    assert op is not None, f"{name}: {entry['method']} {entry['path']} is not in /api/v1/openapi.json"
    assert ("security" in op) == (entry["auth"] != "none"), f"{name}: auth {entry['auth']} vs the document"
    params = {p["name"]: p for p in op.get("parameters", [])}
    path_params = set(re.findall(r"\{(\w+)\}", entry["path"]))
    assert path_params == {n for n, p in params.items() if p["in"] == "path"}
    query = {n for n, p in params.items() if p["in"] == "query"}
    sent_query = set(entry.get("query", [])) | set(entry.get("required_query", []))
    assert sent_query <= query, f"{name}: undeclared query parameters {sent_query - query}"
    needed_query = {n for n, p in params.items() if p["in"] == "query" and p.get("required")}
    assert needed_query <= set(entry.get("required_query", [])), f"{name}: must always send {needed_query}"
    schema = (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema", {})
    declared = set(schema.get("properties", {}))
    pending_fields = set(entry.get("pending_fields", []))
    sent = set(entry.get("body", [])) | set(entry.get("required", []))
    if sent:
        assert "requestBody" in op, f"{name}: sends a body the operation does not take"
    assert sent - pending_fields <= declared, f"{name}: undeclared body fields {sent - pending_fields - declared}"
    assert not (pending_fields & declared), f"{name}: {pending_fields & declared} are declared now; unmark them"
    assert set(schema.get("required", [])) <= set(entry.get("required", [])), \
        f"{name}: the document requires {set(schema.get('required', [])) - set(entry.get('required', []))}"


def _enum(document, path, method, field):
    op = document["paths"][path][method]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    return set(schema["properties"][field]["enum"])


def test_the_labelled_values_are_the_documented_enums(document):
    assert labels("CATEGORIES") == _enum(document, "/api/v1/my/requests", "post", "category")
    assert labels("RATINGS") == _enum(document, "/api/v1/my/requests/{request_id}/rate", "post", "rating")
    assert labels("LEVELS") == _enum(document, "/api/v1/requests/{request_id}/escalate", "post", "level") - {"grid"}
    assert labels("CASE_STEPS") <= _enum(document, "/api/v1/cases/{case_id}/transitions", "post", "status")


def test_the_list_is_read_whole():
    assert len(ENTRIES) == len(re.findall(r'"method":', (MINIPROGRAM / "utils" / "endpoints.js").read_text()))
