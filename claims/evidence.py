"""Photos of the meter: checked by their content, not their name, and re-encoded so that no
metadata (location, device) the citizen's phone wrote into them is kept."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_EXTENSIONS = (".jpg", ".jpeg", ".png", ".pdf")
Image.MAX_IMAGE_PIXELS = 40_000_000  # refuse decompression bombs


class PhotoRejected(ValueError):
    pass


@dataclass(frozen=True)
class StoredPhoto:
    path: str
    content_type: str
    original_name: str


def _reencode(data: bytes) -> tuple[bytes, str, str]:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            img.info = {}  # drop EXIF, XMP, text chunks and ICC data
            out = io.BytesIO()
            if fmt == "JPEG":
                img.convert("RGB").save(out, format="JPEG", quality=88, optimize=True)
                return out.getvalue(), "image/jpeg", ".jpg"
            if fmt == "PNG":
                img.save(out, format="PNG", optimize=True)
                return out.getvalue(), "image/png", ".png"
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise PhotoRejected(_("Fayl oxunmadı. Sayğacın şəklini jpg, jpeg, png və ya pdf formatında yükləyin.")) from exc
    raise PhotoRejected(_("Yalnız jpg, jpeg, png və ya pdf formatında fayl yükləyin."))


def _check_pdf(data: bytes) -> None:
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-2048:]:
        raise PhotoRejected(_("Fayl oxunmadı. Sayğacın şəklini jpg, jpeg, png və ya pdf formatında yükləyin."))


def photo_store(upload: UploadedFile, *, folder: str = "drafts") -> StoredPhoto:
    """Validate an uploaded photo of the meter and keep a clean copy in file storage."""
    name = (upload.name or "").lower()
    if not name.endswith(ALLOWED_EXTENSIONS):
        raise PhotoRejected(_("Yalnız jpg, jpeg, png və ya pdf formatında fayl yükləyin."))
    limit = settings.PHOTO_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise PhotoRejected(_("Faylın həcmi %(mb)s MB-dan çox olmamalıdır.") % {"mb": limit // (1024 * 1024)})
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise PhotoRejected(_("Faylın həcmi %(mb)s MB-dan çox olmamalıdır.") % {"mb": limit // (1024 * 1024)})
    if not data:
        raise PhotoRejected(_("Fayl boşdur."))
    if data.startswith(b"%PDF-"):
        _check_pdf(data)
        clean, content_type, ext = data, "application/pdf", ".pdf"
    else:
        clean, content_type, ext = _reencode(data)
    path = default_storage.save(f"{folder}/{uuid.uuid4().hex}{ext}", ContentFile(clean))
    return StoredPhoto(path=path, content_type=content_type, original_name=upload.name or "")
