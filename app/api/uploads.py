"""Photo uploads: ``POST /uploads`` (multipart field ``file``, from wx.uploadFile) and the photo itself.

The answer's ``url`` (a path on this server) goes into ``photos`` of a report or a resolution. Why the
files live under the instance folder and why the URL is the credential: app/handlers/uploads.py.
"""
from __future__ import annotations

from flask import g, request, send_file
from werkzeug.exceptions import RequestEntityTooLarge

from app.api.openapi import component, obj
from app.api.support import OPENAPI_PATHS, route
from app.errors import NotFound
from app.handlers import uploads
from app.models import Staff

TAGS = ["uploads"]
# app/handlers/uploads.py upload_view.
UPLOAD = component("Upload", obj({
    "id": {"type": "integer"}, "key": {"type": "string"},
    "url": {"type": "string", "description": "the photo's path on this server: put it in `photos`"},
    "content_type": {"type": "string", "enum": ["image/jpeg"]}, "size": {"type": "integer"},
    "width": {"type": "integer"}, "height": {"type": "integer"}}))
# The multipart envelope around one photo of MAX_BYTES.
ENVELOPE = 64 * 1024


@route("/uploads", ["POST"], auth="any", tags=TAGS,
       summary="Upload one photo (multipart field `file`: JPEG, PNG or WebP, at most 10 MB); stored as JPEG "
               "without EXIF, at most 2560 px",
       status=201, returns=UPLOAD, responses={"201": {"description": "stored"},
                  "400": {"description": "no file, or not a JPEG/PNG/WebP image (field: file)",
                          "x-error-codes": ["invalid"]},
                  "413": {"description": "larger than 10 MB (field: file)", "x-error-codes": ["too_large"]},
                  "429": {"description": "more than 200 photos in a day", "x-error-codes": ["rate_limited"]}})
def uploads_create():
    subject = g.subject
    request.max_content_length = uploads.MAX_BYTES + ENVELOPE
    try:
        sent = request.files.get("file")
    except RequestEntityTooLarge:
        raise uploads.UploadError("照片不能超过10MB (file too large)", status=413, code="too_large",
                                  field="file") from None
    if sent is None:
        raise uploads.UploadError("请选择要上传的照片（表单字段 file）(missing file)", field="file")
    data = sent.stream.read(uploads.MAX_BYTES + 1)
    kind = "staff" if isinstance(subject, Staff) else "resident"
    row = uploads.store(data, uploader_kind=kind, uploader_id=subject.id, community_id=subject.community_id)
    return uploads.upload_view(row), 201


OPENAPI_PATHS["/api/v1/uploads"]["post"]["requestBody"] = {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["file"],
               "properties": {"file": {"type": "string", "format": "binary", "maxLength": uploads.MAX_BYTES}}}}}}


@route("/uploads/<key>.jpg", auth="none", tags=TAGS,
       summary="A photo by its URL (the random key is the credential: WeChat's <image> sends no token)",
       responses={"200": {"description": "the photo", "content": {"image/jpeg": {"schema": {
                      "type": "string", "format": "binary"}}}},
                  "404": {"description": "no such photo", "x-error-codes": ["not_found"]}})
def uploads_file(key: str):
    row = uploads.find(key)
    path = uploads.file_path(row.key) if row is not None else None
    if path is None or not path.is_file():
        raise NotFound("照片不存在或已删除 (no such photo)", field="key")
    response = send_file(path, mimetype="image/jpeg", max_age=7 * 86400, conditional=True, etag=row.sha256)
    response.headers["Cache-Control"] = "private, max-age=604800, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
