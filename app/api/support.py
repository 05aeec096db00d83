"""Helpers every API module uses: auth decorators, body validation, pagination, OpenAPI records."""
from __future__ import annotations

import functools
import math
import re
from datetime import date, datetime
from typing import Any, Callable, Iterable

from flask import g, request
from sqlalchemy import func, select

from app.api import bp
from app.api.openapi import OPENAPI_PATHS, responses_for
from app.api.openapi_bodies import with_validation
from app.errors import ApiError, Forbidden, ValidationError
from app.extensions import db
from app.handlers.org.auth import resolve_token
from app.localtime import iso, zone  # noqa: F401 - iso: the API's time format, re-exported for its modules
from app.models import Resident, Staff

# Ids (and every other integer column) are at most 64-bit signed in the database: a larger number
# in a path, query or body is refused up front, before it overflows the database driver (a 500).
MAX_INT = 2**63 - 1
# C0 control characters other than tab, line feed and carriage return, and lone UTF-16 surrogates
# (JSON "\ud800"): no text a person types contains them, PostgreSQL refuses NUL, the database
# drivers cannot encode a surrogate and the .xlsx exports cannot hold control characters.
BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
MAX_JSON_DEPTH = 32
# Times and dates in requests: far enough either way for any real use, and no arithmetic on them
# (a deadline, a range, a time-zone shift) can leave the datetime range (an OverflowError, a 500).
MIN_YEAR, MAX_YEAR = 1900, 2999


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


def route(rule: str, methods: Iterable[str] = ("GET",), *, summary: str, auth: str = "staff",
          body: dict | None = None, query: dict | None = None, responses: dict | None = None,
          tags: Iterable[str] = (), status: int | Iterable[int] | None = None, returns: dict | None = None,
          errors: dict | None = None):
    """Register a route on the API blueprint and describe it in the OpenAPI document.

    ``auth``: "staff", "resident", "any" (staff or resident) or "none".
    ``body``/``query``: JSON-schema fragments (properties) for the document; a query fragment
    with ``"required": True`` documents a parameter the route refuses to go without.
    ``status``: the success status(es) it answers (200 when omitted); ``returns``: the schema of
    that body; ``errors``: {status: [code, ...]} beyond the shared ones (app/api/openapi.py).
    ``responses``: raw OpenAPI response entries, merged in (descriptions, other media types).
    """

    methods = [m.upper() for m in methods]

    def decorate(fn: Callable):
        guarded = _guard(fn, auth)
        # <int:id> with an upper bound: a larger id is "no such thing" (404), not a driver overflow.
        bounded = re.sub(r"<int:", f"<int(max={MAX_INT}):", rule)
        bp.add_url_rule(bounded, endpoint=fn.__name__, view_func=guarded, methods=methods)
        path = "/api/v1" + _openapi_path(rule)
        for method in methods:
            answers = responses_for(auth=auth, has_path_params="<" in rule, status=status, returns=returns,
                                    errors=errors, legacy=responses)
            op: dict[str, Any] = {"summary": summary, "operationId": fn.__name__, "tags": list(tags),
                                  "responses": answers}
            if auth != "none":
                op["security"] = [{"bearer": []}]
            params = [{"name": name, "in": "path", "required": True, "schema": _path_schema(kind)}
                      for name, kind in _path_params(rule)]
            params += [_query_param(name, schema) for name, schema in (query or {}).items()]
            if params:
                op["parameters"] = params
            if body is not None:
                schema = with_validation(body, fn)
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
            OPENAPI_PATHS.setdefault(path, {})[method.lower()] = op
        return guarded

    return decorate


def _query_param(name: str, schema: dict) -> dict[str, Any]:
    """A query parameter; ``"required": True`` in its fragment marks it required (400 when missing)."""
    schema = dict(schema)
    required = schema.pop("required", False) is True
    return {"name": name, "in": "query", "required": required, "schema": schema}


def _path_schema(kind: str) -> dict[str, Any]:
    if kind == "integer":
        return {"type": "integer", "minimum": 1, "maximum": MAX_INT}
    return {"type": "string"}


def _path_params(rule: str) -> list[tuple[str, str]]:
    """(name, JSON-schema type) of each path parameter: <int:id> is an integer, <code> a string."""
    params = []
    for spec in re.findall(r"<([^>]+)>", rule):
        converter, _, name = spec.rpartition(":")
        params.append((name, "integer" if converter == "int" else "string"))
    return params


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return header[7:].strip() or None


