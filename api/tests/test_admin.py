"""The administrator registers a channel, creates a key that is shown once, and revokes it."""

from __future__ import annotations

import re

from api.models import ApiChannel, ApiKey
from audit.models import AuditEntry

from .conftest import RSA_KEY, public_pem


def test_an_administrator_registers_a_channel_and_gets_a_key_shown_once(admin_client, admin_user, client, db):
    response = admin_client.post("/admin/api/apichannel/add/", {
        "code": "egov", "name": "e-gov.az", "active": "on", "webhook_url": "https://hooks.e-gov.az/borc",
        "citizen_jwt_public_key": public_pem(RSA_KEY), "rate_per_minute": "", "citizen_rate_per_minute": "",
        "keys-TOTAL_FORMS": "0", "keys-INITIAL_FORMS": "0", "keys-MIN_NUM_FORMS": "0", "keys-MAX_NUM_FORMS": "1000",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    channel = ApiChannel.objects.get(code="egov")
    assert channel.webhook_secret.startswith("whsec_")

    page = admin_client.post("/admin/api/apichannel/", {"action": "create_key", "_selected_action": [channel.pk]})
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    clear = re.search(r'<code class="shown-once"[^>]*>([^<]+)</code>', page.content.decode()).group(1)
    key = ApiKey.objects.get(channel=channel)
    assert clear.startswith(f"{key.prefix}.")
    assert clear.split(".")[1] not in key.secret_hash
    assert key.created_by == admin_user
    # The key works, and the channel page never shows it again.
    assert client.get("/api/v1/reasons/", headers={"Authorization": f"ApiKey {clear}"}).status_code == 200
    change = admin_client.get(f"/admin/api/apichannel/{channel.pk}/change/")
    assert change.status_code == 200 and clear not in change.content.decode()
    assert channel.webhook_secret not in change.content.decode()

    admin_client.post("/admin/api/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert client.get("/api/v1/reasons/", headers={"Authorization": f"ApiKey {clear}"}).status_code == 401
    assert set(AuditEntry.objects.filter(actor=admin_user).values_list("action", flat=True)) == {
        "api_key_created", "api_key_revoked"}


def test_a_bad_public_key_is_refused_next_to_its_field(admin_client, db):
    response = admin_client.post("/admin/api/apichannel/add/", {
        "code": "esu", "name": "e-su.az", "active": "on", "webhook_url": "", "citizen_jwt_public_key": "not a key",
        "keys-TOTAL_FORMS": "0", "keys-INITIAL_FORMS": "0", "keys-MIN_NUM_FORMS": "0", "keys-MAX_NUM_FORMS": "1000",
    })
    assert response.status_code == 200
    assert "Not a PEM public key." in response.content.decode()
    assert not ApiChannel.objects.exists()


def test_rotating_the_webhook_secret_shows_the_new_one_once(admin_client, egov):
    old = egov.channel.webhook_secret
    page = admin_client.post("/admin/api/apichannel/", {"action": "rotate_webhook_secret",
                                                        "_selected_action": [egov.channel.pk]})
    egov.channel.refresh_from_db()
    assert egov.channel.webhook_secret != old
    assert egov.channel.webhook_secret in page.content.decode()
