import io

import pytest

from notifications import sms
from notifications.sms import (
    ConsoleSmsBackend,
    HttpGatewaySmsBackend,
    PermanentDeliveryError,
    RetryableDeliveryError,
    get_sms_backend,
    sms_segments,
    to_e164,
)
from testkit.net import free_port

AZ_80 = "Müraciətiniz qeydiyyata alındı. Müraciət nömrəniz: BA-2026-000042. Təşəkkürlər!!"


class TestSegments:
    def test_azerbaijani_80_characters_are_two_segments(self):
        assert len(AZ_80) == 80
        assert sms_segments(AZ_80) == 2

    def test_ascii_160_is_one_segment_161_is_two(self):
        assert sms_segments("a" * 160) == 1
        assert sms_segments("a" * 161) == 2

    def test_gsm7_parts_hold_153(self):
        assert sms_segments("a" * 306) == 2
        assert sms_segments("a" * 307) == 3

    def test_extension_characters_count_two(self):
        assert sms_segments("€" * 80) == 1
        assert sms_segments("€" * 81) == 2
        assert sms_segments("[" + "a" * 159) == 2

    def test_escape_pair_is_not_split_between_parts(self):
        # 306 septets either way; 306 fit two parts of 153 only when "{" (2) does not have to
        # straddle them.
        assert sms_segments("a" * 152 + "{" + "a" * 152) == 3
        assert sms_segments("a" * 153 + "{" + "a" * 151) == 2

    def test_gsm7_basic_set_includes_o_u_umlaut_and_capital_c_cedilla(self):
        assert sms_segments("öüÖÜÇ" * 32) == 1  # 160 characters, all GSM-7

    @pytest.mark.parametrize("letter", ["ə", "Ə", "ş", "Ş", "ğ", "Ğ", "ı", "İ", "ç"])
    def test_azerbaijani_letters_are_not_gsm7(self, letter):
        text = "a" * 69 + letter
        assert not sms.is_gsm7(text)
        assert sms_segments(text) == 1
        assert sms_segments(text + "a") == 2

    def test_ucs2_parts_hold_67(self):
        assert sms_segments("ə" * 70) == 1
        assert sms_segments("ə" * 71) == 2
        assert sms_segments("ə" * 134) == 2
        assert sms_segments("ə" * 135) == 3

    def test_characters_outside_the_bmp_take_two_units(self):
        assert sms_segments("🙂" * 35) == 1
        assert sms_segments("🙂" * 36) == 2

    def test_cyrillic_is_ucs2(self):
        assert sms_segments("Ваше обращение зарегистрировано. " * 2) == 1  # 66 characters
        assert sms_segments("Ваше обращение зарегистрировано. " * 3) == 2


class TestE164:
    @pytest.mark.parametrize("raw", ["+994501234567", "0501234567", "994 50 123 45 67", "(050) 123-45-67"])
    def test_azerbaijani_numbers(self, raw):
        assert to_e164(raw) == "+994501234567"

    def test_garbage_is_permanent(self):
        with pytest.raises(PermanentDeliveryError):
            to_e164("not a number")


class TestBackends:
    def test_backend_is_chosen_by_settings(self, settings):
        settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
        assert isinstance(get_sms_backend(), sms.LocmemSmsBackend)
        settings.SMS_BACKEND = "notifications.sms.ConsoleSmsBackend"
        assert isinstance(get_sms_backend(), ConsoleSmsBackend)

    def test_locmem_keeps_messages(self, settings):
        settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
        reference = sms.send_sms(to="+994501234567", text="Salam", sender="AZERSU")
        assert sms.outbox == [sms.SmsMessage(to="+994501234567", text="Salam", sender="AZERSU", reference=reference)]

    def test_console_prints_the_message(self):
        stream = io.StringIO()
        reference = ConsoleSmsBackend(stream=stream).send(to="+994501234567", text="Müraciət", sender="AZERSU")
        out = stream.getvalue()
        assert "+994501234567" in out and "Müraciət" in out and reference in out


