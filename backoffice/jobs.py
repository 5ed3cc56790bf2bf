"""Periodic jobs of the back office (run by ``manage.py run_periodic``, see core.scheduler)."""

from datetime import time

from core.scheduler import Job

JOBS = [
    # Overdue and nearly due claims to operators and managers, before the working day starts.
    # Idempotent per recipient and day, so a catch-up run after a restart sends nothing twice.
    Job("deadline_digest", "backoffice.tasks.deadline_digest", daily_at=time(7, 0)),
]
