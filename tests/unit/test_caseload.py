"""Caseload analytics: mean change, MCID share and discharge criteria met, by program,
condition and referral source, checked against small hand-computed datasets; the outcomes
letter to a provider shows the same numbers as the caseload."""

from datetime import date

import pytest

from medex.caseload import (
    NO_CONDITION,
    NO_PROGRAM,
    NO_PROVIDER,
    CaseloadEntry,
    MeasureChange,
    caseload,
    change_from_row,
    condition_of,
    criteria_share,
    group_by,
    summarise,
    summarise_measures,
)
from medex.documents import DocKind, view_model
from medex.intake import Diagnosis
from medex.repository import InMemoryRepository
from medex.services.caseload import caseload_entries, caseload_report, provider_caseload
from medex.services.documents import gather
from medex.services.outcomes import DischargeEpisode, client_outcomes, discharge_episode
from tests.support.aio import run
from tests.support.seeders import TODAY, seed_typical_client


def tug(diff, trend, mcid):
    return MeasureChange("tug", "Timed Up and Go", "s", diff, trend, mcid, "lower_is_better", 1)


def chair(diff, trend="improved"):
    return MeasureChange(
        "chair_stand_30s", "30-Second Chair Stand", "stands", diff, trend, "none", "", 0
    )


A = CaseloadEntry(
    "a", "p1", "Dr. One", "Post-TKR", "M17", "Primary osteoarthritis, right knee",
    "discharged", "met", (tug(-4.0, "improved", "improved"), chair(4)),
)  # fmt: skip
B = CaseloadEntry(
    "b", "p2", "Dr. Two", "Post-TKR", "M17", "Primary osteoarthritis, right knee",
    "active", "not_met", (tug(-1.0, "improved", "no"), chair(2)),
)  # fmt: skip
C = CaseloadEntry(
    "c", "p1", "Dr. One", "Falls prevention", "R26", "Unsteadiness on feet",
    "active", "unknown", (tug(1.0, "worse", "worse"),),
)  # fmt: skip
D = CaseloadEntry("d")  # an assessment but no program, no referral, no change yet
ENTRIES = [A, B, C, D]


def by_id(group):
    return {m.measure_id: m for m in group.measures}


def test_mean_change_improved_and_mcid_share_across_all_clients():
    """TUG: (−4 − 1 + 1) / 3 = −1.33 s; 2 improved, 1 worse; 1 of 3 with an MCID reached it.
    Chair stand: (4 + 2) / 2 = +3.0; no MCID on file for either client → no share."""
    overall = summarise(ENTRIES)
    assert overall.clients == 4
    t, c = by_id(overall)["tug"], by_id(overall)["chair_stand_30s"]
    assert (t.clients, t.improved, t.worse) == (3, 2, 1)
    assert t.mean_change == pytest.approx(-4 / 3) and t.mean_text == "−1.33"
    assert (t.mcid_improved, t.mcid_known, t.mcid_share, t.mcid_text) == (1, 3, 33, "1 of 3 (33%)")
    assert c.mean_text == "+3.0" and c.mcid_share is None and c.mcid_text == "—"
    assert [m.measure_id for m in overall.measures] == ["tug", "chair_stand_30s"]  # most first


def test_discharge_criteria_share_is_split_by_discharged_and_active():
    """Discharged: A met → 1 of 1. Active: B not met, C cannot be judged → 0 of 2 (1 not
    judged). D has no program: not counted."""
    d, a = criteria_share(ENTRIES, "discharged"), criteria_share(ENTRIES, "active")
    assert (d.clients, d.met, d.share, d.text) == (1, 1, 100, "1 of 1 (100%)")
    assert (a.clients, a.met, a.unknown, a.share, a.text) == (2, 0, 1, 0, "0 of 2 (0%)")


def test_grouped_by_program_largest_first_and_no_program_last():
    groups = group_by(ENTRIES, "program")
    assert [(g.label, g.clients) for g in groups] == [
        ("Post-TKR", 2),
        ("Falls prevention", 1),
        (NO_PROGRAM, 1),
    ]
    tkr = by_id(groups[0])["tug"]
    assert tkr.mean_text == "−2.50" and (tkr.mcid_improved, tkr.mcid_known) == (1, 2)
    assert groups[0].discharged.text == "1 of 1 (100%)" and groups[0].active.text == "0 of 1 (0%)"
    assert groups[2].measures == ()


def test_grouped_by_referral_source():
    """Dr. One referred A and C: TUG (−4 + 1) / 2 = −1.50, 1 of 2 reached the MCID."""
    groups = group_by(ENTRIES, "provider")
    assert [(g.key, g.label, g.clients) for g in groups] == [
        ("p1", "Dr. One", 2),
        ("p2", "Dr. Two", 1),
        ("", NO_PROVIDER, 1),
    ]
    one = by_id(groups[0])["tug"]
    assert one.mean_text == "−1.50" and one.mcid_text == "1 of 2 (50%)"
    assert by_id(groups[0])["chair_stand_30s"].clients == 1


def test_grouped_by_condition_uses_the_icd10_category():
    groups = group_by(ENTRIES, "condition")
    assert [g.label for g in groups] == [
        "M17: Primary osteoarthritis, right knee",
        "R26: Unsteadiness on feet",
        NO_CONDITION,
    ]
    assert condition_of([Diagnosis(code="M17.11", description="x")]) == ("M17", "x")
    assert condition_of([]) == ("", "")


