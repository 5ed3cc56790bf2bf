"""Periodic jobs of billing (run by ``manage.py run_periodic``, see core.scheduler)."""

from core.scheduler import Job

JOBS = [
    # Re-enqueues postings whose task was lost (calls services.postings_sweep).
    Job("sweep_postings", "billing.tasks.sweep_postings"),
]
