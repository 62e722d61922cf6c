"""Referral partners: the pipeline stages, dormancy, follow-ups due, the outreach log and the
practice introduction letter's evidence."""

from __future__ import annotations

from datetime import date

import pytest

from medex.forms import Refused
from medex.icd10 import Diagnosis
from medex.intake import Client, Referral, ReferringProvider
from medex.partners import (
    Outreach,
    OutreachMethod,
    PartnerStage,
    add_months,
    follow_up_needed,
    partner_status,
)
from medex.repository import InMemoryRepository
from medex.services.partners import (
    LogOutreach,
    RecordIntroduction,
    SavePartnerSettings,
    follow_up_items,
    follow_ups_due,
    introduction_letter,
    load_partner_settings,
    log_outreach,
    outreach_log,
    partner,
    partners,
    record_introduction,
    save_partner_settings,
)
from tests.support.aio import run

TODAY = date(2026, 3, 10)


def contact(on: date, follow_up: date | None = None, method=OutreachMethod.CALL) -> Outreach:
    return Outreach(provider_id="p", contacted_on=on, method=method, next_follow_up=follow_up)


# -- pure rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 9, 10), 6, date(2026, 3, 10)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2023, 8, 31), 6, date(2024, 2, 29)),  # leap year
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 1, 31), 13, date(2026, 2, 28)),
    ],
)
def test_add_months_keeps_the_day_or_the_months_last(day, months, expected):
    assert add_months(day, months) == expected


def test_a_provider_with_nothing_is_a_prospect():
    s = partner_status([], [], TODAY)
    assert s.stage is PartnerStage.PROSPECT
    assert (s.last_contact, s.next_follow_up, s.follow_up_due) == (None, None, False)


def test_a_contact_makes_a_prospect_introduced():
    s = partner_status([], [contact(date(2026, 3, 1), date(2026, 3, 20))], TODAY)
    assert s.stage is PartnerStage.INTRODUCED
    assert s.last_contact == date(2026, 3, 1)
    assert s.next_follow_up == date(2026, 3, 20)
    assert not s.follow_up_due


def test_a_referral_makes_them_referring_whatever_the_outreach():
    s = partner_status([date(2026, 1, 5)], [], TODAY)
    assert s.stage is PartnerStage.REFERRING
    assert s.referrals == 1 and s.last_referral == date(2026, 1, 5)


def test_dormant_from_the_day_the_last_referral_is_n_months_old():
    day_before = partner_status([date(2025, 9, 11)], [], TODAY)
    assert day_before.stage is PartnerStage.REFERRING
    on_the_day = partner_status([date(2025, 3, 1), date(2025, 9, 10)], [], TODAY)
    assert on_the_day.stage is PartnerStage.DORMANT
    assert on_the_day.dormant_since == TODAY
    assert on_the_day.last_referral == date(2025, 9, 10)


def test_the_practice_setting_changes_dormancy():
    refs = [date(2025, 12, 1)]
    assert partner_status(refs, [], TODAY, 6).stage is PartnerStage.REFERRING
    assert partner_status(refs, [], TODAY, 3).stage is PartnerStage.DORMANT


def test_the_latest_contact_sets_the_next_follow_up():
    older = contact(date(2026, 2, 1), date(2026, 2, 15))
    newer = contact(date(2026, 3, 1), None)
    s = partner_status([], [older, newer], TODAY)
    assert s.next_follow_up is None  # the latest contact set none
    s = partner_status([], [newer, contact(date(2026, 3, 5), date(2026, 3, 10))], TODAY)
    assert s.next_follow_up == TODAY and s.follow_up_due


def test_reports_sent_count_as_contact_but_not_as_outreach():
    s = partner_status([], [], TODAY, other_contacts=[date(2026, 2, 2), date(2027, 1, 1)])
    assert s.stage is PartnerStage.PROSPECT
    assert s.last_contact == date(2026, 2, 2)  # a date to come is ignored


def test_follow_up_due_on_the_planned_day_and_after():
    due = partner_status([], [contact(date(2026, 2, 1), date(2026, 3, 2))], TODAY)
    f = follow_up_needed("p", "Dr. A", due, TODAY)
    assert f is not None and f.since == date(2026, 3, 2) and "Mar 2, 2026" in f.reason
    later = partner_status([], [contact(date(2026, 2, 1), date(2026, 3, 11))], TODAY)
    assert follow_up_needed("p", "Dr. A", later, TODAY) is None


def test_a_dormant_partner_nobody_contacted_since_is_due():
    s = partner_status([date(2025, 6, 1)], [contact(date(2025, 7, 1))], TODAY)
    f = follow_up_needed("p", "Dr. A", s, TODAY)
    assert f is not None and "No referral since Jun 1, 2025" in f.reason
    assert f.since == date(2025, 12, 1)
    # Contacted after they went dormant (and no follow-up set): not due again.
    s = partner_status([date(2025, 6, 1)], [contact(date(2026, 1, 10))], TODAY)
    assert follow_up_needed("p", "Dr. A", s, TODAY) is None


def test_outreach_dates_are_checked():
    with pytest.raises(ValueError, match="future"):
        Outreach.model_validate(
            {"provider_id": "p", "contacted_on": date(2026, 3, 11), "method": "call"},
            context={"today": TODAY},
        )
    with pytest.raises(ValueError, match="before the contact"):
        contact(date(2026, 3, 5), date(2026, 3, 4))


