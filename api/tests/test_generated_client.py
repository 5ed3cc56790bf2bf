"""A client generated from the committed description (openapi-python-client, as an integrator
would make one) files a claim with a photo per meter, reads it back, and pages the list. It is
generated at test time into a temporary folder, without network, and speaks HTTP through the
project's WSGI stack."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from .conftest import register_channel
from .test_openapi import wsgi_app

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
CONFIG = """\
package_name_override: borc_client
post_hooks: []
content_type_overrides:
  application/pdf: application/octet-stream
"""


@pytest.fixture
def generated_client(tmp_path):
    """The package openapi-python-client generates from docs/openapi.yaml, imported."""
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    result = subprocess.run(  # noqa: S603 - our own interpreter and the committed file
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(COMMITTED), "--output-path",
         str(tmp_path / "borc_client"), "--meta", "none", "--config", str(tmp_path / "config.yaml")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Unsupported" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("borc_client")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "borc_client" or n.startswith("borc_client.")]:
            del sys.modules[name]


@pytest.mark.usefixtures("default_templates")
def test_a_generated_client_files_a_claim_with_photos_and_reads_it_back(generated_client, citizen, other_citizen,
                                                                         account_two_meters, jpeg_upload):
    from borc_client.api.accounts import accounts_invoices_list, accounts_invoices_meters_list
    from borc_client.api.claims import claims_create, claims_list, claims_retrieve
    from borc_client.api.reasons import reasons_list
    from borc_client.models import ClaimCreateRequest, ClaimCreateRequestReadings, ClaimDetail, ValidationProblem
    from borc_client.types import File

    egov = register_channel("egov")
    code = account_two_meters.subscriber_code

    with wsgi_app() as application:
        def client_for(fin: str, language: str = "az"):
            def sign(request: httpx.Request) -> None:  # an assertion is good for one call: a fresh one each
                request.headers["X-Citizen-Token"] = egov.token(fin)

            return generated_client.AuthenticatedClient(
                base_url="http://testserver", token=egov.api_key, prefix="ApiKey",
                headers={"Accept-Language": language}, raise_on_unexpected_status=True,
                httpx_args={"transport": httpx.WSGITransport(app=application), "event_hooks": {"request": [sign]}},
            )

        client = client_for(citizen.fin, "en")
        reasons = reasons_list.sync(client=client)
        assert "misread" in {r.code for r in reasons}
        invoices = accounts_invoices_list.sync(subscriber_code=code, client=client)
        meters = accounts_invoices_meters_list.sync(subscriber_code=code, invoice_number=invoices[0].number,
                                                    client=client)
        assert len(meters) == 2

        body = ClaimCreateRequest(
            subscriber_code=code, invoice_number=invoices[0].number, reason="misread", phone="050 123 45 67",
            email="resad@example.az", consent=True,
            readings=ClaimCreateRequestReadings.from_dict({m.serial_number: 1490 + i for i, m in enumerate(meters)}),
        )
        for m in meters:
            body[f"photo[{m.serial_number}]"] = File(payload=jpeg_upload().file, file_name=f"{m.serial_number}.jpg",
                                                     mime_type="image/jpeg")
        filed = claims_create.sync_detailed(client=client, body=body, idempotency_key="gen-1")
        assert filed.status_code == 201, filed.content
        claim = filed.parsed
        assert isinstance(claim, ClaimDetail)
        assert claim.registration_message == (f"Your claim has been registered. Thank you for using our service. "
                                              f"Your claim number: {claim.number}")
        assert claim.pending_request is None
        assert {m.meter_serial: m.declared_reading for m in claim.meters} == {
            m.serial_number: 1490 + i for i, m in enumerate(meters)}

        again = claims_retrieve.sync(number=claim.number, client=client)
        assert isinstance(again, ClaimDetail)
        assert (again.number, again.status.value) == (claim.number, "forwarded")
        assert [t.kind for t in again.timeline][:2] == ["registered", "forwarded"]
        assert [c.number for c in claims_list.sync(client=client)] == [claim.number]

        # Without the photos the server refuses, by field; another citizen does not see the claim.
        body.additional_properties.clear()
        refused = claims_create.sync_detailed(client=client, body=body, idempotency_key="gen-2")
        assert isinstance(refused.parsed, ValidationProblem)
        assert {e.field for e in refused.parsed.errors} == {f"photo[{m.serial_number}]" for m in meters}
        stranger = client_for(other_citizen.fin)
        assert claims_retrieve.sync_detailed(number=claim.number, client=stranger).status_code == 404
        assert claims_list.sync(client=stranger) == []
