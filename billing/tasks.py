"""Background tasks of billing (Django's Tasks API): thin, they call the services."""

from django_tasks import task

from core.logging import carries_request_id

from . import services


@task()
@carries_request_id
def post_adjustment(posting_id: int) -> None:
    """Post one approved adjustment to billing; a no-op unless still pending and due."""
    services.posting_send(posting_id=posting_id)


@task()
def sweep_postings() -> int:
    """Re-enqueue postings whose task was lost or whose worker stopped mid-send."""
    return services.postings_sweep()
