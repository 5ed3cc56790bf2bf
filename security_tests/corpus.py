"""Hostile uploads, made on the fly: PDFs with scripts and attachments, polyglots, pixel bombs."""

from __future__ import annotations

import io
import zipfile

import pikepdf
from PIL import Image

from conftest import image_bytes


def pdf(build=None) -> bytes:
    doc = pikepdf.new()
    doc.add_blank_page()
    if build is not None:
        build(doc)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _javascript(doc: pikepdf.Pdf) -> None:
    doc.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x')"))
    doc.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([
        pikepdf.String("run"),
        pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("this.exportDataObject()"))])))
    doc.pages[0].obj.AA = pikepdf.Dictionary(O=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe")))
    doc.docinfo["/Author"] = "Attacker Name"


def _attachment(doc: pikepdf.Pdf) -> None:
    doc.attachments["payload.exe"] = pikepdf.AttachedFileSpec(doc, b"MZ\x90\x00 not really an exe")
    doc.pages[0].obj.Annots = doc.make_indirect(pikepdf.Array([pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 100, 100],
        A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://evil.example/")))]))


def pdf_with_javascript() -> bytes:
    return pdf(_javascript)


def pdf_with_attachment() -> bytes:
    return pdf(_attachment)


def pdf_encrypted() -> bytes:
    doc = pikepdf.new()
    doc.add_blank_page()
    out = io.BytesIO()
    doc.save(out, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    return out.getvalue()


def pdf_html_polyglot() -> bytes:
    return pdf() + b"\n<html><body><script>fetch('/office/')</script></body></html>\n%%EOF\n"


def jpeg_html_polyglot() -> bytes:
    return image_bytes("JPEG") + b"<script>alert(document.cookie)</script>"


def png_zip_polyglot() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("evil.html", "<b>x</b>")
    return image_bytes("PNG") + archive.getvalue()


def jpeg_with_pdf_inside() -> bytes:
    return image_bytes("JPEG") + pdf()


def png_pixel_bomb(side: int = 10_000) -> bytes:
    """A PNG of side x side pixels (100 megapixels) that weighs a few dozen kilobytes."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def truncated_pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n%%EOF\n"
