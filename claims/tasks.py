from django_tasks import task

from core.logging import carries_request_id

from . import services
from .services import drafts_purge


@task()
def purge_drafts() -> int:
    return drafts_purge()


@task()
@carries_request_id
def deliver_referral(referral_id: int) -> None:
    """Send one letter to a competent body; a no-op unless it is still pending (idempotent)."""
    services.referral_send(referral_id=referral_id)


@task()
def sweep_referrals() -> int:
    return services.referrals_sweep()


@task()
def sweep_info_requests() -> dict[str, int]:
    """Remind citizens before the date asked for; hand back the claims whose date passed."""
    return services.info_requests_sweep()
