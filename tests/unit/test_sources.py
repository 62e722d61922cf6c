"""The Sources page: every published source behind the app's numbers and rules, in full,
linked from Settings and the footer."""

from __future__ import annotations

import re

import pytest

from medex import heart_rate, measures, safety, screening
from medex.sources import source_groups
from tests.support.pages import Elements
from tests.support.screens import html, session_app

INTERNAL = re.compile(r"clinical(-gaps)?\.md|norms-confirmed|§|UNCONFIRMED", re.IGNORECASE)


@pytest.fixture
def app(monkeypatch):
    return session_app(monkeypatch)


def citations() -> set[str]:
    return {e.citation for g in source_groups() for e in g.entries}


def test_every_catalogue_source_is_listed_once():
    listed = [e.citation for g in source_groups() for e in g.entries]
    expected = set()
    for m in measures.CATALOGUE.values():
        for src in (
            *(n.source for n in m.norms),
            *(r.source for r in m.reference_values),
            *(c.source for c in m.cutoffs),
            *(t.source for t in (*m.mdc, *m.mcid)),
            *(b.source for b in m.bands),
        ):
            expected.add(" ".join(src.citation.split()))
    expected |= {" ".join(r.source.split()) for r in safety.RULES.values()}
    expected |= {f.citation for f in heart_rate.HR_MAX_FORMULAS.values()}
    expected.add(" ".join(screening.ACSM_CITATION.split()))
    assert expected <= set(listed)
    for g in source_groups():
        names = [e.citation for e in g.entries]
        assert len(names) == len(set(names)), g.title


def test_the_new_norm_sources_are_listed_with_what_they_are_for():
    by = {e.citation: e for g in source_groups() for e in g.entries}
    tug = by["Bohannon 2006, J Geriatr Phys Ther 29(2):64–68"]
    assert "Timed Up and Go: age norms" in tug.used_for
    assert tug.evidence == "primary"
    steffen = next(e for c, e in by.items() if c.startswith("Steffen, Hacker & Mollinger 2002"))
    assert "Timed Up and Go: reference values" in steffen.used_for


def test_the_page_lists_sources_with_full_citations_and_no_internal_reference(app):
    page = html(app, "#/sources")
    text = Elements(page).text["main"]
    assert "Bohannon 2006, J Geriatr Phys Ther 29(2):64–68" in text
    assert "Riebe D, et al." in text
    assert not INTERNAL.search(text), INTERNAL.search(text)


def test_settings_and_the_footer_link_to_the_sources(app):
    page = html(app, "#/settings")
    assert 'href="#/sources" role="button" class="secondary" id="open-sources"' in page
    assert 'id="footer-sources"' in html(app, "#/")