# -- use cases -----------------------------------------------------------------------------------


def _repo() -> tuple[InMemoryRepository, ReferringProvider]:
    repo = InMemoryRepository()
    chen = ReferringProvider(name="Maria Chen", credentials="MD")
    okafor = ReferringProvider(name="James Okafor", credentials="DO")
    client = Client(
        first_name="Ana",
        last_name="López",
        date_of_birth=date(1958, 3, 10),
        sex="female",
        provider_id=okafor.id,
    )
    ref = Referral(
        client_id=client.id,
        provider_id=okafor.id,
        referred_on=date(2025, 8, 1),
        diagnoses=[Diagnosis(code="M17.11", description="Primary osteoarthritis, right knee")],
    )
    run(repo.save(chen, okafor, client, ref))
    return repo, chen


def test_log_outreach_refuses_by_field_and_writes_nothing():
    repo, chen = _repo()
    base = {"provider_id": chen.id, "today": TODAY}
    with pytest.raises(Refused) as exc:
        run(log_outreach(repo, LogOutreach(**base, method="call")))
    assert "contacted_on" in exc.value.errors
    with pytest.raises(Refused) as exc:
        run(log_outreach(repo, LogOutreach(**base, contacted_on="2026-03-09")))
    assert "method" in exc.value.errors
    with pytest.raises(Refused) as exc:
        run(
            log_outreach(
                repo,
                LogOutreach(
                    **base, contacted_on="2026-03-09", method="call", next_follow_up="2026-03-01"
                ),
            )
        )
    assert exc.value.errors == {"next_follow_up": "The next follow-up cannot be before the contact"}
    with pytest.raises(Refused) as exc:
        run(log_outreach(repo, LogOutreach(**base, contacted_on="2026-03-11", method="visit")))
    assert "contacted_on" in exc.value.errors
    assert run(outreach_log(repo, chen.id)) == []


def test_the_pipeline_from_prospect_to_introduced_and_the_follow_up_on_the_home_screen():
    repo, chen = _repo()
    assert run(partner(repo, chen.id, TODAY)).status.stage is PartnerStage.PROSPECT
    run(
        log_outreach(
            repo,
            LogOutreach(
                provider_id=chen.id,
                today=TODAY,
                contacted_on="2026-03-02",
                method="visit",
                note="Dropped off brochures; met the office manager",
                next_follow_up="2026-03-09",
            ),
        )
    )
    found = run(partner(repo, chen.id, TODAY))
    assert found.status.stage is PartnerStage.INTRODUCED
    assert found.status.follow_up_due
    items = run(follow_up_items(repo, TODAY))
    titles = [i.title for i in items]
    # Okafor: referred Aug 1, 2025 → dormant since Feb 1, 2026, never contacted: due first.
    assert titles == ["Follow up with James Okafor, DO", "Follow up with Maria Chen, MD"]
    assert items[1].link is not None and items[1].link.route == "provider"


def test_the_dormancy_setting_is_saved_and_used():
    repo, _chen = _repo()
    assert run(load_partner_settings(repo)).dormant_after_months == 6
    for bad in ("", "x", "0", "40"):
        with pytest.raises(Refused) as exc:
            run(save_partner_settings(repo, SavePartnerSettings(dormant_after_months=bad)))
        assert "dormant_after_months" in exc.value.errors
    run(save_partner_settings(repo, SavePartnerSettings(dormant_after_months="12")))
    assert run(load_partner_settings(repo)).dormant_after_months == 12
    stages = {p.provider.name: p.status.stage for p in run(partners(repo, TODAY))}
    assert stages["James Okafor"] is PartnerStage.REFERRING
    assert run(follow_ups_due(repo, TODAY)) == []


def test_the_introduction_letter_is_logged_once_a_day():
    repo, chen = _repo()
    first = run(record_introduction(repo, RecordIntroduction(provider_id=chen.id, today=TODAY)))
    assert first is not None and first.introduction_letter and first.method is OutreachMethod.LETTER
    assert first.next_follow_up == date(2026, 3, 24)  # a call two weeks after the letter
    again = run(record_introduction(repo, RecordIntroduction(provider_id=chen.id, today=TODAY)))
    assert again is None
    assert len(run(outreach_log(repo, chen.id))) == 1
    with pytest.raises(Refused):
        run(record_introduction(repo, RecordIntroduction(provider_id="nobody", today=TODAY)))


def test_the_introduction_letter_keeps_a_follow_up_already_planned():
    repo, chen = _repo()
    run(
        log_outreach(
            repo,
            LogOutreach(
                provider_id=chen.id,
                today=TODAY,
                contacted_on="2026-03-02",
                method="call",
                next_follow_up="2026-03-12",
            ),
        )
    )
    run(record_introduction(repo, RecordIntroduction(provider_id=chen.id, today=TODAY)))
    assert run(partner(repo, chen.id, TODAY)).status.next_follow_up == date(2026, 3, 12)


def test_the_introduction_letter_carries_the_caseload_and_the_prospect():
    repo, chen = _repo()
    doc = run(introduction_letter(repo, chen.id, TODAY))
    assert doc["provider"]["salutation"] == "Dear Dr. Chen,"
    assert doc["kind"] == "practice_intro"
    assert doc["discharged"] == 0
    assert set(doc["overall"]) >= {"clients", "measures", "discharged", "active"}
    with pytest.raises(KeyError):
        run(introduction_letter(repo, "nobody", TODAY))
