"""The upload corpus: PDFs with scripts, actions and attachments are rebuilt without them (or
refused), polyglots are refused, pixel bombs are refused from their header without being
decoded, oversized bodies are refused before they are read; evidence goes out as a sandboxed
attachment; the virus-scan hook refuses what clamd flags. Never a 5xx."""

from __future__ import annotations

import socketserver
import struct
import threading
import tracemalloc
from collections.abc import Iterator

import pikepdf
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from api.tests.conftest import Api, claim_form
from claims.evidence import PhotoRejected, photo_store
from claims.models import Claim

from . import corpus

pytestmark = pytest.mark.django_db

ACTIVE = (b"/JavaScript", b"/JS", b"/OpenAction", b"/Launch", b"/EmbeddedFile", b"/URI", b"/AA", b"Attacker")


def stored(data: bytes, name: str = "akt.pdf") -> bytes:
    photo = photo_store(SimpleUploadedFile(name, data))
    with default_storage.open(photo.path, "rb") as f:
        return f.read()


@pytest.mark.parametrize("make", [corpus.pdf_with_javascript, corpus.pdf_with_attachment])
def test_active_pdf_content_is_removed(make):
    hostile = make()
    assert any(marker in hostile for marker in ACTIVE)
    clean = stored(hostile)
    assert clean.startswith(b"%PDF-")
    with pikepdf.open(__import__("io").BytesIO(clean)) as doc:
        assert len(doc.pages) == 1
        assert "/OpenAction" not in doc.Root and "/Names" not in doc.Root and not doc.attachments
        assert "/Annots" not in doc.pages[0].obj and "/AA" not in doc.pages[0].obj
        assert "/Author" not in doc.docinfo
    for marker in ACTIVE:
        assert marker not in clean


@pytest.mark.parametrize(("make", "name", "message"), [
    (corpus.pdf_html_polyglot, "akt.pdf", "başqa məzmun"),
    (corpus.jpeg_html_polyglot, "sayğac.jpg", "başqa məzmun"),
    (corpus.png_zip_polyglot, "sayğac.png", "başqa məzmun"),
    (corpus.jpeg_with_pdf_inside, "sayğac.jpg", "başqa məzmun"),
    (corpus.pdf_encrypted, "akt.pdf", "Parolla qorunan"),
    (corpus.truncated_pdf, "akt.pdf", "Fayl oxunmadı"),
])
def test_polyglots_and_unreadable_files_are_refused(make, name, message):
    with pytest.raises(PhotoRejected, match=message):
        photo_store(SimpleUploadedFile(name, make()))
    assert not default_storage.exists("drafts") or not default_storage.listdir("drafts")[1]


def test_a_pixel_bomb_is_refused_from_its_header_without_decoding():
    bomb = corpus.png_pixel_bomb()
    assert len(bomb) < 100_000  # 100 megapixels in a few kilobytes
    tracemalloc.start()
    with pytest.raises(PhotoRejected, match="meqapiksel"):
        photo_store(SimpleUploadedFile("sayğac.png", bomb))
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 5_000_000  # decoding would take 100 MB or more


def test_hostile_uploads_through_the_api_are_refused_with_a_problem(egov, citizen, account, default_templates):
    serial = account.meters.get().serial_number
    for make, name in [(corpus.pdf_html_polyglot, "a.pdf"), (corpus.png_pixel_bomb, "a.png"),
                       (corpus.jpeg_html_polyglot, "a.jpg"), (corpus.pdf_encrypted, "a.pdf")]:
        form = claim_form(account, photos={serial: SimpleUploadedFile(name, make())})
        response = Api(egov, citizen.fin).post("/claims/", form, headers={"Idempotency-Key": make.__name__})
        assert response.status_code == 400, (make.__name__, response.status_code)
        assert response["Content-Type"].startswith("application/problem+json")
    assert not Claim.objects.exists()
    # The PDF with scripts is filed, but what is kept has none of them.
    response = Api(egov, citizen.fin).post("/claims/", claim_form(
        account, photos={serial: SimpleUploadedFile("akt.pdf", corpus.pdf_with_javascript())}),
        headers={"Idempotency-Key": "js"})
    assert response.status_code == 201, response.content
    kept = Claim.objects.get().evidence.get()
    with kept.photo.open("rb") as f:
        assert b"/JavaScript" not in f.read()


def test_an_oversized_api_body_is_refused_before_it_is_read(egov, citizen, settings):
    settings.REQUEST_MAX_BYTES = 1024 * 1024
    body = b"x" * (2 * 1024 * 1024)
    response = Client().generic("POST", "/api/v1/claims/", body, content_type="multipart/form-data; boundary=x",
                                headers=egov.headers(citizen.fin))
    assert response.status_code == 413


def test_evidence_is_served_as_a_sandboxed_attachment(client, operator, claim_factory):
    claim = claim_factory()
    ev = claim.evidence.get()
    client.force_login(operator)
    response = client.get(reverse("backoffice:evidence_photo", args=[claim.number, ev.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


# --- The virus-scan hook, against a local stand-in for clamd -------------------------------------

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class _Clamd(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        command = b""
        while not command.endswith(b"\0"):
            command += self.request.recv(1)
        assert command == b"zINSTREAM\0"
        data = b""
        while True:
            (size,) = struct.unpack("!L", self._read(4))
            if size == 0:
                break
            data += self._read(size)
        verdict = b"stream: Eicar-Test-Signature FOUND\0" if EICAR in data else b"stream: OK\0"
        self.request.sendall(verdict)

    def _read(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += self.request.recv(n - len(out))
        return out


@pytest.fixture
def clamd(settings) -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Clamd)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.UPLOAD_SCAN_CLAMD = f"tcp://127.0.0.1:{server.server_address[1]}"
    yield settings.UPLOAD_SCAN_CLAMD
    server.shutdown()
    server.server_close()


def test_the_virus_scan_refuses_what_clamd_flags_and_passes_the_rest(clamd):
    from conftest import image_bytes

    with pytest.raises(PhotoRejected, match="zərərli"):
        photo_store(SimpleUploadedFile("akt.pdf", corpus.pdf() + EICAR))
    assert stored(image_bytes("JPEG"), "sayğac.jpg").startswith(b"\xff\xd8")


def test_an_unreachable_scanner_refuses_the_upload(settings):
    from conftest import image_bytes

    settings.UPLOAD_SCAN_CLAMD = "tcp://127.0.0.1:9"
    with pytest.raises(PhotoRejected, match="yoxlanıla bilmədi"):
        photo_store(SimpleUploadedFile("sayğac.jpg", image_bytes("JPEG")))
