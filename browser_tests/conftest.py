"""Browser tests: Debian's Chromium, driven through Playwright's sync API, against
pytest-django's live server.

- Chromium is looked for at /usr/bin/chromium (a test tool's own browser download does not
  run here). Without it the browser tests are skipped with a reason, except in CI
  (``CI=true``), where a missing browser is a failure: CI must not go green by skipping.
- The live server runs in a thread of this process and reads committed rows, so every test
  here is transactional. A transactional test ends with a flush, which also drops the rows of
  data migrations; ``seed_rows`` puts back the reason templates, the tariffs and the
  notification templates before each test.
- Playwright's sync API runs an event loop in the test thread; Django would then refuse ORM
  calls from fixtures as "async unsafe", hence DJANGO_ALLOW_ASYNC_UNSAFE.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}: browser tests cannot run, and CI=true does not "
                        "allow skipping them", pytrace=False)
        pytest.skip(f"Chromium not found at {CHROMIUM}: browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def seed_rows(transactional_db: None) -> None:
    """The rows of the data migrations the journeys need (a flush of an earlier transactional
    test dropped them)."""
    from django.apps import apps

    from billing.models import Tariff
    from claims.models import ConsentText, ReasonTemplate
    from notifications.models import NotificationTemplate

    if not ReasonTemplate.objects.exists():
        importlib.import_module("claims.migrations.0003_reason_templates").load(apps, None)
    if not ConsentText.objects.exists():
        importlib.import_module("claims.migrations.0007_consent_text_v1").publish(apps, None)
    if not Tariff.objects.exists():
        importlib.import_module("billing.migrations.0002_tariffs").seed_tariffs(apps, None)
    if not NotificationTemplate.objects.exists():
        importlib.import_module("notifications.migrations.0002_default_templates").load(apps, None)
        importlib.import_module("notifications.migrations.0005_law_rules_events").load(apps, None)
        importlib.import_module("notifications.migrations.0006_plain_outcome").forwards(apps, None)


@pytest.fixture
def cast(seed_rows, branch, operator, citizen, account, account_two_meters, foreign_account):
    """The people of the journeys: the citizen (two accounts of their own; another citizen's
    account to type), the branch's operator and inspector, the commission's secretary and a
    member. The operator proposes; the member, not the proposer, decides."""
    from identity.models import Role, StaffAssignment, User

    from .driver import Cast

    def staff(username: str, role: str, first: str, last: str, branch=None) -> User:
        user = User.objects.create_user(username=username, password=Cast.password, first_name=first, last_name=last)
        StaffAssignment.objects.create(user=user, role=role, branch=branch)
        return user

    staff("insp-yas-1", Role.INSPECTOR, "Elçin", "Quliyev", branch)
    staff("kom-katib", Role.COMMISSION_SECRETARY, "Səbinə", "Qasımova")
    staff("kom-uzv-1", Role.COMMISSION_MEMBER, "Vüsal", "Əhmədov")
    return Cast(citizen_fin=citizen.fin, operator=operator.username, inspector="insp-yas-1",
                secretary="kom-katib", member="kom-uzv-1")


@pytest.fixture
def context(browser, live_server) -> Iterator:
    # An Azerbaijani browser: the default language of the service; the tests switch with the
    # header's buttons like a user would.
    ctx = browser.new_context(locale="az-AZ", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def visit_day():
    """The next working day: the first day an inspection may be ordered for besides today."""
    from django.utils import timezone

    from claims.deadlines import WorkingCalendar

    return WorkingCalendar().add_working_days(timezone.localdate(), 1)


@pytest.fixture
def registered_claim(cast, account, claim_factory):
    """A claim the citizen filed for their account (declaring the meter's real register)."""
    return claim_factory(account=account)


@pytest.fixture
def journey(page, live_server, cast):
    from .driver import Journey

    return Journey(page=page, base=live_server.url, cast=cast, after_approval=post_approved_corrections)


def post_approved_corrections() -> None:
    """What a task worker does with an approved correction: post it to billing (the local
    gateway here), which closes the claim as corrected and tells the citizen."""
    from billing.models import Posting
    from billing.services import posting_send

    for pk in Posting.objects.filter(status="created").values_list("pk", flat=True):
        posting_send(posting_id=pk)
