"""Photos of the meter: checked by their content, not their name, and rebuilt so that nothing
but the picture is kept.

Images: the size is read from the header and refused above PHOTO_MAX_PIXELS before a pixel is
decoded; then decoded and re-encoded, so no metadata (location, device) the citizen's phone
wrote into them is kept. PDFs: opened by qpdf (pikepdf) and written anew without scripts,
actions, forms, annotations, attachments and metadata; one that cannot be opened, is
encrypted, or still holds active content is refused. A file that is also something else (a
polyglot: HTML, script, archive or a PDF inside an image) is refused whatever it claims to be.
With UPLOAD_SCAN_CLAMD set, every upload is scanned for viruses first (core.scan).
"""

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

from core.scan import ScanRefused, scan_upload

ALLOWED_EXTENSIONS = (".jpg", ".jpeg", ".png", ".pdf")
# Pillow's own guard, in case a file reached the decoder without the header check below.
Image.MAX_IMAGE_PIXELS = settings.PHOTO_MAX_PIXELS
PDF_MAX_PAGES = 20
# Markers of a second format inside an upload (compared lower-case): markup a browser would run,
# server-side script, an archive's directory.
POLYGLOT_MARKERS = (b"<script", b"<html", b"<!doctype", b"<svg", b"<iframe", b"<?php", b"<body", b"javascript:")
ZIP_END = b"PK\x05\x06"
# Names in a PDF that make it do something rather than show something.
PDF_ACTIVE = {"/JS", "/JavaScript", "/OpenAction", "/AA", "/Launch", "/EmbeddedFile", "/EmbeddedFiles",
              "/RichMedia", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/URI", "/XFA", "/AF"}


class PhotoRejected(ValueError):
    pass


@dataclass(frozen=True)
class StoredPhoto:
    path: str
    content_type: str
    original_name: str


def _unreadable() -> PhotoRejected:
    return PhotoRejected(_("Fayl oxunmadı. Sayğacın şəklini jpg, jpeg, png və ya pdf formatında yükləyin."))


def _refuse_polyglot(data: bytes, *, pdf: bool) -> None:
    """Refuse a file that is also another format a browser, a server or an unpacker would act on."""
    lowered = data.lower()
    markers = POLYGLOT_MARKERS if pdf else (*POLYGLOT_MARKERS, b"%pdf-")
    if any(marker in lowered for marker in markers) or ZIP_END in data[-65_557:]:
        raise PhotoRejected(_("Fayl şəkil və ya sənəddən başqa məzmun da daşıyır. Sayğacın adi şəklini yükləyin."))


def _too_many_pixels() -> PhotoRejected:
    return PhotoRejected(_("Şəklin ölçüsü çox böyükdür (%(mp)s meqapikseldən çox olmamalıdır).")
                         % {"mp": settings.PHOTO_MAX_PIXELS // 1_000_000})


def _reencode(data: bytes) -> tuple[bytes, str, str]:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size  # from the header: nothing is decoded yet
            if width * height > settings.PHOTO_MAX_PIXELS:
                raise _too_many_pixels()
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
    except Image.DecompressionBombError as exc:  # Pillow's own check of the header, at twice the limit
        raise _too_many_pixels() from exc
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise _unreadable() from exc
    raise PhotoRejected(_("Yalnız jpg, jpeg, png və ya pdf formatında fayl yükləyin."))


def _rebuild_pdf(data: bytes) -> bytes:
    """The PDF written anew by qpdf with only its pages' content: no document-level actions,
    scripts, forms, attachments, metadata; no annotations (links, widgets) on the pages.
    Objects nothing points to any more (a script hidden in an orphan object) are not written."""
    import pikepdf

    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-2048:]:
        raise _unreadable()
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) == 0 or len(pdf.pages) > PDF_MAX_PAGES:
                raise PhotoRejected(_("PDF faylı 1-%(n)s səhifədən ibarət olmalıdır.") % {"n": PDF_MAX_PAGES})
            root = pdf.Root
            for key in ("/OpenAction", "/AA", "/AF", "/Names", "/AcroForm", "/Metadata", "/JavaScript", "/URI",
                        "/Outlines", "/Threads", "/StructTreeRoot", "/PieceInfo", "/Collection"):
                if key in root:
                    del root[key]
            for page in pdf.pages:
                for key in ("/AA", "/AF", "/Annots", "/Metadata", "/PieceInfo"):
                    if key in page.obj:
                        del page.obj[key]
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            out = io.BytesIO()
            pdf.save(out, fix_metadata_version=False, deterministic_id=True)
        with pikepdf.open(io.BytesIO(out.getvalue())) as clean:
            for obj in clean.objects:
                if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream) and PDF_ACTIVE & set(obj.keys()):
                    raise PhotoRejected(_("PDF faylında icra olunan məzmun var. Sənədin şəklini və ya sadə PDF "
                                          "nüsxəsini yükləyin."))
                kind = (obj.get("/S"), obj.get("/Type")) if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream) else ()
                if {"/JavaScript", "/Launch", "/EmbeddedFile", "/Filespec"} & {str(k) for k in kind if k is not None}:
                    raise PhotoRejected(_("PDF faylında icra olunan məzmun var. Sənədin şəklini və ya sadə PDF "
                                          "nüsxəsini yükləyin."))
        return out.getvalue()
    except PhotoRejected:
        raise
    except pikepdf.PasswordError as exc:
        raise PhotoRejected(_("Parolla qorunan PDF faylı qəbul edilmir.")) from exc
    except (pikepdf.PdfError, RecursionError, ValueError) as exc:
        raise _unreadable() from exc


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
    try:
        scan_upload(data)
    except ScanRefused as exc:
        raise PhotoRejected(exc.message) from exc
    is_pdf = data.startswith(b"%PDF-")
    _refuse_polyglot(data, pdf=is_pdf)
    if is_pdf:
        clean, content_type, ext = _rebuild_pdf(data), "application/pdf", ".pdf"
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
