"""What an integrator relies on: every live answer fits the committed OpenAPI file
(docs/openapi.yaml, validated by schemathesis), lists page with cursors and RFC 8288 Link
headers, texts follow Accept-Language, and the claim carries the registration message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings

from claims.models import Claim
from claims.services import claim_request_info, claim_take

from .conftest import Api, Registered, claim_form, register_channel
from .test_openapi import wsgi_app

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"

pytestmark = pytest.mark.usefixtures("default_templates")


@pytest.fixture
def live() -> Iterator[httpx.Client]:
    """An HTTP client through the project's whole WSGI stack (middleware included)."""
    with wsgi_app() as application, httpx.Client(transport=httpx.WSGITransport(app=application),
                                                 base_url="http://testserver/api/v1") as client:
        yield client


@pytest.fixture
def committed_schema() -> Any:
    import schemathesis

    return schemathesis.openapi.from_path(str(COMMITTED))


def conforms(schema: Any, path: str, method: str, response: httpx.Response) -> httpx.Response:
    """Raises (schemathesis' FailureGroup, naming what differs) unless ``response`` is one the
    committed description allows for the operation: status, content type, headers, body."""
    schema[path][method].validate_response(response)
    return response


def _files(account: Any, jpeg: Any) -> dict[str, tuple[str, bytes, str]]:
    return {f"photo[{m.serial_number}]": ("sayğac.jpg", jpeg().read(), "image/jpeg") for m in account.meters.all()}


def _form(account: Any, **overrides: Any) -> dict[str, str]:
    return {k: v for k, v in claim_form(account, photos={m.serial_number: None for m in account.meters.all()},
                                        **overrides).items() if not k.startswith("photo[")}


def _file_live(live: httpx.Client, channel: Registered, fin: str, account: Any, jpeg: Any, key: str,
               **headers: str) -> httpx.Response:
    return live.post("/claims/", data=_form(account), files=_files(account, jpeg),
                     headers=channel.headers(fin) | {"Idempotency-Key": key} | headers)


def test_every_answer_of_a_claims_life_fits_the_committed_description(
    live, committed_schema, citizen, other_citizen, account_two_meters, operator, jpeg_upload,
):
    egov = register_channel("egov")
    h = egov.headers
    filed = conforms(committed_schema, "/api/v1/claims/", "POST",
                     _file_live(live, egov, citizen.fin, account_two_meters, jpeg_upload, "c-1"))
    assert filed.status_code == 201
    number = filed.json()["number"]
    assert filed.json()["pending_request"] is None  # null: what the old description refused

    detail = "/api/v1/claims/{number}/"
    conforms(committed_schema, detail, "GET", live.get(f"/claims/{number}/", headers=h(citizen.fin)))
    claim = claim_take(claim=Claim.objects.get(number=number), actor=operator)
    claim_request_info(claim=claim, actor=operator, question="Sayğacın plombunun şəklini göndərin.")
    asked = conforms(committed_schema, detail, "GET", live.get(f"/claims/{number}/", headers=h(citizen.fin)))
    assert asked.json()["pending_request"]["question"] == "Sayğacın plombunun şəklini göndərin."
    answered = live.post(f"/claims/{number}/answer/", data={"text": "Şəkil əlavə olundu."},
                         files={"photo": ("plomb.jpg", jpeg_upload().read(), "image/jpeg")},
                         headers=h(citizen.fin))
    assert conforms(committed_schema, "/api/v1/claims/{number}/answer/", "POST", answered).status_code == 200

    for path, template in [
        ("/claims/", "/api/v1/claims/"), ("/reasons/", "/api/v1/reasons/"), ("/accounts/", "/api/v1/accounts/"),
        (f"/accounts/{account_two_meters.subscriber_code}/", "/api/v1/accounts/{subscriber_code}/"),
        (f"/accounts/{account_two_meters.subscriber_code}/invoices/?page_size=5",
         "/api/v1/accounts/{subscriber_code}/invoices/"),
        (f"/claims/{number}/letter/", "/api/v1/claims/{number}/letter/"),  # 404 problem: no letter yet
    ]:
        conforms(committed_schema, template, "GET", live.get(path, headers=h(citizen.fin)))

    # Refusals are described too: another citizen's claim, a bad cursor, a bad form, a stale key.
    assert conforms(committed_schema, detail, "GET",
                    live.get(f"/claims/{number}/", headers=h(other_citizen.fin))).status_code == 404
    assert conforms(committed_schema, "/api/v1/claims/", "GET",
                    live.get("/claims/?cursor=bm90LWEtY3Vyc29y", headers=h(citizen.fin))).status_code == 400
    bad = live.post("/claims/", data=_form(account_two_meters, phone="12345", consent="false"),
                    files=_files(account_two_meters, jpeg_upload), headers=h(citizen.fin) | {"Idempotency-Key": "c-2"})
    assert conforms(committed_schema, "/api/v1/claims/", "POST", bad).status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"phone", "consent"}
    assert conforms(committed_schema, "/api/v1/claims/", "GET",
                    live.get("/claims/", headers={"Authorization": "ApiKey nope.nope"})).status_code == 401
    withdrawn = live.post(f"/claims/{number}/withdraw/", headers=h(citizen.fin))
    assert conforms(committed_schema, "/api/v1/claims/{number}/withdraw/", "POST", withdrawn).status_code == 200
    again = live.post(f"/claims/{number}/withdraw/", headers=h(citizen.fin))
    assert conforms(committed_schema, "/api/v1/claims/{number}/withdraw/", "POST", again).status_code == 409