def _guard(fn: Callable, auth: str) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if auth != "none":
            subject = resolve_token(_bearer() or "")
            if subject is None:
                raise Unauthorized("请先登录 (missing, expired or invalid bearer token)")
            if auth == "staff" and not isinstance(subject, Staff):
                raise Forbidden("仅限工作人员 (staff only)")
            if auth == "resident" and not isinstance(subject, Resident):
                raise Forbidden("仅限居民 (residents only)")
            g.subject = subject
        screen_request(kwargs)  # after authentication: an anonymous caller learns nothing from a 400
        return fn(*args, **kwargs)

    return wrapper


def current_staff() -> Staff:
    subject = g.get("subject")
    if not isinstance(subject, Staff):
        raise Forbidden("仅限工作人员 (staff only)")
    return subject


def current_resident() -> Resident:
    subject = g.get("subject")
    if not isinstance(subject, Resident):
        raise Forbidden("仅限居民 (residents only)")
    return subject


def require_role(staff: Staff, *roles: str) -> None:
    if not staff.has_role(*roles):
        raise Forbidden(f"需要以下角色之一: {', '.join(roles)} (role required)")


# ---- request bodies -------------------------------------------------------------------------

def screen_request(path_args: dict[str, Any]) -> None:
    """Refuse input no handler can store or compute with (400 naming the field), for every route.

    Path strings and query values must be clean text; a JSON body must parse (a body nested
    thousands deep overflows the parser's recursion, a 500), and every value in it must be clean
    text, an integer within ``MAX_INT`` or a finite number (the parser reads NaN, Infinity and
    1e999). Handlers that read the body directly rely on this as much as ``field`` does.
    """
    for name, value in path_args.items():
        if isinstance(value, str) and BAD_TEXT.search(value):
            raise ValidationError(f"参数 {name} 含有不可用的字符 (control character)", field=name)
    for name, value in request.args.items(multi=True):
        if BAD_TEXT.search(name) or BAD_TEXT.search(value):
            raise ValidationError(f"参数 {name} 含有不可用的字符 (control character)", field=BAD_TEXT.sub("", name))
    if not request.is_json or not request.get_data(cache=True):
        return
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        raise ValidationError("请求体嵌套过深 (body nested too deeply)", field="body") from None
    if data is not None:
        _screen_value(data, "", 0)


