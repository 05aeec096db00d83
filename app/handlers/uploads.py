"""Photos from the mini-program: checked, cleaned, stored under the instance folder, attached to requests.

Storage: ``<instance>/uploads/<key[:2]>/<key>.jpg``, next to the embedded database and Redis, so the
one folder an operator backs up holds everything (with several web hosts the instance folder must be
shared storage). Not in the database: photos would make every backup and restore slow; not WeChat's
temporary media: it expires after 3 days; not an object store: one more service and credentials a
community office does not have.

Every file is decoded (what is not a JPEG, PNG or WebP image is refused), turned upright, shrunk to
at most ``MAX_SIDE`` pixels and re-encoded as JPEG without its EXIF block: phone photos carry the GPS
position of the resident's home, which must not reach everyone who can see a request.

The key is 32 random bytes (43 URL-safe characters): the URL is the capability. WeChat's ``<image>``
and ``wx.previewImage`` cannot send an Authorization header, so the file itself is served to whoever
holds its URL, and the URL is only handed to those allowed to see it: the uploader, and through the
request views the request's resident and the staff of its community.
"""
from __future__ import annotations

import hashlib
import io
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any, Sequence

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select

from app.clock import now as clock_now
from app.errors import DomainError, ValidationError
from app.extensions import db
from app.models.uploads import Upload

# A phone photo chosen "original" is up to ~10 MB; "compressed" (what the mini-program asks for) ~0.2-2 MB.
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000        # more is a decompression bomb, not a photo (a 108 MP sensor bins to 12 MP)
MAX_SIDE = 2560                # enough to read a meter or see a crack; ~300-700 KB as JPEG
JPEG_QUALITY = 85
DAILY_LIMIT = 200              # per uploader: 9 photos × 20 reports is already a very busy day
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "MPO": "image/jpeg"}
UPLOAD_PATH = re.compile(r"(?:^|/)api/v1/uploads/([A-Za-z0-9_-]{43})\.jpg$")
KEY = re.compile(r"^[A-Za-z0-9_-]{43}$")


class UploadError(DomainError):
    """A refused photo: 400 ``invalid`` naming ``file`` like any refused field; 413 ``too_large``; 429."""

    code = "invalid"


def folder() -> Path:
    return Path(current_app.instance_path) / "uploads"


def file_path(key: str) -> Path:
    return folder() / key[:2] / f"{key}.jpg"


def _decode(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        kind = image.format
        width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise UploadError("只能上传照片（JPG、PNG 或 WebP 格式）(not an image)", field="file") from None
    if kind not in FORMATS:
        raise UploadError("只能上传照片（JPG、PNG 或 WebP 格式）(unsupported image type)", field="file")
    if width * height > MAX_PIXELS:
        raise UploadError("照片尺寸过大，请换一张 (image too large)", field="file")
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise UploadError("照片已损坏，请重新选择 (image cannot be read)", field="file") from None
    return image


def _jpeg(image: Image.Image) -> bytes:
    if image.mode not in ("RGB", "L"):
        # Transparent PNG/WebP: on white, as a printed photo would be.
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)  # no exif= : the EXIF block is dropped
    return out.getvalue()


def _check_quota(uploader_kind: str, uploader_id: int) -> None:
    since = clock_now() - timedelta(days=1)
    count = db.session.scalar(select(func.count()).select_from(Upload).where(
        Upload.uploader_kind == uploader_kind, Upload.uploader_id == uploader_id, Upload.created_at >= since))
    if count >= DAILY_LIMIT:
        raise UploadError(f"今天上传的照片已达{DAILY_LIMIT}张，请明天再试 (daily upload limit)", status=429,
                          code="rate_limited", field="file")


def store(data: bytes, *, uploader_kind: str, uploader_id: int, community_id: int | None) -> Upload:
    """Check, clean and keep one photo; commits. Raises UploadError naming the field ``file``."""
    if not data:
        raise UploadError("请选择要上传的照片 (empty file)", field="file")
    if len(data) > MAX_BYTES:
        raise UploadError(f"照片不能超过{MAX_BYTES // (1024 * 1024)}MB (file too large)", status=413,
                          code="too_large", field="file")
    _check_quota(uploader_kind, uploader_id)
    image = _decode(data)
    cleaned = _jpeg(image)
    key = secrets.token_urlsafe(32)
    target = file_path(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(cleaned)
    partial.replace(target)  # atomic: a reader never sees half a photo
    row = Upload(key=key, uploader_kind=uploader_kind, uploader_id=uploader_id, community_id=community_id,
                 content_type="image/jpeg", size=len(cleaned), width=image.width, height=image.height,
                 sha256=hashlib.sha256(cleaned).hexdigest())
    db.session.add(row)
    db.session.commit()
    return row


def find(key: str) -> Upload | None:
    if not KEY.match(key or ""):
        return None
    return db.session.scalars(select(Upload).where(Upload.key == key)).first()


def upload_view(row: Upload) -> dict[str, Any]:
    return {"id": row.id, "key": row.key, "url": row.path, "content_type": row.content_type, "size": row.size,
            "width": row.width, "height": row.height}


def attach_photos(refs: Sequence[Any], *, uploader_kind: str, uploader_id: int, community_id: int,
                  field: str = "photos") -> list[str]:
    """The photo references of a report or a resolution, as stored: an upload's URL (absolute or a
    path) must be one of the caller's own uploads and is kept as its path, and the upload becomes
    the request's community's; anything else (a WeChat media id from chat) is kept as it is.
    Raises ValidationError naming ``photos[i]``; the caller commits."""
    out = []
    for index, ref in enumerate(refs):
        text = str(ref).strip()
        match = UPLOAD_PATH.search(text.split("?", 1)[0])
        if match is None:
            if "/api/v1/uploads/" in text:
                raise ValidationError("照片链接无效，请重新上传 (not an upload of this server)",
                                      field=f"{field}[{index}]")
            out.append(text)
            continue
        row = find(match.group(1))
        if row is None or (row.uploader_kind, row.uploader_id) != (uploader_kind, uploader_id):
            raise ValidationError("照片无效或不是您上传的，请重新上传 (unknown upload)", field=f"{field}[{index}]")
        if row.community_id is None:
            row.community_id = community_id
        out.append(row.path)
    return out
