"""Drives the product's pages in a real browser, the way its users do: the citizen's filing
and status pages, the operator's claim page, the inspector's visit, the commission's agenda
and meeting.

The steps find controls by what the page offers (names, values, form actions), never by
their text, so the same steps run in every interface language. After each page a step calls
``seen(name)``: the browser tests check the page there (axe, the error summary, ...), the
screenshots command photographs it. Used by ``browser_tests`` against pytest-django's live
server and by ``scripts/screenshots.py`` against a running server with demo data.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from playwright.sync_api import FilePayload, Page

CLAIM_NUMBER = re.compile(r"[A-Z]{2}-\d{4}-\d{6}")


def photo_bytes(size: tuple[int, int] = (640, 480)) -> bytes:
    """A small JPEG that the photo checks accept (a real image, decodable by Pillow)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (40, 90, 160)).save(out, format="JPEG")
    return out.getvalue()


def photo_file(name: str = "sayğac.jpg") -> FilePayload:
    return {"name": name, "mimeType": "image/jpeg", "buffer": photo_bytes()}


@dataclass
class Cast:
    """Who plays the journey: the citizen's FIN and the staff members' usernames."""

    citizen_fin: str
    operator: str
    inspector: str
    secretary: str
    member: str  # a commission member who did not propose the correction
    password: str = "demo-pass-2026"  # noqa: S105 - the demo staff's password, also in seed_demo
    # The demo authenticator secret of staff whose role needs a second factor (identity.demo).
    totp_secret: str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - demo only
    phone: str = "050 123 45 67"
    changed_phone: str = "055 765 43 21"
    email: str = "vetendas@example.az"
    inspector_name: str = ""  # as the operator's list shows them; empty: the first of the list


def _noop(name: str) -> None:
    return None


