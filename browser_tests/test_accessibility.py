"""Every page of the citizen, inspector, operator and commission journeys, errors included,
in Azerbaijani, English and Russian, at a phone's width (360 px) and a desktop's (1280 px):
axe-core finds no serious or critical violation; the page says its language in <html lang>,
has exactly one <h1> and a <main> landmark.

One browser for the suite, one tab per language and walk; the tab switches language with the
header's buttons and walks the citizen's filing (``Journey.citizen_files``), or a registered
claim's way through the back office to the decision (``Journey.claim_to_decision``); every
page it reaches is checked at both widths. Problems are collected and reported together,
page by page.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

WIDTHS = (360, 1280)
BLOCKING = ("serious", "critical")

# The claim page between two actions: the same page as one already audited, with one more
# section of text. Its final state ("claim-proposed") shows every one of those sections
# (correspondence, inspections, proposals, timeline) and is audited, so these are not again:
# axe on the claim page is the slowest of the suite.
REPEATS = {"claim-info-sent", "claim-answered", "claim-inspection-ordered", "claim-inspected"}

AXE_SOURCE = Axe().axe_script  # axe-core as bundled by axe-playwright-python
# Before each run axe fetches every stylesheet again, for one rule (css-orientation-lock).
# The pages share their stylesheets, so that is done on the first page of a walk only.
AXE_RUN = "axe.run(document, {resultTypes: ['violations'], preload: %s}).then(r => r.violations)"

# What axe-core does not check (it dropped its duplicate-id rules in 4.9 and only "needs
# review" a dangling reference): ids are unique, and every id that a label, an ARIA
# attribute or an error summary's link points to exists.
FACTS_JS = """() => {
  const count = {};
  document.querySelectorAll('[id]').forEach(e => { count[e.id] = (count[e.id] || 0) + 1; });
  const dangling = [];
  const missing = id => !document.getElementById(id);
  const where = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.name ? '[name=' + e.name + ']' : '');
  document.querySelectorAll('[aria-describedby], [aria-labelledby]').forEach(e => {
    for (const attr of ['aria-describedby', 'aria-labelledby']) {
      (e.getAttribute(attr) || '').split(/\\s+/).filter(Boolean).forEach(id => {
        if (missing(id)) dangling.push(where(e) + ' ' + attr + '=' + id);
      });
    }
  });
  document.querySelectorAll('label[for]').forEach(l => {
    if (missing(l.htmlFor)) dangling.push('label for=' + l.htmlFor);
  });
  document.querySelectorAll('.error-summary a[href^="#"]').forEach(a => {
    const id = decodeURIComponent(a.getAttribute('href').slice(1));
    if (missing(id)) dangling.push('error summary link #' + id);
  });
  return {
    lang: document.documentElement.getAttribute('lang'),
    h1: document.querySelectorAll('h1').length,
    main: document.querySelectorAll('main, [role=main]').length,
    duplicates: Object.keys(count).filter(id => count[id] > 1),
    dangling: dangling,
  };
}"""


def page_problems(page, lang: str, *, preload: bool = True) -> list[str]:
    """What is wrong with the page as it is now, one line per problem."""
    problems = []
    facts = page.evaluate(FACTS_JS)
    if facts["lang"] != lang:
        problems.append(f'<html lang="{facts["lang"]}">, expected "{lang}"')
    if facts["h1"] != 1:
        problems.append(f"{facts['h1']} <h1> elements, expected exactly one")
    if facts["main"] != 1:
        problems.append(f"{facts['main']} main landmarks, expected exactly one")
    problems += [f"duplicate id: {i}" for i in facts["duplicates"]]
    problems += [f"reference to a missing id: {r}" for r in facts["dangling"]]
    if page.evaluate("typeof window.axe === 'undefined'"):
        page.evaluate(AXE_SOURCE)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800 if width < 600 else 900})
        for v in page.evaluate(AXE_RUN % ("true" if preload else "false")):
            if v["impact"] in BLOCKING:
                targets = "; ".join(" ".join(n["target"]) for n in v["nodes"][:6])
                problems.append(f"{width}px {v['impact']} {v['id']}: {v['help']} -> {targets}")
    return problems


def audit(journey, lang: str, walk) -> None:
    """Switch the tab to ``lang`` with the header's buttons, walk, and check every page."""
    report: dict[str, list[str]] = {}
    checked: list[str] = []

    def check(name: str) -> None:
        if name in REPEATS:
            return
        problems = page_problems(journey.page, lang, preload=not checked)
        checked.append(name)
        if problems:
            report[f"{name} ({journey.page.url})"] = problems

    journey.go("/")
    journey.set_language(lang)
    journey.seen = check
    walk()
    assert not report, "\n" + "\n".join(
        f"{page}:\n" + "\n".join(f"  - {p}" for p in problems) for page, problems in report.items())


LANGUAGES = ["az", "en", "ru"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_citizen_pages_are_accessible(journey, lang):
    """Login, the filing steps with their errors, registration, receipt, status, inbox, withdrawal."""
    audit(journey, lang, lambda: journey.citizen_files(errors=True))
    assert len(journey.log) >= 20, journey.log  # the walk really went everywhere


@pytest.mark.parametrize("lang", LANGUAGES)
def test_staff_pages_are_accessible(journey, registered_claim, visit_day, lang):
    """Operator, inspector, commission pages with their errors; the citizen's answer and outcome."""
    audit(journey, lang, lambda: journey.claim_to_decision(registered_claim.number, visit_day=visit_day))
    assert len(journey.log) >= 31, journey.log
