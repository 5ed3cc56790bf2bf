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
            upright = ImageOps.exif_transpose(img)
            upright.info = {}  # drop EXIF, XMP, text chunks and ICC data
            out = io.BytesIO()
            if fmt == "JPEG":
                upright.convert("RGB").save(out, format="JPEG", quality=88, optimize=True)
                return out.getvalue(), "image/jpeg", ".jpg"
            if fmt == "PNG":
                upright.save(out, format="PNG", optimize=True)
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


class PhotoDrafts:
    """The one way a photo uploaded into a draft is stored, kept, replaced and deleted: the
    citizen's claim being filled in or his answer to a question, the inspector's result.

    ``put`` stores a new upload (validated and cleaned by ``photo_store``) and deletes the draft
    photo it replaces; without a new file the kept one stays. Used as a context manager, every
    photo stored during the block is deleted when it ends, whether the service it was given to
    succeeded or refused: for a draft used at once (the service copies what it keeps). Photos
    kept across requests (the portal's session, the inspector's signed token) are not deleted
    here: the service that takes them deletes its drafts on commit, ``drafts_purge`` the
    abandoned ones.
    """

    def __init__(self, *, folder: str = "drafts") -> None:
        self.folder = folder
        self.stored: list[StoredPhoto] = []

    def store(self, upload: UploadedFile) -> StoredPhoto:
        """Validate and store a new upload; PhotoRejected names what is wrong with it."""
        photo = photo_store(upload, folder=self.folder)
        self.stored.append(photo)
        return photo

    def put(self, upload: UploadedFile | None, *, kept: str = "", missing: str | None = None) -> StoredPhoto | None:
        """The draft's photo after a submission: the new upload, stored, with the ``kept`` one
        (a path) deleted; None when no file came and the kept one stays. PhotoRejected for a
        rejected upload (the kept photo stays), or with the ``missing`` message when there is
        neither a new nor a kept photo and one is required."""
        if not upload:
            if not kept and missing is not None:
                raise PhotoRejected(missing)
            return None
        photo = self.store(upload)
        if kept:
            default_storage.delete(kept)
        return photo

    def delete(self) -> None:
        """Delete every photo stored through this helper."""
        for photo in self.stored:
            default_storage.delete(photo.path)
        self.stored.clear()

    def __enter__(self) -> PhotoDrafts:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.delete()
