"""The clinical reference (docs/clinical.md) and the citations that point into it.

Code comments cite the reference as ``docs/clinical.md §7.1``; every such section must exist.
What reaches a person cites the published source (author, year), never this file or one of
its sections, and physician documents carry no web address of a source.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from medex import health, heart_rate, measures, safety, screening
from medex.documents import DocKind

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "clinical.md"
SITE_FILES = sorted(
    p
    for folder in ("site/py", "site/templates")
    for p in (ROOT / folder).rglob("*")
    if p.suffix in (".py", ".html")
)
INTERNAL = re.compile(r"clinical(-gaps)?\.md|norms-confirmed|§", re.IGNORECASE)

pytestmark = pytest.mark.skipif(not DOC.exists(), reason="docs/ is not shipped to Pyodide")


def doc_sections() -> set[str]:
    """'7', '7.1' … for every numbered heading of docs/clinical.md."""
    text = DOC.read_text(encoding="utf-8")
    return set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", text, re.MULTILINE))


def cited_sections(text: str) -> list[str]:
    """Section numbers cited after ``docs/clinical.md``, including lists ('§7.1, §4.1')."""
    out = []
    for m in re.finditer(r"docs/clinical\.md((?:[\s,;/and(]*§\d+(?:\.\d+)?(?:[–-]§?\d+)?)+)", text):
        out += re.findall(r"§(\d+(?:\.\d+)?)", m.group(1))
    return out


def test_the_reference_has_numbered_sections():
    sections = doc_sections()
    assert {"1", "2", "7", "7.1", "7.4"} <= sections
    assert "UNCONFIRMED" not in DOC.read_text(encoding="utf-8")


def test_every_citation_in_the_code_points_to_an_existing_section():
    sections = doc_sections()
    missing, count = [], 0
    for path in SITE_FILES:
        text = path.read_text(encoding="utf-8")
        for number in cited_sections(text):
            count += 1
            if number not in sections:
                missing.append(f"{path.relative_to(ROOT)}: §{number}")
        # A bare "§7.1" (continuing a citation) must exist too.
        if "docs/clinical.md" in text:
            for number in re.findall(r"§(\d+(?:\.\d+)?)", text):
                if number not in sections:
                    missing.append(f"{path.relative_to(ROOT)}: §{number}")
    assert count > 50
    assert not missing, missing


def test_no_file_cites_the_reference_by_a_path_outside_the_repository():
    bad = []
    for path in SITE_FILES:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"(?<!docs/)clinical\.md §", line) or re.search(
                r"clinical-gaps|norms-confirmed|shared/reference|/tmp/", line
            ):
                bad.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not bad, bad


# --- What reaches a person ------------------------------------------------------------------


def _sources() -> list[measures.Source]:
    out = []
    for m in measures.CATALOGUE.values():
        out += [c.source for c in m.cutoffs]
        out += [c.source for c in (*m.mdc, *m.mcid)]
        out += [n.source for n in m.norms] + [r.source for r in m.reference_values]
        out += [b.source for b in m.bands]
        if m.loinc_source is not None:
            out.append(m.loinc_source)
    return out


def person_facing_strings() -> list[str]:
    """Citations, notes and advice that screens and documents show."""
    texts: list[str] = []
    for s in _sources():
        texts += [s.citation, s.population, s.confidence]
    for m in measures.CATALOGUE.values():
        texts += [m.name, m.description, m.scoring, m.valid_range_note, m.loinc_note]
        texts += [m.licence_note, *m.notes]
        texts += [c.meaning + c.notes for c in m.cutoffs]
        texts += [t.population + t.notes for t in (*m.mdc, *m.mcid)]
    for rule in safety.RULES.values():
        texts += [rule.title, rule.what_to_do, rule.threshold, rule.source, rule.population]
        texts.append(rule.note)
    for f in heart_rate.HR_MAX_FORMULAS.values():
        texts += [f.citation, f.population, f.note]
    for b in heart_rate.INTENSITY_BANDS.values():
        texts += [b.citation, b.population, b.note]
    texts += [heart_rate.KARVONEN_CITATION, heart_rate.USE_RPE_CITATION]
    for info in health.MEDICATION_CLASSES.values():
        texts += [info.source, info.advice]
    texts += [screening.ACSM_CITATION, screening.PARQ_CITATION, screening.DIABETES_NOTE]
    texts += [screening.DISCONTINUE_WORDING_NOTE]
    return texts


def test_sources_and_flag_texts_name_published_sources_only():
    leaks = [t for t in person_facing_strings() if INTERNAL.search(t)]
    assert not leaks, leaks
    assert "Song, Lee & Shin 2018" in measures.SRC_BBS_STROKE.citation


def test_a_rendered_safety_flag_cites_no_internal_reference():
    from app.render import environment

    card = environment().from_string(
        '{% from "views/sessions/_macros.html" import flag_card %}{{ flag_card(f, labels) }}'
    )
    for code in safety.RULES:
        html = card.render(f=safety.make_flag(code, "reading"), labels=safety.SEVERITY_LABELS)
        assert not INTERNAL.search(html), (code, html)


def test_templates_show_no_internal_reference():
    templates = [p for p in SITE_FILES if p.suffix == ".html"]
    leaks = [str(p.relative_to(ROOT)) for p in templates if INTERNAL.search(p.read_text("utf-8"))]
    assert not leaks, leaks
    reports = [p for p in templates if "reports" in p.parts]
    assert reports
    for path in reports:
        assert "web_address" not in path.read_text(encoding="utf-8"), path


def _source_hosts() -> set[str]:
    hosts = set()
    for s in _sources():
        if s.web_address:
            host = urlparse(s.web_address).hostname or ""
            hosts.add(host.removeprefix("www."))
    return hosts


@pytest.mark.parametrize("kind", list(DocKind))
def test_physician_documents_carry_no_web_address_or_internal_reference(monkeypatch, kind):
    from app import clock, core
    from medex.repository import InMemoryRepository
    from tests.support.aio import run
    from tests.support.fakes import FakePlatform
    from tests.support.pages import Elements
    from tests.support.screens import open_doc
    from tests.support.seeders import TODAY, seed_typical_client

    core.load_screens()
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    app = core.App(InMemoryRepository(), FakePlatform())
    app.seeded = seed_typical_client(app.repo, TODAY)
    run(app.load())
    report = Elements(open_doc(app, kind)).text["report"]
    assert not INTERNAL.search(report), report
    assert "http" not in report and "www." not in report
    found = [h for h in _source_hosts() if h in report]
    assert not found, found
