"""The OpenAPI 3.1 document of /api/v1, assembled from what each route declares next to itself.

``route`` (app/api/support.py) passes every operation's declarations here: its success
status(es) and response schema (``status``, ``returns``), and the error codes it answers
beyond the ones every operation shares (``errors``: {status: [code, ...]} or
{status: {code: description}}). Shared by all: 400 ``invalid`` (the request screen refuses
bad text in any query), 401/403 when a token is needed, 404 ``not_found`` with a path
parameter, and 503 ``unavailable`` (a shared component response) when a backing service is
down. Response objects are components (app/api/schemas/), each with the fields it always
carries ``required`` (``obj``). Request bodies are derived from the validation
(app/api/openapi_bodies.py). tests/support/contract.py holds the API suite to it: a status, an
error code or a field an operation does not declare, a required field missing or a field of
another JSON type fails the test that saw it.
"""
from __future__ import annotations

import copy
from typing import Any, Iterable

OPENAPI_PATHS: dict[str, dict[str, Any]] = {}
SCHEMAS: dict[str, dict[str, Any]] = {}

ERROR_SCHEMA = {"type": "object", "required": ["error"], "additionalProperties": False, "properties": {
    "error": {"type": "object", "required": ["code", "message", "field"], "properties": {
        "code": {"type": "string", "description": "a machine code; the operation's x-error-codes lists its own"},
        "message": {"type": "string", "description": "for people, in Chinese (an English gist in brackets)"},
        "field": {"type": ["string", "null"], "description": "the request field at fault, null when none"}},
        "description": "some codes carry more (rate_limited: retry_after; invalid_transition: status; "
                       "invalid_notice: problems)"}}}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
# Shared answers every operation can give (their codes only: descriptions are the operation's).
UNAVAILABLE = {"description": "a backing service (database, Redis) is down; retry later (unavailable)",
               "x-error-codes": ["unavailable"], "content": {"application/json": {"schema": ERROR_REF}}}
# The code a status answers when a route lists the status without codes (`responses=` of old).
DEFAULT_CODES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
                 429: "rate_limited", 502: "wechat_unavailable", 503: "unavailable"}
DESCRIPTIONS = {400: "the request is refused; field names what to correct", 401: "missing, expired or invalid token",
                403: "not allowed for this account", 404: "no such thing (or not yours to see)",
                409: "refused in the current state", 422: "refused by the rules", 429: "too many attempts",
                502: "an upstream service (WeChat) failed", 503: "temporarily unavailable"}


def component(name: str, schema: dict[str, Any]) -> dict[str, str]:
    """Register a named response schema (components/schemas) and return a reference to it."""
    SCHEMAS[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Any], *, optional: Iterable[str] = (), description: str | None = None) -> dict[str, Any]:
    """An object as a view function writes it: a dict literal, so every field is always there (null
    where the schema says so) and ``required``, except the ``optional`` ones a branch adds."""
    optional = set(optional)
    schema: dict[str, Any] = {"type": "object", "required": sorted(k for k in properties if k not in optional),
                              "properties": properties}
    if description:
        schema["description"] = description
    return schema


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema or null (a referenced object: anyOf, so the reference stays one model)."""
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        out["type"] = [*kind, "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def paged(item: dict[str, Any], **extra: dict) -> dict[str, Any]:
    """A page of ``paginate``: items, page, per_page, total (and ``extra`` top-level fields, always there)."""
    return obj({"items": {"type": "array", "items": item}, "page": {"type": "integer"},
                "per_page": {"type": "integer"}, "total": {"type": "integer"}, **extra})


def listing(item: dict[str, Any], **extra: dict) -> dict[str, Any]:
    """{items: [...]} (and ``extra`` top-level fields, always there)."""
    return obj({"items": {"type": "array", "items": item}, **extra})


def responses_for(*, auth: str, has_path_params: bool, status: int | Iterable[int] | None, returns: Any,
                  errors: dict | None, legacy: dict | None) -> dict[str, Any]:
    """The ``responses`` object of one operation (``legacy``: a route's own ``responses=`` entries)."""
    if status is None:
        status = sorted(int(key) for key in legacy or {} if int(key) < 400) or 200
    statuses = [status] if isinstance(status, int) else list(status)
    out: dict[str, Any] = {}
    for code in statuses:
        entry: dict[str, Any] = {"description": "created" if code == 201 else "OK"}
        if returns is not None:
            entry["content"] = {"application/json": {"schema": copy.deepcopy(returns)}}
        out[str(code)] = entry
    codes: dict[int, dict[str, str]] = {400: {"invalid": ""}}
    if auth != "none":
        codes[401] = {"unauthorized": ""}
        codes[403] = {"forbidden": ""}
    if has_path_params:
        codes[404] = {"not_found": ""}
    for code, listed in (errors or {}).items():
        listed = listed if isinstance(listed, dict) else {name: "" for name in listed}
        codes.setdefault(int(code), {}).update(listed)
    for key, given in (legacy or {}).items():
        code = int(key)
        if code < 400:
            out.setdefault(key, {}).update(given)
            continue
        listed = given.get("x-error-codes") or []
        if not listed and code not in (errors or {}) and not codes.get(code):
            listed = [DEFAULT_CODES.get(code, "error")]
        codes.setdefault(code, {}).update({name: "" for name in listed})
        codes[code]["_"] = given.get("description", "")
    if 503 in codes:
        codes[503]["unavailable"] = ""
    for code, listed in sorted(codes.items()):
        out[str(code)] = _error_response(code, listed)
    out.setdefault("503", {"$ref": "#/components/responses/Unavailable"})
    return out


def _error_response(status: int, listed: dict[str, str]) -> dict[str, Any]:
    said = listed.pop("_", "")
    names = sorted(listed)
    parts = [f"`{name}`" + (f": {listed[name]}" if listed[name] else "") for name in names]
    description = (said or DESCRIPTIONS.get(status, "refused")) + " — codes: " + "; ".join(parts)
    return {"description": description, "x-error-codes": names,
            "content": {"application/json": {"schema": ERROR_REF}}}


def document() -> dict[str, Any]:
    """The whole document; the Error schema's code enum is every code some operation declares."""
    codes = {"unavailable"}
    for item in OPENAPI_PATHS.values():
        for op in item.values():
            for response in op["responses"].values():
                codes.update(response.get("x-error-codes", []))
    error = copy.deepcopy(ERROR_SCHEMA)
    error["properties"]["error"]["properties"]["code"]["enum"] = sorted(codes)
    return {
        "openapi": "3.1.0",
        "info": {"title": "linli 邻里 mini-program API", "version": "1",
                 "description": "Errors are always {\"error\": {\"code\", \"message\", \"field\"}}; each operation "
                                "lists the codes it answers per status (x-error-codes)."},
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": {"Error": error, **dict(sorted(SCHEMAS.items()))},
                       "responses": {"Unavailable": UNAVAILABLE}},
        "paths": dict(sorted(OPENAPI_PATHS.items())),
    }
