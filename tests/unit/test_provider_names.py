"""A referring provider's name, one rule for lists, partner pages and documents: "Maria Chen,
MD" (never "Dr. Maria Chen, MD"), "Dr. Maria Chen" when no credentials are on file. The
salutation keeps its own rule ("Dear Dr. Chen,", medex.letters.salutation)."""

from __future__ import annotations

import pytest

from app import core
from medex.intake import Client, ReferringProvider
from medex.letters import provider_display_name, salutation
from tests.support.aio import run
from tests.support.fakes import DataRepo, FakePlatform


@pytest.mark.parametrize(
    ("name", "credentials", "shown"),
    [
        ("Dr. Maria Chen", "MD", "Maria Chen, MD"),
        ("Dr Maria Chen", "MD", "Maria Chen, MD"),
        ("Doctor Maria Chen", "DO", "Maria Chen, DO"),
        ("dr. maria chen", "md", "maria chen, md"),  # as typed: no case guessing
        ("Maria Chen", "MD", "Maria Chen, MD"),
        ("Dr. Maria Chen", "", "Dr. Maria Chen"),
        ("Maria Chen", "", "Maria Chen"),
        ("Robert Okafor, MD", "", "Robert Okafor, MD"),
        ("Robert Okafor, MD", "MD", "Robert Okafor, MD"),  # never twice
        ("Robert Okafor, MD", "md, FACP", "Robert Okafor, MD, FACP"),
        ("Dr. Robert Okafor, MD", "", "Robert Okafor, MD"),
        ("Sam Patel", "PA-C", "Sam Patel, PA-C"),
        ("Jane Doe Jr.", "NP", "Jane Doe Jr., NP"),
        ("  Maria   Chen  ", " MD ", "Maria Chen, MD"),
        ("Dr.", "MD", "Dr., MD"),  # only a title: kept rather than lose the name
        ("", "MD", "MD"),
        ("", "", ""),
        ("Ms. Ana López", "NP", "Ms. Ana López, NP"),  # only a doctor's title is dropped
        ("Dr. Lee", "MD; FACC", "Lee, MD, FACC"),
    ],
)
def test_a_providers_name_shows_credentials_once_and_no_doctor_title_with_them(
    name, credentials, shown
):
    assert provider_display_name(name, credentials) == shown


def test_the_record_uses_the_rule_and_the_salutation_keeps_the_title():
    p = ReferringProvider(name="Dr. Maria Chen", credentials="MD")
    assert p.display_name == "Maria Chen, MD"
    assert salutation(p.name, p.credentials) == "Dear Dr. Chen,"


def test_the_demo_shows_maria_chen_md_in_lists_partner_pages_and_documents():
    core.load_screens()
    platform = FakePlatform()
    app = core.App(DataRepo(), platform)
    platform.repo = app.repo  # type: ignore[assignment]
    run(app.load())
    app.navigate("#/")
    run(app.dispatch("start-demo", {}))
    chen = next(p for p in run(app.repo.list(ReferringProvider)) if "Chen" in p.name)
    ann = next(c for c in run(app.repo.list(Client)) if c.last_name == "Lee")
    for route in (
        "#/providers",
        f"#/provider?id={chen.id}",
        "#/clients",
        f"#/client?id={ann.id}&section=details",
        f"#/document?client={ann.id}&kind=progress_report",
        f"#/partner-letter?id={chen.id}",
    ):
        app.navigate(route)
        html = run(app.html())
        assert "Maria Chen, MD" in html, route
        assert "Dr. Maria Chen, MD" not in html, route
