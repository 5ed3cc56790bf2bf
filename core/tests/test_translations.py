"""The translation catalogs in locale/: complete, in step with the code, compiled, and used.

Source strings (gettext msgids) are Azerbaijani; English and Russian must translate every one
of them. When a test here fails after a code change, update the catalogs:

    .venv/bin/python manage.py makemessages -l az -l en -l ru --no-obsolete \
        --ignore=.venv --ignore=var --ignore=screenshots --ignore=node_modules
    # translate every new or changed entry in locale/{az,en,ru}/LC_MESSAGES/django.po
    # (az: msgstr = msgid), remove "#, fuzzy" flags after checking them, then:
    .venv/bin/python manage.py compilemessages --ignore=.venv
"""

from __future__ import annotations

import gettext
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

LANGUAGES = ("az", "en", "ru")
LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
NPLURALS = {"az": 2, "en": 2, "ru": 3}
RU_PLURAL_FORMS = ("nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
                   "(n%100<10 || n%100>=20) ? 1 : 2);")
# The same ignore list as the documented makemessages command.
IGNORE = [".venv", "var", "screenshots", "node_modules"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\{.*?\}\}")


# --- a small .po parser ---------------------------------------------------------------------

@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is None:
            return [self.msgstr]
        return [self.msgstr_plural[i] for i in sorted(self.msgstr_plural)]


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unquote(text: str, where: str) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"{where}: expected a quoted string, got {text!r}")
    return re.sub(r'\\(.)', lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def parse_po(path: Path) -> tuple[dict[str, str], list[Entry]]:
    """Return (header fields, entries) of a .po file; obsolete (#~) entries are left out.
    Handles multi-line strings, msgctxt, msgid_plural and msgstr[n]."""
    entries: list[Entry] = []
    cur: Entry | None = None
    target: tuple[str, int | None] | None = None
    flags: set[str] = set()

    def finish():
        nonlocal cur, target, flags
        if cur is not None:
            entries.append(cur)
        cur, target, flags = None, None, set()

    for no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        where = f"{path}:{no}"
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue  # obsolete entry: not used at run time
        if line.startswith("#,"):
            if cur is not None and target and target[0] == "msgstr":
                finish()
            flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        if line.startswith("#"):
            if cur is not None and target and target[0] == "msgstr":
                finish()
            continue
        m = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(.*)$", line)
        if m:
            keyword, index, rest = m.group(1), m.group(2), m.group(3)
            if keyword in ("msgctxt", "msgid") and cur is not None and target and target[0] == "msgstr":
                finish()
            if cur is None:
                cur = Entry(flags=flags, line=no)
            value = _unquote(rest, where)
            if keyword == "msgstr" and index is not None:
                cur.msgstr_plural[int(index)] = value
                target = ("msgstr", int(index))
            else:
                setattr(cur, keyword, value)
                target = (keyword, None)
            continue
        if line.startswith('"') and cur is not None and target:
            value = _unquote(line, where)
            keyword, index = target
            if index is not None:
                cur.msgstr_plural[index] += value
            else:
                setattr(cur, keyword, getattr(cur, keyword) + value)
            continue
        raise ValueError(f"{where}: cannot parse {raw!r}")
    finish()

    header: dict[str, str] = {}
    body: list[Entry] = []
    for e in entries:
        if e.msgid == "" and e.msgctxt is None:
            for hline in e.msgstr.splitlines():
                name, _, value = hline.partition(":")
                header[name.strip()] = value.strip()
        else:
            body.append(e)
    return header, body


def po_path(lang: str, root: Path = LOCALE_DIR) -> Path:
    return root / lang / "LC_MESSAGES" / "django.po"


def describe(e: Entry) -> str:
    ctx = f" [{e.msgctxt}]" if e.msgctxt else ""
    return f"line {e.line}: {e.msgid[:70]!r}{ctx}"


# --- (a) every entry translated in az, en and ru, nothing fuzzy ------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_is_complete_and_not_fuzzy(lang):
    header, entries = parse_po(po_path(lang))
    assert entries, f"{po_path(lang)} has no entries"
    assert header.get("Language") == lang
    nplurals = re.search(r"nplurals\s*=\s*(\d+)", header.get("Plural-Forms", ""))
    assert nplurals and int(nplurals.group(1)) == NPLURALS[lang], header.get("Plural-Forms")
    problems = []
    for e in entries:
        if "fuzzy" in e.flags:
            problems.append(f"fuzzy: {describe(e)}")
        if e.msgid_plural is not None and sorted(e.msgstr_plural) != list(range(NPLURALS[lang])):
            problems.append(f"needs msgstr[0..{NPLURALS[lang] - 1}]: {describe(e)}")
        if any(not t.strip() for t in e.translations):
            problems.append(f"untranslated: {describe(e)}")
    assert not problems, f"{po_path(lang)}:\n" + "\n".join(problems)


def test_russian_plural_forms_header():
    header, _ = parse_po(po_path("ru"))
    assert header["Plural-Forms"] == RU_PLURAL_FORMS


def test_the_three_catalogs_have_the_same_entries():
    keys = {lang: {e.key for e in parse_po(po_path(lang))[1]} for lang in LANGUAGES}
    for lang in ("en", "ru"):
        assert keys[lang] == keys["az"], (
            f"{lang} and az differ: only in {lang}: {sorted(keys[lang] - keys['az'])[:5]}, "
            f"only in az: {sorted(keys['az'] - keys[lang])[:5]}")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_are_kept(lang):
    _, entries = parse_po(po_path(lang))
    problems = []
    for e in entries:
        wanted = sorted(PLACEHOLDER.findall(e.msgid))
        for t in e.translations:
            if sorted(PLACEHOLDER.findall(t)) != wanted:
                problems.append(f"{describe(e)} -> {t[:70]!r}")
    assert not problems, "placeholders differ:\n" + "\n".join(problems)


def test_azerbaijani_translations_are_the_source_strings():
    """Azerbaijani is the source language: msgstr repeats the msgid, except for the few
    msgids written in English, which get a real Azerbaijani translation."""
    _, entries = parse_po(po_path("az"))
    az_letters = re.compile(r"[əƏğĞıİşŞçÇöÖüÜ]")
    for e in entries:
        if e.msgid_plural is None and az_letters.search(e.msgid):
            assert e.msgstr == e.msgid, describe(e)


def test_english_and_russian_are_not_copies_of_the_azerbaijani():
    """A guard against filling msgstr with the msgid just to make the catalog 'complete'."""
    az_only = re.compile(r"[əƏğĞışŞçÇöÖüÜ]")  # İ is left out: it is in the brand name SİMA
    cyrillic = re.compile(r"[А-Яа-яЁё]")
    neutral = re.compile(r"^(?:API|SMS|e-gov\.az|e-su\.az|[\d:–\s-]+)$")
    problems = []
    for e in parse_po(po_path("en"))[1]:
        problems += [f"en {describe(e)}" for t in e.translations if az_only.search(t)]
    for e in parse_po(po_path("ru"))[1]:
        problems += [f"ru {describe(e)}" for t in e.translations if not cyrillic.search(t) and not neutral.match(t)]
    assert not problems, "not translated:\n" + "\n".join(problems)


# --- (b) the catalogs list exactly the strings marked in the code ----------------------------

def _copy_sources(src: Path, dst: Path) -> None:
    """Copy what makemessages reads (.py, .html, .txt) and the catalogs, nothing else."""
    skip = set(IGNORE) | {"locale", "__pycache__", "node_modules"}
    for path in src.rglob("*"):
        rel = path.relative_to(src)
        if any(part in skip or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix in {".py", ".html", ".txt"}:
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dst / rel)
    shutil.copytree(src / "locale", dst / "locale")


@pytest.mark.skipif(not all(shutil.which(t) for t in ("xgettext", "msgmerge", "msguniq")),
                    reason="GNU gettext (xgettext, msgmerge, msguniq) is not installed: cannot regenerate "
                           "the catalog to compare it with the committed one")
def test_catalog_matches_the_strings_in_the_code(tmp_path, settings, monkeypatch):
    # makemessages writes into any "locale" directory it finds under the current directory,
    # so it runs in a copy of the sources: the committed catalogs are never touched.
    tree = tmp_path / "tree"
    _copy_sources(Path(settings.BASE_DIR), tree)
    settings.LOCALE_PATHS = [tree / "locale"]
    monkeypatch.chdir(tree)
    call_command("makemessages", locale=["en"], ignore_patterns=IGNORE, verbosity=0, no_obsolete=True)

    committed = {e.key for e in parse_po(po_path("en"))[1]}
    regenerated = {e.key for e in parse_po(po_path("en", tree / "locale"))[1]}
    new = sorted(m for _, m in regenerated - committed)
    gone = sorted(m for _, m in committed - regenerated)
    assert not new and not gone, (
        "locale/ is out of step with the code; run makemessages, translate, compilemessages "
        "(see this module's docstring).\n"
        f"Marked for translation but missing from the catalog ({len(new)}): {new[:10]}\n"
        f"In the catalog but no longer in the code ({len(gone)}): {gone[:10]}")


# --- (c) the compiled .mo files are up to date -----------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_mo_file_is_compiled_from_the_current_po(lang):
    mo = po_path(lang).with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run compilemessages"
    with mo.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    _, entries = parse_po(po_path(lang))
    # _catalog is the parsed .mo: {msgid: msgstr} and {(msgid, n): msgstr[n]}, with
    # "context\x04msgid" for entries that have a msgctxt.
    compiled = catalog._catalog
    stale = []
    for e in entries:
        key = f"{e.msgctxt}\x04{e.msgid}" if e.msgctxt is not None else e.msgid
        if e.msgid_plural is None:
            ok = compiled.get(key) == e.msgstr
        else:
            ok = all(compiled.get((key, i)) == t for i, t in e.msgstr_plural.items())
        if not ok:
            stale.append(describe(e))
    assert not stale, f"{mo} is stale (run compilemessages):\n" + "\n".join(stale[:20])
    if lang == "ru":
        assert [catalog.plural(n) for n in (1, 2, 5, 11, 21, 22, 25, 111)] == [0, 1, 2, 2, 0, 1, 2, 2]


# --- (d) the pages come out in the chosen language -------------------------------------------

def _home_in(client, lang: str) -> str:
    r = client.post("/i18n/setlang/", {"language": lang, "next": "/"})
    assert r.status_code == 302
    r = client.get("/")
    assert r.status_code == 200
    return r.content.decode()


@pytest.mark.django_db
def test_home_page_in_english(client):
    body = _home_in(client, "en")
    assert '<html lang="en">' in body
    assert "Create a new claim" in body
    assert "Check the status of a claim" in body
    assert "Yeni müraciət yarat" not in body


@pytest.mark.django_db
def test_home_page_in_russian(client):
    body = _home_in(client, "ru")
    assert '<html lang="ru">' in body
    assert "Создать новое обращение" in body
    assert "Проверить статус обращения" in body
    assert "Yeni müraciət yarat" not in body


@pytest.mark.django_db
def test_home_page_is_azerbaijani_by_default(client):
    body = client.get("/").content.decode()
    assert '<html lang="az">' in body
    assert "Yeni müraciət yarat" in body and "Müraciətin statusunu yoxla" in body


@pytest.mark.django_db
def test_form_labels_and_errors_from_python_code_are_translated(client, citizen):
    client.force_login(citizen)
    _home_in(client, "en")
    page = client.get("/claims/new/").content.decode()
    assert "Subscriber code" in page and ">Check<" in page
    r = client.post("/claims/new/", {"action": "check", "subscriber_code": "12345"})
    assert "The subscriber code must be 10 digits." in r.content.decode()

    _home_in(client, "ru")
    r = client.post("/claims/new/", {"action": "check", "subscriber_code": "12345"})
    body = r.content.decode()
    assert "Абонентский код должен состоять из 10 цифр." in body and "Проверить" in body
