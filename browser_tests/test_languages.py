"""A citizen who reads English or Russian meets no Azerbaijani sentence on their pages.

The tab switches language with the header's buttons and walks the citizen's whole journey:
login, filing with its errors, registration, receipt, status list and page, inbox, withdrawal
page, the answer to an information request, and the closed claim with its outcome and letter
(the staff's part of the walk runs in between; staff pages are not scanned). On every citizen
page the visible text of <main> and the title are read line by line; a line that still has a
word only Azerbaijani uses, once the data people typed (names, addresses, the operator's
question, the citizen's answer, meter numbers) is taken out, is a finding.
"""

from __future__ import annotations

import re

import pytest

# Words of the interface's Azerbaijani that no English or Russian text has (lower case).
AZ_WORDS = {
    "müraciət", "müraciətin", "müraciətiniz", "müraciətinizə", "müraciəti", "müraciətlər", "və", "üçün", "ilə",
    "edildi", "edilib", "edilmədi", "göndərildi", "göndərin", "yoxla", "yoxlama", "sayğac", "sayğacın",
    "göstərici", "göstəricisi", "faktura", "fakturanı", "xətalı", "abonent", "kodu", "daxil", "edin", "seçin",
    "tarixi", "nömrəsi", "səbəbi", "borc", "borcunuz", "borcunuza", "düzəliş", "qeydiyyata", "alındı", "geri",
    "cavab", "sizdən", "sizə", "bu", "deyil", "olunur", "yeni", "yarat", "statusunu", "şəkil", "şəkli",
    "rayon", "idarəsi", "filialı", "iclas", "komissiya", "nəticə", "səhifə", "əsas", "çıxış", "giriş",
}
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
STAFF_PATHS = ("/office/", "/dev/", "/admin/")

QUESTION = "Sayğacın plombunun şəklini də göndərin."  # what the operator types (claim_to_decision)
ANSWER = "Plombun şəklini əlavə etdim."  # what the citizen types


def azerbaijani_lines(text: str, typed: list[str]) -> list[str]:
    for value in sorted(typed, key=len, reverse=True):
        if value:
            text = text.replace(value, " ")
    found = []
    for line in text.splitlines():
        words = {w.lower() for w in WORD.findall(line)}
        if words & AZ_WORDS:
            found.append(line.strip())
    return found


@pytest.fixture
def named_branches(cast):
    """The branches carry their English and Russian names, as migration billing 0003 gives the
    utility's known branches."""
    from billing.branch_names import NAMES
    from billing.models import Branch

    for code, (en, ru) in NAMES.items():
        Branch.objects.filter(code=code).update(name_en=en, name_ru=ru)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_citizen_pages_have_no_azerbaijani_sentence(journey, named_branches, visit_day, lang):
    from billing.models import Account
    from claims.models import Claim
    from identity.models import User
    from testkit.factories import deliver_posting, latest_item

    typed = [QUESTION, ANSWER, "sayğac.jpg", "cavab.jpg"]  # and the names of the files uploaded
    for user in User.objects.all():
        typed += [user.first_name, user.last_name, user.display_name]
    for account in Account.objects.all():
        typed += [account.address, account.holder_name]
        typed += [m.serial_number for m in account.meters.all()]
    report: dict[str, list[str]] = {}
    scanned: list[str] = []

    def scan(name: str) -> None:
        page = journey.page
        path = page.url.split(journey.base, 1)[-1]
        if path.startswith(STAFF_PATHS) or path.endswith(".pdf"):
            return
        text = page.title() + "\n" + page.locator("main").inner_text()
        lines = azerbaijani_lines(text, typed + [c.address for c in Claim.objects.all()])
        scanned.append(name)
        if lines:
            report[f"{name} ({path})"] = lines

    journey.go("/")
    journey.set_language(lang)
    journey.seen = scan
    number = journey.citizen_files(errors=True)
    # claim_to_decision, with billing's confirmation of the posting before the citizen looks.
    journey.staff_login(journey.cast.operator)
    journey.operator_take(number)
    journey.operator_request_info(number, question=QUESTION)
    journey.citizen_login(show=False)
    journey.citizen_answer(number, text=ANSWER)
    day = journey.operator_order_inspection(number, day=visit_day)
    journey.inspector_records(number, day=day)
    journey.operator_propose(number)
    journey.secretary_schedules(number)
    journey.member_approves()
    deliver_posting(latest_item(Claim.objects.get(number=number)))
    journey.citizen_login(show=False)
    response = journey.citizen_outcome(number)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert {"home", "status-detail", "status-info-request", "status-closed"} <= set(scanned), scanned
    assert not report, "\n" + "\n".join(f"{page}:\n" + "\n".join(f"  - {line}" for line in lines)
                                        for page, lines in report.items())


def test_the_scan_finds_an_azerbaijani_sentence():
    assert azerbaijani_lines("Operator müraciəti araşdırmağa başladı.\nThe claim was registered.", []) == [
        "Operator müraciəti araşdırmağa başladı."]
    assert azerbaijani_lines("Yasamal district office, Şərifzadə küç. 12", ["Şərifzadə küç. 12"]) == []
