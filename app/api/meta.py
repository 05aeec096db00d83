"""The OpenAPI document and who-am-I."""
from __future__ import annotations

from flask import jsonify

from app.api.support import OPENAPI_PATHS, current_staff, route
from app.models import Staff


@route("/openapi.json", summary="This API's OpenAPI 3.1 document", auth="none", tags=["meta"])
def openapi_document():
    return jsonify({
        "openapi": "3.1.0",
        "info": {"title": "linli 邻里 mini-program API", "version": "1"},
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": dict(sorted(OPENAPI_PATHS.items())),
    })


@route("/me", summary="The signed-in user", auth="any", tags=["auth"])
def me():
    from flask import g
    subject = g.subject
    if isinstance(subject, Staff):
        return jsonify({"kind": "staff", "staff": current_staff().staff_view()})
    return jsonify({"kind": "resident", "resident": subject.own_view()})
