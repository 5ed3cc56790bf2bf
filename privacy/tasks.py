from django_tasks import task

from . import services


@task()
def retention() -> dict[str, dict[str, int]]:
    """Anonymise what has expired; idempotent."""
    return services.retention_run()
