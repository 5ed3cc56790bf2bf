from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from identity.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, demo_totp_token
from identity.models import Role, StaffAssignment, User


class Command(BaseCommand):
    help = "Print how to log in as a demo citizen and as demo staff."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")

    def handle(self, *args, port: str, **options):
        with translation.override("en"):  # the summary is in English, the role names too
            self._summary(port)

    def _summary(self, port: str) -> None:
        base = f"http://127.0.0.1:{port}"
        w = self.stdout.write
        w("")
        w(f"The e-service runs at {base}/  (Ctrl-C stops web server, worker and periodic jobs)")
        if settings.IDENTITY_PROVIDER != "identity.providers.dev.DevProvider":
            w(f"Citizens log in through {settings.IDENTITY_PROVIDER.rsplit('.', 1)[-1]} at {base}/auth/login/"
              " (docs/sso.md).")
            if settings.DEV_LOGIN_ENABLED:
                w(f"The development login page stays at {base}/auth/dev/ - pick a method and a demo citizen:")
        else:
            w(f"Log in as a citizen: {base}/auth/login/ - pick a login method and one of these demo citizens:")
        for u in User.objects.filter(fin__isnull=False).order_by("last_name")[:10]:
            w(f"    {u.fin}  {u.last_name} {u.first_name}")
        w(f"Staff log in at {base}/office/login/ (password for every demo account: {DEMO_PASSWORD}); the "
          f"administrator also reaches {base}/admin/ from there. One login per role:")
        assignments = StaffAssignment.objects.select_related("user", "branch").order_by("role", "branch__name",
                                                                                          "user__username")
        first_of_role: dict[str, StaffAssignment] = {}
        for a in assignments:
            first_of_role.setdefault(a.role, a)
        for role in Role:
            held = first_of_role.get(role.value)
            if held is None:
                w(f"    {str(role.label):22} (none in the demo data)")
                continue
            second = " + authenticator code" if role.value in settings.STAFF_OTP_REQUIRED_ROLES else ""
            w(f"    {str(role.label):22} {held.user.username:16} {held.branch or 'all branches'}{second}")
        if any(r in first_of_role for r in settings.STAFF_OTP_REQUIRED_ROLES):
            w(f"The authenticator code: add the secret {DEMO_TOTP_SECRET} to an authenticator app (code now: "
              f"{demo_totp_token()}).")
        w(f"Sent e-mails and SMS: {base}/dev/outbox/")
        portal_url = settings.ORGANISATION["portal_url"].rstrip("/")
        if portal_url != base:  # `make run` derives it from PORT; said here when it was set otherwise
            w(f"Links in e-mails and SMS point at PORTAL_URL={portal_url}.")
        w("")
