"""OpenAPI description details drf-spectacular cannot infer (imported in ApiConfig.ready), and
the hook that completes the generated description (SPECTACULAR_SETTINGS POSTPROCESSING_HOOKS):
the language header of every operation, the per-meter fields of a claim, the bounds of the page
size. ``docs/openapi.yaml`` is this output, committed (``manage.py spectacular --file``; a test
fails when it is stale)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema

from . import serializers
from .auth import IsCitizen
from .pagination import PAGE_SIZE_BOUNDS


class ChannelAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.ChannelAuthentication"
    name = ["ApiKey", "CitizenToken"]

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[Any]]:
        if IsCitizen in getattr(auto_schema.view, "permission_classes", []):
            return {"ApiKey": [], "CitizenToken": []}
        return {"ApiKey": []}

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {"type": "apiKey", "in": "header", "name": "Authorization",
             "description": "`ApiKey <prefix>.<secret>`: the channel's API key."},
            {"type": "apiKey", "in": "header", "name": "X-Citizen-Token",
             "description": "A JWT signed by the channel (RS256 or ES256 with its registered key): iss = channel "
                            "code, aud = the API's audience, iat, exp at most 5 minutes later, the citizen's FIN "
                            "in `fin` or `sub`, a `jti` unique to the token (each token is accepted once), "
                            "optional `login_method`, `given_name`, `family_name` (no control characters or "
                            "markup)."},
        ]


WEBHOOK_DESCRIPTION = """
Every public event of a claim (what the citizen sees in the timeline) filed through the channel is
POSTed as JSON to the channel's webhook URL. Headers: `X-Webhook-Event-Id` (= `event_id`),
`X-Webhook-Attempt`, and `X-Signature: t=<unix seconds>,v1=<hex>`, the HMAC-SHA256 of
`"<t>.<raw body>"` keyed with the channel's webhook secret (docs/api.md §5). Answer any 2xx
quickly; anything else is retried with exponential backoff (1, 2, 4, ... minutes, then hourly)
for 72 hours after the event. Delivery is at least once (drop a repeated `event_id`) and in
order per claim.
"""

claim_event_webhook = OpenApiWebhook(
    name="claim.event",
    decorator=extend_schema(
        summary="A claim's public event",
        description=WEBHOOK_DESCRIPTION.strip(),
        request={"application/json": serializers.WebhookEventSerializer},
        responses={200: OpenApiResponse(description="Received (any 2xx)"),
                   500: OpenApiResponse(description="Anything but 2xx (or no answer in time): sent again later")},
    ),
)

ACCEPT_LANGUAGE = {
    "in": "header", "name": "Accept-Language", "required": False, "schema": {"type": "string", "maxLength": 200},
    "description": "The language of texts meant for the citizen (field errors and problem details, reason and "
                   "timeline texts, the registration message): `az` (the default), `en` or `ru`, with the usual "
                   "q-values (`ru-RU,ru;q=0.9,en;q=0.5`). `Content-Language` says which was used.",
}


def complete(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS: what the serializers cannot say."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == "Accept-Language" for p in parameters):
                parameters.append(dict(ACCEPT_LANGUAGE))
            for parameter in parameters:
                if parameter.get("name") == "page_size" and parameter.get("in") == "query":
                    parameter["schema"] |= PAGE_SIZE_BOUNDS
    create = result.get("components", {}).get("schemas", {}).get("ClaimCreateRequest")
    if create is not None:
        photo = {"type": "string", "format": "binary",
                 "description": "`photo[<serial_number>]`: a photo of the meter showing today's reading (jpg, jpeg, "
                                "png or pdf)"}
        create["patternProperties"] = {
            serializers.READING_FIELD_PATTERN: {
                "type": "integer", "minimum": 0, "maximum": serializers.READING_MAX,
                "description": "`reading[<serial_number>]`: the meter's reading today (m³)"},
            serializers.PHOTO_FIELD_PATTERN: photo,
        }
        # Named per meter, so not listable: a generated client sets them as additional properties
        # (``body["photo[SM0040611]"] = File(...)``), readings either so or in ``readings``.
        create["additionalProperties"] = photo
        # Any other name that starts like a per-meter field is refused (a serial must match).
        create["propertyNames"] = {"anyOf": [
            {"pattern": serializers.READING_FIELD_PATTERN}, {"pattern": serializers.PHOTO_FIELD_PATTERN},
            {"not": {"pattern": r"^(reading|photo)\["}},
        ]}
    answer = result.get("components", {}).get("schemas", {}).get("ClaimAnswerRequest")
    if answer is not None:  # ClaimAnswerSerializer.validate: a text that is not blank, or a photo
        answer["anyOf"] = [
            {"required": ["text"], "properties": {"text": {"pattern": r"\S"}}},
            {"required": ["photo"], "properties": {"photo": {"type": "string"}}},
        ]
    return result