def test_the_description_refuses_an_answer_that_breaks_it(live, committed_schema, citizen, account):
    """The check above can fail: a body without a required member does not fit."""
    from schemathesis.openapi.checks import JsonSchemaError

    response = live.get("/reasons/", headers=register_channel("egov").headers())
    broken = httpx.Response(200, headers=response.headers,
                            content=json.dumps([{"code": "misread"}]).encode(), request=response.request)
    broken.elapsed = response.elapsed
    with pytest.raises(JsonSchemaError, match="requires_text"):
        conforms(committed_schema, "/api/v1/reasons/", "GET", broken)


def test_webhook_payloads_fit_the_described_schema(citizen, account, operator, jpeg_upload, webhook_endpoint,
                                                   django_capture_on_commit_callbacks):
    import jsonschema_rs
    import yaml

    from .conftest import drive_webhooks

    description = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    body_schema = description["webhooks"]["claim.event"]["post"]["requestBody"]["content"]["application/json"]
    validator = jsonschema_rs.validator_for({**body_schema["schema"], "components": description["components"]})
    egov = register_channel("egov", webhook_url=webhook_endpoint.url)
    api = Api(egov, citizen.fin)
    photos = {m.serial_number: jpeg_upload() for m in account.meters.all()}
    with django_capture_on_commit_callbacks(execute=True):
        number = api.post("/claims/", claim_form(account, photos=photos), headers={"Idempotency-Key": "w-1"}).json()[
            "number"]
        claim_take(claim=Claim.objects.get(number=number), actor=operator)
    drive_webhooks()
    payloads = [r["json"] for r in webhook_endpoint.accepted]
    assert [p["kind"] for p in payloads][:2] == ["registered", "forwarded"]
    for payload in payloads:
        errors = [e.message for e in validator.iter_errors(payload)]
        assert errors == [], (payload, errors)
    assert not validator.is_valid(payloads[0] | {"status": "lost"})


# --- Accept-Language ------------------------------------------------------------------------------


EGOV_REGISTERED = "Müraciətiniz qeydiyyata alındı. Xidmətimizdən istifadə etdiyiniz üçün sizə təşəkkür edirik. " \
                  "Müraciət nömrəniz: "


