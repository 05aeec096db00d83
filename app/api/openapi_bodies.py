"""Request bodies derived from the validation: what a route checks, the OpenAPI document says.

A route reads its JSON body with ``field(body, "name", kind, ...)`` (app/api/support.py), or hands
the body to a handler that reads it with the governance readers (``fields.text(data, "name",
"label", ...)``, app/handlers/governance/fields.py). ``with_validation`` reads the route's code and,
through every call the body is passed to (a few levels down), each of those reads: its name, its
JSON type, ``maxLength``, ``enum``, bounds, and whether it is required. A read made on every request
(a top-level statement, in a call made on every request) with ``required`` true makes the field
required; one under an ``if``, a loop or a ``try`` does not. Options are literals, module constants,
or the constant arguments the caller passed (``_values(data, partial=False)``); an ``if`` whose test
those decide (``if not partial:``) is followed only the way it goes. The handlers' tables of readers
(``readers = {"title": lambda: fields.text(...)}``, all read unless ``partial``) count as read on every
request when the call fixes ``partial=False``; ``if not fields.present(data, "name"): raise`` requires
the field too. A handler's ``fields.only_known(data, NAMES)`` limits
what its reads can add to NAMES (a resident's topic takes only a title and a detail).
"""
from __future__ import annotations

import ast
import copy
import inspect
import textwrap
from typing import Any, Callable

from app.handlers.governance import fields as readers

_KINDS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "list": "array",
          "dict": "object", "datetime": "string"}
_OPTIONS = {"max_length": "maxLength", "minimum": "minimum", "maximum": "maximum"}
_DEPTH = 4
_UNKNOWN = object()


def _reader_schema(name: str, o: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of one governance reader's field, from the options it was called with."""
    number = {"type": "number"}
    if name in ("number", "coordinate"):
        low, high = (-o["limit"], o["limit"]) if name == "coordinate" else (o.get("minimum"), o.get("maximum"))
        number.update({k: v for k, v in (("minimum", low), ("maximum", high)) if isinstance(v, (int, float))})
        if o.get("positive") is True:
            number["exclusiveMinimum"] = 0
        return number
    if name in ("integer", "ident"):
        low, high = (1, readers.MAX_ID) if name == "ident" else (o.get("minimum"), o.get("maximum"))
        return {"type": "integer", **({"minimum": low} if isinstance(low, int) else {}),
                **({"maximum": high} if isinstance(high, int) else {})}
    if name == "text":
        return {"type": "string", **({"maxLength": o["max_length"]} if isinstance(o.get("max_length"), int) else {})}
    if name == "choice":
        choices = o.get("choices")
        return {"type": "string", **({"enum": list(choices)} if isinstance(choices, dict) else {})}
    if name == "ids":
        return {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": readers.MAX_ID},
                **({"maxItems": o["limit"]} if isinstance(o.get("limit"), int) else {})}
    if name == "words":
        return {"type": ["array", "string"], "items": {"type": "string", "maxLength": o["max_length"]},
                "maxItems": o["limit"], "description": "a list, or one text split at commas"}
    if name == "weekdays":
        return {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 7},
                "description": "ISO weekdays, 1 = Monday … 7 = Sunday"}
    if name == "clock":
        return {"type": "string", "pattern": readers.CLOCK.pattern, "example": "08:30"}
    return {"day": {"type": "string", "format": "date"}, "moment": {"type": "string", "format": "date-time"}}.get(name, {})


_READERS = {getattr(readers, name): name for name in (
    "text", "choice", "number", "integer", "ident", "ids", "day", "moment", "clock", "weekdays", "words", "coordinate")}


def validated_fields(fn: Callable) -> dict[str, tuple[dict[str, Any], bool]]:
    """name -> (schema, required) of each body field the route ``fn`` (or what it passes the body to) reads."""
    found: dict[str, tuple[dict[str, Any], bool]] = {}
    _walk(fn, None, {}, True, found, set())
    return found