class TestHttpGateway:
    def test_posts_json_with_basic_auth_and_returns_the_reference(self, sms_gateway):
        reference = HttpGatewaySmsBackend().send(to="050 123 45 67", text="Müraciətiniz qeydə alındı", sender="AZERSU",
                                                 reference="borc-7")
        assert reference == "gw-1"
        [request] = sms_gateway.requests
        assert request["path"] == "/v1/messages"
        assert request["content_type"].startswith("application/json")
        assert (request["user"], request["password"]) == ("borc", "s3cret-gateway")
        assert request["json"] == {"from": "AZERSU", "to": "+994501234567", "text": "Müraciətiniz qeydə alındı",
                                   "reference": "borc-7"}

    def test_5xx_is_retryable(self, sms_gateway):
        sms_gateway.always = 503
        with pytest.raises(RetryableDeliveryError, match="503"):
            HttpGatewaySmsBackend().send(to="+994501234567", text="x", sender="AZERSU")

    def test_429_is_retryable(self, sms_gateway):
        sms_gateway.always = 429
        with pytest.raises(RetryableDeliveryError, match="429"):
            HttpGatewaySmsBackend().send(to="+994501234567", text="x", sender="AZERSU")

    def test_4xx_is_permanent(self, sms_gateway):
        sms_gateway.always = 400
        with pytest.raises(PermanentDeliveryError, match="400"):
            HttpGatewaySmsBackend().send(to="+994501234567", text="x", sender="AZERSU")

    def test_wrong_credentials_are_permanent(self, sms_gateway):
        with pytest.raises(PermanentDeliveryError, match="401"):
            HttpGatewaySmsBackend(password="wrong").send(to="+994501234567", text="x", sender="AZERSU")

    def test_connection_refused_is_retryable(self):
        # Nothing listens on the port.
        backend = HttpGatewaySmsBackend(url=f"http://127.0.0.1:{free_port()}/send", user="u", password="p", timeout=2)
        with pytest.raises(RetryableDeliveryError, match="unreachable"):
            backend.send(to="+994501234567", text="x", sender="AZERSU")

    def test_timeout_is_retryable(self):
        import socket

        # A listening socket that never answers.
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            backend = HttpGatewaySmsBackend(url=f"http://127.0.0.1:{server.getsockname()[1]}/send", user="u",
                                            password="p", timeout=0.5)
            with pytest.raises(RetryableDeliveryError):
                backend.send(to="+994501234567", text="x", sender="AZERSU")

    def test_only_http_urls(self):
        from django.core.exceptions import ImproperlyConfigured

        with pytest.raises(ImproperlyConfigured):
            HttpGatewaySmsBackend(url="file:///etc/passwd")


class TestGatewayBody:
    """The request body is a setting: the common JSON and form-encoded gateways need no code."""

    def test_a_nested_json_body(self, sms_gateway, settings):
        settings.SMS_GATEWAY_BODY = {"messages": [{"from": "{sender}", "destinations": [{"to": "{to_digits}"}],
                                                   "text": "{text}", "callbackData": "{reference}"}]}
        HttpGatewaySmsBackend().send(to="050 123 45 67", text="Salam", sender="AZERSU", reference="borc-9")
        [request] = sms_gateway.requests
        assert request["json"] == {"messages": [{"from": "AZERSU", "destinations": [{"to": "994501234567"}],
                                                 "text": "Salam", "callbackData": "borc-9"}]}

    def test_a_form_body(self, settings):
        settings.SMS_GATEWAY_FORMAT = "form"
        settings.SMS_GATEWAY_BODY = {"src": "{sender}", "dst": "{to_digits}", "msg": "{text}", "ref": "{reference}",
                                     "unicode": 1}
        backend = HttpGatewaySmsBackend(url="http://127.0.0.1:9/")
        body, content_type = backend.request_body(to="+994501234567", text="Müraciət № 1", sender="AZERSU",
                                                  reference="borc-9")
        assert content_type.startswith("application/x-www-form-urlencoded")
        from urllib.parse import parse_qs

        assert parse_qs(body.decode()) == {"src": ["AZERSU"], "dst": ["994501234567"], "msg": ["Müraciət № 1"],
                                           "ref": ["borc-9"], "unicode": ["1"]}

    def test_an_unknown_placeholder_or_a_nested_form_is_a_configuration_error(self, settings):
        from django.core.exceptions import ImproperlyConfigured

        settings.SMS_GATEWAY_BODY = {"to": "{phone}"}
        with pytest.raises(ImproperlyConfigured, match="{phone}"):
            HttpGatewaySmsBackend(url="http://127.0.0.1:9/")
        settings.SMS_GATEWAY_FORMAT = "form"
        settings.SMS_GATEWAY_BODY = {"to": {"number": "{to}"}}
        with pytest.raises(ImproperlyConfigured, match="one level"):
            HttpGatewaySmsBackend(url="http://127.0.0.1:9/")
