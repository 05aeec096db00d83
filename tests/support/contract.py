"""The OpenAPI document as a contract: every answer of /api/v1 checked against its operation.

``ContractClient`` is a Flask test client that checks each response it gets back: the status
is one the operation declares; a JSON success body has only the fields its response schema
declares (at the top level, and inside declared nested objects and array items), carries
every field the schema marks ``required`` and gives each declared field a value of its
declared JSON type (both at the top level, and in each item of a top-level ``items`` list);
an error body is ``{"error": {"code", "message", "field"}}`` with a code the operation lists
for that status (``x-error-codes``). tests/api/conftest.py installs it for the whole API suite.

``LINLI_CONTRACT_RECORD=path`` appends what was seen (one JSON line per answer) instead of
failing: a way to survey the answers when declaring a module, never a way to pass.
"""
from __future__ import annotations

import json
import os
from typing import Any

from flask.testing import FlaskClient
from werkzeug.exceptions import MethodNotAllowed, NotFound

API_PREFIX = "/api/v1/"


class ContractViolation(AssertionError):
    """An answer the document does not declare."""


def operations(document: dict) -> dict[str, tuple[str, str, dict]]:
    """operationId -> (path, method, operation)."""
    found = {}
    for path, item in document["paths"].items():
        for method, op in item.items():
            found[op["operationId"]] = (path, method, op)
    return found


def resolve(document: dict, node: dict) -> dict:
    """The schema a reference names; of ``anyOf``/``oneOf: [X, {type: null}]`` (a nullable object), X."""
    while isinstance(node, dict):
        if "$ref" in node:
            target: Any = document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
            continue
        branches = [b for b in node.get("anyOf", node.get("oneOf", [])) if b != {"type": "null"}]
        if len(branches) != 1:
            return node
        node = branches[0]
    return node


def _kinds(document: dict, schema: dict) -> list[str]:
    """The JSON types a schema allows (empty: any)."""
    if "anyOf" in schema or "oneOf" in schema:
        kinds: list[str] = []
        for branch in schema.get("anyOf", schema.get("oneOf")):
            found = _kinds(document, branch)
            if not found:
                return []
            kinds += found
        return kinds
    if "$ref" in schema:
        return _kinds(document, resolve(document, schema))
    kind = schema.get("type")
    return [kind] if isinstance(kind, str) else list(kind or [])


def _properties(document: dict, schema: dict) -> dict | None:
    """The declared properties of an object schema (allOf merged), or None when it declares none."""
    schema = resolve(document, schema)
    if "allOf" in schema:
        merged: dict = {}
        for part in schema["allOf"]:
            merged.update(_properties(document, part) or {})
        return merged
    if schema.get("additionalProperties") not in (None, False) or "properties" not in schema:
        return None
    return schema["properties"]


def _alternatives(document: dict, schema: dict) -> list[dict]:
    """The branches of a oneOf/anyOf of objects (a staff or a resident view), null left out."""
    schema = resolve(document, schema)
    return [b for b in schema.get("oneOf", schema.get("anyOf", [])) if b != {"type": "null"}]


def _best(checks: list[list[str]]) -> list[str]:
    """An answer fits a oneOf when it fits one branch; otherwise the problems of the nearest branch."""
    return min(checks, key=len) if checks else []


def undeclared_fields(document: dict, schema: dict, value: Any, where: str = "") -> list[str]:
    """Paths of the fields in ``value`` that ``schema`` does not declare (nested where it declares)."""
    schema = resolve(document, schema)
    if isinstance(value, dict) and len(_alternatives(document, schema)) > 1:
        return _best([undeclared_fields(document, branch, value, where)
                      for branch in _alternatives(document, schema)])
    if isinstance(value, list):
        items = schema.get("items")
        problems = []
        for index, item in enumerate(value if isinstance(items, dict) else []):
            problems += undeclared_fields(document, items, item, f"{where}[{index}]")
        return problems
    if not isinstance(value, dict):
        return []
    props = _properties(document, schema)
    if props is None:
        return []
    problems = [f"{where}.{key}" if where else key for key in value if key not in props]
    for key, item in value.items():
        if key in props:
            problems += undeclared_fields(document, props[key], item, f"{where}.{key}" if where else key)
    return problems