def _walk(fn: Callable, body_param: str | None, env: dict[str, Any], on_every_request: bool,
          found: dict, seen: set) -> None:
    if fn in seen or len(seen) > 40:
        return
    seen.add(fn)
    try:
        func = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return
    top = {id(node) for stmt in getattr(func, "body", [])
           if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.Expr, ast.Return)) for node in ast.walk(stmt)}
    # `a or read(...)`, `read(...) if c else d`: not made on every request.
    top -= {id(node) for branch in ast.walk(func) if isinstance(branch, (ast.BoolOp, ast.IfExp))
            for node in ast.walk(branch)}
    dead: set[int] = set()  # the branches of an `if` the fixed arguments rule out
    for branch in ast.walk(func):
        if isinstance(branch, (ast.If, ast.IfExp)):
            taken = _truth(branch.test, fn, env)
            if taken is not None:
                for part in ([branch.orelse] if taken else [branch.body]):
                    dead |= {id(n) for stmt in (part if isinstance(part, list) else [part]) for n in ast.walk(stmt)}
    in_table = {id(n) for lam in ast.walk(func) if isinstance(lam, ast.Lambda) for n in ast.walk(lam.body)}
    table_read_whole = env.get("partial") is False
    bodies = {body_param} if body_param else set()
    for node in ast.walk(func):  # `data = json_body()`
        if isinstance(node, ast.Assign) and _is_json_body(node.value, fn):
            bodies |= {t.id for t in node.targets if isinstance(t, ast.Name)}

    def is_body(arg: ast.AST) -> bool:
        return (isinstance(arg, ast.Name) and arg.id in bodies) or _is_json_body(arg, fn)

    allowed: set[str] | None = None
    before = set(found)
    for stmt in getattr(func, "body", []):  # `if not fields.present(data, "name"): raise ...`: required
        test = stmt.test if isinstance(stmt, ast.If) else None
        if (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Call)
                and _resolve(test.operand.func, fn) is readers.present and len(test.operand.args) > 1
                and is_body(test.operand.args[0]) and isinstance(stmt.body[0], ast.Raise)):
            name = _constant(test.operand.args[1], fn, env)
            if isinstance(name, str):
                _add(found, name, {}, on_every_request)
    for node in ast.walk(func):
        if not isinstance(node, ast.Call) or id(node) in dead:
            continue
        every = on_every_request and id(node) in top and (id(node) not in in_table or table_read_whole)
        if _resolve(node.func, fn) is readers.only_known and len(node.args) > 1 and is_body(node.args[0]):
            known = _constant(node.args[1], fn, env)
            if isinstance(known, (list, tuple, set, frozenset, dict)):
                allowed = {str(name) for name in known}
            continue
        if getattr(node.func, "id", None) == "field" and (body_param is None or (node.args and is_body(node.args[0]))):
            _api_field(node, fn, env, every, found)
            continue
        callee = _resolve(node.func, fn)
        if callee in _READERS and node.args and is_body(node.args[0]):
            _governance_field(node, callee, fn, env, every, found)
            continue
        if callee is None or not inspect.isfunction(callee) or not callee.__module__.startswith("app.") \
                or len(seen) > _DEPTH * 10:
            continue
        passed = _body_parameter(node, callee, is_body)
        if passed is not None:
            _walk(callee, passed, _call_constants(node, callee, fn, env), every, found, seen)
    if allowed is not None:
        for name in set(found) - before - allowed:
            del found[name]


