"""The OpenAPI document and who-am-I."""
from __future__ import annotations

from flask import jsonify

from app.api.openapi import document
from app.api.schemas import sla as schemas
from app.api.support import current_staff, route
from app.models import Staff


@route("/openapi.json", summary="This API's OpenAPI 3.1 document", auth="none", tags=["meta"],
       returns={"type": "object", "description": "an OpenAPI 3.1 document"})
def openapi_document():
    return jsonify(document())


@route("/me", summary="The signed-in user", auth="any", tags=["auth"], returns=schemas.ME)
def me():
    from flask import g
    subject = g.subject
    if isinstance(subject, Staff):
        return jsonify({"kind": "staff", "staff": current_staff().staff_view()})
    return jsonify({"kind": "resident", "resident": subject.own_view()})
