"""Periodic jobs of notifications (run by ``manage.py run_periodic``, see core.scheduler)."""

from core.scheduler import Job

JOBS = [
    # Re-enqueues deliveries whose task was lost (calls services.deliveries_sweep).
    Job("sweep_deliveries", "notifications.tasks.sweep_deliveries"),
]
