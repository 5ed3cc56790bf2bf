from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Channel API"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from claims.models import ClaimEvent

        from . import schema  # noqa: F401 - registers the OpenAPI authentication extension
        from .signals import claim_event_saved

        # A signal, not a call from claims.services: the webhook is a side effect of another app
        # (the API) that claims must not know about. claims.services writes one ClaimEvent per
        # change inside the change's transaction, so the webhook row created by the receiver
        # commits or rolls back together with the change (see api.signals).
        post_save.connect(claim_event_saved, sender=ClaimEvent, dispatch_uid="api.webhooks.claim_event")
