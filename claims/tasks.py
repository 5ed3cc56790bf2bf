from django_tasks import task

from .services import drafts_purge


@task()
def purge_drafts() -> int:
    return drafts_purge()
