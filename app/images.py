"""Uploaded pictures (licences, logos, covers): checked, re-encoded, stored under a generated name.

Re-encoding with Pillow drops EXIF (GPS of a phone photo), JPEG comments (COM segments), XMP,
anything appended to the file and any script a polyglot carried; pictures above ``IMAGE_MAX_SIDE`` are scaled down.
"""
from __future__ import annotations

import io
import re

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from app.services.errors import DomainError
from app.storage import store

_FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg"), "WEBP": ("webp", "image/webp")}
_MIMETYPES = {ext: mime for ext, mime in _FORMATS.values()}
_NAME = re.compile(r"[0-9a-f]{32}\.(png|jpg|webp)")
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded


def check_image(data: bytes):
    """The decoded picture and its format.

    Raises:
        DomainError: too large, not a PNG / JPEG / WebP picture, or damaged.
    """
    limit = current_app.config["IMAGE_MAX_BYTES"]
    if len(data) > limit:
        raise DomainError(f"图片不能超过 {limit // (1024 * 1024)} MB")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            if kind not in _FORMATS:
                raise DomainError("仅支持 JPG、PNG、WebP 格式的图片")
            if probe.width * probe.height > MAX_PIXELS:
                raise DomainError("图片尺寸过大")
            picture = ImageOps.exif_transpose(probe)
            picture.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise DomainError("文件不是有效的图片（支持 JPG、PNG、WebP）") from None
    return picture, kind


def reencode_image(data: bytes) -> tuple[bytes, str, str]:
    """Check and re-encode one uploaded picture: (bytes, extension, mime type).

    Raises:
        DomainError: see ``check_image``.
    """
    picture, kind = check_image(data)
    side = current_app.config["IMAGE_MAX_SIDE"]
    picture.thumbnail((side, side))
    ext, mime = _FORMATS[kind]
    if kind == "JPEG" and picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")
    # nothing of the upload's metadata is carried over: Pillow would write back a JPEG COM segment
    # (``info["comment"]``), XMP, an ICC profile or EXIF from ``info`` by default
    picture.info = {}
    out = io.BytesIO()
    picture.save(out, format=kind, **({"comment": b""} if kind == "JPEG" else {}), **({"quality": 88} if kind in ("JPEG", "WEBP") else {"optimize": True}))
    return out.getvalue(), ext, mime


def store_image(data: bytes) -> str:
    """Check, re-encode and store one uploaded picture; returns its stored name.

    Raises:
        DomainError: see ``check_image``.
    """
    clean, ext, _mime = reencode_image(data)
    return store().put_bytes("images", clean, f".{ext}")


def image_response(name: str | None):
    """The stored picture as a cacheable response that browsers never sniff, or None for a name
    we never generated or a file that is gone."""
    if not name or not _NAME.fullmatch(name) or not store().exists("images", name):
        return None
    response = store().response("images", name, mimetype=_MIMETYPES[name.rsplit(".", 1)[1]], max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
