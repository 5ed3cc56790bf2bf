"""Periodic jobs of the API (run by ``manage.py run_periodic``, see core.scheduler)."""

from core.scheduler import Job

JOBS = [
    # Re-enqueues webhook deliveries whose task was lost (calls api.webhooks.webhooks_sweep).
    Job("sweep_webhooks", "api.tasks.sweep_webhooks"),
]
