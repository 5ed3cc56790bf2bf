"""Background tasks of billing (Django's Tasks API): thin, they call the services."""

from django_tasks import task

from . import services


@task()
def post_adjustment(posting_id: int) -> None:
    """Post one approved adjustment to billing; a no-op unless still pending and due."""
    services.posting_send(posting_id=posting_id)


@task()
def sweep_postings() -> int:
    """Re-enqueue postings whose task was lost or whose worker stopped mid-send."""
    return services.postings_sweep()