def test_condition_label_names_each_diagnosis_once():
    left = CaseloadEntry("e", condition="M17", condition_label="Osteoarthritis, left knee")
    (m17, _none) = group_by([A, B, left, D], "condition")
    assert m17.label == "M17: Primary osteoarthritis, right knee; Osteoarthritis, left knee"


def test_a_zero_mean_change_reads_plus_minus_zero():
    g = summarise(
        [CaseloadEntry("x", changes=(chair(1),)), CaseloadEntry("y", changes=(chair(-1),))]
    )
    assert g.measures[0].mean_text == "±0.0"


def test_share_rounds_to_whole_percent():
    """2 of 3 → 67%; 1 of 3 → 33% (half-even rounding never bites: n/3 is not x.5)."""
    entries = [
        CaseloadEntry(str(i), status="active", criteria=s)
        for i, s in enumerate(("met", "met", "not_met"))
    ]
    assert criteria_share(entries, "active").text == "2 of 3 (67%)"


def test_one_change_per_client_and_measure():
    twice = CaseloadEntry("x", changes=(chair(2), chair(8)))
    (m,) = summarise_measures([twice])
    assert m.clients == 1 and m.mean_change == 2


def test_caseload_has_all_three_groupings():
    c = caseload(ENTRIES)
    assert c.overall.label == "All clients" and c.overall.clients == 4
    assert len(c.by_program) == 3 and len(c.by_condition) == 3 and len(c.by_provider) == 3


# -- from the records ------------------------------------------------------------------------


@pytest.fixture
def two_clients():
    repo = InMemoryRepository()
    ann, provider, ep = seed_typical_client(repo)
    bob, other, _e = seed_typical_client(repo, name=("Bob", "Ray"), assessments=2, sessions=4)
    return repo, ann, provider, ep, bob, other


def test_change_from_row_takes_the_change_since_baseline(two_clients):
    """Ann's TUG 14.2 → 10.4 s (seeded): −3.8 s, improved; the MCID flag is the row's own."""
    repo, ann, *_ = two_clients
    oc = run(client_outcomes(repo, ann.id, TODAY))
    row = oc.row("tug")
    ch = change_from_row(row)
    assert ch.difference == pytest.approx(-3.8) and ch.trend == "improved"
    c = row.change.since_baseline
    expected = (
        "none" if c.exceeds_mcid is None else ("improved" if c.meaningful_improvement else "no")
    )
    assert ch.mcid == expected and ch.decimals == 1


def test_entries_one_per_client_with_their_provider_and_program(two_clients):
    repo, ann, provider, _ep, bob, other = two_clients
    entries = {e.client_id: e for e in run(caseload_entries(repo, TODAY))}
    assert set(entries) == {ann.id, bob.id}
    assert entries[ann.id].provider_id == provider.id and entries[bob.id].provider_id == other.id
    assert entries[ann.id].condition == "Z96" and entries[ann.id].status == "active"
    only = run(caseload_entries(repo, TODAY, provider_id=other.id))
    assert [e.client_id for e in only] == [bob.id]


def test_discharged_program_counts_as_discharged(two_clients):
    repo, ann, _p, ep, *_ = two_clients
    run(
        discharge_episode(
            repo,
            DischargeEpisode(
                episode_id=ep.id,
                discharge_date=TODAY.isoformat(),
                discharge_reason="client_request",
                today=TODAY,
            ),
        )
    )
    (entry,) = [e for e in run(caseload_entries(repo, TODAY)) if e.client_id == ann.id]
    assert entry.status == "discharged" and entry.criteria in ("met", "not_met", "unknown")
    report = run(caseload_report(repo, TODAY, by="program"))
    assert report["overall"]["discharged"]["clients"] == 1


def test_outcomes_letter_uses_the_caseload_numbers(two_clients):
    """The letter to Ann's provider, the provider's caseload group and the caseload screen's
    row for that provider agree."""
    repo, _ann, provider, *_ = two_clients
    vm = view_model(run(gather(repo, DocKind.OUTCOMES_LETTER, TODAY, provider_id=provider.id)))
    _roster, group = run(provider_caseload(repo, provider.id, TODAY))
    report = run(caseload_report(repo, TODAY, by="provider"))
    row = next(g for g in report["groups"] if g["key"] == provider.id)
    assert vm["across"] == [m.as_dict() for m in group.measures] == row["measures"]
    assert (
        vm["caseload"]["active"] == row["active"]
        and vm["caseload"]["discharged"] == row["discharged"]
    )
    assert [c["name"] for c in vm["provider_clients"]] == ["Ann Lee"]
    tug_row = next(m for m in vm["across"] if m["id"] == "tug")
    assert tug_row["clients"] == 1 and tug_row["mean_change"] == "−3.80"


def test_caseload_report_for_one_provider(two_clients):
    repo, _ann, _p, _ep, _bob, other = two_clients
    report = run(caseload_report(repo, TODAY, by="condition", provider_id=other.id))
    assert report["provider_name"] == other.display_name and report["overall"]["clients"] == 1
    assert report["by_label"] == "condition" and report["groups"][0]["key"] == "Z96"
    assert run(caseload_report(repo, date(2025, 3, 20), by="nonsense"))["by"] == "program"
