"""Periodic jobs of privacy (run by ``manage.py run_periodic``, see core.scheduler)."""

from datetime import time

from core.scheduler import Job

JOBS = [
    # Anonymises the personal data whose retention period ended (services.retention_run).
    Job("retention", "privacy.tasks.retention", daily_at=time(3, 30)),
]
