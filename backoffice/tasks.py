from django_tasks import task

from .services import deadline_digest_queue


@task()
def deadline_digest() -> int:
    return deadline_digest_queue()