@pytest.mark.parametrize(("header", "language", "title", "consent_message", "registered"), [
    (None, "az", "Sorğuda düzgün doldurulmamış sahələr var.",
     "Müraciəti göndərmək üçün şəxsi məlumatların emalına razılıq verin.", EGOV_REGISTERED),
    ("en-GB,en;q=0.8", "en", "The request has invalid fields.", "personal data",
     "Your claim has been registered. Thank you for using our service. Your claim number: "),
    ("ru-RU,ru;q=0.9,en;q=0.5", "ru", "В запросе есть неверно заполненные поля.", "персональных данных",
     "Ваше обращение зарегистрировано. Благодарим вас за то, что воспользовались нашей услугой. "
     "Номер вашего обращения: "),
    ("de-DE,fr;q=0.5", "az", "Sorğuda düzgün doldurulmamış sahələr var.", "razılıq", EGOV_REGISTERED),
])
def test_messages_problems_and_texts_follow_accept_language(egov, citizen, account, jpeg_upload, header, language,
                                                            title, consent_message, registered):
    api = Api(egov, citizen.fin)
    extra = {"Accept-Language": header} if header else {}
    photos = {m.serial_number: jpeg_upload() for m in account.meters.all()}
    refused = api.post("/claims/", claim_form(account, photos=photos, consent="false"),
                       headers={"Idempotency-Key": "l-1"} | extra)
    assert refused.status_code == 400
    assert refused["Content-Language"] == language
    assert "Accept-Language" in refused["Vary"]
    assert refused.json()["title"] == title
    assert consent_message in refused.json()["errors"][0]["message"]

    photos = {m.serial_number: jpeg_upload() for m in account.meters.all()}
    filed = api.post("/claims/", claim_form(account, photos=photos), headers={"Idempotency-Key": "l-2"} | extra)
    assert filed.status_code == 201
    body = filed.json()
    assert body["registration_message"] == registered + body["number"]
    assert body["reason"]["text"] == {"az": "Sayğac göstəricisinin səhv oxunması", "en": "Meter reading misread",
                                      "ru": "Неверное снятие показаний счётчика"}[language]
    assert body["language"] == "az"  # the notifications' language is the form's, not the header's
    forwarded = next(e for e in body["timeline"] if e["kind"] == "forwarded")["text"]
    starts = {"az": "Müraciət icra üçün", "en": "The claim was forwarded", "ru": "Обращение направлено"}
    assert forwarded.startswith(starts[language]), forwarded
    reasons = api.get("/reasons/", headers=extra).json()
    assert next(r for r in reasons if r["code"] == "misread")["text"] == body["reason"]["text"]
    missing = api.get("/claims/BA-2026-999999/", headers=extra)
    assert missing.status_code == 404 and missing["Content-Language"] == language


def test_an_unauthenticated_call_is_refused_in_the_callers_language(egov):
    response = Api(egov).get("/claims/", headers={"Accept-Language": "ru"})
    assert response.status_code == 401
    assert response.json()["title"] == "Требуется аутентификация."
    assert "X-Citizen-Token" in response.json()["detail"] and "гражданина" in response.json()["detail"]
    revoked = Api(egov).client.get("/api/v1/reasons/", headers={"Authorization": "ApiKey 0123.nope",
                                                                "Accept-Language": "en-US"})
    assert revoked.json()["detail"] == "The API key is unknown or revoked."
    assert Api(egov).client.get("/api/v1/reasons/", headers={"Authorization": "ApiKey 0123.nope"}).json()[
        "detail"] == "API açarı naməlumdur və ya ləğv edilib."


# --- Pagination ----------------------------------------------------------------------------------------


def _links(response: Any) -> dict[str, str]:
    """rel -> URL of an RFC 8288 Link header."""
    out = {}
    for part in filter(None, (p.strip() for p in response.headers.get("Link", "").split(","))):
        url, rel = part.split(";", 1)
        out[rel.strip().removeprefix('rel="').removesuffix('"')] = url.strip().removeprefix("<").removesuffix(">")
    return out


