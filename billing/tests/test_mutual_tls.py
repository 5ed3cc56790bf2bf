"""Mutual TLS to billing (``BILLING_CLIENT_CERT``, ``BILLING_CLIENT_KEY``, ``BILLING_CA_BUNDLE``)
against the billing stand-in serving HTTPS that requires a client certificate signed by billing's
CA. The certificates are made for the run: billing's CA, the stand-in's server certificate
(127.0.0.1 and localhost), our client certificate from that CA, and one from another CA."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from billing.gateway import BillingUnavailable, get_gateway
from billing.tests import test_http_gateway as plain
from billing.tests.test_http_gateway import ROOT, TOKEN, Standin
from testkit.net import free_port

pytestmark = pytest.mark.django_db

# The plain tests' product settings (BILLING_URL at the stand-in, its token, short timeouts, no
# read cache, the breaker reset), here on the stand-in this module starts over mutual TLS
# (``standin_process`` below).
standin = plain.standin


# --- Certificates ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pki:
    ca: Path  # billing's CA, PEM
    server: tuple[Path, Path]  # the stand-in's certificate and key
    client: tuple[Path, Path]  # ours, from billing's CA
    stranger: tuple[Path, Path]  # a client certificate from another CA

    def client_context(self) -> ssl.SSLContext:
        """What a well set-up client of billing holds: billing's CA and our certificate."""
        context = ssl.create_default_context(cafile=str(self.ca))
        context.load_cert_chain(*map(str, self.client))
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Billing test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(common_name: str, key: ec.EllipticCurvePrivateKey, *, issuer: x509.Name | None = None,
           issuer_key: ec.EllipticCurvePrivateKey | None = None, ca: bool = False,
           san: list[x509.GeneralName] | None = None,
           usage: x509.ObjectIdentifier | None = None) -> x509.Certificate:
    """A certificate for ``key``, signed by ``issuer_key`` (by ``key`` itself for a root CA)."""
    # OpenSSL checks validity on the machine's real clock, which a test's frozen clock (TEST_CLOCK)
    # does not move: a window wide around any day the suite runs on.
    builder = (x509.CertificateBuilder()
               .subject_name(_name(common_name)).issuer_name(issuer or _name(common_name))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC)).not_valid_after(datetime(2049, 12, 31, tzinfo=UTC))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                            encipher_only=False, decipher_only=False), critical=True))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def _write(directory: Path, stem: str, cert: x509.Certificate,
           key: ec.EllipticCurvePrivateKey | None = None) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("mtls")
    ca_key, other_ca_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _issue("Billing CA", ca_key, ca=True)
    other_ca = _issue("Another CA", other_ca_key, ca=True)
    server_key, client_key, stranger_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    server = _issue("billing stand-in", server_key, issuer=ca.subject, issuer_key=ca_key,
                    san=[x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")],
                    usage=ExtendedKeyUsageOID.SERVER_AUTH)
    client = _issue("e-service", client_key, issuer=ca.subject, issuer_key=ca_key,
                    usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    stranger = _issue("e-service", stranger_key, issuer=other_ca.subject, issuer_key=other_ca_key,
                      usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    return Pki(ca=_write(directory, "billing-ca", ca)[0],
               server=_write(directory, "server", server, server_key),
               client=_write(directory, "client", client, client_key),
               stranger=_write(directory, "stranger", stranger, stranger_key))


# --- The stand-in over mutual TLS --------------------------------------------------------------------

@dataclass
class TlsStandin(Standin):
    """The stand-in, its control endpoints reached over TLS with our client certificate."""

    tls: ssl.SSLContext
    started: str  # its start-up line

    def control(self, path: str, body: Any = None) -> Any:
        with httpx.Client(verify=self.tls, timeout=5) as client:
            response = client.get(self.root + path) if body is None else client.post(self.root + path, json=body)
        return response.json()


@pytest.fixture(scope="module")
def standin_process(pki: Pki) -> Iterator[TlsStandin]:
    port = free_port()
    env = dict(os.environ, BILLING_STANDIN_QUIET="1", DJANGO_SETTINGS_MODULE="config.settings_test")
    process = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, str(ROOT / "scripts" / "billing_standin.py"), "--port", str(port), "--source", "memory",
         "--token", TOKEN, "--tls-cert", str(pki.server[0]), "--tls-key", str(pki.server[1]),
         "--client-ca", str(pki.ca)],
        env=env, stdout=subprocess.PIPE, text=True)
    root, tls = f"https://127.0.0.1:{port}", pki.client_context()
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                httpx.get(root + "/_health", verify=tls, timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the billing stand-in did not start over TLS") from None
                time.sleep(0.1)
        assert process.stdout is not None
        yield TlsStandin(root=root, process=process, tls=tls, started=process.stdout.readline().strip())
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def mtls(standin: TlsStandin, settings: Any, pki: Pki) -> TlsStandin:
    """The product set up for mutual TLS: billing's CA and our client certificate and key."""
    settings.BILLING_CA_BUNDLE = str(pki.ca)
    settings.BILLING_CLIENT_CERT, settings.BILLING_CLIENT_KEY = map(str, pki.client)
    return standin


def assert_refused(standin: TlsStandin, subscriber_code: str, why: str) -> None:
    """The read fails as "billing does not answer" (``why`` in the operator's error: the TLS
    alert), and billing was not reached at all."""
    before = len(standin.requests())
    with pytest.raises(BillingUnavailable, match="billing does not answer") as refused:
        get_gateway().account_by_code(subscriber_code)
    assert why in str(refused.value).lower()
    assert len(standin.requests()) == before


# --- The tests -------------------------------------------------------------------------------------

def test_the_standin_serves_https_and_requires_client_certificates(standin_process, pki):
    assert standin_process.started.startswith(f"billing stand-in on {standin_process.root}/billing/v1 ")
    assert "client certificates required" in standin_process.started
    assert httpx.get(standin_process.root + "/_health", verify=pki.client_context(), timeout=5).json() == {"ok": True}
    with pytest.raises(httpx.TransportError):  # billing's CA trusted, but no client certificate
        httpx.get(standin_process.root + "/_health", verify=ssl.create_default_context(cafile=str(pki.ca)), timeout=5)


def test_with_billings_ca_and_our_client_certificate_the_gateway_reads_the_account(mtls, settings, account):
    mtls.load_local(account.subscriber_code)
    assert settings.BILLING_URL.startswith("https://127.0.0.1:")
    found = get_gateway().account_by_code(account.subscriber_code)
    assert found is not None
    assert (found.subscriber_code, found.holder_name) == ("1020304050", "Əliyev Rəşad Elşən oğlu")
    assert (found.subscriber_code, found.holder_name) == (account.subscriber_code, account.holder_name)


def test_without_a_client_certificate_billing_does_not_answer(mtls, settings, account):
    mtls.load_local(account.subscriber_code)
    settings.BILLING_CLIENT_CERT = settings.BILLING_CLIENT_KEY = ""
    assert_refused(mtls, account.subscriber_code, "certificate required")


def test_a_client_certificate_of_another_ca_is_refused_the_same_way(mtls, settings, pki, account):
    mtls.load_local(account.subscriber_code)
    settings.BILLING_CLIENT_CERT, settings.BILLING_CLIENT_KEY = map(str, pki.stranger)
    assert_refused(mtls, account.subscriber_code, "unknown ca")


def test_without_billings_ca_the_gateway_does_not_trust_a_self_made_certificate(mtls, settings, account):
    mtls.load_local(account.subscriber_code)
    settings.BILLING_CA_BUNDLE = ""  # the default CAs
    assert_refused(mtls, account.subscriber_code, "certificate verify failed")


def test_a_client_certificate_file_that_is_missing_is_billing_unavailable_not_an_error(mtls, settings, account,
                                                                                        tmp_path):
    settings.BILLING_CLIENT_CERT = str(tmp_path / "nowhere.pem")
    with pytest.raises(BillingUnavailable, match="TLS files cannot be loaded"):
        get_gateway().account_by_code(account.subscriber_code)
