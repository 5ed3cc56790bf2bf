"""Screenshots of every page of the citizen, operator, inspector and commission journeys, error
pages included, at 360 px and 1280 px wide, in each interface language.

    .venv/bin/python scripts/screenshots.py --base http://127.0.0.1:8000 --out screenshots [--lang az,en,ru]

Runs against a live server with development login on and demo data loaded
(``manage.py seed_demo``). Per language it walks one claim from filing to the commission's
decision, as the first demo citizen of the login page and the staff of their branch (the same
steps as the browser tests: ``browser_tests/driver.py``), and writes
``<out>/<lang>-<nn>-<page>-<width>.png``.

Who plays the journey is looked up in the server's database, so run it with the server's
environment (DATABASE_URL, ...); or name everyone with --citizen, --operator, --inspector,
--secretary and --member (the demo staff's password is demo-pass-2026; the operator must be
the one the claims are routed to, e.g. the only operator of the branch). Each run files new
claims: use a demo database. Uses Debian's Chromium (/usr/bin/chromium) through Playwright.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from browser_tests.driver import Cast, Journey  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SIZES = ((360, 800), (1280, 900))


class Shooter:
    def __init__(self, page: Page, out: Path, prefix: str):
        self.page, self.out, self.prefix, self.n = page, out, prefix, 0

    def __call__(self, name: str) -> None:
        self.n += 1
        for width, height in SIZES:
            self.page.set_viewport_size({"width": width, "height": height})
            self.page.screenshot(path=str(self.out / f"{self.prefix}-{self.n:02d}-{name}-{width}.png"), full_page=True)


def operator_of(number: str) -> str:
    """The operator the claim was routed to."""
    from claims.models import Claim

    operator = Claim.objects.select_related("operator").get(number=number).operator
    if operator is None:
        raise SystemExit(f"claim {number} was routed to no operator")
    return operator.username


def cast_from_database() -> Cast:
    """The first demo citizen of the login page who holds an account, the inspector of that
    account's branch, the commission's secretary and a member. The operator is whoever each
    claim is routed to (``operator_of``)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the ORM next to Playwright's event loop
    import django

    django.setup()
    from billing.models import Account
    from identity.models import Role, User
    from identity.roles import inspectors_of, operators_of

    for citizen in User.objects.filter(fin__isnull=False).order_by("last_name", "first_name")[:30]:
        account = Account.objects.filter(holder_fin=citizen.fin).order_by("subscriber_code").first()
        if account is None:
            continue
        operator = operators_of(account.branch_id).first()
        inspector = inspectors_of(account.branch_id).first()
        if operator and inspector:
            break
    else:
        raise SystemExit("no demo citizen with an account in a staffed branch: run manage.py seed_demo first")
    active = User.objects.filter(is_active=True).order_by("username")
    secretary = active.filter(assignments__role=Role.COMMISSION_SECRETARY).first()
    member = active.filter(assignments__role=Role.COMMISSION_MEMBER).first()
    if secretary is None or member is None:
        raise SystemExit("no commission secretary or member: run manage.py seed_demo first")
    assert citizen.fin is not None  # filtered on fin__isnull=False
    return Cast(citizen_fin=citizen.fin, operator=operator.username, inspector=inspector.username,
                secretary=secretary.username, member=member.username,
                inspector_name=inspector.display_name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default="http://127.0.0.1:8000")
    ap.add_argument("--out", default="screenshots")
    ap.add_argument("--lang", default="az,en,ru")
    for who in ("citizen", "operator", "inspector", "secretary", "member"):
        ap.add_argument(f"--{who}", default="", help=f"the {who}'s {'FIN' if who == 'citizen' else 'username'}")
    args = ap.parse_args()
    named = [args.citizen, args.operator, args.inspector, args.secretary, args.member]
    if all(named):
        cast = Cast(citizen_fin=args.citizen, operator=args.operator, inspector=args.inspector,
                    secretary=args.secretary, member=args.member)
    elif any(named):
        raise SystemExit("name all of --citizen, --operator, --inspector, --secretary and --member, or none")
    else:
        cast = cast_from_database()
    print(f"citizen {cast.citizen_fin}, operator {cast.operator}, inspector {cast.inspector}, "
          f"secretary {cast.secretary}, member {cast.member}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for lang in args.lang.split(","):
            started = time.monotonic()
            context = browser.new_context(locale="az-AZ")
            context.set_default_timeout(20_000)
            page = context.new_page()
            shooter = Shooter(page, out, lang)
            journey = Journey(page=page, base=args.base.rstrip("/"), cast=cast,
                              operator_of=None if all(named) else operator_of)
            journey.go("/")
            journey.set_language(lang)
            journey.seen = shooter
            number = journey.everything()
            context.close()
            print(f"{lang}: claim {number}, {shooter.n} pages, {time.monotonic() - started:.0f} s")
        browser.close()
    print(f"Screenshots in {out}/")


if __name__ == "__main__":
    main()
