"""The journeys in a real browser (Debian's Chromium), asserting what the user sees: a citizen
files claims both ways, answers an information request, follows the claim to the decision
letter; the operator, the inspector and the commission do their part; and one filing is made
with the keyboard alone."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from claims.models import Claim, InfoRequest
from claims.transitions import ClaimStatus

from .driver import Journey, photo_file

REGISTERED = ("Müraciətiniz qeydiyyata alındı. Xidmətimizdən istifadə etdiyiniz üçün sizə təşəkkür edirik. "
              "Müraciət nömrəniz: {number}")

# What each step's error page says (Azerbaijani, the source language).
ERRORS = {
    "account-error": ["Abonent kodu 10 rəqəmdən ibarət olmalıdır."],
    "account-pick-error": ["Abonent kodunu seçin."],
    "invoice-error": ["Xətalı fakturanın nömrəsini seçin."],
    "details-errors": ["Müraciətin səbəbini seçin.", "bu günə göstəricini daxil edin.",
                       "göstəricinin göründüyü şəkli yükləyin.", "Telefon nömrəsini daxil edin.",
                       "Elektron poçt ünvanını daxil edin."],
    "review-error": ["Müraciəti göndərmək üçün şəxsi məlumatların emalına razılıq verin."],
    "status-answer-error": ["Cavabı yazın və ya şəkil yükləyin."],
    "claim-info-error": ["Mətni yazın."],
    "claim-inspection-error": ["Nəzarətçini seçin.", "Yoxlama tarixini daxil edin.", "Yoxlama vaxtını seçin."],
    "visit-errors": ["yoxlanılmış göstəricini daxil edin", "Plombun vəziyyətini seçin.", "Sayğacın şəklini yükləyin."],
    "claim-correction-error": ["Komissiya üçün qeydi yazın."],
    "agenda-error": ["İclasın tarixini daxil edin."],
    "meeting-approve-error": ["Düzəlişin məbləğini yazın."],
}


def assert_error_page(page: Page, name: str) -> None:
    """An error page: the title starts with "Xəta:", the error summary is shown and lists the
    errors, each field error a link to a field that exists on the page."""
    expect(page).to_have_title(re.compile(r"^Xəta: "))
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("li").first).to_be_visible()
    for text in ERRORS.get(name, []):
        expect(summary).to_contain_text(text)
    links = summary.locator("a[href^='#']")
    if name in ERRORS:
        assert links.count() >= len(ERRORS[name]), f"{name}: every field error links to its field"
    for i in range(links.count()):
        href = links.nth(i).get_attribute("href")
        assert href, f"{name}: an error link has its target"
        expect(page.locator(href)).to_have_count(1)


def error_checker(journey: Journey):
    seen_errors = []

    def check(name: str) -> None:
        if "error" in name:
            assert_error_page(journey.page, name)
            seen_errors.append(name)
        else:
            expect(journey.page.locator(".error-summary")).to_have_count(0)

    return check, seen_errors


def test_citizen_files_a_claim_for_a_linked_account_and_another_by_typing_a_code(journey, account, foreign_account):
    page = journey.page
    check, seen_errors = error_checker(journey)

    def seen(name: str) -> None:
        check(name)
        if name == "review-changed":  # "İmtina" took them back; the new phone is what they confirm
            expect(page.locator("main")).to_contain_text("+994557654321")
            expect(page.locator("main")).not_to_contain_text("+994501234567")

    journey.seen = seen
    journey.citizen_login(errors=True)
    expect(page.locator("header .who")).to_contain_text("Rəşad")

    number = journey.file_claim(pick=account.subscriber_code, errors=True, change_phone=True)
    assert seen_errors == ["login-error", "account-error", "account-pick-error", "invoice-error", "details-errors",
                           "review-error"]
    expect(page).to_have_title(re.compile("^Müraciətiniz qeydiyyata alındı"))
    expect(page.locator(".panel-confirm")).to_contain_text(REGISTERED.format(number=number))
    claim = Claim.objects.get(number=number)
    assert claim.subscriber_code == account.subscriber_code and claim.phone == "+994557654321"
    assert claim.login_method == "sima_signature"  # the second method on the login page

    page.locator(f"main a[href$='/claims/{number}/']").click()
    expect(page.locator("h1")).to_have_text(f"Müraciət {number}")
    expect(page.locator("main .tag")).to_have_text("İcraya yönləndirilib")
    expect(page.locator(".timeline")).to_contain_text("Qeydiyyata alınıb")

    # Another claim, for an account held by someone else, by typing its code and "Yoxla".
    journey.seen = check
    journey.start_claim(code="10 2030 9999")
    expect(page.locator("main")).to_contain_text("H******** N**** V**** q***")  # another holder: masked
    expect(page.locator("main")).to_contain_text("Bu abonent kodu sizin adınıza qeydiyyatda deyil")
    previous = journey.pick_invoice()
    journey.fill_details(previous=previous)
    expect(page.locator("main")).to_contain_text("1020309999")
    second = journey.confirm()
    expect(page.locator(".panel-confirm")).to_contain_text(REGISTERED.format(number=second))

    page.goto(journey.base + "/claims/")
    cards = page.locator("main li.claim-card")  # one card a claim, phone first
    expect(cards).to_have_count(2)
    expect(page.locator("main .claim-cards")).to_contain_text(number)
    expect(page.locator("main .claim-cards")).to_contain_text(second)


def test_operator_inspector_and_commission_bring_the_claim_to_a_decision(journey, registered_claim, visit_day):
    page = journey.page
    number = registered_claim.number
    check, seen_errors = error_checker(journey)
    journey.seen = check

    journey.staff_login(journey.cast.operator)
    journey.operator_take(number)
    expect(page.locator(".notice")).to_contain_text("Müraciət sizə təyin edildi.")
    expect(page.locator("h1 .tag")).to_have_text("Araşdırılır")

    day = journey.operator_order_inspection(number, day=visit_day, errors=True)
    expect(page.locator(".notice")).to_contain_text("Yerində yoxlama təyin edildi")
    expect(page.locator("h1 .tag")).to_have_text("Yerində yoxlama")

    journey.inspector_records(number, day=day, errors=True)
    expect(page.locator(".notice")).to_contain_text(f"{number} nömrəli müraciət üzrə yoxlamanın nəticəsi qeyd edildi.")
    expect(page.locator("main .visit-card")).to_contain_text("Yoxlanılmış göstərici")

    journey.operator_propose(number, errors=True)
    expect(page.locator(".notice")).to_contain_text("Düzəliş təklifi komissiyaya göndərildi.")
    expect(page.locator("h1 .tag")).to_have_text("Komissiyada")

    journey.secretary_schedules(number, errors=True)
    expect(page.locator("h1")).to_contain_text("Komissiyanın iclası, protokol №")
    expect(page.locator("main")).to_contain_text(number)

    journey.member_approves(errors=True)
    expect(page.locator(".notice").first).to_contain_text(
        f"Düzəliş təsdiq edildi və billinqə ötürülür; billinq qəbul edəndə müraciət {number} bağlanacaq.")
    assert seen_errors == ["claim-inspection-error", "visit-errors", "claim-correction-error", "agenda-error",
                           "meeting-approve-error"]

    registered_claim.refresh_from_db()
    assert registered_claim.status == ClaimStatus.CLOSED and registered_claim.outcome == "corrected"
    amount = registered_claim.corrected_amount
    assert amount < 0  # the invoice billed 200 m³ too many: the debt goes down

    journey.citizen_login(show=False)
    letter = journey.citizen_outcome(number)
    expect(page.locator("main .tag")).to_have_text("Başa çatıb")
    expect(page.locator("main")).to_contain_text("Borc düzəldilib")
    # The outcome in words, never a negative amount (az: decimal comma).
    expect(page.locator(".panel-outcome")).to_contain_text(f"Borcunuz {-amount:.2f} AZN azaldıldı".replace(".", ","))
    expect(page.locator("main")).not_to_contain_text(f"{amount:.2f}".replace(".", ","))
    expect(page.locator("main a[href$='letter.pdf']")).to_have_text("Cavab məktubu (PDF)")
    assert letter.status == 200
    assert letter.headers["content-type"] == "application/pdf"
    assert letter.body().startswith(b"%PDF")


def test_citizen_answers_an_information_request_on_the_status_page(journey, registered_claim, operator):
    from claims.services import claim_request_info, claim_take

    claim = claim_take(claim=registered_claim, actor=operator)
    claim_request_info(claim=claim, actor=operator, question="Sayğacın plombunun şəklini də göndərin.")
    page = journey.page
    check, seen_errors = error_checker(journey)
    journey.seen = check

    journey.citizen_login(show=False)
    journey.page.goto(journey.base + "/claims/")
    expect(page.locator("main .claim-card .tag")).to_have_text("Sizdən məlumat gözlənilir")
    expect(page.locator("main .claim-card")).to_contain_text("Sizdən cavab gözlənilir")  # the card says so
    journey.citizen_answer(claim.number, text="Plombun şəklini əlavə etdim.", errors=True)
    assert seen_errors == ["status-answer-error"]
    expect(page.locator("main .tag")).to_have_text("Araşdırılır")
    expect(page.locator(".notices")).to_contain_text("Cavabınız göndərildi.")  # the answer is confirmed
    expect(page.locator("main")).to_contain_text("Cavabınız: Plombun şəklini əlavə etdim.")
    expect(page.locator("form[action$='/answer/']")).to_have_count(0)
    answered = InfoRequest.objects.get(claim=claim)
    assert answered.answered_at is not None and answered.answer_photo


# --- keyboard only ---------------------------------------------------------------------------

FOCUS_VISIBLE_JS = """() => {
  const el = document.activeElement, s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  return {outline: outline, shadow: s.boxShadow !== 'none', tag: el.tagName.toLowerCase()};
}"""


def tab_to(page: Page, selector: str, *, limit: int = 80, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focus is on ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def assert_focus_visible(page: Page) -> None:
    state = page.evaluate(FOCUS_VISIBLE_JS)
    assert state["outline"] or state["shadow"], f"no visible focus indicator on the focused {state['tag']}"


def test_a_citizen_files_a_claim_with_the_keyboard_alone(page, live_server, cast, account):
    base = live_server.url
    kb = page.keyboard
    page.goto(base + "/auth/login/")

    kb.press("Tab")  # the first stop is the skip link, shown when focused
    expect(page.locator(".skip-link")).to_be_focused()
    expect(page.locator(".skip-link")).to_be_in_viewport()
    assert_focus_visible(page)

    tab_to(page, "input[name=method]")
    assert_focus_visible(page)
    kb.press("ArrowDown")  # the second login method
    tab_to(page, "#id_fin")
    kb.type(cast.citizen_fin)
    tab_to(page, "main button[type=submit]")
    assert_focus_visible(page)
    kb.press("Enter")
    page.wait_for_url(base + "/")

    tab_to(page, "a.tile[href='/claims/new/']")
    assert_focus_visible(page)
    kb.press("Enter")
    page.wait_for_url("**/claims/new/")

    tab_to(page, f"input[name=account][value='{account.subscriber_code}']")
    kb.press("Space")
    tab_to(page, "form:has(input[name=account]) button[type=submit]")
    kb.press("Enter")
    page.wait_for_url("**/claims/new/invoice/")

    tab_to(page, "input[name=invoice]")
    assert_focus_visible(page)
    kb.press("Space")
    tab_to(page, "main button.primary")
    kb.press("Enter")
    page.wait_for_url("**/claims/new/details/")

    tab_to(page, "#id_reason")
    kb.press("ArrowDown")  # the first reason
    tab_to(page, "#id_reading_0")
    assert_focus_visible(page)
    kb.type("1140")
    tab_to(page, "input[type=file]")
    page.locator(":focus").set_input_files(photo_file())  # the OS file dialog cannot be driven
    tab_to(page, "#id_phone")
    kb.type("050 123 45 67")
    tab_to(page, "#id_email")
    kb.type("vetendas@example.az")
    tab_to(page, "main button.primary")
    kb.press("Enter")
    page.wait_for_url("**/claims/new/review/")
    expect(page.locator("main")).to_contain_text("1\u00a0140 m³")  # core.text: grouped, as every page writes it

    tab_to(page, "#id_consent")
    assert_focus_visible(page)
    kb.press("Space")
    tab_to(page, "button[value=confirm]")
    assert_focus_visible(page)
    kb.press("Enter")
    page.wait_for_url("**/registered/")

    number = re.search(r"[A-Z]{2}-\d{4}-\d{6}", page.locator(".panel-confirm .number").inner_text()).group(0)
    expect(page.locator(".panel-confirm")).to_contain_text(REGISTERED.format(number=number))
    tab_to(page, f"main a[href$='/claims/{number}/']")
    assert_focus_visible(page)
    kb.press("Enter")
    page.wait_for_url(f"**/claims/{number}/")
    expect(page.locator("h1")).to_have_text(f"Müraciət {number}")
    claim = Claim.objects.get(number=number)
    assert claim.evidence.get().declared_reading == 1140 and claim.reason.code == "misread"
