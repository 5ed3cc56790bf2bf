"""The attack suite reuses the API tests' channels, tokens and webhook endpoint."""

from api.tests.conftest import (  # noqa: F401 - fixtures
    default_templates,
    dummy_tasks,
    egov,
    webhook_endpoint,
)