def _screen_value(value: Any, path: str, depth: int) -> None:
    name = path or "body"
    if depth > MAX_JSON_DEPTH:
        raise ValidationError("请求体嵌套过深 (body nested too deeply)", field=name)
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if not -MAX_INT <= value <= MAX_INT:
            raise ValidationError(f"字段 {name} 数值超出范围 (integer out of range)", field=name)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"字段 {name} 不是有效的数字 (not a finite number)", field=name)
    elif isinstance(value, str):
        if BAD_TEXT.search(value):
            raise ValidationError(f"字段 {name} 含有不可用的字符 (control character)", field=name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _screen_value(item, f"{path}[{index}]" if path else f"body[{index}]", depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            if BAD_TEXT.search(key):
                raise ValidationError("字段名含有不可用的字符 (control character in a key)", field=name)
            _screen_value(item, f"{path}.{key}" if path else key, depth + 1)


def json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if data is None:
        raise ValidationError("请求体必须是 JSON 对象 (body must be a JSON object)", field="body")
    if not isinstance(data, dict):
        raise ValidationError("请求体必须是 JSON 对象 (body must be a JSON object)", field="body")
    return data


_MISSING = object()


def field(data: dict, name: str, kind: type | tuple[type, ...] = str, *, required: bool = True,
          default: Any = None, max_length: int | None = None, choices: Iterable | None = None,
          minimum: float | None = None, maximum: float | None = None) -> Any:
    """Read and validate one field; raises ValidationError naming it."""
    value = data.get(name, _MISSING)
    if value is _MISSING or value is None or (isinstance(value, str) and not value.strip() and kind is str):
        if required:
            raise ValidationError(f"缺少字段 {name} (missing field)", field=name)
        return default
    if kind is datetime:
        return parse_datetime(value, name)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if bool not in kinds and isinstance(value, bool):
        raise ValidationError(f"字段 {name} 类型错误 (wrong type)", field=name)
    if float in kinds and isinstance(value, int):
        value = float(value)
    if not isinstance(value, kinds):
        raise ValidationError(f"字段 {name} 类型错误 (expected {'/'.join(k.__name__ for k in kinds)})", field=name)
    if isinstance(value, str):
        value = value.strip()
        if max_length is not None and len(value) > max_length:
            raise ValidationError(f"字段 {name} 过长 (longer than {max_length})", field=name)
    if choices is not None and value not in set(choices):
        raise ValidationError(f"字段 {name} 取值无效 (one of: {', '.join(map(str, choices))})", field=name)
    if minimum is not None and value < minimum:
        raise ValidationError(f"字段 {name} 不能小于 {minimum}", field=name)
    if maximum is not None and value > maximum:
        raise ValidationError(f"字段 {name} 不能大于 {maximum}", field=name)
    return value


_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}


def body_schema(fields: dict[str, tuple[type, dict]], *, partial: bool = False,
                extra: dict | None = None) -> dict[str, Any]:
    """The JSON schema of a body read with ``field(data, name, kind, **options)`` per entry.

    The document says what the validation does (required, enums, maxLength, bounds), so the two
    cannot drift apart; ``partial``: nothing required (PATCH); ``extra``: properties read otherwise.
    """
    properties: dict[str, Any] = {}
    required = []
    for name, (kind, options) in fields.items():
        schema: dict[str, Any] = ({"type": "string", "format": "date-time"} if kind is datetime
                                  else {"type": _JSON_TYPES[kind]})
        if kind is list:
            schema["items"] = {"type": "string"}
        if "max_length" in options:
            schema["maxLength"] = options["max_length"]
        if "choices" in options:
            schema["enum"] = list(options["choices"])
        for bound in ("minimum", "maximum"):
            if options.get(bound) is not None:
                schema[bound] = options[bound]
        if options.get("default") is not None:
            schema["default"] = options["default"]
        if options.get("required", True) and not partial:
            required.append(name)
        elif kind is not list:
            schema["type"] = [schema["type"], "null"]  # null is the same as leaving it out
        properties[name] = schema
    properties.update(extra or {})
    return {"type": "object", **({"required": required} if required else {}), "properties": properties}


def parse_datetime(value: Any, name: str) -> datetime:
    """ISO 8601 with an offset (a naive time is taken as LINLI_TIMEZONE local time)."""
    if not isinstance(value, str):
        raise ValidationError(f"字段 {name} 必须是 ISO 8601 时间", field=name)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"字段 {name} 不是有效的时间 (ISO 8601)", field=name) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone())
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValidationError(f"字段 {name} 的年份必须在 {MIN_YEAR}–{MAX_YEAR} 之间 (year out of range)", field=name)
    return parsed


def parse_date(value: Any, name: str) -> date:
    """A calendar date YYYY-MM-DD (query or body), within the years any arithmetic on it can reach."""
    if not isinstance(value, str):
        raise ValidationError(f"{name} 必须是 YYYY-MM-DD 格式的日期", field=name)
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"{name} 必须是 YYYY-MM-DD 格式的日期", field=name) from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValidationError(f"{name} 的年份必须在 {MIN_YEAR}–{MAX_YEAR} 之间 (year out of range)", field=name)
    return parsed


def int_arg(name: str, default: int, *, minimum: int = 1, maximum: int = 1000) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"参数 {name} 必须是整数", field=name) from None
    if value < minimum or value > maximum:
        raise ValidationError(f"参数 {name} 必须在 {minimum}–{maximum} 之间", field=name)
    return value


def id_arg(name: str) -> int | None:
    """An optional id in the query string: None when absent, else a positive integer (400 naming it)."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    # str.isdigit() also accepts "²" and other digits int() refuses; ids are ASCII digits only.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_INT:
        raise ValidationError(f"参数 {name} 必须是正整数编号 (positive integer id)", field=name)
    return int(raw)


def paginate(statement, serialize: Callable[[Any], dict], *, default_per_page: int = 20) -> dict[str, Any]:
    """Run a select with ?page=&per_page= and return {items, page, per_page, total}."""
    page = int_arg("page", 1, maximum=100000)
    per_page = int_arg("per_page", default_per_page, maximum=100)
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [serialize(r) for r in rows], "page": page, "per_page": per_page, "total": total}