@dataclass
class Journey:
    """One browser tab walking through the product. ``seen`` is called with a short page name
    after every page the steps reach."""

    page: Page
    base: str
    cast: Cast
    seen: Callable[[str], None] = _noop
    # The claim's operator, when the branch has several (routing picks the least loaded one);
    # None: the cast's operator.
    operator_of: Callable[[str], str] | None = None
    # What the task workers do after the commission approves a correction: post it to billing,
    # which closes the claim. Against a running site (make run, make stack) its workers do it and
    # the citizen's page is reloaded until the claim is closed; the tests run the posting here.
    after_approval: Callable[[], None] = field(default=lambda: None)
    log: list[str] = field(default_factory=list)

    # --- basics -----------------------------------------------------------------------------

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def _seen(self, name: str) -> None:
        self.log.append(name)
        self.seen(name)

    def set_language(self, lang: str) -> None:
        """The header's language buttons (a POST to /i18n/setlang/ that comes back here)."""
        button = self.page.locator(f"form.lang-form button[value={lang}]")
        if button.count() == 0:
            self.go("/")
            button = self.page.locator(f"form.lang-form button[value={lang}]")
        with self.page.expect_navigation():
            button.click()

    def logout(self) -> None:
        out = self.page.locator("form[action$='/auth/logout/'] button")
        if out.count():
            with self.page.expect_navigation():
                out.click()

    def submit(self, button_selector: str) -> None:
        with self.page.expect_navigation():
            self.page.locator(button_selector).first.click()

    # --- citizen ----------------------------------------------------------------------------

    def citizen_login(self, *, errors: bool = False, show: bool = True) -> None:
        self.logout()
        self.go("/auth/login/")
        if show:
            self._seen("login")
        if errors:
            self.submit("main form button[type=submit].primary")
            self._seen("login-error")
        self.page.locator("input[name=method]").nth(1).check()
        self.page.select_option("#id_demo_fin", self.cast.citizen_fin)
        self.submit("main form button[type=submit].primary")
        if show:
            self._seen("home")

    def start_claim(self, *, pick: str | None = None, code: str | None = None, errors: bool = False) -> None:
        """The account step: pick one of the citizen's accounts, or type a code and "Yoxla"."""
        self.go("/claims/new/")
        self._seen("account")
        check_form = "form:has(#id_subscriber_code)"
        if errors:
            self.page.fill("#id_subscriber_code", "12")
            self.submit(f"{check_form} button[type=submit]")
            self._seen("account-error")
            if self.page.locator("input[name=account]").count():
                self.submit("form:has(input[name=account]) button[type=submit]")
                self._seen("account-pick-error")
        if pick is not None:
            radio = self.page.locator(f"input[name=account][value='{pick}']") if pick else \
                self.page.locator("input[name=account]").first
            radio.check()
            self.submit("form:has(input[name=account]) button[type=submit]")
        else:
            self.page.fill("#id_subscriber_code", code or "")
            self.submit(f"{check_form} button[type=submit]")
        self._seen("invoice")

    def pick_invoice(self, *, errors: bool = False) -> list[int]:
        """The first invoice without an open claim; returns its meters' previous readings."""
        if errors:
            self.submit("main form button.primary")
            self._seen("invoice-error")
        radios = self.page.locator("input[name=invoice]")
        for i in range(radios.count()):
            row = self.page.locator("tbody tr").nth(i)
            previous = [int(v) for v in row.locator("td.num").nth(0).inner_text().split()]
            radios.nth(i).check()
            self.submit("main form button.primary")
            if "/details/" in self.page.url:
                self._seen("details")
                return previous
            radios = self.page.locator("input[name=invoice]")
        raise AssertionError("every invoice of the account already has an open claim")

    def fill_details(self, *, previous: list[int], errors: bool = False, phone: str | None = None) -> None:
        if errors:
            self.submit("main form button.primary")
            self._seen("details-errors")
        self.page.select_option("#id_reason", index=1)
        for field_, prev in zip(self.page.locator("input[name^=reading_]").all(), previous, strict=False):
            field_.fill(str(prev + 10))
        for field_ in self.page.locator("input[type=file][name^=photo_]").all():
            field_.set_input_files(photo_file())
        self.page.fill("#id_phone", phone or self.cast.phone)
        self.page.fill("#id_email", self.cast.email)
        self.submit("main form button.primary")
        self._seen("review")

    def confirm(self, *, errors: bool = False, change_phone: bool = False) -> str:
        """Review: "İmtina" to change the phone and come back, then consent and "Təsdiq et"."""
        if errors:
            self.submit("button[value=confirm]")
            self._seen("review-error")
        if change_phone:
            self.submit("button[value=cancel]")
            self._seen("details-again")
            self.page.fill("#id_phone", self.cast.changed_phone)
            self.submit("main form button.primary")
            self._seen("review-changed")
        self.page.locator("#id_consent").check()
        self.submit("button[value=confirm]")
        self._seen("registered")
        found = CLAIM_NUMBER.search(self.page.locator(".panel-confirm .number").inner_text())
        assert found, "the confirmation page shows the claim's number"
        return found.group(0)

    def file_claim(self, *, pick: str | None = "", code: str | None = None, errors: bool = False,
                   change_phone: bool = False) -> str:
        self.start_claim(pick=None if code else pick, code=code, errors=errors)
        previous = self.pick_invoice(errors=errors)
        self.fill_details(previous=previous, errors=errors)
        return self.confirm(errors=errors, change_phone=change_phone)

    def citizen_status_pages(self, number: str) -> None:
        self.go(f"/claims/{number}/receipt/")
        self._seen("receipt")
        self.go("/claims/")
        self._seen("status-list")
        self.go("/inbox/")
        self._seen("inbox")
        self.go("/claims/")
        self.page.locator(f"a[href$='/claims/{number}/']").first.click()
        self.page.wait_for_url(f"**/claims/{number}/")
        self._seen("status-detail")
        self.page.locator(f"a[href$='/claims/{number}/withdraw/']").click()
        self.page.wait_for_url("**/withdraw/")
        self._seen("withdraw")
        self.page.locator("main a.button.secondary").click()  # "Xeyr": keep the claim
        self.page.wait_for_url(f"**/claims/{number}/")

    def citizen_answer(self, number: str, *, text: str, errors: bool = False) -> None:
        self.go(f"/claims/{number}/")
        self._seen("status-info-request")
        form = f"form[action$='/claims/{number}/answer/']"
        if errors:
            self.submit(f"{form} button[type=submit]")
            self._seen("status-answer-error")
        self.page.fill(f"{form} textarea[name=text]", text)
        self.page.locator(f"{form} input[type=file]").set_input_files(photo_file("cavab.jpg"))
        self.submit(f"{form} button[type=submit]")
        self._seen("status-answered")

    def citizen_outcome(self, number: str):
        """The closed claim's status page; opens the decision letter and returns its response."""
        self.go(f"/claims/{number}/")
        letter = self.page.locator(f"a[href$='/claims/{number}/letter.pdf']")
        for _ in range(30):  # the correction is being posted to billing: wait for the workers
            if letter.count():
                break
            self.page.wait_for_timeout(1000)
            self.go(f"/claims/{number}/")
        self._seen("status-closed")
        href = letter.get_attribute("href")
        assert href, "the closed claim's page links its decision letter"
        return self.page.request.get(self.base + href)

    def outbox(self) -> None:
        """The development outbox, as staff (it is for staff only): the operator."""
        self.staff_login(self.cast.operator)
        self.go("/dev/outbox/")
        self._seen("outbox")

    # --- staff ------------------------------------------------------------------------------

    def staff_login(self, username: str, *, errors: bool = False, show: bool = False) -> None:
        self.logout()
        self.go("/office/login/")
        if show:
            self._seen("staff-login")
        if errors:
            self.page.fill("#id_username", username)
            self.page.fill("#id_password", "not-the-password")
            self.submit("main form button.primary")
            self._seen("staff-login-error")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", self.cast.password)
        self.submit("main form button.primary")
        self.second_factor()

    def second_factor(self) -> None:
        """Enter the authenticator's code when the login asks for it (commission members,
        managers and administrators). A code is accepted once: if this user's code of the
        moment was used already, the next one is entered when it comes."""
        import base64
        import time as clock

        from django_otp.oath import totp

        for _attempt in range(2):
            if "/office/otp/" not in self.page.url:
                return
            self._seen("second-factor")
            code = f"{totp(base64.b32decode(self.cast.totp_secret)):06d}"
            self.page.fill("#id_otp_token", code)
            self.submit("main form button.primary")
            if "/office/otp/" in self.page.url:
                clock.sleep(31 - clock.time() % 30)

    def _action(self, number: str, action: str) -> str:
        """Open the claim page's <details> holding the form of ``action``; the form's selector."""
        form = f"form[action$='/office/claims/{number}/{action}/']"
        details = self.page.locator(f"details.action:has({form})")
        if details.count() and not details.first.evaluate("d => d.open"):
            details.first.locator("summary").click()
        return form

    def operator_take(self, number: str) -> None:
        """From the operator's queue (already logged in) to the claim, and take it."""
        self.go("/office/")
        self._seen("queue")
        self.page.locator(f"main a[href$='/office/claims/{number}/']").first.click()
        self.page.wait_for_url(f"**/office/claims/{number}/")
        self._seen("claim")
        self.submit(f"{self._action(number, 'take')} button[type=submit]")
        self._seen("claim-taken")

    def operator_request_info(self, number: str, *, question: str, errors: bool = False) -> None:
        self.go(f"/office/claims/{number}/")
        form = self._action(number, "info")
        if errors:
            self.submit(f"{form} button[type=submit]")
            self._seen("claim-info-error")
            form = self._action(number, "info")
        self.page.fill(f"{form} textarea", question)
        self.submit(f"{form} button[type=submit]")
        self._seen("claim-info-sent")

    def operator_order_inspection(self, number: str, *, day: date | None = None, errors: bool = False) -> date:
        """Order a visit on ``day`` (default: the weekday after the server's today) or, when
        the form refuses it (a holiday), the next day it accepts. Returns the visit day."""
        self.staff_login(self.cast.operator)
        self.go(f"/office/claims/{number}/")
        self._seen("claim-answered")
        form = self._action(number, "inspection")
        if errors:
            self.submit(f"{form} button[type=submit]")
            self._seen("claim-inspection-error")
            form = self._action(number, "inspection")
        if day is None:
            earliest = self.page.locator(f"{form} input[name=visit_on]").get_attribute("min")
            assert earliest, "the visit date field states its earliest day"
            day = date.fromisoformat(earliest)
            day += timedelta(days=1)
            while day.weekday() >= 5:
                day += timedelta(days=1)
        for _attempt in range(20):
            inspector = self.page.locator(f"{form} select[name=inspector]")
            if self.cast.inspector_name:
                inspector.select_option(label=self.cast.inspector_name)
            else:
                inspector.select_option(index=1)
            self.page.fill(f"{form} input[name=visit_on]", day.isoformat())
            self.page.locator(f"{form} input[name=window]").first.check()
            self.submit(f"{form} button[type=submit]")
            if not self.page.locator("[data-error-summary]").count():
                self._seen("claim-inspection-ordered")
                return day
            day += timedelta(days=1)
            form = self._action(number, "inspection")
        raise AssertionError("no visit day accepted in 20 days")

    def inspector_records(self, number: str, *, day: date, errors: bool = False) -> None:
        self.staff_login(self.cast.inspector)
        self.go(f"/office/visits/?day={day.isoformat()}")
        self._seen("visits")
        self.page.locator(f"main a[href*='/office/visits/']:has-text('{number}')").first.click()
        self.page.wait_for_url("**/office/visits/*/")
        self._seen("visit")
        form = "form[action$='/result/']"
        if errors:
            self.submit(f"{form} button[type=submit]")
            self._seen("visit-errors")
        for field_, value in zip(self.page.locator(f"{form} input[name^=result-reading_]").all(),
                                 self._declared_readings(), strict=False):
            field_.fill(str(value))
        self.page.locator(f"{form} input[name=result-seal_state]").first.check()
        self.page.locator(f"{form} input[type=file]").set_input_files(photo_file("yoxlama.jpg"))
        self.page.fill(f"{form} textarea[name=result-note]", "Sayğac yoxlanıldı.")
        self.submit(f"{form} button[type=submit]")
        self._seen("visits-done")

    def _declared_readings(self) -> list[int]:
        """The citizen's readings as the visit page shows them (the inspector confirms them)."""
        texts = self.page.locator("main section.card dd strong").all_inner_texts()
        return [int(re.sub(r"\D", "", t.split("m")[0])) for t in texts]

    def operator_propose(self, number: str, *, errors: bool = False) -> None:
        self.staff_login(self.cast.operator)
        self.go(f"/office/claims/{number}/")
        self._seen("claim-inspected")
        form = self._action(number, "propose")
        self.submit(f"{form} button[formaction$='/preview/']")
        self._seen("claim-preview")
        form = self._action(number, "propose")
        if errors:
            self.submit(f"{form} button.primary")
            self._seen("claim-correction-error")
            form = self._action(number, "propose")
        self.page.fill(f"{form} textarea[name=note]", "Yerində yoxlama göstəricinin səhv oxunduğunu təsdiq edir.")
        self.submit(f"{form} button.primary")
        self._seen("claim-proposed")

    def secretary_schedules(self, number: str, *, errors: bool = False) -> None:
        self.staff_login(self.cast.secretary)
        self.go("/office/commission/")
        self._seen("agenda")
        form = "form[action$='/office/commission/meetings/open/']"
        today = self.page.locator(f"{form} input[name=held_on]").input_value()  # the server's today
        if errors:
            self.page.fill(f"{form} input[name=held_on]", "")
            self.submit(f"{form} button[type=submit]")
            self._seen("agenda-error")
        self.page.fill(f"{form} input[name=held_on]", today)
        protocol = f"K-{datetime.now(UTC):%Y%m%d-%H%M%S}"  # unique, also over runs on one database
        self.page.fill(f"{form} input[name=protocol_number]", protocol)
        for box in self.page.locator(f"{form} input[name=members]").all():
            box.check()
        self.submit(f"{form} button[type=submit]")
        self._seen("agenda-meeting-open")
        add = f"form[action$='/office/commission/claims/{number}/add/']"
        self.page.locator(f"{add} select").select_option(label=f"№ {protocol}")
        self.submit(f"{add} button[type=submit]")
        self._seen("agenda-added")
        self.page.locator(f"main a[href*='/office/commission/meetings/']:has-text('{protocol}')").first.click()
        self.page.wait_for_url("**/office/commission/meetings/*/")
        self._seen("meeting")

    def member_approves(self, *, errors: bool = False) -> None:
        meeting_url = self.page.url
        self.staff_login(self.cast.member)
        self.page.goto(meeting_url)
        self._seen("meeting-member")
        form = "form[action$='/approve/']"
        amount = self.page.locator(f"{form} input[name$=amount]")
        proposed = amount.input_value()
        if errors:
            amount.fill("")
            self.submit(f"{form} button[type=submit]")
            self._seen("meeting-approve-error")
            amount.fill(proposed)
        self.submit(f"{form} button[type=submit]")
        self._seen("meeting-decided")
        self.after_approval()

    # --- the whole story ---------------------------------------------------------------------

    def everything(self, *, visit_day: date | None = None, errors: bool = True) -> str:
        """Every page of the citizen, operator, inspector and commission journeys, errors
        included, for one claim from filing to the commission's decision. Returns its number."""
        number = self.citizen_files(errors=errors)
        self.claim_to_decision(number, visit_day=visit_day, errors=errors)
        return number

    def citizen_files(self, *, errors: bool = True) -> str:
        """The citizen's pages up to a registered claim and its status pages."""
        self.citizen_login(errors=errors)
        number = self.file_claim(pick="", errors=errors, change_phone=True)
        self.citizen_status_pages(number)
        return number

    def claim_to_decision(self, number: str, *, visit_day: date | None = None, errors: bool = True) -> None:
        """A registered claim through the back office to the commission's decision, with the
        citizen answering a question on the way and reading the outcome at the end."""
        if self.operator_of is not None:
            self.cast.operator = self.operator_of(number)
        self.staff_login(self.cast.operator, errors=errors, show=True)
        self.operator_take(number)
        self.operator_request_info(number, question="Sayğacın plombunun şəklini də göndərin.", errors=errors)
        self.citizen_login(show=False)
        self.citizen_answer(number, text="Plombun şəklini əlavə etdim.", errors=errors)
        day = self.operator_order_inspection(number, day=visit_day, errors=errors)
        self.inspector_records(number, day=day, errors=errors)
        self.operator_propose(number, errors=errors)
        self.secretary_schedules(number, errors=errors)
        self.member_approves(errors=errors)
        self.citizen_login(show=False)
        self.citizen_outcome(number)
        self.outbox()
        self.logout()
