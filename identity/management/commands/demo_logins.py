from django.conf import settings
from django.core.management.base import BaseCommand

from identity.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, demo_totp_token
from identity.models import StaffAssignment, User


class Command(BaseCommand):
    help = "Print how to log in as a demo citizen and as demo staff."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")

    def handle(self, *args, port: str, **options):
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
        staff = (StaffAssignment.objects.select_related("user", "branch").order_by("role", "branch__name")[:12])
        if staff:
            w(f"Demo staff (password: {DEMO_PASSWORD}); the administrator logs in at {base}/admin/:")
            for a in staff:
                w(f"    {a.user.username:14} {a.role:22} {a.branch or 'all branches'}")
            w(f"Commission members, managers and the administrator also enter an authenticator code: add the "
              f"secret {DEMO_TOTP_SECRET} to an authenticator app (code now: {demo_totp_token()}).")
        w(f"Sent e-mails and SMS: {base}/dev/outbox/")
        w("")