def test_the_claims_list_pages_with_cursors_in_link_headers(egov, esu, citizen, other_citizen, branch,
                                                            django_assert_max_num_queries):
    from testkit.factories import account_for, register

    numbers = []
    for i in range(5):
        account = account_for(citizen, branch)
        numbers.append(register(citizen, account, key=f"p-{i}").number)
    register(other_citizen, account_for(other_citizen, branch), key="p-other")
    api = Api(esu, citizen.fin)  # none of them filed through this channel: the citizen's all the same

    with django_assert_max_num_queries(10):
        first = api.get("/claims/?page_size=2")
    assert first.status_code == 200
    assert [c["number"] for c in first.json()] == numbers[::-1][:2]
    links = _links(first)
    assert set(links) == {"next"}
    seen = [c["number"] for c in first.json()]
    url = links["next"]
    while url:
        page = api.client.get(url.removeprefix("http://testserver"), headers=api.headers())
        seen += [c["number"] for c in page.json()]
        assert "prev" in _links(page)
        url = _links(page).get("next")
    assert seen == numbers[::-1]  # every claim once, newest first, none of the other citizen's
    back = api.client.get(_links(page)["prev"].removeprefix("http://testserver"), headers=api.headers())
    assert [c["number"] for c in back.json()] == numbers[::-1][2:4]
    assert "Link" not in api.get("/claims/").headers  # fits one page of 20

    for query, field in (("cursor=%21%21", "cursor"), ("cursor=bm90LWEtY3Vyc29y", "cursor"),
                         ("page_size=0", "page_size"), ("page_size=101", "page_size"), ("page_size=x", "page_size")):
        refused = api.get(f"/claims/?{query}")
        assert refused.status_code == 400, query
        assert refused.json()["errors"][0]["field"] == field


