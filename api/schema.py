"""OpenAPI description details drf-spectacular cannot infer (imported in ApiConfig.ready)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from .auth import IsCitizen


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
                            "in `fin` or `sub`, optional `login_method`."},
        ]
