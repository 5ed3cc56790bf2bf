"""Periodic jobs of claims (run by ``manage.py run_periodic``, see core.scheduler)."""

from core.scheduler import Job

JOBS = [
    # Deletes photos of drafts abandoned for a day (calls services.drafts_purge).
    Job("purge_drafts", "claims.tasks.purge_drafts", every_seconds=3600),
]
