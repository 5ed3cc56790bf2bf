"""The e-mail as a mail client receives it (through a real SMTP server on loopback): a plain-text
part and an HTML alternative, the headers that keep robots quiet and replies reachable, and a
Message-ID that stays the same when the message is sent again."""

from __future__ import annotations

import re

import pytest
from django.db import transaction

from notifications.models import Event, Medium
from notifications.services import delivery_send, notification_queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(claim, smtp_server, settings, django_capture_on_commit_callbacks):
    settings.ORGANISATION = settings.ORGANISATION | {"portal_url": "https://e-xidmet.azersu.az/",
                                                     "name": "“Azərsu” ASC", "brand_colour": "#0b5ea8"}
    settings.EMAIL_REPLY_TO = "office@azersu.az"
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        rows = notification_queue(claim=claim, event=Event.REGISTERED)
    row = next(r for r in rows if r.medium == Medium.EMAIL)
    delivery_send(delivery_id=row.pk)
    [(_from, _to, message)] = smtp_server.messages
    row.refresh_from_db()
    return row, message


def test_the_headers_name_the_delivery_and_silence_auto_replies(sent):
    row, message = sent
    assert message["Message-ID"] == f"<notification.{row.pk}@e-xidmet.azersu.az>"
    assert row.provider_reference == message["Message-ID"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["Reply-To"] == "office@azersu.az"
    assert message["Content-Language"] == "az"


def test_plain_text_with_an_accessible_html_alternative_without_remote_content(sent, claim):
    row, message = sent
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert text.replace("\r\n", "\n").strip() == row.body.strip()
    assert '<html lang="az">' in html
    assert f"<title>{row.subject}</title>" in html and "<h1" in html
    assert "“Azərsu” ASC" in html and "#0b5ea8" in html  # branded, in text and colour only
    # Every line of the text is in the HTML, and the claim's page is a link.
    assert claim.number in html
    assert f'href="https://e-xidmet.azersu.az/claims/{claim.number}/"' in html
    # Nothing is fetched when the message is opened: no images, styles or scripts from elsewhere.
    assert not re.search(r"<(img|script|link|iframe|object)\b", html, re.I)
    assert "src=" not in html and "url(" not in html


def test_text_with_markup_is_escaped_in_the_html(claim, smtp_server, django_capture_on_commit_callbacks):
    claim.citizen.first_name = "<b>Əli</b>"
    claim.citizen.save()
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        rows = notification_queue(claim=claim, event=Event.REGISTERED)
    delivery_send(delivery_id=next(r for r in rows if r.medium == Medium.EMAIL).pk)
    [(_from, _to, message)] = smtp_server.messages
    html = message.get_body(("html",)).get_content()
    assert "<b>Əli</b>" not in html and "&lt;b&gt;Əli&lt;/b&gt;" in html


def test_a_message_sent_again_keeps_its_message_id(sent, smtp_server):
    row, first = sent
    type(row).objects.filter(pk=row.pk).update(status="created", next_attempt_at=None)
    delivery_send(delivery_id=row.pk)
    assert smtp_server.messages[1][2]["Message-ID"] == first["Message-ID"]


def test_a_portal_on_an_address_gives_a_domain_literal(settings):
    from notifications.mail import message_id

    settings.ORGANISATION = settings.ORGANISATION | {"portal_url": "http://127.0.0.1:8000"}
    assert message_id(7) == "<notification.7@[127.0.0.1]>"


NO_REPLY = ("ona cavab yazmayın", "please do not reply", "отвечать на него не нужно")


def test_the_footer_says_a_reply_reaches_the_reply_address(sent):
    _row, message = sent
    text = message.get_body(("plain",)).get_content()
    assert "Ona cavab yaza bilərsiniz: cavabınız office@azersu.az ünvanına çatacaq." in text
    assert not any(phrase in text for phrase in NO_REPLY)


def test_without_a_reply_address_the_footer_asks_for_no_reply(claim, smtp_server, settings,
                                                              django_capture_on_commit_callbacks):
    settings.EMAIL_REPLY_TO = ""
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        rows = notification_queue(claim=claim, event=Event.REGISTERED)
    delivery_send(delivery_id=next(r for r in rows if r.medium == Medium.EMAIL).pk)
    [(_from, _to, message)] = smtp_server.messages
    assert message["Reply-To"] is None
    assert "Bu məktub avtomatik göndərilib, ona cavab yazmayın." in message.get_body(("plain",)).get_content()


def test_no_default_e_mail_asks_for_no_reply_while_replies_have_an_address(claim, settings):
    from notifications.models import NotificationTemplate
    from notifications.services import _render, notification_context

    settings.EMAIL_REPLY_TO = "office@azersu.az"
    templates = NotificationTemplate.objects.filter(medium=Medium.EMAIL)
    assert templates.count() >= 3 * 10
    for template in templates:
        text = _render(template.body, notification_context(claim=claim))
        assert not any(phrase in text for phrase in NO_REPLY), template
        assert re.search(r"(cavabınız|your reply reaches|ответ придёт на адрес) office@azersu\.az", text), template


@pytest.mark.parametrize(("language", "service"), [
    ("az", "Borcun araşdırılması üzrə müraciət"),
    ("en", "Application for investigation of a debt"),
    ("ru", "Обращение о проверке задолженности"),
])
def test_the_letterhead_names_the_service_in_the_messages_language(claim, smtp_server, language, service,
                                                                    django_capture_on_commit_callbacks):
    claim.language = language
    claim.save()
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        rows = notification_queue(claim=claim, event=Event.REGISTERED)
    delivery_send(delivery_id=next(r for r in rows if r.medium == Medium.EMAIL).pk)
    [(_from, _to, message)] = smtp_server.messages
    html = message.get_body(("html",)).get_content()
    assert f">{service}</p>" in html
    if language != "az":
        assert "Borcun araşdırılması" not in html