def test_a_page_of_claims_costs_the_same_queries_whatever_their_number(egov, citizen, branch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from testkit.factories import account_for, register

    api = Api(egov, citizen.fin)
    api.get("/claims/")  # the key's first use of the minute writes last_used_at
    counts = []
    for i in range(2):
        for j in range(3):
            register(citizen, account_for(citizen, branch), key=f"q-{i}-{j}")
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/claims/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_invoices_meters_and_reasons_page_the_same_way(egov, citizen, account_two_meters):
    api = Api(egov, citizen.fin)
    code = account_two_meters.subscriber_code
    everything = api.get(f"/accounts/{code}/invoices/").json()
    assert len(everything) == 12
    pages, url = [], f"/api/v1/accounts/{code}/invoices/?page_size=5"
    while url:
        page = api.client.get(url.removeprefix("http://testserver"), headers=api.headers())
        pages.append([i["number"] for i in page.json()])
        url = _links(page).get("next")
    assert [len(p) for p in pages] == [5, 5, 2]
    assert sum(pages, []) == [i["number"] for i in everything]  # newest first, each once

    meters = api.get(f"/accounts/{code}/invoices/{everything[0]['number']}/meters/?page_size=1")
    assert len(meters.json()) == 1 and set(_links(meters)) == {"next"}
    second = api.client.get(_links(meters)["next"].removeprefix("http://testserver"), headers=api.headers())
    assert len(second.json()) == 1 and set(_links(second)) == {"prev"}
    assert {m["serial_number"] for m in meters.json() + second.json()} == {
        m.serial_number for m in account_two_meters.meters.all()}

    reasons = api.get("/reasons/?page_size=1")
    assert len(reasons.json()) == 1 and "next" in _links(reasons)


def test_readings_may_come_as_one_json_field(egov, citizen, account_two_meters, jpeg_upload):
    api = Api(egov, citizen.fin)
    serials = [m.serial_number for m in account_two_meters.meters.all()]
    form = {k: v for k, v in _form(account_two_meters).items() if not k.startswith("reading[")}

    def with_photos(fields: dict[str, Any]) -> dict[str, Any]:
        return fields | {f"photo[{s}]": jpeg_upload() for s in serials}

    readings = {m.serial_number: 1500 + i for i, m in enumerate(account_two_meters.meters.order_by("serial_number"))}
    both = api.post("/claims/", with_photos(form | {"readings": json.dumps(readings),
                                                    f"reading[{next(iter(readings))}]": "1"}),
                    headers={"Idempotency-Key": "j-0"})
    assert both.status_code == 400 and both.json()["errors"][0]["field"] == "readings"
    for bad in ("[1500]", '{"SM 1": 1}', '{"X": -1}', '{"X": true}', "nope"):
        refused = api.post("/claims/", with_photos(form | {"readings": bad}), headers={"Idempotency-Key": "j-1"})
        assert refused.status_code == 400, bad
    filed = api.post("/claims/", with_photos(form | {"readings": json.dumps(readings)}),
                     headers={"Idempotency-Key": "j-2"})
    assert filed.status_code == 201, filed.content
    assert {m["meter_serial"]: m["declared_reading"] for m in filed.json()["meters"]} == readings


def test_the_described_phone_pattern_is_exactly_what_the_server_accepts():
    """docs/openapi.yaml's `phone` pattern and claims.contacts.normalise_phone agree both ways,
    so a schema-driven client never meets a refusal the description did not state (and the
    server refuses whatever breaks the pattern: the field checks it before normalising)."""
    import re

    from django import forms
    from hypothesis import given
    from hypothesis import settings as hypothesis_settings
    from hypothesis import strategies as st

    from api.serializers import PHONE_PATTERN
    from claims.contacts import normalise_phone

    pattern = re.compile(PHONE_PATTERN)

    def server_accepts(phone: str) -> bool:
        try:
            normalise_phone(phone)
        except forms.ValidationError:
            return False
        return True

    @given(prefix=st.sampled_from(["", "0", "+994", "994", "00994", "+994 ", "(+994)", "0 0994", "+", "00", "9",
                                   "0994"]),
           mobile=st.sampled_from(["10", "40", "44", "50", "51", "55", "60", "70", "77", "99", "12", "20", "00"]),
           digits=st.lists(st.integers(0, 9), min_size=6, max_size=8),
           seps=st.lists(st.sampled_from(["", " ", "-", "(", ")", " - "]), min_size=9, max_size=9))
    @hypothesis_settings(max_examples=1500, deadline=None, database=None)
    def agree(prefix, mobile, digits, seps):
        phone = prefix + seps[0] + mobile + "".join(s + str(d) for s, d in zip(seps[1:], digits, strict=False))
        if len(phone) <= 25:
            assert bool(pattern.fullmatch(phone)) == server_accepts(phone), phone

    agree()
    for accepted in ("050 123 45 67", "+994501234567", "00994 50 123 45 67", "994501234567", "(050) 123-45-67",
                     "501234567", "991234567"):
        assert pattern.fullmatch(accepted) and server_accepts(accepted), accepted
    # "99 4..." without a prefix reads as the country code: refused by both.
    for refused in ("+994 12 123 45 67", "050 123 45 6", "+0501234567", "994123456", "050\t1234567", "٠٥٠١٢٣٤٥٦٧"):
        assert not pattern.fullmatch(refused), refused


def test_each_channel_gets_the_registration_words_of_its_own_manual(egov, esu, citizen, account,
                                                                    account_two_meters, jpeg_upload):
    """e-gov.az's confirmation thanks the citizen (the manual's Şəkil 11), e-su.az's does not
    (Şəkil 17); a claim read through another channel keeps the words of the one that filed it."""
    filed = {}
    for name, registered, acc in (("egov", egov, account), ("esu", esu, account_two_meters)):
        photos = {m.serial_number: jpeg_upload() for m in acc.meters.all()}
        answer = Api(registered, citizen.fin).post("/claims/", claim_form(acc, photos=photos),
                                                   headers={"Idempotency-Key": f"w-{name}"})
        assert answer.status_code == 201, answer.content
        filed[name] = answer.json()
    assert filed["egov"]["registration_message"] == EGOV_REGISTERED + filed["egov"]["number"]
    assert filed["esu"]["registration_message"] == ("Müraciətiniz qeydə alındı. Müraciət nömrəniz: "
                                                    + filed["esu"]["number"])
    read = Api(esu, citizen.fin).get(f"/claims/{filed['egov']['number']}/").json()
    assert read["registration_message"] == filed["egov"]["registration_message"]
