"""Background tasks of the API (Django's Tasks API): thin, they call the services."""

from django_tasks import task

from core.logging import carries_request_id

from . import webhooks


@task()
@carries_request_id
def send_webhook(delivery_id: int) -> None:
    """Send one webhook delivery; a no-op unless it is still pending and due (idempotent)."""
    webhooks.webhook_send(delivery_id=delivery_id)


@task()
def sweep_webhooks() -> int:
    """Re-enqueue webhook deliveries whose task was lost or whose worker stopped mid-send."""
    return webhooks.webhooks_sweep()
