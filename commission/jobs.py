"""Periodic jobs of the commission (run by ``manage.py run_periodic``, see core.scheduler)."""

from core.scheduler import Job

JOBS = [
    # Closes claims whose correction billing confirmed while the confirmation's own step failed
    # (calls services.postings_confirm_sweep).
    Job("confirm_postings", "commission.services.postings_confirm_sweep"),
]
