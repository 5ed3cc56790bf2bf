"""Background tasks of notifications (Django's Tasks API): thin, they call the services."""

from django_tasks import task

from core.logging import carries_request_id

from . import services


@task(queue_name="notifications")
@carries_request_id
def deliver_notification(delivery_id: int) -> None:
    """Send one delivery; a no-op unless it is still pending and due (idempotent)."""
    services.delivery_send(delivery_id=delivery_id)


@task(queue_name="notifications")
def sweep_deliveries() -> int:
    """Re-enqueue deliveries whose task was lost or whose worker stopped mid-send."""
    return services.deliveries_sweep()