_JSON_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _is(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _JSON_TYPES.get(kind, object))


def _required(document: dict, schema: dict) -> list[str]:
    schema = resolve(document, schema)
    if "allOf" in schema:
        return [name for part in schema["allOf"] for name in _required(document, part)]
    return list(schema.get("required", []))


def missing_or_mistyped(document: dict, schema: dict, value: Any, where: str = "") -> list[str]:
    """The required fields ``value`` lacks and the fields whose JSON type is not the declared one
    (one level down: ``value``'s own fields, and the fields of each item of its ``items`` list)."""
    if isinstance(value, dict) and len(_alternatives(document, schema)) > 1:
        return _best([undeclared_fields(document, branch, value) + missing_or_mistyped(document, branch, value, where)
                      for branch in _alternatives(document, schema)])
    props = _properties(document, schema)
    if props is None or not isinstance(value, dict):
        return []
    problems = [f"missing required field {where}{name}" for name in _required(document, schema) if name not in value]
    for name, item in value.items():
        kinds = _kinds(document, props.get(name, {}))
        if kinds and not any(_is(item, kind) for kind in kinds):
            problems.append(f"{where}{name} is {type(item).__name__}, declared {'/'.join(kinds)}")
    if not where and isinstance(value.get("items"), list) and "items" in props:
        item_schema = resolve(document, props["items"]).get("items")
        for index, item in enumerate(value["items"] if isinstance(item_schema, dict) else []):
            problems += missing_or_mistyped(document, item_schema, item, f"items[{index}].")
    return problems


def check_answer(document: dict, op: dict, status: int, content_type: str, body: Any) -> list[str]:
    """What is wrong with this answer of ``op`` (an empty list: nothing)."""
    declared = op["responses"]
    response = declared.get(str(status))
    if response is None:
        return [f"answered {status}, which the operation does not declare (declares {', '.join(sorted(declared))})"]
    response = resolve(document, response)
    content = response.get("content", {})
    media = content_type.split(";")[0].strip()
    if status >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict) or not {"code", "message", "field"} <= set(error) or set(body) != {"error"}:
            return [f"{status}: the error body is not {{'error': {{code, message, field}}}}: {body!r}"]
        codes = response.get("x-error-codes", [])
        if error["code"] not in codes:
            return [f"{status}: error code {error['code']!r} is not declared (declares {codes})"]
        return []
    if body is None:
        if media and media != "application/json" and media not in content:
            return [f"{status}: answered {media}, which the response does not declare"]
        return []
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return [f"{status}: answered a JSON body but the response declares no schema"]
    extra = undeclared_fields(document, schema, body)
    problems = [f"{status}: undeclared fields {extra}"] if extra else []
    return problems + [f"{status}: {problem}" for problem in missing_or_mistyped(document, schema, body)]


def find_operation(app, ops: dict, path: str, method: str) -> dict | None:
    if not path.startswith(API_PREFIX):
        return None
    try:
        endpoint, _ = app.url_map.bind("localhost").match(path, method=method)
    except (NotFound, MethodNotAllowed):
        return None  # no operation: a probe of a path or method the API does not have
    name = endpoint.rpartition(".")[2]
    found = ops.get(name)
    if found is None or found[1] != method.lower():
        return None
    return found[2]


def client_class(document: dict, record_path: str | None = None) -> type[FlaskClient]:
    ops = operations(document)

    class ContractClient(FlaskClient):
        def open(self, *args, **kwargs):
            response = super().open(*args, **kwargs)
            request = response.request
            op = find_operation(self.application, ops, request.path, request.method)
            if op is None:
                return response
            body = response.get_json(silent=True) if response.is_json else None
            if record_path:
                _record(record_path, op, request.method, response.status_code, body)
                return response
            problems = check_answer(document, op, response.status_code, response.content_type or "", body)
            if problems:
                raise ContractViolation(f"{request.method} {request.path} ({op['operationId']}): "
                                        + "; ".join(problems))
            return response

    return ContractClient


def _record(path: str, op: dict, method: str, status: int, body: Any) -> None:
    line = {"op": op["operationId"], "method": method, "status": status, "body": body}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")


def record_path() -> str | None:
    return os.environ.get("LINLI_CONTRACT_RECORD") or None