def _api_field(node: ast.Call, fn: Callable, env: dict, every: bool, found: dict) -> None:
    """``field(body, "name", kind, **options)``: required unless ``required=`` says otherwise."""
    if len(node.args) < 2 or not (isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
        return
    kw = {k.arg: k.value for k in node.keywords}
    schema: dict[str, Any] = {}
    kinds = _kind_names(node.args[2] if len(node.args) > 2 else None)
    if kinds:
        types = [_KINDS[k] for k in kinds if k in _KINDS]
        schema["type"] = types[0] if len(types) == 1 else types
        if kinds == ["datetime"]:
            schema["format"] = "date-time"
    for option, key in _OPTIONS.items():
        value = _constant(kw.get(option), fn, env)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            schema[key] = value
    choices = _constant(kw.get("choices"), fn, env)
    if isinstance(choices, (list, tuple, dict, set, frozenset)) and all(isinstance(c, str) for c in choices):
        schema["enum"] = list(choices)
    required = every and "required" not in kw
    _add(found, node.args[1].value, schema, required)


def _governance_field(node: ast.Call, reader: Callable, fn: Callable, env: dict, every: bool, found: dict) -> None:
    """``fields.<reader>(data, "name", "label", ...)``: its options bound to the reader's own signature."""
    args = [_UNKNOWN] + [_constant(a, fn, env) for a in node.args[1:]]
    kwargs = {k.arg: _constant(k.value, fn, env) for k in node.keywords if k.arg}
    try:
        bound = inspect.signature(reader).bind(*args, **kwargs)
    except TypeError:
        return
    bound.apply_defaults()
    options = dict(bound.arguments)
    name = options.get("name")
    if not isinstance(name, str):
        return
    _add(found, name, _reader_schema(_READERS[reader], options), every and options.get("required") is True)


def _add(found: dict, name: str, schema: dict, required: bool) -> None:
    known, was_required = found.get(name, ({}, False))
    merged = {**schema, **known}
    found[name] = (merged, was_required or required)


def _is_json_body(node: ast.AST, fn: Callable) -> bool:
    return isinstance(node, ast.Call) and getattr(_resolve(node.func, fn), "__name__", None) == "json_body" \
        and getattr(_resolve(node.func, fn), "__module__", None) == "app.api.support"


def _resolve(node: ast.AST, fn: Callable) -> Any:
    """The object a name or an attribute chain (``needs.create_need``) names in ``fn``'s module."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    value = getattr(fn, "__globals__", {}).get(node.id)
    for part in parts:
        try:
            value = getattr(value, part, None)
        except RuntimeError:  # a Flask proxy (request.args) outside a request: not a function or a constant
            return None
    return value


def _body_parameter(node: ast.Call, callee: Callable, is_body: Callable[[ast.AST], bool]) -> str | None:
    """The name of the callee's parameter the body is passed as, if it is."""
    try:
        params = list(inspect.signature(callee).parameters)
    except (TypeError, ValueError):
        return None
    for index, arg in enumerate(node.args):
        if is_body(arg) and index < len(params):
            return params[index]
    for keyword in node.keywords:
        if keyword.arg in params and is_body(keyword.value):
            return keyword.arg
    return None


def _call_constants(node: ast.Call, callee: Callable, fn: Callable, env: dict) -> dict[str, Any]:
    """The callee's parameters the call fixes to constants (``partial=False``), over its defaults."""
    try:
        signature = inspect.signature(callee)
    except (TypeError, ValueError):
        return {}
    out = {name: p.default for name, p in signature.parameters.items() if p.default is not inspect.Parameter.empty}
    params = list(signature.parameters)
    passed = [(params[index], arg) for index, arg in enumerate(node.args) if index < len(params)]
    passed += [(keyword.arg, keyword.value) for keyword in node.keywords if keyword.arg]
    for name, arg in passed:
        value = _constant(arg, fn, env)
        if value is None and not (isinstance(arg, ast.Constant) and arg.value is None):
            out.pop(name, None)  # passed, but not a constant: unknown, not its default
        else:
            out[name] = value
    return out


def _kind_names(node: ast.AST | None) -> list[str]:
    if node is None:
        return ["str"]
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Tuple):
        return [e.id for e in node.elts if isinstance(e, ast.Name)]
    return []


def _constant(node: ast.AST | None, fn: Callable, env: dict | None = None) -> Any:
    """A literal, ``not`` of one, a parameter the caller fixed, or a constant of ``fn``'s module (flow.MAX_TEXT)."""
    if node is None:
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _truth(node.operand, fn, env)
        return None if inner is None else not inner
    if isinstance(node, ast.Name) and env and node.id in env:
        return env[node.id]
    if isinstance(node, ast.IfExp):  # TOPIC_FIELDS if staff else ("title", "detail")
        test = _truth(node.test, fn, env)
        return None if test is None else _constant(node.body if test else node.orelse, fn, env)
    try:
        return ast.literal_eval(node)
    except ValueError:
        pass
    value = _resolve(node, fn)
    return value if isinstance(value, (int, float, str, list, tuple, dict, set, frozenset)) else None


def _truth(node: ast.AST, fn: Callable, env: dict | None) -> bool | None:
    """Whether a test holds, None when not known (a parameter fixed to None is known: false)."""
    if isinstance(node, ast.Name) and env and node.id in env:
        return bool(env[node.id])
    value = _constant(node, fn, env)
    return None if value is None else bool(value)


def with_validation(body: dict[str, Any], fn: Callable) -> dict[str, Any]:
    """The body schema completed from the reads the route makes: declared details win (descriptions,
    examples), the validation adds the rest; the fields it always requires are ``required``."""
    fields = validated_fields(fn)
    if not fields:
        return body
    body = copy.deepcopy(body)
    body.setdefault("type", "object")
    properties = body.setdefault("properties", {})
    required = list(body.get("required", []))
    for name, (schema, needed) in fields.items():
        declared = properties.setdefault(name, {})
        for key, value in schema.items():
            if key != "type" or "type" not in declared:
                declared.setdefault(key, value)
        if needed and name not in required:
            required.append(name)
    if required:
        body["required"] = required
    return body
