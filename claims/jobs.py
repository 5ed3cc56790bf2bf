"""Periodic jobs of claims (run by ``manage.py run_periodic``, see core.scheduler)."""

from datetime import time

from core.scheduler import Job

JOBS = [
    # Deletes photos of drafts abandoned for a day (calls services.drafts_purge).
    Job("purge_drafts", "claims.tasks.purge_drafts", every_seconds=3600),
    # Re-enqueues letters to competent bodies whose task was lost (services.referrals_sweep).
    Job("sweep_referrals", "claims.tasks.sweep_referrals"),
    # Reminds citizens of information requests and ends the unanswered ones (art. 10.2).
    Job("sweep_info_requests", "claims.tasks.sweep_info_requests", daily_at=time(8, 0)),
]
