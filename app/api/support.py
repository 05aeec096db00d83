"""Helpers every API module uses: auth decorators, body validation, pagination, OpenAPI records."""
from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, Callable, Iterable

from flask import g, request
from sqlalchemy import func, select

from app.errors import ApiError, Forbidden, ValidationError
from app.extensions import db
from app.models import Resident, Staff

OPENAPI_PATHS: dict[str, dict[str, Any]] = {}


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


def route(rule: str, methods: Iterable[str] = ("GET",), *, summary: str, auth: str = "staff",
          body: dict | None = None, query: dict | None = None, responses: dict | None = None,
          tags: Iterable[str] = ()):
    """Register a route on the API blueprint and describe it in the OpenAPI document.

    ``auth``: "staff", "resident", "any" (staff or resident) or "none".
    ``body``/``query``: JSON-schema fragments (properties) for the document.
    """
    from app.api import bp

    methods = [m.upper() for m in methods]

    def decorate(fn: Callable):
        guarded = _guard(fn, auth)
        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=guarded, methods=methods)
        path = "/api/v1" + _openapi_path(rule)
        for method in methods:
            op: dict[str, Any] = {"summary": summary, "operationId": fn.__name__, "tags": list(tags),
                                  "responses": responses or {"200": {"description": "OK"}}}
            if auth != "none":
                op["security"] = [{"bearer": []}]
                op["responses"].setdefault("401", {"description": "missing or invalid token"})
                op["responses"].setdefault("403", {"description": "not allowed"})
            params = [{"name": name, "in": "path", "required": True, "schema": {"type": kind}}
                      for name, kind in _path_params(rule)]
            params += [{"name": name, "in": "query", "schema": schema} for name, schema in (query or {}).items()]
            if params:
                op["parameters"] = params
            if body is not None:
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
                op["responses"].setdefault("400", {"description": "validation error naming the field"})
            OPENAPI_PATHS.setdefault(path, {})[method.lower()] = op
        return guarded

    return decorate


def _path_params(rule: str) -> list[tuple[str, str]]:
    """(name, JSON-schema type) of each path parameter: <int:id> is an integer, <code> a string."""
    import re
    params = []
    for spec in re.findall(r"<([^>]+)>", rule):
        converter, _, name = spec.rpartition(":")
        params.append((name, "integer" if converter == "int" else "string"))
    return params


def _openapi_path(rule: str) -> str:
    import re
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
            from app.handlers.auth import resolve_token
            subject = resolve_token(_bearer() or "")
            if subject is None:
                raise Unauthorized("请先登录 (missing, expired or invalid bearer token)")
            if auth == "staff" and not isinstance(subject, Staff):
                raise Forbidden("仅限工作人员 (staff only)")
            if auth == "resident" and not isinstance(subject, Resident):
                raise Forbidden("仅限居民 (residents only)")
            g.subject = subject
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


def parse_datetime(value: Any, name: str) -> datetime:
    """ISO 8601 with an offset (a naive time is taken as LINLI_TIMEZONE local time)."""
    from zoneinfo import ZoneInfo

    from flask import current_app
    if not isinstance(value, str):
        raise ValidationError(f"字段 {name} 必须是 ISO 8601 时间", field=name)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"字段 {name} 不是有效的时间 (ISO 8601)", field=name) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
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


def paginate(statement, serialize: Callable[[Any], dict], *, default_per_page: int = 20) -> dict[str, Any]:
    """Run a select with ?page=&per_page= and return {items, page, per_page, total}."""
    page = int_arg("page", 1, maximum=100000)
    per_page = int_arg("per_page", default_per_page, maximum=100)
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [serialize(r) for r in rows], "page": page, "per_page": per_page, "total": total}


def iso(value: datetime | None) -> str | None:
    """Times in API responses: ISO 8601 in the configured local time zone."""
    if value is None:
        return None
    from zoneinfo import ZoneInfo

    from flask import current_app
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).isoformat()
