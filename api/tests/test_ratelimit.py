"""Rate limits per channel and per citizen: 429 problems with Retry-After."""

from __future__ import annotations

from .conftest import Api


def _limited(response) -> None:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/rate-limited") and body["status"] == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Retry-After"] in body["detail"]


def test_a_channel_is_limited_per_minute(egov, esu, citizen, other_citizen, settings):
    settings.API_RATE_PER_CHANNEL_PER_MINUTE = 3
    settings.API_RATE_PER_CITIZEN_PER_MINUTE = 100
    mine, theirs = Api(egov, citizen.fin), Api(egov, other_citizen.fin)
    assert [mine.get("/claims/").status_code, theirs.get("/claims/").status_code,
            mine.get("/claims/").status_code] == [200, 200, 200]
    _limited(theirs.get("/claims/"))
    # Another channel has its own budget.
    assert Api(esu, citizen.fin).get("/claims/").status_code == 200


def test_a_channels_own_limit_wins_over_the_default(egov, citizen, settings):
    settings.API_RATE_PER_CHANNEL_PER_MINUTE = 1
    egov.channel.rate_per_minute = 5
    egov.channel.save()
    api = Api(egov, citizen.fin)
    assert [api.get("/claims/").status_code for _ in range(5)] == [200] * 5
    _limited(api.get("/claims/"))


def test_a_citizen_is_limited_per_minute_whichever_channel_asks(egov, esu, citizen, other_citizen, settings):
    settings.API_RATE_PER_CITIZEN_PER_MINUTE = 2
    assert Api(egov, citizen.fin).get("/claims/").status_code == 200
    assert Api(esu, citizen.fin).get("/claims/").status_code == 200
    _limited(Api(egov, citizen.fin).get("/claims/"))
    assert Api(egov, other_citizen.fin).get("/claims/").status_code == 200
